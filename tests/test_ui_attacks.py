"""Attacks in a real Chromium: script in every customer field, in a comment and in a mail
fetched from Dovecot must stay text — no dialog, no script error, no blocked inline script
(that would mean markup got through), no request to another origin — and logging in and out
works the way a user does it."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, expect

from mycrmd.config import Config, MailboxConfig
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.scheduler import Job, Scheduler, every
from mycrmd.safety import passwords
from mycrmd.store import config_table
from mycrmd.store.pool import Pool, fetch_value
from tests.support.app_client import serving
from tests.support.browser import UiPage, new_page, show_columns
from tests.support.certs import ServerCertificate
from tests.support.dovecot import Dovecot, MailUser
from tests.support.mail_samples import ME, when

PASSWORD = "correct horse battery"
VICTIM = "victim@buyer.example"
FOREIGN = "http://127.0.0.2:9"  # never listened on: a request there is the failure we look for
FIELDS = {
    "name": "<img src=x onerror=alert('name')>",
    "company": "\"><script>alert('company')</script>",
    "country": "<svg onload=alert('country')>",
    "address": f"<iframe src=javascript:alert('address')></iframe><img src={FOREIGN}/a.png>",
    "phone": "<b onmouseover=alert(1)>x</b>",
    "website": "javascript:alert('website')",
}
EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son\w+\s*=", re.IGNORECASE)  # in a tag, not in text
# Markup that changes meaning when a sanitiser's output is parsed again (mutation XSS).
MXSS = (
    "<noscript><p title=\"</noscript><img src=x onerror=alert('mxss1')>\"></noscript>"
    "<svg><style><img src=x onerror=alert('mxss2')></style></svg>"
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss3')></style>"
    "</mglyph></table></mtext></math>"
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert('mxss4')>"
)
COMMENT = (
    "<img src=x onerror=alert('comment')><script>alert('comment2')</script>"
    '<a href="javascript:alert(\'link\')">js</a><a href="https://shop.example/">shop</a>'
    f'<p style="background:url({FOREIGN}/c.png)">styled</p>'
    "<div style=\"width: expression(alert('css'))\">css</div>" + MXSS
)
MAIL_HTML = f"""<html><head><base href="{FOREIGN}/"><meta http-equiv="refresh"
content="0;url={FOREIGN}/refresh"><style>body {{ background: url({FOREIGN}/bg.png) }}</style>
<script>alert('mail')</script></head><body>
<p id="quote">报价单 quotation</p>
<img src=x onerror="alert('onerror')">
<img id="remote" src="{FOREIGN}/pixel.png">
<a id="jslink" href="javascript:alert('js-link')">click</a>
<svg onload="alert('svg')"><circle r="1"/></svg>
<iframe src="javascript:alert('iframe')"></iframe>
<object data="{FOREIGN}/x.swf"></object>
<form action="{FOREIGN}/steal"><input name="card"><button>send</button></form>
<div style="background-image:url({FOREIGN}/div.png)" onclick="alert('click')">styled</div>
<div style="width: expression(alert('css'))">css</div>
<a href="https://shop.example/item">item</a>
{MXSS}
</body></html>"""


def attack_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = "\"<script>alert('from')</script>\" <attacker@evil.example>"
    mail["To"] = VICTIM
    mail["Subject"] = "<img src=x onerror=alert('subject')>"
    mail["Date"] = when()
    mail["Message-ID"] = "<attack-1@evil.example>"
    mail.set_content("plain text part")
    mail.add_alternative(MAIL_HTML, subtype="html")
    return bytes(mail)


async def fetch(pool: Pool, config: Config, dovecot: Dovecot, user: MailUser, ca: str) -> None:
    await dovecot.append(user, "INBOX", attack_mail())
    await config_table.put(
        pool,
        {
            "mail_host": "127.0.0.1",
            "mail_port": str(dovecot.ssl_port),
            "mail_username": user.name,
            "mail_password": user.password,
        },
    )
    mailbox = MailboxConfig(address=ME, admin="CRM Admin", ca_file=ca)
    never = every(lambda c: timedelta(days=365))
    scheduler = Scheduler(
        pool, replace(config, mailbox=mailbox), [Job("fetch", FetchMailJob().run, never)]
    )
    result = await scheduler.run_once("fetch", "cli")
    assert result is not None and result.status == "ok", result


def assert_clean(ui: UiPage) -> None:
    assert ui.errors == [], ui.errors
    assert ui.foreign == [], ui.foreign
    blocked = [
        line
        for line in ui.console
        if "Content Security Policy" in line
        and "Loading the image" not in line  # by design, in the mail
    ]
    assert blocked == [], f"markup got through and the policy had to stop it: {blocked}"


async def test_script_in_fields_comments_and_mail_stays_text(
    ui: UiPage,
    client: TestClient,
    pool: Pool,
    config: Config,
    dovecot: Dovecot,
    mail_user: MailUser,
    certificate: ServerCertificate,
) -> None:
    created = await client.post("/api/customers", json={"email": VICTIM, **FIELDS})
    assert created.status == 201, await created.text()
    customer = await created.json()
    commented = await client.put(
        f"/api/customers/{customer['id']}/comment", json={"comment": COMMENT}
    )
    stored = (await commented.json())["comment"]
    for bad in ("<script", "javascript:", "style=", "<style", FOREIGN):
        assert bad not in stored, stored
    assert not EVENT_ATTRIBUTE.search(stored), stored
    assert 'href="https://shop.example/" rel="noopener noreferrer"' in stored
    await fetch(pool, config, dovecot, mail_user, str(certificate.ca_file))
    content = await fetch_value(pool, "SELECT content FROM messages")
    for bad in ("<script", "javascript:", "<iframe", "<object", "<form", "<noscript"):
        assert bad not in content.lower(), content
    assert not EVENT_ATTRIBUTE.search(content), content
    assert "expression(" not in content and "<style" not in content
    assert 'href="https://shop.example/item" rel="noopener noreferrer"' in content

    page = await ui.open()
    await show_columns(page.locator("#customers-grid"))
    row = page.locator(f"#customers-grid tr[data-id='{customer['id']}']")
    for field, value in FIELDS.items():
        await expect(row.locator(f"[data-column={field}]")).to_have_text(value)
    await row.hover()
    await row.locator("[data-column=phone]").hover()
    await row.click()
    await expect(page.locator("#messages-menu")).to_have_text("我的消息(1)")
    await page.locator("#messages-menu").click()
    panel = page.locator("#side-panel")
    await expect(panel.locator("#message-rows tr")).to_contain_text(
        "<img src=x onerror=alert('subject')>"
    )
    await panel.locator("#message-rows tr").first.click()
    frame = page.frame_locator("#message-frame")
    quote = frame.locator("p", has_text="报价单 quotation")
    await expect(quote).to_be_visible()
    await expect(frame.locator("script, iframe, object, form, [onerror], [onclick]")).to_have_count(
        0
    )
    await frame.get_by_text("click").click()
    await frame.get_by_text("styled").click()
    await quote.hover()
    await ui.shot("attack-mail")
    # The comment in its editor, and the customer in the edit dialog.
    grid = page.locator("#customers-grid")
    await grid.get_by_role("button", name="编辑备注").click()
    await expect(page.locator("#comment-editor")).to_contain_text("shop")
    await page.locator("#comment-dialog").get_by_role("button", name="取消", exact=True).click()
    await row.click()
    await grid.get_by_role("button", name="修改").click()
    dialog = page.locator("#customer-dialog")
    await expect(dialog.locator("[name=name]")).to_have_value(FIELDS["name"])
    await dialog.get_by_role("button", name="取消", exact=True).click()
    await row.dblclick()
    await expect(row.locator("[data-column=company] input")).to_have_value(FIELDS["company"])
    await row.locator("[data-column=company] input").press("Escape")
    await page.get_by_role("tab", name="数据统计").click()
    await page.get_by_role("tab", name="待跟进客户").click()
    await asyncio.sleep(0.5)  # anything deferred (image errors, timers) has happened
    await ui.shot("attack-grid")
    assert_clean(ui)


@pytest.fixture
async def locked_ui(
    browser: Browser, pool: Pool, config: Config, screenshots: object
) -> AsyncIterator[UiPage]:
    password_hash = passwords.hash_password(PASSWORD)
    locked = replace(config, web=replace(config.web, password_hash=password_hash))
    async with serving(pool, locked) as client:
        ui = await new_page(browser, str(client.make_url("")).rstrip("/"), screenshots)  # type: ignore[arg-type]
        yield ui
        await ui.context.close()
    assert_clean(ui)


async def test_logging_in_and_out_in_the_browser(locked_ui: UiPage) -> None:
    page = locked_ui.page
    await page.goto(locked_ui.base + "/")
    await expect(page).to_have_url(locked_ui.base + "/login?next=/")
    await page.get_by_label("密码").fill("not it")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_have_text("密码错误")
    await locked_ui.shot("login-wrong")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(locked_ui.base + "/")
    await expect(page.get_by_role("tab", name="客户管理")).to_be_visible()
    cookie = next(c for c in await locked_ui.context.cookies() if c["name"] == "mycrmd_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "mycrmd_session" not in await page.evaluate("document.cookie"), "HttpOnly"
    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitem", name="退出登录").click()
    await expect(page).to_have_url(locked_ui.base + "/login")
    await page.goto(locked_ui.base + "/stats")
    await expect(page).to_have_url(locked_ui.base + "/login?next=/stats")
