"""The customers API: list, search, sort, page; add, edit in place, delete; the comment;
every rule with the field it names."""

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mycrmd.model.customer import COLUMNS
from mycrmd.store.pool import Pool, execute, fetch_one, insert
from tests.support.api import get_json

CUSTOMERS = [
    # name, email, importance, company, country, phone, valid
    ("张三", "zhang@shanghai.example", 5, "上海贸易", "中国", "+86 21 5555", 1),
    ("Anna Schmidt", "anna@berlin.example", 3, "Schmidt GmbH", "Germany", "+49 30 1234", 2),
    ("Bob", "bob@acme.example", 1, "Acme", "USA", "555-0100", 0),
    ("Carol", "carol@acme.example", 4, "Acme", "USA", "555-0101", 1),
    ("100% Cotton", "sales@cotton.example", 2, "Cotton_Co", "India", "", 2),
]


async def add(pool: Pool, *rows: tuple[Any, ...]) -> list[int]:
    ids = []
    for name, email, importance, company, country, phone, valid in rows:
        ids.append(
            await insert(
                pool,
                "INSERT INTO customers (name, email, importance, company, country, phone, valid) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (name, email, importance, company, country, phone, valid),
            )
        )
    return ids


async def send(client: TestClient, method: str, url: str, body: Any, status: int) -> Any:
    response = await client.request(method, url, json=body)
    assert response.status == status, await response.text()
    return await response.json() if response.status != 204 else None


async def test_a_list_is_total_and_rows_with_exactly_the_tables_columns(
    client: TestClient, pool: Pool
) -> None:
    await add(pool, *CUSTOMERS)
    await execute(
        pool, "UPDATE customers SET last_contact_date = '2026-11-01 09:30:00' WHERE id = 1"
    )
    data = await get_json(client, "/api/customers")
    assert data["total"] == 5
    assert [row["email"] for row in data["rows"]] == [c[1] for c in CUSTOMERS]
    first = data["rows"][0]
    assert list(first) == list(COLUMNS)
    assert first["last_contact_date"] == "2026-11-01 09:30:00"
    assert first["last_checked_date"] is None and first["name"] == "张三"


async def test_pages_and_page_sizes(client: TestClient, pool: Pool) -> None:
    await add(pool, *[(f"n{i:02d}", f"p{i:02d}@x.example", 0, "", "", "", 1) for i in range(45)])
    page = await get_json(client, "/api/customers?rows=20&page=3")
    assert page["total"] == 45
    assert [row["name"] for row in page["rows"]] == [f"n{i:02d}" for i in range(40, 45)]
    rows_only = await get_json(client, "/api/customers?rows=10&total=false")
    assert rows_only["total"] is None and len(rows_only["rows"]) == 10
    total_only = await get_json(client, "/api/customers?rows=0")
    assert total_only == {"total": 45, "rows": []}
    beyond = await get_json(client, "/api/customers?rows=20&page=99")
    assert beyond["rows"] == [] and beyond["total"] == 45


@pytest.mark.parametrize("column", COLUMNS)
async def test_every_column_sorts_both_ways(client: TestClient, pool: Pool, column: str) -> None:
    await add(pool, *CUSTOMERS)
    up = await get_json(client, f"/api/customers?sort={column}&order=asc")
    down = await get_json(client, f"/api/customers?sort={column}&order=desc")
    assert [r["id"] for r in up["rows"]] == list(reversed([r["id"] for r in down["rows"]]))
    values = [r[column] for r in up["rows"] if r[column] is not None]
    if column in ("id", "importance", "valid"):
        assert values == sorted(values)


