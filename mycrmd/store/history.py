"""validity_history: every change of a customer's validity, with its source, reason and the
mail that caused it, so the UI can say why and later evidence can be weighed by time."""

from datetime import datetime

import aiomysql

from mycrmd.model.history import Source
from mycrmd.store.pool import Pool, Row, fetch_all

_REASON_LENGTH = 256


async def record(
    cur: aiomysql.Cursor,
    customer_id: int,
    field: str,
    old: object,
    new: object,
    source: Source,
    reason: str = "",
    message_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """One change, inside the caller's transaction; `at` defaults to now."""
    await cur.execute(
        "INSERT INTO validity_history "
        "(customer_id, at, field, old, new, source, reason, message_id) "
        "VALUES (%s, COALESCE(%s, NOW(6)), %s, %s, %s, %s, %s, %s)",
        (
            customer_id,
            at,
            field,
            None if old is None else str(old),
            None if new is None else str(new),
            source.value,
            reason[:_REASON_LENGTH],
            message_id,
        ),
    )


async def for_customer(pool: Pool, customer_id: int) -> list[Row]:
    """A customer's changes, newest first."""
    return await fetch_all(
        pool,
        "SELECT id, at, field, old, new, source, reason, message_id FROM validity_history "
        "WHERE customer_id = %s ORDER BY at DESC, id DESC",
        (customer_id,),
    )
