"""verify-email.org's guest API: GET api_url + address → {email, response: {status, log}, credits}.

A reply that cannot be read (network error, HTTP error, not the documented JSON) is an
UnreadableReply and must change no customer; the hourly limit's text, in any body, is
RateLimited and ends the run.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

_TIMEOUT = aiohttp.ClientTimeout(total=30)
_MAX_BODY = 64 * 1024
_RATE_LIMIT = re.compile(r"reached the limit of \d+ emails per hour", re.IGNORECASE)


class RateLimited(Exception):
    """The API's hourly limit is reached: no more questions this run."""


class UnreadableReply(Exception):
    """The reply cannot be trusted to say anything about the address."""


@dataclass(frozen=True)
class Reply:
    status: int
    log: str
    credits: int | None


async def ask(http: aiohttp.ClientSession, api_url: str, address: str) -> Reply:
    url = api_url + quote(address, safe="@")
    try:
        async with http.get(url, timeout=_TIMEOUT) as resp:
            body = (await resp.content.read(_MAX_BODY)).decode("utf-8", errors="replace")
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UnreadableReply(f"request failed: {exc or type(exc).__name__}") from None
    limit = _RATE_LIMIT.search(body)
    if limit:
        raise RateLimited(limit.group(0))
    if status != 200:
        raise UnreadableReply(f"HTTP {status}")
    return _parse(body)


def _parse(body: str) -> Reply:
    try:
        data = json.loads(body)
        response = data["response"]
        status = int(response["status"])
        log = str(response["log"])
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableReply(f"not the API's JSON: {body[:80]!r}") from exc
    credits = data.get("credits")
    return Reply(status, log, credits if isinstance(credits, int) else None)
