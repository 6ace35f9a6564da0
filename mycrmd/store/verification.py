"""The verify job's queries: which addresses to check next, and what a check found."""

from datetime import datetime

from mycrmd.model.customer import BY_NAME, Validity
from mycrmd.store.counts import totals
from mycrmd.store.customer_list import not_invalid
from mycrmd.store.pool import Pool, Row, execute, fetch_all

_LOG_LENGTH = BY_NAME["last_checked_log"].length or 0


async def verify_candidates(pool: Pool, limit: int) -> list[Row]:
    """Addresses not known to be invalid, never-checked first (NULL sorts first), then least
    recently checked (R-JOB1); with their validity, since the pre-check may change only
    unconfirmed ones."""
    return await fetch_all(
        pool,
        f"SELECT id, email, valid FROM customers WHERE {not_invalid()} "  # noqa: S608 (fixed text)
        "ORDER BY last_checked_date, id LIMIT %s",
        (limit,),
    )


async def record_check(
    pool: Pool, customer_id: int, valid: Validity | None, log: str, when: datetime
) -> None:
    """What a check found; valid None leaves validity as it was."""
    await execute(
        pool,
        "UPDATE customers SET last_checked_date = %s, last_checked_log = %s, "
        "valid = COALESCE(%s, valid) WHERE id = %s",
        (when, log[:_LOG_LENGTH], None if valid is None else int(valid), customer_id),
    )
    totals.forget()
