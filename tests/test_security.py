"""Login, sessions, cross-site refusal, proxies, SQL injection and secrets, against the app
served in this process on a real database."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from mycrmd.config import Config
from mycrmd.safety import passwords, redact
from mycrmd.store import job_runs as jobs
from mycrmd.store.pool import Pool, fetch_all, fetch_value, insert
from mycrmd.web import login
from mycrmd.web.login import safe_next
from mycrmd.web.security import APP_POLICY
from mycrmd.web.sessions import COOKIE, Sessions
from tests.support.app_client import serving

PASSWORD = "correct horse battery"
HASH = passwords.hash_password(PASSWORD)
EVIL = "http://evil.example"


def locked_config(config: Config, **web: Any) -> Config:
    return replace(config, web=replace(config.web, password_hash=HASH, **web))


@pytest.fixture
async def locked(pool: Pool, config: Config) -> AsyncIterator[TestClient]:
    """The app with a password set, nobody logged in."""
    async with serving(pool, locked_config(config)) as client:
        yield client


async def log_in(
    client: TestClient, password: str = PASSWORD, target: str = "/", **headers: str
) -> Any:
    return await client.post(
        "/login",
        data={"password": password, "next": target},
        headers=headers,
        allow_redirects=False,
    )


def set_cookie(response: Any) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookie.load(header)
    return cookie


async def customer_count(pool: Pool) -> int:
    return int(await fetch_value(pool, "SELECT COUNT(*) FROM customers"))


def test_passwords_are_salted_scrypt_hashes() -> None:
    again = passwords.hash_password(PASSWORD)
    assert HASH.startswith("scrypt$") and again != HASH, "a new salt every time"
    assert passwords.verify_password(PASSWORD, HASH)
    assert passwords.verify_password(PASSWORD, again)
    assert not passwords.verify_password(PASSWORD + " ", HASH)
    assert not passwords.verify_password(PASSWORD, "scrypt$broken")
    assert not passwords.verify_password(PASSWORD, "")
    with pytest.raises(passwords.PasswordError, match="at least 8"):
        passwords.hash_password("short")


async def test_without_a_session_only_health_login_and_static_files_are_open(
    locked: TestClient, pool: Pool
) -> None:
    for open_path in ("/healthz", "/login", "/static/css/app.css", "/static/js/main.js"):
        assert (await locked.get(open_path)).status == 200, open_path
    for api in ("/api/customers", "/api/settings", "/api/openapi.json", "/api/logs/fetch"):
        response = await locked.get(api)
        assert response.status == 401, api
        assert (await response.json())["error"]["code"] == "login_required"
    assert (await locked.get("/export/customers.csv")).status == 401
    for page in ("/", "/stats?part=content", "/help"):
        response = await locked.get(page, allow_redirects=False)
        assert response.status == 302, page
        location = URL(response.headers["Location"])
        assert location.path == "/login" and location.query["next"] == page
    response = await locked.post("/api/customers", json={"email": "a@example.com"})
    assert response.status == 401
    assert await customer_count(pool) == 0


async def test_logging_in_and_out(locked: TestClient, config: Config) -> None:
    wrong = await log_in(locked, "not the password")
    assert wrong.status == 401 and "密码错误" in await wrong.text()
    assert COOKIE not in set_cookie(wrong)
    assert wrong.headers["Content-Security-Policy"] == APP_POLICY
    right = await log_in(locked, target="/stats?part=content")
    assert right.status == 302 and right.headers["Location"] == "/stats?part=content"
    morsel = set_cookie(right)[COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and not morsel["secure"]
    assert morsel["max-age"] == str(7 * 86400) and morsel["path"] == "/"
    assert (await locked.get("/api/customers")).status == 200
    assert (await locked.get("/", allow_redirects=False)).status == 200
    # The session outlives a restart of the daemon: its key is kept in state_dir.
    assert Sessions(config.state_dir).session_id(morsel.value, HASH)
    out = await locked.post("/logout", allow_redirects=False)
    assert out.status == 302 and out.headers["Location"] == "/login"
    locked.session.cookie_jar.clear()
    replayed = await locked.get("/api/customers", headers={"Cookie": f"{COOKIE}={morsel.value}"})
    assert replayed.status == 401, "a logged-out session stays ended"
    assert Sessions(config.state_dir).session_id(morsel.value, HASH) is None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/\\evil.example",
        "http://evil.example",
        "/\t/evil.example/phish",
        "/\n/evil.example",
        "\t//evil.example",
        " //evil.example",
        "/\x00/evil.example",
        "\\/evil.example",
        "/\u3000/evil.example",
        "https:evil.example",
    ],
)
def test_after_login_only_a_path_on_this_site_is_followed(target: str) -> None:
    assert safe_next(target) == "/"
    assert safe_next("/stats?part=content") == "/stats?part=content"
    assert safe_next("/a/b?c=%2F%2Fx") == "/a/b?c=%2F%2Fx"


@pytest.mark.parametrize("vector", ["/%09/evil.example/phish", "/%0a/evil.example", "%2F%2Fevil"])
async def test_the_login_redirect_never_names_another_host(locked: TestClient, vector: str) -> None:
    page = await locked.get(f"/login?next={vector}")
    assert page.status == 200 and "evil.example" not in await page.text()
    response = await locked.post(
        f"/login?next={vector}",
        data={"password": PASSWORD, "next": URL(f"/?x={vector}").query["x"]},
        allow_redirects=False,
    )
    assert response.status == 302 and response.headers["Location"] == "/"


def test_sessions_expire_are_signed_and_end_when_the_password_changes(tmp_path: Path) -> None:
    sessions = Sessions(tmp_path)
    cookie = sessions.issue(HASH, 3600)
    assert sessions.session_id(cookie, HASH)
    assert sessions.session_id(sessions.issue(HASH, -1), HASH) is None, "expired"
    expires, session, signature = cookie.split(".")
    assert sessions.session_id(f"{int(expires) + 999}.{session}.{signature}", HASH) is None
    assert sessions.session_id(cookie[:-2] + "xx", HASH) is None
    assert sessions.session_id(cookie, passwords.hash_password("a new password")) is None
    assert Sessions(tmp_path / "other").session_id(cookie, HASH) is None, "another key"
    for junk in ("", "a.b", "a.b.c.d", "x.y.z"):
        assert sessions.session_id(junk, HASH) is None
    assert (tmp_path / "session.key").stat().st_mode & 0o777 == 0o600


async def test_session_lifetime_is_configurable(pool: Pool, config: Config) -> None:
    async with serving(pool, locked_config(config, session_days=30)) as client:
        assert set_cookie(await log_in(client))[COOKIE]["max-age"] == str(30 * 86400)


async def test_failed_logins_are_slowed_down_and_logged(
    locked: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "mycrmd.web")
    for _ in range(5):
        assert (await log_in(locked, "guess")).status == 401
    refused = await log_in(locked, "guess")
    assert refused.status == 429 and 50 <= int(refused.headers["Retry-After"]) <= 61
    assert f"请 {refused.headers['Retry-After']} 秒后再试" in await refused.text()
    assert (await log_in(locked)).status == 429, "even the right password waits"
    failures = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert failures == ["login failed client=127.0.0.1"] * 5


async def test_a_burst_of_guesses_gets_no_more_checks_than_guesses_in_turn(
    locked: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def counting(password: str, password_hash: str) -> bool:
        checked.append(password)
        return passwords.verify_password(password, password_hash)

    monkeypatch.setattr(login, "verify_password", counting)
    answers = await asyncio.gather(*(log_in(locked, f"guess{n}") for n in range(100)))
    statuses = [answer.status for answer in answers]
    assert len(checked) == 5 and statuses.count(401) == 5 and statuses.count(429) == 95


async def test_the_right_password_in_a_burst_of_guesses_does_not_log_in(
    locked: TestClient,
) -> None:
    burst = [log_in(locked, f"guess{n}") for n in range(99)] + [log_in(locked)]
    answers = await asyncio.gather(*burst)
    assert answers[-1].status == 429 and COOKIE not in set_cookie(answers[-1])
    assert [answer.status for answer in answers].count(302) == 0


async def test_a_successful_login_forgives_its_attempt(locked: TestClient) -> None:
    for _ in range(4):
        assert (await log_in(locked, "guess")).status == 401
    assert (await log_in(locked)).status == 302
    for _ in range(5):
        assert (await log_in(locked, "guess")).status == 401, "the count starts again"


async def test_proxies_are_believed_only_when_trusted(
    pool: Pool, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "mycrmd.web")
    forwarded = {"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Forwarded-Proto": "https"}
    async with serving(pool, locked_config(config, trusted_proxies=("127.0.0.0/8",))) as proxied:
        for _ in range(6):
            await log_in(proxied, "guess", **forwarded)
        assert (await log_in(proxied, "guess", **forwarded)).status == 429
        other = await log_in(proxied, **{**forwarded, "X-Forwarded-For": "198.51.100.7"})
        assert other.status == 302, "another client behind the proxy is not held back"
        assert set_cookie(other)[COOKIE]["secure"], "the proxy says the client used https"
    assert "login failed client=203.0.113.9" in caplog.text
    async with serving(pool, locked_config(config)) as direct:
        for n in range(5):
            await log_in(direct, "guess", **{**forwarded, "X-Forwarded-For": f"192.0.2.{n}"})
        held = await log_in(direct, **forwarded)
        assert held.status == 429, "X-Forwarded-For from an untrusted peer is ignored"
    async with serving(pool, locked_config(config)) as direct:
        assert not set_cookie(await log_in(direct, **forwarded))[COOKIE]["secure"]


async def test_only_requests_naming_this_daemon_are_answered(
    pool: Pool, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A page on a rebound DNS name reaches the daemon with its own name in Host."""
    proxied = replace(config, web=replace(config.web, allowed_hosts=("crm.example.com",)))
    async with serving(pool, proxied) as client:
        port = client.port
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "crm.example.com"):
            for path in ("/healthz", "/api/customers", "/"):
                answer = await client.get(path, headers={"Host": host}, allow_redirects=False)
                assert answer.status == 200, (host, path)
        for host in (
            f"rebound.evil.example:{port}",
            "127.0.0.1",
            f"127.0.0.1:{port + 1}",
            f"localhost.evil.example:{port}",
            "crm.example.com.evil.example",
            f"127.0.0.1:{port}:1",
            "[::1",
        ):
            for path in ("/healthz", "/api/customers", "/api/settings"):
                answer = await client.get(path, headers={"Host": host})
                assert answer.status == 421, (host, path)
                assert (await answer.json())["error"]["code"] == "misdirected"
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
        changed = await client.patch(
            "/api/settings", json={"theme": "black"}, headers={"Host": "evil.example"}
        )
        assert changed.status == 421
        assert (await client.get("/api/settings")).status == 200
        assert (await (await client.get("/api/settings")).json())["theme"] != "black"
    assert "request for another host refused: host='evil.example'" in caplog.text


