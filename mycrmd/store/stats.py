"""Figures for the statistics tab (R-ST1), zero-filled so charts have every bar."""

from dataclasses import dataclass
from datetime import date, timedelta

from mycrmd.model.customer import IMPORTANCE, Validity
from mycrmd.model.message import MessageType
from mycrmd.store.pool import Pool, fetch_all


async def customers_by_importance(pool: Pool) -> list[dict[str, int]]:
    """Customers per importance and validity, every pair listed."""
    rows = await fetch_all(
        pool,
        "SELECT importance, valid, COUNT(*) AS n FROM customers GROUP BY importance, valid",
    )
    counts = {(int(row["importance"] or 0), int(row["valid"] or 0)): int(row["n"]) for row in rows}
    return [
        {
            "importance": importance,
            "valid": int(valid),
            "count": counts.get((importance, valid), 0),
        }
        for importance in IMPORTANCE
        for valid in Validity
    ]


@dataclass(frozen=True)
class WeekOfMail:
    week: date  # its Monday
    sendto: int
    receive: int


async def mails_per_week(pool: Pool, weeks: int, today: date) -> list[WeekOfMail]:
    """Mails sent and received per week (from Monday), the last `weeks` weeks including
    this one, oldest first."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = await fetch_all(
        pool,
        "SELECT DATE(date - INTERVAL WEEKDAY(date) DAY) AS week, type, COUNT(*) AS n "
        "FROM messages WHERE type IN (%s, %s) AND date >= %s "
        "GROUP BY week, type",
        (MessageType.SENDTO.value, MessageType.RECEIVE.value, mondays[0]),
    )
    counts = {(row["week"], row["type"]): int(row["n"]) for row in rows}
    return [
        WeekOfMail(
            monday,
            counts.get((monday, MessageType.SENDTO), 0),
            counts.get((monday, MessageType.RECEIVE), 0),
        )
        for monday in mondays
    ]
