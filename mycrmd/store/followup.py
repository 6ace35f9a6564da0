"""Who is due for follow-up (R-FU1). A customer is due when ALL hold:

1. its importance satisfies `importance <op> followup_importance` (op: =, >, >=);
2. the last mail sent to it is more than followup_days ago, or it was never mailed;
3. no customer of the same company (same non-empty company name, compared as the database
   collation compares) whose address is not invalid was mailed within followup_days; an
   empty or NULL company skips this rule;
4. its own address is not invalid (valid 1 or 2).

This is what MyCRM's SQL computes, written so indexes serve it: clause 2 as
`last_contact_date < CURDATE() - INTERVAL n DAY`, which equals
`DATEDIFF(NOW(), last_contact_date) > n`, and clause 3 as NOT IN the (few) companies with a
recent contact, read from the (last_contact_date, valid, company) index.

With a cadence by rating (`followup_days_by_importance`), clause 1 becomes "its importance has
an interval in the map" and clauses 2 and 3 use that interval; with none set, the rule above
is built exactly as before. A snoozed customer (snoozed_until in the future) is left out
until then; it still counts as a colleague for clause 3. Each row then says why it is due
(model/followup.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mycrmd.model import settings as model
from mycrmd.model.customer import COLUMNS
from mycrmd.model.followup import REASON_SORTS, DueRule
from mycrmd.model.settings import OPERATORS
from mycrmd.store.customer_list import (
    ListQuery,
    count_where,
    filters,
    not_invalid,
    page,
    where,
)
from mycrmd.store.pool import Pool, Row, arg_marks, fetch_all


@dataclass(frozen=True)
class Rule:
    operator: str = model.BY_NAME["followup_importance_operators"].default
    importance: int = int(model.BY_NAME["followup_importance"].default)
    days: int = int(model.BY_NAME["followup_days"].default)
    cadence: tuple[tuple[int, int], ...] = ()  # (rating, days); empty: MyCRM's rule

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}")
        if self.days < 0:
            raise ValueError("days cannot be negative")
        if any(days < 0 for _, days in self.cadence):
            raise ValueError("days cannot be negative")

    def applies(self, importance: int) -> tuple[DueRule, int]:
        """Which rule makes a customer of this rating due, and after how many days."""
        if self.cadence:
            return DueRule.CADENCE, dict(self.cadence)[importance]
        return DueRule.MYCRM, self.days

    @classmethod
    def from_settings(cls, values: Mapping[str, str]) -> "Rule":
        """The rule as the config table holds it; unreadable values fall back to defaults."""
        return cls(
            model.text(values, "followup_importance_operators"),
            model.number(values, "followup_importance"),
            model.number(values, "followup_days"),
            tuple(model.cadence(values).items()),
        )


_NOT_MAILED_SINCE = "(last_contact_date IS NULL OR last_contact_date < CURDATE() - INTERVAL %s DAY)"
_NO_COLLEAGUE_MAILED_SINCE = (
    "(company IS NULL OR company = '' OR company NOT IN ("  # noqa: S608 (fixed text)
    " SELECT company FROM customers WHERE last_contact_date >= CURDATE() - INTERVAL %s DAY"
    f" AND {not_invalid()} AND company IS NOT NULL AND company <> ''))"
)


def not_snoozed() -> str:
    """SQL: the customer is not snoozed, or its snooze has ended."""
    return "(snoozed_until IS NULL OR snoozed_until <= NOW())"


def clauses(rule: Rule, query: ListQuery) -> tuple[list[str], list[Any]]:
    if rule.cadence:
        groups = [
            f"(importance = %s AND {_NOT_MAILED_SINCE} AND {_NO_COLLEAGUE_MAILED_SINCE})"
            for _ in rule.cadence
        ]
        rule_clauses = [not_invalid(), not_snoozed(), "(" + " OR ".join(groups) + ")"]
        args: list[Any] = [value for rating, days in rule.cadence for value in (rating, days, days)]
    else:
        rule_clauses = [
            not_invalid(),
            f"importance {rule.operator} %s",  # the operator is one of OPERATORS
            _NOT_MAILED_SINCE,
            _NO_COLLEAGUE_MAILED_SINCE,
            not_snoozed(),
        ]
        args = [rule.importance, rule.days, rule.days]
    search, search_args = filters(ListQuery(q=query.q))
    return rule_clauses + search, args + search_args


_SELECT = ", ".join(f"c.{column}" for column in COLUMNS)
# Calendar days, as the rule counts them; the company's last mail to a not-invalid colleague
# (the one clause 3 looks at), the customer included.
_REASONS = {
    "days_since_contact": "DATEDIFF(NOW(), c.last_contact_date)",
    "days_since_company_contact": (
        "CASE WHEN c.company IS NULL OR c.company = '' THEN NULL ELSE ("  # noqa: S608 (fixed)
        "SELECT DATEDIFF(NOW(), MAX(o.last_contact_date)) FROM customers o"
        f" WHERE o.company = c.company AND o.{not_invalid()}) END"
    ),
}
_NEVER = 2_147_483_647  # never mailed sorts as the longest wait


async def due_page(
    pool: Pool, rule: Rule, query: ListQuery, reason_sort: str | None = None
) -> list[Row]:
    """A page of the due customers with why each is due; sorted by a column of the list's
    query, or by one of REASON_SORTS (paged by OFFSET, the reason being computed)."""
    found, args = clauses(rule, query)
    if reason_sort is None:
        ids = [row["id"] for row in await page(pool, query, found, args)]
    else:
        if reason_sort not in REASON_SORTS:
            raise ValueError(f"cannot sort by {reason_sort!r}")
        ids = await _ids_by_reason(pool, reason_sort, query, found, args)
    if not ids:
        return []
    placeholders = arg_marks(len(ids))
    rows = await fetch_all(
        pool,
        f"SELECT {_SELECT}, "  # noqa: S608 (fixed columns)
        + ", ".join(f"{expression} AS {name}" for name, expression in _REASONS.items())
        + f" FROM customers c WHERE c.id IN ({placeholders})",
        ids,
    )
    by_id = {row["id"]: row for row in rows}
    found_rows = [by_id[customer_id] for customer_id in ids if customer_id in by_id]
    for row in found_rows:
        due_rule, days = rule.applies(int(row["importance"]))
        row["due_rule"], row["due_after_days"] = due_rule.value, days
    return found_rows


async def _ids_by_reason(
    pool: Pool, reason_sort: str, query: ListQuery, found: list[str], args: list[Any]
) -> list[int]:
    if query.rows == 0:
        return []
    order = query.order
    key = f"COALESCE({_REASONS[reason_sort]}, {_NEVER})"
    rows = await fetch_all(
        pool,
        f"SELECT c.id FROM customers c{where(found)} "  # noqa: S608 (fixed clauses)
        f"ORDER BY {key} {order}, c.id {order} LIMIT %s OFFSET %s",
        [*args, query.rows, (query.page - 1) * query.rows],
    )
    return [row["id"] for row in rows]


async def due_count(pool: Pool, rule: Rule, query: ListQuery) -> int:
    found, args = clauses(rule, query)
    return await count_where(pool, found, args)
