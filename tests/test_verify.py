"""The verify job against a fake verify-email.org and a fake DNS server on loopback, with an
injectable clock so no test waits real minutes."""

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from mycrmd.config import Config, VerifyConfig
from mycrmd.jobs.scheduler import Job, JobResult, Scheduler, every
from mycrmd.jobs.verify import VerifyJob, guard
from mycrmd.store import config_table
from mycrmd.store.pool import Pool, fetch_all, fetch_one, insert
from tests.support import fake_verify_api as api
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, SILENT, FakeDns
from tests.support.fake_verify_api import FakeVerifyApi
from tests.support.waiting import eventually

T0 = datetime(2026, 11, 25, 10, 0, 0)
NEVER = every(lambda c: timedelta(days=365))


class FakeClock:
    """Time that moves only when the job sleeps (or a test says so)."""

    def __init__(self, now: datetime, *, block: bool = False) -> None:
        self.current = now
        self.slept: list[float] = []
        self.block = block

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.block:
            await asyncio.Event().wait()
        self.current += timedelta(seconds=seconds)


async def add_customer(pool: Pool, email: str, **columns: object) -> int:
    names = ["email", *columns]
    return await insert(
        pool,
        f"INSERT INTO customers ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
        [email, *columns.values()],
    )


async def customer(pool: Pool, email: str) -> dict:
    row = await fetch_one(
        pool,
        "SELECT valid, last_checked_date, last_checked_log FROM customers WHERE email = %s",
        (email,),
    )
    assert row is not None
    return row


@pytest.fixture
def verify_config(config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns) -> Config:
    return replace(config, verify=VerifyConfig(api_url=verify_api.url, nameserver=fake_dns.address))


async def run_verify(pool: Pool, config: Config, clock: FakeClock) -> JobResult:
    scheduler = Scheduler(pool, config, [Job("verify", VerifyJob(clock).run, NEVER)])
    result = await scheduler.run_once("verify", "cli")
    assert result is not None
    return result


async def checked_at(pool: Pool, when: datetime) -> None:
    await config_table.put(pool, {"mail_checked_date": when.strftime("%Y-%m-%d %H:%M:%S")})


@pytest.mark.parametrize(
    ("gap", "action", "until"),
    [
        (None, "run", None),
        (timedelta(minutes=3), "skip", None),
        (timedelta(minutes=4, seconds=59), "skip", None),
        (timedelta(minutes=5), "wait", T0 + timedelta(minutes=61)),
        (timedelta(minutes=30), "wait", T0 + timedelta(minutes=61)),
        (timedelta(minutes=60, seconds=59), "wait", T0 + timedelta(minutes=61)),
        (timedelta(minutes=61), "run", None),
        (timedelta(minutes=62), "run", None),
        # The original looked only at the seconds part: 1 day + 2 min looked like 2 min.
        (timedelta(days=1, minutes=2), "run", None),
        (timedelta(days=1, minutes=30), "run", None),
    ],
)
def test_the_guard(gap: timedelta | None, action: str, until: datetime | None) -> None:
    verdict = guard(T0 if gap is not None else None, T0 + (gap or timedelta()))
    assert (verdict.action, verdict.until) == (action, until)


async def test_a_run_3_minutes_after_the_last_is_skipped_and_says_why(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "a@example.com")
    await checked_at(pool, T0)
    result = await run_verify(pool, verify_config, FakeClock(T0 + timedelta(minutes=3)))
    assert result.status == "skipped"
    assert "less than 5 minutes" in result.summary["reason"]
    assert verify_api.asked == []
    (row,) = await fetch_all(pool, "SELECT status, summary FROM job_runs")
    assert row["status"] == "skipped" and "less than 5 minutes" in row["summary"]
    assert (
        "skipped: the last run ended 3.0 min ago"
        in (verify_config.log_dir / "verify.log").read_text()
    )


async def test_a_run_30_minutes_after_waits_until_61_then_checks(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "a@example.com")
    await checked_at(pool, T0)
    clock = FakeClock(T0 + timedelta(minutes=30))
    result = await run_verify(pool, verify_config, clock)
    assert clock.slept == [31 * 60]
    assert result.status == "ok" and result.summary["checked"] == 1
    assert verify_api.asked == ["a@example.com"]
    assert await config_table.get(pool, "mail_checked_date") == "2026-11-25 11:01:00"
    assert "waiting until 11:01" in (verify_config.log_dir / "verify.log").read_text()


