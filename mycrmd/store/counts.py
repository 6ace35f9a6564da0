"""Totals are the slow part of a grid (a count over a million rows): remembered per query,
forgotten on every write made through the store, and after a few seconds for writes made
elsewhere (another process, another daemon)."""

import time
import weakref
from typing import Any

from mycrmd.store.pool import Pool, fetch_value

_COUNT_TTL = 10.0  # seconds a total may lag behind writes made by another process


class _Totals:
    def __init__(self) -> None:
        # Per pool object, not per id(pool): a new pool may reuse a closed one's id.
        self._seen: weakref.WeakKeyDictionary[Pool, dict[tuple[object, ...], tuple[float, int]]]
        self._seen = weakref.WeakKeyDictionary()

    async def count(self, pool: Pool, sql: str, args: list[Any]) -> int:
        seen = self._seen.setdefault(pool, {})
        key = (sql, *args)
        now = time.monotonic()
        hit = seen.get(key)
        if hit and now - hit[0] < _COUNT_TTL:
            return hit[1]
        total = int(await fetch_value(pool, sql, args))
        seen[key] = (now, total)
        return total

    def forget(self) -> None:
        self._seen.clear()


totals = _Totals()
