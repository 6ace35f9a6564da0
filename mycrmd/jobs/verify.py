"""The verify job: up to `[verify] per_run` addresses an hour through verify-email.org's guest
API (R-JOB1), behind the 61-minute guard (R-JOB2), after a free local pre-check.

The guard: mail_checked_date (config table) is when the last run that asked the API ended.
Less than 5 minutes ago → skip; 5 to 61 minutes → wait until 61 minutes have passed; else run.
The whole elapsed time counts (the original compared only the seconds part of the difference,
so a gap of a day and two minutes looked like two minutes). Being in the database, the guard
holds across restarts and processes, whatever triggers the run.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

import aiohttp
import dns.asyncresolver

from mycrmd.jobs.precheck import make_resolver, refusal, why_dns_unusable, why_undeliverable
from mycrmd.jobs.scheduler import JobContext, JobResult
from mycrmd.jobs.verify_api import RateLimited, Reply, UnreadableReply, ask
from mycrmd.model.customer import Validity
from mycrmd.model.history import Source
from mycrmd.model.jobs import RunStatus
from mycrmd.store import config_table, verification
from mycrmd.store.pool import Row

SKIP_WITHIN = timedelta(minutes=5)
WAIT_UNTIL = timedelta(minutes=61)
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Candidates read per run: the pre-check may condemn many before the API is asked `per_run`.
_CANDIDATES_PER_CREDIT = 10


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now().replace(microsecond=0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Verdict:
    action: Literal["run", "wait", "skip"]
    reason: str
    until: datetime | None = None


def guard(last_checked: datetime | None, now: datetime) -> Verdict:
    """What the 61-minute guard says about running now."""
    if last_checked is None:
        return Verdict("run", "no earlier run asked the API")
    elapsed = now - last_checked
    if elapsed < timedelta(0):
        return Verdict("run", f"the last run's end {last_checked} is in the future")
    if elapsed < SKIP_WITHIN:
        return Verdict("skip", f"the last run ended {_minutes(elapsed)} ago, less than 5 minutes")
    if elapsed < WAIT_UNTIL:
        until = last_checked + WAIT_UNTIL
        return Verdict("wait", f"the last run ended {_minutes(elapsed)} ago", until)
    return Verdict("run", f"the last run ended {_minutes(elapsed)} ago")


def _minutes(elapsed: timedelta) -> str:
    return f"{elapsed.total_seconds() / 60:.1f} min"


def outcome(reply: Reply) -> Validity | None:
    """The validity a reply establishes, or None when it only gets logged."""
    if reply.status == 1:
        return Validity.VALID
    if reply.log == "MailboxDoesNotExist":
        return Validity.INVALID
    if reply.log == "ServerIsCatchAll":
        return Validity.UNCONFIRMED
    return None


def _name(valid: Validity | None) -> str:
    """The outcome as the run's summary counts it."""
    return "unchanged" if valid is None else valid.name.lower()