async def test_the_wait_shows_in_the_job_status_and_stop_interrupts_it_cleanly(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "a@example.com")
    await checked_at(pool, T0)
    clock = FakeClock(T0 + timedelta(minutes=30), block=True)
    scheduler = Scheduler(pool, verify_config, [Job("verify", VerifyJob(clock).run, NEVER)])
    scheduler.trigger("verify", "signal")
    await eventually(lambda: scheduler.status()[0]["state"] == "waiting until 11:01")
    await scheduler.stop(grace=2)
    (row,) = await fetch_all(pool, "SELECT status FROM job_runs")
    assert row["status"] == "interrupted"
    assert verify_api.asked == []
    assert await config_table.get(pool, "mail_checked_date") == "2026-11-25 10:00:00"


async def test_a_run_62_minutes_after_or_a_day_and_2_minutes_after_runs_at_once(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "a@example.com")
    for gap in (timedelta(minutes=62), timedelta(days=1, minutes=2)):
        await checked_at(pool, T0)
        clock = FakeClock(T0 + gap)
        result = await run_verify(pool, verify_config, clock)
        assert clock.slept == [] and result.summary["checked"] == 1
    assert len(verify_api.asked) == 2


async def test_never_checked_first_then_least_recently_checked_at_most_5(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "old@example.com", last_checked_date=T0 - timedelta(days=30))
    await add_customer(pool, "recent@example.com", last_checked_date=T0 - timedelta(days=1))
    await add_customer(pool, "oldest@example.com", last_checked_date=T0 - timedelta(days=90))
    await add_customer(pool, "new1@example.com")
    await add_customer(pool, "new2@example.com")
    await add_customer(pool, "invalid@example.com", valid=0)
    await add_customer(pool, "middle@example.com", last_checked_date=T0 - timedelta(days=10))
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert verify_api.asked == [
        "new1@example.com",
        "new2@example.com",
        "oldest@example.com",
        "old@example.com",
        "middle@example.com",
    ]
    assert result.summary["checked"] == 5
    assert (await customer(pool, "recent@example.com"))["last_checked_date"] == T0 - timedelta(
        days=1
    )