async def test_the_scheme_is_the_one_the_trusted_proxy_appended(pool: Pool, config: Config) -> None:
    trusting = locked_config(config, trusted_proxies=("127.0.0.0/8",))
    async with serving(pool, trusting) as proxied:
        spoofed = await log_in(proxied, **{"X-Forwarded-Proto": "https, http"})
        assert not set_cookie(spoofed)[COOKIE]["secure"], "the client's own value comes first"
    async with serving(pool, trusting) as proxied:
        appended = await log_in(proxied, **{"X-Forwarded-Proto": "http, https"})
        assert set_cookie(appended)[COOKIE]["secure"]


async def test_the_health_check_does_not_queue_behind_a_busy_pool(
    client: TestClient, pool: Pool
) -> None:
    """Every pooled connection held by a slow query: /healthz still answers at once."""
    slow = [
        asyncio.create_task(fetch_value(pool, "SELECT SLEEP(4)")) for _ in range(pool.maxsize * 2)
    ]
    await asyncio.sleep(0.5)
    assert pool.freesize == 0 and pool.size == pool.maxsize, "the pool is exhausted"
    loop = asyncio.get_running_loop()
    started = loop.time()
    answers = await asyncio.gather(*(client.get("/healthz") for _ in range(20)))
    took = loop.time() - started
    assert [answer.status for answer in answers] == [200] * 20
    assert took < 1.5, f"/healthz waited {took:.1f} s for the pool"
    assert not any(task.done() for task in slow), "the slow queries were still running"
    await asyncio.gather(*slow)


