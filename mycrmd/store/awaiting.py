"""待回复 (awaiting our reply): customers whose newest real received mail is newer than our
newest mail to them and to anyone at their company, and older than a number of hours.

"Real" is messages.type = receive: bounces, the admin's notices and auto-replies are stored
as system (jobs/fetch_mail.py `classify()`). A received mail belongs to every customer whose
address it carries (msg_addrs: sender and recipients alike). Our newest mail to a customer is
its last_contact_date (store/messages.py `update_last_contact()`). Invalid addresses and
snoozed customers are left out; the longest wait comes first.
"""

from typing import Any

from mycrmd.model.customer import COLUMNS
from mycrmd.model.message import MessageType
from mycrmd.store.customer_list import ORDERS, escape_like, not_invalid
from mycrmd.store.followup import not_snoozed
from mycrmd.store.pool import Pool, Row, fetch_all, fetch_value

_SELECT = ", ".join(f"c.{column}" for column in COLUMNS)
_WAITING = (
    "FROM customers c JOIN ("  # noqa: S608 (fixed text)
    " SELECT a.address, MAX(m.date) AS waiting_since FROM messages m"
    " JOIN msg_addrs a ON a.msg_id = m.id WHERE m.type = %s GROUP BY a.address"
    " HAVING MAX(m.date) < NOW() - INTERVAL %s HOUR"
    ") w ON w.address = c.email"
    f" WHERE c.{not_invalid()} AND {not_snoozed()}"
    " AND (c.last_contact_date IS NULL OR c.last_contact_date < w.waiting_since)"
    " AND (c.company IS NULL OR c.company = '' OR NOT EXISTS ("
    "  SELECT 1 FROM customers o WHERE o.company = c.company"
    "  AND o.last_contact_date >= w.waiting_since))"
)


def clauses(hours: int) -> tuple[list[str], list[Any]]:
    """The same customers as WHERE clauses on customers, for the CSV export."""
    return ["id IN (SELECT c.id " + _WAITING + ")"], [MessageType.RECEIVE.value, hours]


def _args(hours: int, q: str) -> tuple[str, list[Any]]:
    args: list[Any] = [MessageType.RECEIVE.value, hours]
    if not q.strip():
        return "", args
    pattern = f"%{escape_like(q.strip())}%"
    return " AND (c.email LIKE %s OR c.name LIKE %s OR c.company LIKE %s)", [*args, *[pattern] * 3]


async def waiting_page(
    pool: Pool, hours: int, page: int, rows: int, q: str = "", order: str = "asc"
) -> list[Row]:
    """A page of customers waiting for our answer, each with its newest received mail;
    `asc`: the longest wait first."""
    if order not in ORDERS:
        raise ValueError(f"order must be asc or desc, not {order!r}")
    search, args = _args(hours, q)
    found = await fetch_all(
        pool,
        f"SELECT {_SELECT}, w.waiting_since {_WAITING}{search} "
        f"ORDER BY w.waiting_since {order}, c.id {order} LIMIT %s OFFSET %s",
        [*args, rows, (page - 1) * rows],
    )
    for row in found:
        newest = await fetch_all(
            pool,
            "SELECT m.id, m.subject FROM messages m JOIN msg_addrs a ON a.msg_id = m.id"
            " WHERE a.address = %s AND m.type = %s ORDER BY m.date DESC, m.id DESC LIMIT 1",
            (row["email"], MessageType.RECEIVE.value),
        )
        row["last_received_id"] = newest[0]["id"] if newest else None
        row["last_received_subject"] = newest[0]["subject"] if newest else None
    return found


async def waiting_count(pool: Pool, hours: int, q: str = "") -> int:
    search, args = _args(hours, q)
    return int(await fetch_value(pool, f"SELECT COUNT(*) {_WAITING}{search}", args))
