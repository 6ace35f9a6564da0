"""Who is due for follow-up (SPEC R-FU1). A customer is due when ALL hold:

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

from dataclasses import dataclass
from typing import Any

from mycrmd.store import customers
from mycrmd.store.customers import ListQuery
from mycrmd.store.pool import Pool, Row

OPERATORS = ("=", ">", ">=")


@dataclass(frozen=True)
class Rule:
    operator: str = ">="
    importance: int = 3
    days: int = 30

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}")
        if self.days < 0:
            raise ValueError("days cannot be negative")

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> "Rule":
        """The rule as the config table holds it; unreadable values fall back to defaults."""
        operator = values.get("followup_importance_operators", ">=").strip()
        return cls(
            operator if operator in OPERATORS else ">=",
            _number(values.get("followup_importance"), 3),
            _number(values.get("followup_days"), 30),
        )


def _number(text: str | None, default: int) -> int:
    return int(text) if text and text.strip().isdigit() else default


def clauses(rule: Rule, query: ListQuery) -> tuple[list[str], list[Any]]:
    rule_clauses = [
        "valid >= 1",
        f"importance {rule.operator} %s",  # the operator is one of OPERATORS
        "(last_contact_date IS NULL OR last_contact_date < CURDATE() - INTERVAL %s DAY)",
        "(company IS NULL OR company = '' OR company NOT IN ("
        " SELECT company FROM customers WHERE last_contact_date >= CURDATE() - INTERVAL %s DAY"
        " AND valid >= 1 AND company IS NOT NULL AND company <> ''))",
    ]
    args: list[Any] = [rule.importance, rule.days, rule.days]
    search, search_args = customers.filters(ListQuery(q=query.q))
    return rule_clauses + search, args + search_args


async def due_page(pool: Pool, rule: Rule, query: ListQuery) -> list[Row]:
    found, args = clauses(rule, query)
    return await customers.page(pool, query, found, args)


async def due_count(pool: Pool, rule: Rule, query: ListQuery) -> int:
    found, args = clauses(rule, query)
    return await customers.totals.count(
        pool,
        f"SELECT COUNT(*) FROM customers{customers.where(found)}",  # noqa: S608 (fixed text)
        args,
    )
