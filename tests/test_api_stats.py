"""The statistics API."""

from datetime import date, timedelta

from aiohttp.test_utils import TestClient

from mycrmd.store.pool import Pool, insert
from tests.support.api import get_json
from tests.support.messages import add_message


async def test_statistics(client: TestClient, pool: Pool) -> None:
    for n, (importance, valid) in enumerate(((5, 1), (5, 1), (5, 0), (2, 2))):
        await insert(
            pool,
            "INSERT INTO customers (email, importance, valid) VALUES (%s, %s, %s)",
            (f"s{n}@x.example", importance, valid),
        )
    rows = (await get_json(client, "/api/stats/importance"))["rows"]
    assert len(rows) == 18
    counts = {(r["importance"], r["valid"]): r["count"] for r in rows}
    assert (
        counts[(5, 1)] == 2 and counts[(5, 0)] == 1 and counts[(2, 2)] == 1 and counts[(0, 0)] == 0
    )
    await add_message(pool, "sendto", "s", 0, [])
    await add_message(pool, "receive", "r", 0, [])
    await add_message(pool, "receive", "r2", 7, [])
    await add_message(pool, "system", "x", 0, [])
    weeks = (await get_json(client, "/api/stats/messages"))["weeks"]
    assert len(weeks) == 20
    monday = date.today() - timedelta(days=date.today().weekday())
    assert weeks[-1] == {"week": monday.isoformat(), "sendto": 1, "receive": 1}
    assert sum(w["receive"] for w in weeks) == 2
