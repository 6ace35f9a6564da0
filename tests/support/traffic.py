"""Users of the UI as HTTP clients: each loops over the customer list, a search and the
follow-up list (and, when asked, an edit), noting every answer's status and latency. Used by
the resilience tests and the soak script."""

import asyncio
import itertools
import random
import time
from dataclasses import dataclass, field

import aiohttp

READS = (
    "/api/customers?page={page}&rows=20",
    "/api/customers?q={word}&rows=20",
    "/api/followup?rows=20",
    "/api/customers?sort=name&order=desc&rows=50",
)
OK = frozenset({200, 201, 204})
WORDS = ("example", "公司", "shop", "zhang", "nomatch-xyz")


@dataclass
class Answer:
    at: float
    status: int
    seconds: float
    path: str


@dataclass
class Traffic:
    base: str
    clients: int = 20
    edits: bool = False
    pause: float = 0.05  # between one client's requests: a person clicking, not a loop
    answers: list[Answer] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> "Traffic":
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=self.clients),
        )
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._session.close()

    async def _client(self, number: int) -> None:
        rng = random.Random(number)
        for turn in itertools.count():
            if self._stop.is_set():
                return
            if self.edits and turn % 10 == 9:
                await self._edit(rng)
                continue
            path = rng.choice(READS).format(page=rng.randint(1, 50), word=rng.choice(WORDS))
            await self._ask("GET", path)
            await asyncio.sleep(self.pause)

    async def _edit(self, rng: random.Random) -> None:
        email = f"soak{rng.randrange(10**9)}@soak.example"
        status, body = await self._ask("POST", "/api/customers", {"email": email, "name": "soak"})
        if status == 201 and isinstance(body, dict):
            await self._ask("PATCH", f"/api/customers/{body['id']}", {"importance": 3})
            await self._ask("DELETE", f"/api/customers/{body['id']}")

    async def _ask(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        started = time.monotonic()
        data: object = None
        try:
            async with self._session.request(method, self.base + path, json=body) as response:
                status = response.status
                if response.content_type == "application/json":
                    data = await response.json()
                else:
                    await response.read()
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        finished = time.monotonic()
        self.answers.append(Answer(finished, status, finished - started, path))
        if status == 0:
            await asyncio.sleep(0.05)  # the daemon is away: do not spin
        return status, data

    def failures(self, since: float = 0.0) -> list[Answer]:
        """Answers that were not a success (status 0: no answer at all)."""
        return [a for a in self.answers if a.at >= since and a.status not in OK]

    def served(self) -> int:
        return sum(1 for a in self.answers if a.status in OK)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
