"""Settings, messages, statistics, logs, jobs and the OpenAPI document."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.jobs.joblog import job_logger
from mycrmd.store import settings
from mycrmd.store.pool import Pool, execute, insert
from mycrmd.web.openapi import document


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status == status, await response.text()
    return await response.json()


async def patch_settings(client: TestClient, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.patch("/api/settings", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_settings_are_read_under_their_names_and_the_password_never_leaves(
    client: TestClient, pool: Pool
) -> None:
    await settings.put(pool, {"mail_password": "imap-pw-9931", "mail_host": "imap.example.com"})
    data = await get_json(client, "/api/settings")
    assert data["mail_host"] == "imap.example.com"
    assert data["monitor_mail_days"] == "10" and data["followup_importance_operators"] == ">="
    assert data["mail_password_set"] is True
    assert "mail_password" not in data
    assert "imap-pw-9931" not in str(data)


async def test_settings_are_saved_all_or_nothing(client: TestClient, pool: Pool) -> None:
    saved = await patch_settings(
        client,
        {
            "followup_days": 45,
            "followup_importance_operators": ">",
            "mail_port": "143",
            "theme": "black",
        },
    )
    assert (saved["followup_days"], saved["followup_importance_operators"]) == ("45", ">")
    assert saved["mail_port"] == "143" and saved["theme"] == "black"
    error = (await patch_settings(client, {"followup_days": 60, "mail_port": 70000}, 400))["error"]
    assert error["field"] == "mail_port"
    assert await settings.get(pool, "followup_days") == "45", "nothing saved"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"followup_days": 0}, "followup_days", "invalid_setting"),
        ({"followup_days": "-3"}, "followup_days", "invalid_setting"),
        ({"followup_days": 1.5}, "followup_days", "invalid_setting"),
        ({"monitor_mail_days": "ten"}, "monitor_mail_days", "invalid_setting"),
        ({"mail_reserved_days": True}, "mail_reserved_days", "invalid_setting"),
        ({"followup_importance": 6}, "followup_importance", "invalid_setting"),
        (
            {"followup_importance_operators": "<"},
            "followup_importance_operators",
            "invalid_setting",
        ),
        (
            {"followup_importance_operators": ">= 1 OR 1=1"},
            "followup_importance_operators",
            "invalid_setting",
        ),
        ({"mail_host": "imap example.com"}, "mail_host", "invalid_setting"),
        ({"mail_port": 0}, "mail_port", "invalid_setting"),
        ({"theme": "neon"}, "theme", "invalid_setting"),
        ({"language": "fr"}, "language", "invalid_setting"),
        ({"mail_checked_date": "2000-01-01 00:00:00"}, "mail_checked_date", "field_not_editable"),
        ({"admin_password": "x"}, "admin_password", "unknown_setting"),
    ],
)
async def test_bad_settings_are_refused_naming_them(
    client: TestClient, body: dict[str, Any], field: str, code: str
) -> None:
    error = (await patch_settings(client, body, 400))["error"]
    assert (error["field"], error["code"]) == (field, code)


async def test_the_password_is_write_only_and_can_be_cleared(
    client: TestClient, pool: Pool
) -> None:
    saved = await patch_settings(client, {"mail_password": "secret-1"})
    assert saved["mail_password_set"] is True and "secret-1" not in str(saved)
    assert await settings.get(pool, "mail_password") == "secret-1"
    assert (await patch_settings(client, {"mail_password": ""}))["mail_password_set"] is False


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


async def test_a_customers_messages_newest_first_and_the_system_notices(
    client: TestClient, pool: Pool
) -> None:
    customer_id = await insert(pool, "INSERT INTO customers (email) VALUES ('Alice@Buyer.example')")
    await add_message(pool, "receive", "Old", 5, ["alice@buyer.example", "me@x.example"])
    await add_message(pool, "sendto", "New", 1, ["me@x.example", "alice@buyer.example"])
    await add_message(pool, "receive", "Someone else", 2, ["bob@buyer.example"])
    await add_message(pool, "system", "Notice", 3, ["me@x.example"])
    mine = await get_json(client, f"/api/customers/{customer_id}/messages")
    assert mine["total"] == 2 and [m["subject"] for m in mine["rows"]] == ["New", "Old"]
    assert set(mine["rows"][0]) == {"id", "date", "type", "sender", "subject"}
    count = await get_json(client, f"/api/customers/{customer_id}/messages?rows=0")
    assert count == {"total": 2, "rows": []}
    notices = await get_json(client, "/api/messages?type=system")
    assert [m["subject"] for m in notices["rows"]] == ["Notice"]
    assert (await get_json(client, "/api/messages?type=spam", 400))["error"]["field"] == "type"


async def test_a_message_and_its_content_in_a_document_of_its_own(
    client: TestClient, pool: Pool
) -> None:
    message_id = await add_message(
        pool,
        "receive",
        "Hi",
        1,
        ["a@x.example", "b@x.example"],
        '<p>Hello</p><img src="https://t.example/p.gif">',
    )
    details = await get_json(client, f"/api/messages/{message_id}")
    assert details["addresses"] == ["a@x.example", "b@x.example"] and "content" not in details
    response = await client.get(f"/messages/{message_id}/content")
    policy = response.headers["Content-Security-Policy"]
    assert (
        "img-src data:;" in policy and "script-src" not in policy and "default-src 'none'" in policy
    )
    assert "sandbox" in policy
    assert "<p>Hello</p>" in await response.text()
    with_images = await client.get(f"/messages/{message_id}/content?images=1")
    assert "img-src data: https: http:" in with_images.headers["Content-Security-Policy"]
    assert (await client.get("/messages/999/content")).status == 404


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


async def test_logs_serve_only_the_three_job_logs(client: TestClient, config: Config) -> None:
    job_logger("fetch", config.log_dir).info("folder=INBOX new=3")
    data = await get_json(client, "/api/logs/fetch")
    assert data["job"] == "fetch" and data["lines"][-1].endswith("INFO folder=INBOX new=3")
    assert (await get_json(client, "/api/logs/verify"))["lines"] == []
    for name in ("passwd", "..%2F..%2Fetc%2Fpasswd", "fetch.log", "%2Fetc%2Fpasswd"):
        assert (await client.get(f"/api/logs/{name}")).status == 404


async def test_a_log_shows_its_last_500_lines(client: TestClient, config: Config) -> None:
    logger = job_logger("verify", config.log_dir)
    for n in range(700):
        logger.info("line %d", n)
    lines = (await get_json(client, "/api/logs/verify"))["lines"]
    assert len(lines) == 500 and lines[-1].endswith("line 699") and lines[0].endswith("line 200")


async def test_jobs_can_be_listed_and_started(client: TestClient) -> None:
    names = [job["name"] for job in (await get_json(client, "/api/jobs"))["jobs"]]
    assert names == ["fetch", "verify", "backup"]
    response = await client.post("/api/jobs/verify/run")
    assert response.status == 202 and (await response.json())["outcome"] in ("started", "queued")
    assert (await client.post("/api/jobs/rm-rf/run")).status == 404


def test_the_openapi_document_describes_exactly_the_routes(client: TestClient) -> None:
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if (
            path.startswith("/api/") or path in ("/healthz",) or path.startswith("/export")
        ) and route.method != "HEAD":
            served.add((path, route.method))
    assert documented == served


async def test_the_openapi_document_is_served(client: TestClient) -> None:
    data = await get_json(client, "/api/openapi.json")
    assert data["openapi"].startswith("3.1") and "/api/customers" in data["paths"]