async def test_sorting_by_name_is_by_name(client: TestClient, pool: Pool) -> None:
    await add(pool, *CUSTOMERS)
    rows = (await get_json(client, "/api/customers?sort=name&order=asc"))["rows"]
    assert [r["name"] for r in rows][:3] == ["100% Cotton", "Anna Schmidt", "Bob"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=password", "sort"),
        ("sort=name;DROP TABLE customers", "sort"),
        ("order=sideways", "order"),
        ("page=0", "page"),
        ("rows=501", "rows"),
        ("rows=-1", "rows"),
        ("only_valid=maybe", "only_valid"),
        ("page=abc", "page"),
    ],
)
async def test_bad_list_parameters_are_refused_naming_them(
    client: TestClient, query: str, field: str
) -> None:
    error = (await get_json(client, f"/api/customers?{query}", 400))["error"]
    assert error["code"] == "bad_parameter" and error["field"] == field


@pytest.mark.parametrize(
    ("q", "emails"),
    [
        ("张", ["zhang@shanghai.example"]),
        ("berlin", ["anna@berlin.example"]),
        ("ACME", ["bob@acme.example", "carol@acme.example"]),
        ("germany", ["anna@berlin.example"]),
        ("555-0101", ["carol@acme.example"]),
        ("%", ["sales@cotton.example"]),  # a wildcard is a character here
        ("_", ["sales@cotton.example"]),
        ("nothing-like-this", []),
    ],
)
async def test_search_covers_name_email_company_country_and_phone(
    client: TestClient, pool: Pool, q: str, emails: list[str]
) -> None:
    await add(pool, *CUSTOMERS)
    data = await get_json(client, f"/api/customers?q={q.replace('%', '%25')}")
    assert [row["email"] for row in data["rows"]] == emails
    assert data["total"] == len(emails)


async def test_only_valid_shows_valid_and_unconfirmed(client: TestClient, pool: Pool) -> None:
    await add(pool, *CUSTOMERS)
    data = await get_json(client, "/api/customers?only_valid=true")
    assert sorted(row["valid"] for row in data["rows"]) == [1, 1, 2, 2]


