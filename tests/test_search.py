"""The mail search against the real engine (Mroonga in the test server), and its LIKE
fallback on a database without the index."""

from datetime import datetime, timedelta
from hashlib import sha256

from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from mycrmd.model.message import MessageType
from mycrmd.store import messages, search
from mycrmd.store.messages import FolderState, NewMessage
from mycrmd.store.pool import Pool, execute, fetch_value, insert
from tests.support.api import get_json
from tests.support.browser import UiPage

_MAILS = [
    ("receive", "询价", "<p>您好，最新报价单如下</p><div class='x'>请查收</div>", 3),
    ("sendto", "Re: order", "<b>Please confirm PI-2026-0413</b> for HS-8471 parts", 2),
    ("receive", "Excavator", "<p>We need the ZX200 bucket and a QUOTATION today</p>", 1),
    ("system", "Notice", "<script>secret()</script><p>nothing to see</p>", 0),
]


async def _store(pool: Pool) -> list[int]:
    now = datetime.now().replace(microsecond=0)
    batch = [
        NewMessage(
            dedupe_key=sha256(subject.encode()).digest(),
            sender="buyer@client.example" if kind == "receive" else "me@us.example",
            date=now - timedelta(days=days),
            type=MessageType(kind),
            subject=subject,
            content=content,
            addresses=("buyer@client.example", "me@us.example"),
        )
        for kind, subject, content, days in _MAILS
    ]
    await messages.save_batch(
        pool, "me@us.example", "INBOX", FolderState(1, 4), list(enumerate(batch, 1))
    )
    return [
        await fetch_value(pool, "SELECT id FROM messages WHERE subject = %s", (subject,))
        for _, subject, _, _ in _MAILS
    ]


async def _subjects(client: TestClient, query: str) -> list[str]:
    found = await get_json(client, f"/api/messages?{query}")
    return [row["subject"] for row in found["rows"]]


async def test_chinese_tokens_case_and_all_words(client: TestClient, pool: Pool) -> None:
    assert await search.indexed(pool), "the test server loads Mroonga"
    await _store(pool)
    assert await _subjects(client, "q=报价单") == ["询价"]
    assert await _subjects(client, "q=PI-2026-0413") == ["Re: order"]
    assert await _subjects(client, "q=hs-8471") == ["Re: order"]
    assert await _subjects(client, "q=ZX200") == ["Excavator"]
    assert await _subjects(client, "q=quotation") == ["Excavator"]
    assert await _subjects(client, "q=bucket+today") == ["Excavator"]
    assert await _subjects(client, "q=bucket+PI-2026-0413") == []
    assert await _subjects(client, "q=secret") == [], "scripts are not indexed"
    assert await _subjects(client, "q=div") == [], "tags are not indexed"
    both = await _subjects(client, "q=client.example")
    assert both == ["Notice", "Excavator", "Re: order", "询价"], "newest first, by address"


async def test_filters_and_the_answer(client: TestClient, pool: Pool) -> None:
    await _store(pool)
    customer = await insert(pool, "INSERT INTO customers (email) VALUES ('buyer@client.example')")
    other = await insert(pool, "INSERT INTO customers (email) VALUES ('nobody@else.example')")
    assert await _subjects(client, "q=client&type=receive") == ["Excavator", "询价"]
    today = datetime.now().date()
    since = today - timedelta(days=2)
    assert await _subjects(client, f"q=client&since={since}") == [
        "Notice",
        "Excavator",
        "Re: order",
    ]
    until = today - timedelta(days=2)
    assert await _subjects(client, f"q=client&until={until}") == ["Re: order", "询价"]
    assert len(await _subjects(client, f"q=client&customer_id={customer}")) == 4
    assert await _subjects(client, f"q=client&customer_id={other}") == []
    found = await get_json(client, "/api/messages?q=ZX200")
    assert found["total"] == 1 and found["indexed"] is True and found["capped"] is False
    hit = found["rows"][0]
    assert set(hit) == {"id", "date", "type", "sender", "subject", "snippet", "addresses"}
    assert hit["addresses"] == ["buyer@client.example", "me@us.example"]
    start, end = hit["snippet"]["marks"][0]
    assert hit["snippet"]["text"][start:end] == "ZX200"
    bad = await get_json(client, "/api/messages?q=x&since=yesterday", 400)
    assert bad["error"]["field"] == "since"
    empty = await get_json(client, "/api/messages?q=x&until=", 400)  # given, but no day
    assert empty["error"]["field"] == "until"
    unused = await get_json(client, "/api/messages?since=yesterday", 400)  # checked without q
    assert unused["error"]["field"] == "since"