MUTATIONS: list[tuple[str, str, Any]] = [
    ("POST", "/api/customers", {"email": "new@example.com"}),
    ("PATCH", "/api/customers/{id}", {"name": "changed"}),
    ("PUT", "/api/customers/{id}/comment", {"comment": "<b>changed</b>"}),
    ("DELETE", "/api/customers/{id}", None),
    ("PATCH", "/api/settings", {"followup_days": "9"}),
    ("POST", "/api/jobs/verify/run", None),
    ("POST", "/api/import", None),
    ("POST", "/logout", None),
    ("POST", "/login", None),
]


async def database_state(pool: Pool) -> list[Any]:
    tables = ["customers", "config", "job_runs", "messages", "msg_addrs"]
    return [await fetch_all(pool, f"CHECKSUM TABLE {table}") for table in tables]


@pytest.mark.parametrize("logged_in", [True, False], ids=["with-session", "without-session"])
async def test_cross_site_mutations_are_refused(
    locked: TestClient, pool: Pool, logged_in: bool
) -> None:
    customer_id = await insert(
        pool, "INSERT INTO customers (name, email) VALUES ('张三', 'zhang@example.cn')"
    )
    if logged_in:
        assert (await log_in(locked)).status == 302
    before = await database_state(pool)
    for method, path, body in MUTATIONS:
        url = path.format(id=customer_id)
        for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
            response = await locked.request(method, url, json=body, headers=headers)
            assert response.status == 403, (method, url, headers)
            if url.startswith("/api/"):
                assert (await response.json())["error"]["code"] == "cross_site"
            else:
                assert "拒绝跨站请求" in await response.text()
    assert await database_state(pool) == before
    if logged_in:
        own = str(locked.make_url("")).rstrip("/")
        # The login form's POST, under Referrer-Policy no-referrer, says Origin: null.
        for n, headers in enumerate(
            [{"Origin": own}, {"Sec-Fetch-Site": "same-origin", "Origin": "null"}]
        ):
            body = {"email": f"own{n}@example.com"}
            response = await locked.post("/api/customers", json=body, headers=headers)
            assert response.status == 201, "the UI's own requests pass"
        assert (await locked.get("/api/customers")).status == 200, "still logged in"