async def test_per_run_is_configurable(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    for n in range(4):
        await add_customer(pool, f"c{n}@example.com")
    config = replace(verify_config, verify=replace(verify_config.verify, per_run=2))
    await run_verify(pool, config, FakeClock(T0))
    assert verify_api.asked == ["c0@example.com", "c1@example.com"]


async def test_each_reply_sets_validity_as_the_spec_says(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "ok@example.com", valid=2)
    await add_customer(pool, "gone@example.com", valid=1)
    await add_customer(pool, "catchall@example.com", valid=1)
    await add_customer(pool, "unknown@example.com", valid=1)
    verify_api.replies.update(
        {
            "gone@example.com": api.DOES_NOT_EXIST,
            "catchall@example.com": api.CATCH_ALL,
            "unknown@example.com": api.UNKNOWN,
        }
    )
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert await customer(pool, "ok@example.com") == {
        "valid": 1,
        "last_checked_date": T0,
        "last_checked_log": "Success",
    }
    assert (await customer(pool, "gone@example.com"))["valid"] == 0
    assert (await customer(pool, "catchall@example.com"))["valid"] == 2
    unknown = await customer(pool, "unknown@example.com")
    assert unknown == {
        "valid": 1,
        "last_checked_date": T0,
        "last_checked_log": "SmtpConnectionFailure",
    }
    assert result.summary == {
        "checked": 4,
        "valid": 1,
        "invalid": 1,
        "unconfirmed": 1,
        "unchanged": 1,
        "precheck_invalid": 0,
        "errors": 0,
        "credits": 4,
        "seconds": result.summary["seconds"],
    }
    log = (verify_config.log_dir / "verify.log").read_text()
    assert "address=gone@example.com outcome=invalid status=0 log='MailboxDoesNotExist'" in log


async def test_the_rate_limit_stops_the_run_and_the_guard_is_set(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    for n in range(5):
        await add_customer(pool, f"c{n}@example.com")
    verify_api.replies["c2@example.com"] = api.rate_limited
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert verify_api.asked == ["c0@example.com", "c1@example.com", "c2@example.com"]
    assert result.summary["checked"] == 2
    assert "limit of 5 emails per hour" in result.summary["stopped"]
    assert (await customer(pool, "c2@example.com"))["last_checked_date"] is None
    assert await config_table.get(pool, "mail_checked_date") == "2026-11-25 10:00:00"


async def test_a_500_or_garbage_is_logged_the_customer_kept_and_the_run_goes_on(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi
) -> None:
    await add_customer(pool, "err@example.com", valid=1)
    await add_customer(pool, "junk@example.com", valid=2)
    await add_customer(pool, "fine@example.com")
    verify_api.replies["err@example.com"] = api.server_error
    verify_api.replies["junk@example.com"] = api.garbage
    result = await run_verify(pool, verify_config, FakeClock(T0))
    # Unconfirmed never-checked addresses come first.
    assert verify_api.asked == ["junk@example.com", "fine@example.com", "err@example.com"]
    assert await customer(pool, "err@example.com") == {
        "valid": 1,
        "last_checked_date": None,
        "last_checked_log": None,
    }
    assert (await customer(pool, "junk@example.com"))["last_checked_date"] is None
    assert (await customer(pool, "fine@example.com"))["valid"] == 1
    assert result.summary["errors"] == 2 and result.summary["checked"] == 1
    log = (verify_config.log_dir / "verify.log").read_text()
    assert "address=err@example.com error='HTTP 500' (customer unchanged)" in log


async def test_the_api_is_unreachable(pool: Pool, config: Config, fake_dns: FakeDns) -> None:
    await add_customer(pool, "a@example.com")
    closed = replace(
        config, verify=VerifyConfig(api_url="http://127.0.0.1:9/x/", nameserver=fake_dns.address)
    )
    result = await run_verify(pool, closed, FakeClock(T0))
    assert result.status == "ok" and result.summary["errors"] == 1
    assert (await customer(pool, "a@example.com"))["last_checked_date"] is None


async def test_the_precheck_condemns_without_a_credit_and_does_not_count(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    fake_dns.zones.update(
        {
            "gone.example": NXDOMAIN,
            "nullmx.example": {"MX": ["0 ."]},
            "nothing.example": {},
            "hostonly.example": {"A": ["192.0.2.10"]},
            "slow.example": SILENT,
            "broken.example": SERVFAIL,
        }
    )
    await add_customer(pool, "a@gone.example")
    await add_customer(pool, "b@nullmx.example")
    await add_customer(pool, "c@nothing.example")
    await add_customer(pool, "not an address")
    await add_customer(pool, "d@hostonly.example")
    await add_customer(pool, "e@slow.example")
    await add_customer(pool, "f@broken.example")
    await add_customer(pool, "g@example.com")
    await add_customer(pool, "h@example.com")
    await add_customer(pool, "i@example.com")
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert verify_api.asked == [
        "d@hostonly.example",
        "e@slow.example",
        "f@broken.example",
        "g@example.com",
        "h@example.com",
    ]
    assert result.summary["precheck_invalid"] == 4 and result.summary["checked"] == 5
    expected = {
        "a@gone.example": "domain gone.example does not exist (NXDOMAIN)",
        "b@nullmx.example": "domain nullmx.example accepts no mail (null MX)",
        "c@nothing.example": "domain nothing.example has no mail server (no MX, A or AAAA record)",
    }
    for address, log in expected.items():
        assert await customer(pool, address) == {
            "valid": 0,
            "last_checked_date": T0,
            "last_checked_log": log,
        }
    bad = await customer(pool, "not an address")
    assert bad["valid"] == 0 and bad["last_checked_log"].startswith("invalid address: ")
    assert (await customer(pool, "i@example.com"))["last_checked_date"] is None


async def test_an_idn_domain_is_looked_up_in_punycode(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    fake_dns.zones["xn--fsqu00a.xn--fiqs8s"] = NXDOMAIN
    await add_customer(pool, "张三@例子.中国")
    await add_customer(pool, "josé@bücher.example")
    await run_verify(pool, verify_config, FakeClock(T0))
    assert ("xn--fsqu00a.xn--fiqs8s", "MX") in fake_dns.queries
    assert (await customer(pool, "张三@例子.中国"))["valid"] == 0
    assert verify_api.asked == ["josé@bücher.example"]


async def changed_rows(pool: Pool) -> list[dict]:
    return await fetch_all(
        pool,
        "SELECT email FROM customers WHERE valid <> 2 OR last_checked_date IS NOT NULL "
        "OR last_checked_log IS NOT NULL",
    )


async def test_a_resolver_answering_nxdomain_for_everything_invalidates_nothing_and_says_why(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    fake_dns.default = NXDOMAIN
    for n in range(5):
        await add_customer(pool, f"c{n}@example.com")
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert result.status == "failed"
    assert result.summary["error"].startswith("DNS is not working")
    assert "qq.com: NXDOMAIN" in result.summary["error"]
    assert await changed_rows(pool) == [] and verify_api.asked == []
    (row,) = await fetch_all(pool, "SELECT status, summary FROM job_runs")
    assert row["status"] == "failed" and "DNS is not working" in row["summary"]
    log = (verify_config.log_dir / "verify.log").read_text()
    assert "stopped, no customer changed: DNS is not working" in log


@pytest.mark.parametrize("broken", [NXDOMAIN, SERVFAIL])
async def test_32_customers_with_a_broken_resolver_none_changed(
    pool: Pool,
    verify_config: Config,
    verify_api: FakeVerifyApi,
    fake_dns: FakeDns,
    broken: str,
) -> None:
    fake_dns.default = broken
    for n in range(32):
        await add_customer(pool, f"c{n}@d{n}.example", valid=1 if n % 4 == 0 else 2)
    config = replace(verify_config, verify=replace(verify_config.verify, per_run=32))
    result = await run_verify(pool, config, FakeClock(T0))
    assert result.status == "failed" and result.summary["changed"] == 0
    assert await changed_rows(pool) == [
        {"email": f"c{n}@d{n}.example"} for n in range(0, 32, 4)
    ]  # the 8 set valid beforehand, unchanged
    assert all(
        row["valid"] == 1
        for row in await fetch_all(pool, "SELECT valid FROM customers WHERE valid <> 2")
    )
    assert verify_api.asked == []


async def test_dns_that_works_for_the_canary_but_condemns_most_changes_none(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    fake_dns.default = NXDOMAIN
    fake_dns.zones["qq.com"] = {"MX": ["10 mx.qq.com."]}
    fake_dns.zones["fine.example"] = {"MX": ["10 mx.fine.example."]}
    for n in range(6):
        await add_customer(pool, f"c{n}@gone{n}.example")
    await add_customer(pool, "ok@fine.example")
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert result.status == "failed"
    assert result.summary["error"] == (
        "the pre-check would invalidate 6 of 7 addresses, more than half: none changed"
    )
    assert await changed_rows(pool) == [] and verify_api.asked == []


async def test_more_than_the_bound_in_one_run_changes_none_even_when_under_half(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    for n in range(51):
        fake_dns.zones[f"gone{n}.example"] = NXDOMAIN
        await add_customer(pool, f"c{n}@gone{n}.example")
    for n in range(5):
        await add_customer(pool, f"ok{n}@example.com")
    config = replace(verify_config, verify=replace(verify_config.verify, per_run=6))
    result = await run_verify(pool, config, FakeClock(T0))
    assert result.summary["error"].startswith("the pre-check would invalidate 51 addresses")
    assert await changed_rows(pool) == [] and verify_api.asked == []


async def test_a_valid_address_the_precheck_doubts_stays_valid_and_the_api_decides(
    pool: Pool, verify_config: Config, verify_api: FakeVerifyApi, fake_dns: FakeDns
) -> None:
    fake_dns.zones["gone.example"] = NXDOMAIN
    await add_customer(pool, "kept@gone.example", valid=1)
    await add_customer(pool, "other@example.com")
    result = await run_verify(pool, verify_config, FakeClock(T0))
    assert result.status == "ok" and result.summary["precheck_invalid"] == 0
    # the unconfirmed, never-checked address is asked first
    assert verify_api.asked == ["other@example.com", "kept@gone.example"]
    assert (await customer(pool, "kept@gone.example"))["valid"] == 1
    log = (verify_config.log_dir / "verify.log").read_text()
    assert "address=kept@gone.example precheck=" in log and "kept valid" in log