async def test_snippet_is_plain_text_with_offsets(pool: Pool) -> None:
    await execute(pool, "DELETE FROM messages")
    await add_raw(pool, "<p>&lt;script&gt;alert(1)&lt;/script&gt; 报价 here 😀 报价</p>")
    total, rows = await search.search(pool, search.SearchQuery(q="报价"))
    assert total == 1
    snippet = rows[0]["snippet"]
    assert "<script>alert(1)</script>" in snippet["text"], "entities decoded, the UI escapes"
    text16 = snippet["text"].encode("utf-16-le")
    marked = [text16[s * 2 : e * 2].decode("utf-16-le") for s, e in snippet["marks"]]
    assert marked == ["报价", "报价"], "offsets in UTF-16 units, past the emoji too"


async def add_raw(pool: Pool, content: str) -> None:
    new = NewMessage(
        sha256(content.encode()).digest(),
        "s@x.example",
        datetime.now(),
        MessageType.RECEIVE,
        "raw",
        content,
        ("s@x.example",),
    )
    await messages.save_batch(pool, "a", "INBOX", FolderState(1, 1), [(1, new)])


async def test_retention_removes_from_the_index_and_reindex(pool: Pool) -> None:
    ids = await _store(pool)
    await execute(
        pool, "UPDATE messages SET date = date - INTERVAL 400 DAY WHERE id = %s", (ids[2],)
    )
    assert await messages.delete_older_than(pool, 365) == 1
    assert (await search.search(pool, search.SearchQuery(q="ZX200")))[0] == 0
    assert await fetch_value(pool, f"SELECT COUNT(*) FROM {search.TABLE}") == 3
    await execute(pool, f"DELETE FROM {search.TABLE}")
    assert await search.reindex(pool) == 3
    assert (await search.search(pool, search.SearchQuery(q="报价单")))[0] == 1


async def test_without_the_index_a_scan_finds_the_same(client: TestClient, pool: Pool) -> None:
    await _store(pool)
    await execute(pool, f"DROP TABLE {search.TABLE}")
    assert not await search.indexed(pool)
    assert await _subjects(client, "q=报价单") == ["询价"]
    assert await _subjects(client, "q=PI-2026-0413") == ["Re: order"]
    assert await _subjects(client, "q=bucket+today") == ["Excavator"]
    found = await get_json(client, "/api/messages?q=zx200")
    assert found["indexed"] is False and found["rows"][0]["snippet"]["text"].startswith("We need")
    # a mail stored without the index is found once it is rebuilt
    assert await search.reindex(pool) == 4
    assert await _subjects(client, "q=ZX200") == ["Excavator"]


async def test_the_panel_searches_mail_and_opens_a_hit(ui: UiPage, pool: Pool) -> None:
    await _store(pool)
    await add_raw(pool, "<p>报价 &lt;img src=x onerror=alert(1)&gt;</p>")
    page = await ui.open()
    await page.get_by_placeholder("邮件搜索").fill("报价单")
    await page.get_by_role("button", name="搜索", exact=True).click()
    hits = page.locator("#mail-search-list li")
    await expect(hits).to_have_count(1)
    await expect(hits.first.locator("mark")).to_have_text("报价单")
    await expect(page.locator("#mail-search-scan")).to_be_hidden()
    await ui.shot("mail-search-hits")
    await page.get_by_placeholder("邮件搜索").fill("报价")
    await page.get_by_role("button", name="搜索", exact=True).click()
    await expect(hits).to_have_count(2)
    raw = hits.filter(has_text="onerror")
    await expect(raw.locator("img")).to_have_count(0)
    await expect(raw.locator(".mail-hit-snippet")).to_contain_text("<img src=x onerror=alert(1)>")
    await hits.filter(has_text="询价").click()
    await expect(page.locator("#message-view")).to_be_visible()
    await expect(page.locator("#message-subject")).to_have_text("询价")
    assert await page.locator("#message-frame").get_attribute("sandbox") is not None
    await ui.shot("mail-search-opened")
    await execute(pool, f"DROP TABLE {search.TABLE}")
    await page.get_by_role("button", name="返回列表").click()
    await page.get_by_role("button", name="搜索", exact=True).click()
    await expect(page.locator("#mail-search-scan")).to_be_visible()
