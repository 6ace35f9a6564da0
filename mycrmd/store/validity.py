"""Changes of a customer's validity that the mailbox causes, made inside the caller's open
transaction so they commit (or roll back) with the mail that caused them."""

from datetime import datetime

import aiomysql

from mycrmd.model.customer import BY_NAME, Validity

_LOG_LENGTH = BY_NAME["last_checked_log"].length or 0


async def mark_bounced(cur: aiomysql.Cursor, address: str, reason: str, when: datetime) -> int:
    """The customer with this address is invalid: a permanent bounce says so. Returns how
    many customers changed (0 or 1)."""
    return int(
        await cur.execute(
            "UPDATE customers SET valid = %s, last_checked_log = %s, last_checked_date = %s "
            "WHERE email = %s",
            (int(Validity.INVALID), reason[:_LOG_LENGTH], when, address),
        )
    )
