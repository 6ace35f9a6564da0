"""The `config` table: settings the UI edits and the jobs read fresh on every run (what each
one is: model/settings.py)."""

from mycrmd.model.settings import SECRETS
from mycrmd.safety import redact
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_value


async def load(pool: Pool) -> dict[str, str]:
    rows = await fetch_all(pool, "SELECT parameter, value FROM config")
    values = {row["parameter"]: row["value"] for row in rows if row["value"] is not None}
    redact.remember(*(values.get(name) for name in SECRETS))
    return values


async def get(pool: Pool, name: str) -> str | None:
    return await fetch_value(pool, "SELECT value FROM config WHERE parameter = %s", (name,))


async def put(pool: Pool, values: dict[str, str]) -> None:
    """Write several settings at once; each is created when missing."""
    redact.remember(*(values.get(name) for name in SECRETS))
    for name, value in values.items():
        await execute(
            pool,
            "INSERT INTO config (parameter, value) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE value = VALUES(value)",
            (name, value),
        )
