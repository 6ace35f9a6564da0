"""The verify job's queries: which addresses to check next, and what a check found."""

from datetime import datetime, timedelta

from mycrmd.model.customer import BY_NAME, Validity
from mycrmd.model.history import Source
from mycrmd.store.counts import totals
from mycrmd.store.customer_list import not_invalid
from mycrmd.store.history import record
from mycrmd.store.pool import Pool, Row, fetch_all, transaction

_LOG_LENGTH = BY_NAME["last_checked_log"].length or 0


# A received mail this recent settles an address: no credit is spent on it.
SETTLED_BY_MAIL = timedelta(days=180)


async def verify_candidates(pool: Pool, limit: int) -> list[Row]:
    """Addresses nothing settles yet (R-JOB1): not known to be invalid (a hard bounce makes
    them so), not proved by a real mail within SETTLED_BY_MAIL; unconfirmed never-checked
    first, then never-checked, then least recently checked; with their validity, since the
    pre-check may change only unconfirmed ones."""
    return await fetch_all(
        pool,
        f"SELECT c.id, c.email, c.valid FROM customers c WHERE {not_invalid()} "  # noqa: S608 (fixed text)
        "AND NOT EXISTS (SELECT 1 FROM validity_history h WHERE h.customer_id = c.id "
        "AND h.field = 'valid' AND h.source = %s AND h.new = %s AND h.at > %s) "
        "ORDER BY (c.last_checked_date IS NULL AND c.valid = %s) DESC, "
        "c.last_checked_date, c.id LIMIT %s",
        (
            Source.MAIL.value,
            str(int(Validity.VALID)),
            datetime.now() - SETTLED_BY_MAIL,
            int(Validity.UNCONFIRMED),
            limit,
        ),
    )


async def record_check(
    pool: Pool,
    customer_id: int,
    valid: Validity | None,
    log: str,
    when: datetime,
    source: Source = Source.VERIFY,
) -> None:
    """What a check found; valid None leaves validity as it was. A change is written to the
    history with its source (the verify API or the DNS pre-check)."""
    async with transaction(pool) as cur:
        await cur.execute("SELECT valid FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        before = await cur.fetchone()
        await cur.execute(
            "UPDATE customers SET last_checked_date = %s, last_checked_log = %s, "
            "valid = COALESCE(%s, valid) WHERE id = %s",
            (when, log[:_LOG_LENGTH], None if valid is None else int(valid), customer_id),
        )
        if before is not None and valid is not None and before["valid"] != int(valid):
            await record(
                cur, customer_id, "valid", before["valid"], int(valid), source, log, None, when
            )
    totals.forget()
