"""Waiting for something that happens in another task or process."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    within: float = 15.0,
    describe: Callable[[], Any] | None = None,
) -> None:
    """Until check() is true, polling; fails the test after `within` seconds, showing what
    describe() returns then (awaited if need be)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() >= deadline:
            seen = describe() if describe else None
            if inspect.isawaitable(seen):
                seen = await seen
            raise AssertionError(f"not reached within {within} s; now: {seen}")
        await asyncio.sleep(0.05)
