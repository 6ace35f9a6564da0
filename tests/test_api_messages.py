"""The messages API: a customer's messages, the system notices, one message and its content."""

from aiohttp.test_utils import TestClient

from mycrmd.store.pool import Pool, insert
from tests.support.api import get_json
from tests.support.messages import add_message


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