async def test_adding_a_customer_with_the_defaults(client: TestClient) -> None:
    created = await send(
        client, "POST", "/api/customers", {"email": " new@x.example ", "name": "新客户"}, 201
    )
    assert (
        created["email"] == "new@x.example" and created["valid"] == 2 and created["importance"] == 0
    )
    assert (await get_json(client, f"/api/customers/{created['id']}"))["name"] == "新客户"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "no email"}, "email", "invalid_field"),
        ({"email": "not-an-address"}, "email", "invalid_field"),
        ({"email": "a@b"}, "email", "invalid_field"),
        ({"email": "ok@x.example", "importance": 6}, "importance", "invalid_field"),
        ({"email": "ok@x.example", "importance": "high"}, "importance", "invalid_field"),
        ({"email": "ok@x.example", "valid": 3}, "valid", "invalid_field"),
        ({"email": "ok@x.example", "valid": True}, "valid", "invalid_field"),
        ({"email": "ok@x.example", "company": "x" * 129}, "company", "invalid_field"),
        ({"email": "ok@x.example", "country": "x" * 31}, "country", "invalid_field"),
        ({"email": "ok@x.example", "phone": 12345}, "phone", "invalid_field"),
        ({"email": "ok@x.example", "comment": "<b>x</b>"}, "comment", "field_not_editable"),
        ({"email": "ok@x.example", "id": 7}, "id", "field_not_editable"),
        ({"email": "ok@x.example", "colour": "red"}, "colour", "unknown_field"),
    ],
)
async def test_invalid_customers_are_refused_naming_the_field(
    client: TestClient, pool: Pool, body: dict[str, Any], field: str, code: str
) -> None:
    error = (await send(client, "POST", "/api/customers", body, 400))["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert error["message"]
    assert (await get_json(client, "/api/customers"))["total"] == 0


async def test_errors_speak_the_requested_language(client: TestClient) -> None:
    response = await client.post(
        "/api/customers", json={"email": "bad"}, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert (await response.json())["error"]["message"].startswith("邮箱地址无效")
    response = await client.post(
        "/api/customers", json={"email": "bad"}, headers={"Accept-Language": "en"}
    )
    assert (await response.json())["error"]["message"].startswith("not a valid address")


async def test_a_duplicate_address_is_409_naming_the_existing_customer(
    client: TestClient, pool: Pool
) -> None:
    (first,) = await add(pool, CUSTOMERS[0])
    error = (
        await send(client, "POST", "/api/customers", {"email": "ZHANG@Shanghai.example"}, 409)
    )["error"]
    assert error["code"] == "duplicate_email" and error["field"] == "email"
    assert error["existing_id"] == first and "张三" in error["message"] + str(error)
    (_, second) = await add(pool, CUSTOMERS[1], CUSTOMERS[2])
    error = (
        await send(
            client, "PATCH", f"/api/customers/{second}", {"email": "zhang@shanghai.example"}, 409
        )
    )["error"]
    assert error["existing_id"] == first


async def test_editing_in_place_changes_only_what_is_sent(client: TestClient, pool: Pool) -> None:
    (customer_id,) = await add(pool, CUSTOMERS[1])
    edited = await send(
        client, "PATCH", f"/api/customers/{customer_id}", {"importance": 5, "country": "DE"}, 200
    )
    assert (edited["importance"], edited["country"], edited["name"]) == (5, "DE", "Anna Schmidt")


@pytest.mark.parametrize("field", ["comment", "last_contact_date"])
async def test_in_place_editing_refuses_comment_and_last_contact_and_changes_nothing(
    client: TestClient, pool: Pool, field: str
) -> None:
    (customer_id,) = await add(pool, CUSTOMERS[0])
    before = await fetch_one(pool, "SELECT * FROM customers WHERE id = %s", (customer_id,))
    body = {"name": "changed", field: "2026-01-01 00:00:00" if field != "comment" else "<p>x</p>"}
    error = (await send(client, "PATCH", f"/api/customers/{customer_id}", body, 400))["error"]
    assert (error["code"], error["field"]) == ("field_not_editable", field)
    assert await fetch_one(pool, "SELECT * FROM customers WHERE id = %s", (customer_id,)) == before


async def test_missing_customers_are_404(client: TestClient) -> None:
    for method, url in (
        ("GET", "/api/customers/999"),
        ("PATCH", "/api/customers/999"),
        ("DELETE", "/api/customers/999"),
        ("PUT", "/api/customers/999/comment"),
        ("GET", "/api/customers/999/messages"),
        ("GET", "/api/customers/abc"),
    ):
        body = {"comment": ""} if method == "PUT" else {"name": "x"} if method == "PATCH" else None
        response = await client.request(method, url, json=body)
        assert response.status == 404, (method, url)
        assert (await response.json())["error"]["code"] == "not_found"


async def test_deleting(client: TestClient, pool: Pool) -> None:
    (customer_id,) = await add(pool, CUSTOMERS[0])
    response = await client.delete(f"/api/customers/{customer_id}")
    assert response.status == 204
    assert (await get_json(client, "/api/customers"))["total"] == 0


async def test_the_comment_is_stored_sanitised(client: TestClient, pool: Pool) -> None:
    (customer_id,) = await add(pool, CUSTOMERS[0])
    html = (
        '<p><b>老客户</b> <i>i</i> <u>u</u> <font color="#c00000">红</font></p>'
        '<ul><li>one</li></ul><a href="https://shop.example">shop</a>'
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
        '<span style="background:url(http://t.example/x)">s</span>'
        '<a href="javascript:alert(3)">j</a>'
    )
    saved = await send(
        client, "PUT", f"/api/customers/{customer_id}/comment", {"comment": html}, 200
    )
    comment = saved["comment"]
    assert '<font color="#c00000">红</font>' in comment and "<ul><li>one</li></ul>" in comment
    assert '<a href="https://shop.example" rel="noopener noreferrer">shop</a>' in comment
    for bad in ("<script", "onerror", "style=", "javascript:", "<img"):
        assert bad not in comment


async def test_a_comment_longer_than_its_column_is_refused(client: TestClient, pool: Pool) -> None:
    (customer_id,) = await add(pool, CUSTOMERS[0])
    error = (
        await send(
            client,
            "PUT",
            f"/api/customers/{customer_id}/comment",
            {"comment": "<b>x</b>" * 100},
            400,
        )
    )["error"]
    assert error["field"] == "comment" and "512" in error["message"]
    assert (await get_json(client, f"/api/customers/{customer_id}"))["comment"] is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_json_object_is_400(client: TestClient, body: bytes) -> None:
    response = await client.post(
        "/api/customers", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_json"


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    "sort", ["id", "name", "company", "importance", "last_contact_date", "phone"]
)
async def test_keyset_paging_visits_the_same_pages_as_offsets(
    client: TestClient, pool: Pool, sort: str, order: str
) -> None:
    """NULLs, empty strings and many equal values: keyset pages must agree with OFFSET."""
    rows = []
    for n in range(53):
        rows.append(
            (
                None if n % 7 == 0 else f"N{n % 5}",
                f"k{n:02d}@x.example",
                n % 3,
                None if n % 4 == 0 else ("" if n % 9 == 0 else f"Co{n % 6}"),
                "",
                None if n % 5 == 0 else f"{n % 4}",
                1,
            )
        )
    await add(pool, *rows)
    await execute(
        pool,
        "UPDATE customers SET last_contact_date = "
        "IF(id % 3 = 0, NULL, '2026-01-01' + INTERVAL (id % 4) DAY)",
    )
    base = f"/api/customers?sort={sort}&order={order}&rows=10&total=false"
    by_offset = [
        [r["id"] for r in (await get_json(client, f"{base}&page={page}"))["rows"]]
        for page in range(1, 7)
    ]
    assert sum(len(p) for p in by_offset) == 53
    forward = [by_offset[0]]
    while len(forward) < 6:
        after = forward[-1][-1]
        forward.append(
            [r["id"] for r in (await get_json(client, f"{base}&after_id={after}"))["rows"]]
        )
    assert forward == by_offset
    backward = [by_offset[-1]]
    while len(backward) < 6:
        before = backward[0][0]
        backward.insert(
            0, [r["id"] for r in (await get_json(client, f"{base}&before_id={before}"))["rows"]]
        )
    assert backward[1:] == by_offset[1:]
    assert backward[0] == by_offset[0][-len(backward[0]) :]


async def test_after_and_before_cannot_be_combined(client: TestClient) -> None:
    error = (await get_json(client, "/api/customers?after_id=1&before_id=2", 400))["error"]
    assert error["field"] == "before_id"


async def test_concurrent_email_swaps_answer_409_never_500(client: TestClient, pool: Pool) -> None:
    """The address a change collides with may move away before the duplicate is looked up
    (issue 14 item 12): every order of events is a 200 or a 409."""
    addresses = [f"s{n}@swap.example" for n in range(10)]
    ids = await add(pool, *[(f"n{n}", addresses[n], 0, "", "", "", 1) for n in range(8)])

    async def change(k: int) -> int:
        body = {"email": addresses[(k * 7 + k // 8) % len(addresses)]}
        response = await client.patch(f"/api/customers/{ids[k % len(ids)]}", json=body)
        if response.status == 409:
            assert (await response.json())["error"]["code"] == "duplicate_email"
        return response.status

    statuses = await asyncio.gather(*(change(k) for k in range(400)))
    assert set(statuses) <= {200, 409}, sorted(set(statuses))
    assert statuses.count(409) > 0
    rows = await fetch_one(pool, "SELECT COUNT(DISTINCT email) AS n FROM customers")
    assert rows is not None and rows["n"] == len(ids)
