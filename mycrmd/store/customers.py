"""The customers table."""

from datetime import datetime

from mycrmd.store.pool import Pool, Row, execute, fetch_all

_LOG_LENGTH = 256  # customers.last_checked_log is VARCHAR(256)


async def verify_candidates(pool: Pool, limit: int) -> list[Row]:
    """Addresses not known to be invalid, never-checked first (NULL sorts first), then least
    recently checked (SPEC R-JOB1)."""
    return await fetch_all(
        pool,
        "SELECT id, email FROM customers WHERE valid >= 1 ORDER BY last_checked_date, id LIMIT %s",
        (limit,),
    )


async def record_check(
    pool: Pool, customer_id: int, valid: int | None, log: str, when: datetime
) -> None:
    """What a check found; valid None leaves validity as it was."""
    await execute(
        pool,
        "UPDATE customers SET last_checked_date = %s, last_checked_log = %s, "
        "valid = COALESCE(%s, valid) WHERE id = %s",
        (when, log[:_LOG_LENGTH], valid, customer_id),
    )
