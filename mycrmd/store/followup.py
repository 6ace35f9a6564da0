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
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mycrmd.model import settings as model
from mycrmd.model.settings import OPERATORS
from mycrmd.store.customer_list import ListQuery, count_where, filters, not_invalid, page
from mycrmd.store.pool import Pool, Row


@dataclass(frozen=True)
class Rule:
    operator: str = model.BY_NAME["followup_importance_operators"].default
    importance: int = int(model.BY_NAME["followup_importance"].default)
    days: int = int(model.BY_NAME["followup_days"].default)

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}")
        if self.days < 0:
            raise ValueError("days cannot be negative")

    @classmethod
    def from_settings(cls, values: Mapping[str, str]) -> "Rule":
        """The rule as the config table holds it; unreadable values fall back to defaults."""
        return cls(
            model.text(values, "followup_importance_operators"),
            model.number(values, "followup_importance"),
            model.number(values, "followup_days"),
        )


def clauses(rule: Rule, query: ListQuery) -> tuple[list[str], list[Any]]:
    rule_clauses = [
        not_invalid(),
        f"importance {rule.operator} %s",  # the operator is one of OPERATORS
        "(last_contact_date IS NULL OR last_contact_date < CURDATE() - INTERVAL %s DAY)",
        "(company IS NULL OR company = '' OR company NOT IN ("  # noqa: S608 (fixed text)
        " SELECT company FROM customers WHERE last_contact_date >= CURDATE() - INTERVAL %s DAY"
        f" AND {not_invalid()} AND company IS NOT NULL AND company <> ''))",
    ]
    args: list[Any] = [rule.importance, rule.days, rule.days]
    search, search_args = filters(ListQuery(q=query.q))
    return rule_clauses + search, args + search_args


async def due_page(pool: Pool, rule: Rule, query: ListQuery) -> list[Row]:
    found, args = clauses(rule, query)
    return await page(pool, query, found, args)


async def due_count(pool: Pool, rule: Rule, query: ListQuery) -> int:
    found, args = clauses(rule, query)
    return await count_where(pool, found, args)
