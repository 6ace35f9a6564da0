"""Messages written straight into a test's database, as the mail job would store them."""

from datetime import datetime, timedelta

from mycrmd.store.pool import Pool, execute, insert


async def add_message(
    pool: Pool, kind: str, subject: str, days: float, addresses: list[str], content: str = ""
) -> int:
    message_id = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) VALUES (%s, %s, %s, %s, %s)",
        (
            "Sender",
            datetime.now().replace(microsecond=0) - timedelta(days=days),
            kind,
            subject,
            content,
        ),
    )
    for address in addresses:
        await execute(
            pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, %s)", (message_id, address)
        )
    return message_id
