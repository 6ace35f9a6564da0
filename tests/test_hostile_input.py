"""Hostile input to the web app: every odd number, body and cookie is a 4xx with our JSON
error, never a 500 or a traceback (a client leaving mid-body: test_security_process.py)."""

import asyncio
from dataclasses import replace

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.safety import passwords
from mycrmd.store.pool import Pool
from mycrmd.web import params
from mycrmd.web.sessions import COOKIE
from tests.support.app_client import serving

UNICODE_DIGITS = ("²", "①", "٣", "１")


async def assert_refused(response: ClientResponse, status: int, code: str | None = None) -> None:
    """Our refusal: the status, our headers and our JSON error."""
    assert response.status == status, await response.text()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    error = (await response.json())["error"]
    if code:
        assert error["code"] == code


@pytest.mark.parametrize("digit", UNICODE_DIGITS)
async def test_unicode_digits_are_not_numbers(
    client: TestClient, digit: str, caplog: pytest.LogCaptureFixture
) -> None:
    await assert_refused(await client.get(f"/api/customers/{digit}"), 404, "not_found")
    await assert_refused(await client.get(f"/api/customers/1{digit}/messages"), 404)
    for parameter in ("page", "rows", "after_id", "before_id"):
        answer = await client.get("/api/customers", params={parameter: f"1{digit}"})
        await assert_refused(answer, 400, "bad_parameter")
        assert (await answer.json())["error"]["field"] == parameter
    answer = await client.patch("/api/settings", json={"followup_days": f"3{digit}"})
    await assert_refused(answer, 400, "invalid_setting")
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"followup_days": ' + "9" * 5000 + "}",
        '{"followup_days": "' + "9" * 5000 + '"}',
        '{"mail_host": "\\ud800"}',
        '{"\\udfff": 1}',
        '{"email": "a\\ud800@example.com"}',
    ],
    ids=["deep-list", "deep-object", "long-int", "long-digits", "surrogate", "key", "customer"],
)
async def test_bodies_that_cannot_be_read_are_refused(
    client: TestClient, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Content-Type": "application/json"}
    for method, url in (("PATCH", "/api/settings"), ("POST", "/api/customers")):
        answer = await client.request(method, url, data=body.encode(), headers=headers)
        await assert_refused(answer, 400)
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


async def test_only_json_bodies_in_a_known_charset_are_read(client: TestClient) -> None:
    body = b'{"theme": "black"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/json", ""):
        answer = await client.patch(
            "/api/settings", data=body, headers={"Content-Type": content_type}
        )
        await assert_refused(answer, 415, "unsupported_media_type")
    unknown = {"Content-Type": "application/json; charset=nonexistent"}
    answer = await client.patch("/api/settings", data=body, headers=unknown)
    await assert_refused(answer, 415, "unsupported_media_type")
    latin = {"Content-Type": "application/json; charset=utf-8"}
    answer = await client.patch("/api/settings", data=b'{"theme": "\xff"}', headers=latin)
    await assert_refused(answer, 400, "bad_json")
    assert (await (await client.get("/api/settings")).json())["theme"] != "black"
    saved = await client.patch("/api/settings", json={"theme": "black"})
    assert saved.status == 200 and saved.headers["Cache-Control"] == "no-store"


async def test_a_cookie_signature_that_is_not_ascii_is_no_session(
    pool: Pool, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    locked = replace(
        config, web=replace(config.web, password_hash=passwords.hash_password("pw-12345678"))
    )
    async with serving(pool, locked) as client:
        for cookie in ("1.abc.签名", "9999999999.abc.é", "²².abc.x"):
            client.session.cookie_jar.clear()
            answer = await client.get("/api/customers", headers={"Cookie": f"{COOKIE}={cookie}"})
            await assert_refused(answer, 401, "login_required")
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/customers?q=%ED%A0%80",
        "/api/customers?q=%FF%FE",
        "/api/customers?sort=%ED%A0%80",
        "/api/customers/%ED%A0%80",
        "/api/%ED%A0%80",
        "/api/customers?page=" + "9" * 5000,
        "/api/customers?rows=%C2%B2",
        "/api/customers/" + "1" * 5000,
    ],
)
async def test_odd_bytes_in_the_url_are_refused_with_our_error(
    client: TestClient, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await client.get(url)
    assert answer.status in (200, 400, 404), await answer.text()
    if answer.status != 200:
        await assert_refused(answer, answer.status)
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/settings", "application/json"), ("/login", "application/x-www-form-urlencoded")],
)
async def test_a_body_sent_too_slowly_is_given_up_on(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str, content_type: str
) -> None:
    monkeypatch.setattr(params, "BODY_SECONDS", 0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    method = "PATCH" if path.startswith("/api/") else "POST"
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n"
        f"Content-Type: {content_type}\r\nAccept: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{".encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