SQL_PAYLOADS = [
    "' OR '1'='1",
    "1; DROP TABLE customers; --",
    '" OR ""="',
    "1) UNION SELECT password_hash FROM config -- ",
    "`id`",
    "id DESC, (SELECT SLEEP(5))",
    "\\' OR 1=1 #",
    "%",
    "_",
    "0x27",
    "' AND SLEEP(5) AND '",
]


async def test_sql_in_any_parameter_or_field_is_only_data(client: TestClient, pool: Pool) -> None:
    for n in range(3):
        await insert(
            pool, "INSERT INTO customers (name, email) VALUES (%s, %s)", (f"n{n}", f"c{n}@ex.cn")
        )
    document = await (await client.get("/api/openapi.json")).json()
    before = await database_state(pool)
    checked = 0
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        for payload in SQL_PAYLOADS:
            url = path.replace("{id}", "1").replace("{job}", "fetch")
            for parameter in parameters:
                if parameter["in"] == "path":
                    target = path.replace("{" + parameter["name"] + "}", quote(payload, safe=""))
                    target = target.replace("{id}", "1").replace("{job}", "fetch")
                    response = await client.get(target)
                else:
                    response = await client.get(url, params={parameter["name"]: payload})
                assert response.status < 500, (path, parameter["name"], payload)
                checked += 1
    assert checked > 200
    assert await database_state(pool) == before
    searched = await (await client.get("/api/customers", params={"q": "%"})).json()
    assert searched["total"] == 0, "LIKE wildcards in a search are literal"
    fields = ["name", "company", "country", "address", "phone", "website"]
    for payload in (p[:30] for p in SQL_PAYLOADS):  # country and phone hold 30 characters
        body = {field: payload for field in fields} | {"email": "o'reilly+x@example.com"}
        response = await client.post("/api/customers", json=body)
        assert response.status == 201, await response.text()
        stored = await response.json()
        assert {field: stored[field] for field in fields} == {f: payload.strip() for f in fields}
        assert (await client.delete(f"/api/customers/{stored['id']}")).status == 204
    assert await customer_count(pool) == 3


def test_remembered_secrets_are_masked_in_log_lines_and_tracebacks() -> None:
    secret = "hunter2-secret-value"
    redact.remember(secret, "abc")  # too short to be masked without masking ordinary words
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("tests.redact")
    handler = redact.protect(Keep())
    logger.addHandler(handler)
    try:
        logger.error("login with %s failed", secret)
        try:
            raise RuntimeError(f"server refused {secret}")
        except RuntimeError:
            logger.exception("upload failed")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    assert all(secret not in record for record in records), records
    assert "login with *** failed" in records[0] and "server refused ***" in records[1]
    assert redact.redact("abc") == "abc"


async def test_a_job_summary_never_holds_a_secret(pool: Pool) -> None:
    secret = "summary-secret-9"
    redact.remember(secret)
    run_id = await jobs.start_run(pool, "backup", "cli", 1)
    await jobs.finish_run(pool, run_id, "failed", {"error": f"530 login {secret} refused"})
    summary = json.loads(
        await fetch_value(pool, "SELECT summary FROM job_runs WHERE id = %s", (run_id,))
    )
    assert summary == {"error": "530 login *** refused"}