class VerifyJob:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    async def run(self, ctx: JobContext) -> JobResult:
        stored = await config_table.get(ctx.pool, "mail_checked_date")
        verdict = guard(_parse_date(stored), self.clock.now())
        if verdict.action == "skip":
            ctx.log.info("skipped: %s", verdict.reason)
            return JobResult(RunStatus.SKIPPED, {"reason": verdict.reason})
        if verdict.action == "wait" and verdict.until:
            ctx.set_state(f"waiting until {verdict.until:%H:%M}")
            ctx.log.info("waiting until %s: %s", f"{verdict.until:%H:%M}", verdict.reason)
            await self.clock.sleep((verdict.until - self.clock.now()).total_seconds())
            ctx.set_state("")
        return await self._check(ctx)

    async def _check(self, ctx: JobContext) -> JobResult:
        per_run = ctx.config.verify.per_run
        resolver = make_resolver(ctx.config.verify.nameserver)
        tally = _Tally()
        candidates = await verification.verify_candidates(
            ctx.pool, per_run * _CANDIDATES_PER_CREDIT
        )
        if candidates and resolver is not None:
            unusable = await why_dns_unusable(resolver)
            if unusable:
                return _stopped(ctx, unusable)
        to_ask, condemned, prechecked = await self._precheck(ctx, resolver, candidates, per_run)
        stop = refusal(len(condemned), prechecked)
        if stop:
            return _stopped(ctx, stop)
        for customer, reason in condemned:
            await verification.record_check(
                ctx.pool,
                customer["id"],
                Validity.INVALID,
                reason,
                self.clock.now(),
                Source.PRECHECK,
            )
            tally.counts["precheck_invalid"] += 1
            ctx.log.info("address=%s outcome=invalid precheck=%r", customer["email"], reason)
        try:
            async with aiohttp.ClientSession() as http:
                for customer in to_ask:
                    if tally.stopped:
                        break
                    await self._ask_one(ctx, http, customer, tally)
        finally:
            if tally.asked:
                ended = self.clock.now().strftime(_DATE_FORMAT)
                await config_table.put(ctx.pool, {"mail_checked_date": ended})
        return JobResult(RunStatus.OK, tally.summary())

    async def _precheck(
        self,
        ctx: JobContext,
        resolver: dns.asyncresolver.Resolver | None,
        candidates: list[Row],
        per_run: int,
    ) -> tuple[list[Row], list[tuple[Row, str]], int]:
        """The addresses to ask the API about (at most per_run), those the pre-check condemns,
        and how many it looked at. Only an unconfirmed address is condemned: no column says
        whether a person set "valid", so a valid one goes to the API, whose answer is new
        evidence."""
        to_ask: list[Row] = []
        condemned: list[tuple[Row, str]] = []
        prechecked = 0
        for customer in candidates:
            if len(to_ask) >= per_run:
                break
            prechecked += 1
            reason = await why_undeliverable(customer["email"], resolver)
            if reason and customer["valid"] == Validity.UNCONFIRMED:
                condemned.append((customer, reason))
                continue
            if reason:
                ctx.log.info(
                    "address=%s precheck=%r kept valid: the API decides", customer["email"], reason
                )
            to_ask.append(customer)
        return to_ask, condemned, prechecked

    async def _ask_one(
        self,
        ctx: JobContext,
        http: aiohttp.ClientSession,
        customer: Row,
        tally: "_Tally",
    ) -> None:
        address = customer["email"]
        tally.asked += 1
        try:
            reply = await ask(http, ctx.config.verify.api_url, address)
        except RateLimited as exc:
            tally.stopped = str(exc)
            ctx.log.warning("stopped: the API says %r", tally.stopped)
            return
        except UnreadableReply as exc:
            tally.counts["errors"] += 1
            ctx.log.warning("address=%s error=%r (customer unchanged)", address, str(exc))
            return
        valid = outcome(reply)
        await verification.record_check(
            ctx.pool, customer["id"], valid, reply.log, self.clock.now()
        )
        tally.counts["checked"] += 1
        tally.counts[_name(valid)] += 1
        if reply.credits is not None:
            tally.credits = reply.credits
        ctx.log.info(
            "address=%s outcome=%s status=%s log=%r credits=%s",
            address,
            _name(valid),
            reply.status,
            reply.log,
            reply.credits,
        )


@dataclass
class _Tally:
    asked: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    credits: int | None = None
    stopped: str = ""

    def summary(self) -> dict[str, object]:
        keys = ("checked", "valid", "invalid", "unconfirmed", "unchanged", "precheck_invalid")
        summary: dict[str, object] = {key: self.counts[key] for key in keys}
        summary["errors"] = self.counts["errors"]
        summary["credits"] = self.credits
        if self.stopped:
            summary["stopped"] = self.stopped
        return summary


def every_address_errored(summary: dict[str, object]) -> bool:
    """A run whose every API question ended in an error: nothing was learnt."""
    errors = summary.get("errors")
    return isinstance(errors, int) and errors > 0 and summary.get("checked") == 0


def _stopped(ctx: JobContext, reason: str) -> JobResult:
    """A run the pre-check's safety stopped before changing anything: a failure, so it shows."""
    ctx.log.error("stopped, no customer changed: %s", reason)
    return JobResult(RunStatus.FAILED, {"error": reason, "changed": 0})


def _parse_date(text: str | None) -> datetime | None:
    """mail_checked_date as the original stored it; anything unreadable counts as never."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip()[:19], _DATE_FORMAT)
    except ValueError:
        return None
