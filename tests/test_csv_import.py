"""CSV import over the API (R-IO2): every encoding and separator Excel writes, headers in
Chinese, English or none, upserts by address, several addresses per cell, per-row rejections,
the later of two rows winning, dry runs and the size limit."""

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_one, fetch_value, insert
from tests.support.app_client import serving

ZH_HEADER = "联系人,邮箱,客户评级,公司,国家,地址,电话,网站,备注,最近联系时间,有效性"


async def upload(
    client: TestClient, content: bytes, query: str = "", status: int = 200, lang: str = "en"
) -> Any:
    form = FormData()
    form.add_field("csv_file", content, filename="customers.csv", content_type="text/csv")
    response = await client.post(
        f"/api/import{query}", data=form, headers={"Accept-Language": lang}
    )
    assert response.status == status, await response.text()
    return await response.json()


async def table(pool: Pool) -> list[dict[str, Any]]:
    return await fetch_all(
        pool,
        "SELECT name, email, importance, company, country, address, phone, website, comment, "
        "last_contact_date, valid FROM customers ORDER BY id",
    )


async def customer(pool: Pool, email: str) -> dict[str, Any]:
    row = await fetch_one(pool, "SELECT * FROM customers WHERE email = %s", (email,))
    assert row is not None, email
    return row


GBK_TEXT = (
    f"{ZH_HEADER}\r\n"
    "王小明,wang@guangzhou.example,4,广州进出口有限公司,中国,天河区,020-1234,,,,\r\n"
    '李华,"li@shenzhen.example; hua@shenzhen.example\nsales@shenzhen.example",3,深圳贸易,中国,,,,'
    "老客户,2026-10-01 08:00:00,1\r\n"
)


@pytest.mark.parametrize(
    ("codec", "delimiter", "reported"),
    [
        ("utf-8", ",", "UTF-8"),
        ("utf-8-sig", ",", "UTF-8 (BOM)"),
        ("utf-16", "\t", "UTF-16"),  # Excel's "Unicode text": a BOM, tabs
        ("utf-16-le", "\t", "UTF-16LE"),
        ("gbk", ",", "GB18030 (GBK)"),
        ("gb18030", ";", "GB18030 (GBK)"),
    ],
)
async def test_every_encoding_and_separator_excel_writes(
    client: TestClient, pool: Pool, codec: str, delimiter: str, reported: str
) -> None:
    text = GBK_TEXT.replace(",", delimiter) if delimiter != "," else GBK_TEXT
    if delimiter != ",":
        # the multi-address cell keeps its own separators inside quotes
        text = text.replace(f"li@shenzhen.example;{delimiter}hua", "li@shenzhen.example; hua")
    result = await upload(client, text.encode(codec))
    assert result["encoding"] == reported
    assert result["delimiter"] == delimiter
    assert (result["rows"], result["inserted"], result["updated"]) == (2, 4, 0)
    assert result["rejected"] == []
    wang = await customer(pool, "wang@guangzhou.example")
    assert (wang["name"], wang["company"]) == ("王小明", "广州进出口有限公司")
    assert wang["importance"] == 4
    assert wang["valid"] == 2, "a new customer is unconfirmed unless the file says otherwise"
    for address in ("li@shenzhen.example", "hua@shenzhen.example", "sales@shenzhen.example"):
        li = await customer(pool, address)
        assert (li["name"], li["company"], li["comment"], li["valid"]) == (
            "李华",
            "深圳贸易",
            "老客户",
            1,
        )
        assert str(li["last_contact_date"]) == "2026-10-01 08:00:00"


async def test_quoted_cells_keep_their_line_breaks_and_separators(
    client: TestClient, pool: Pool
) -> None:
    content = (
        "Email;Address;Comment\n"
        'a@quoted.example;"Room 1; Floor 2\nBuilding ""East""";"line one\nline two"\n'
    )
    result = await upload(client, content.encode())
    assert result["delimiter"] == ";" and result["inserted"] == 1
    row = await customer(pool, "a@quoted.example")
    assert row["address"] == 'Room 1; Floor 2\nBuilding "East"'
    assert row["comment"] == "line one\nline two"


async def test_english_headers_in_any_order_and_extra_columns_reported(
    client: TestClient, pool: Pool
) -> None:
    content = "Valid,Source,Email,Importance,Name,Notes\n0,fair,e@en.example,5,Eve,x\n"
    result = await upload(client, content.encode())
    assert result["ignored_columns"] == ["Source", "Notes"]
    row = await customer(pool, "e@en.example")
    assert (row["name"], row["importance"], row["valid"]) == ("Eve", 5, 0)


async def test_a_file_without_header_in_the_original_column_order(
    client: TestClient, pool: Pool
) -> None:
    content = "Tom,tom@noheader.example,2,Acme,USA,,,,,,1\nAnn,ann@noheader.example,,,,,,,,,\n"
    result = await upload(client, content.encode())
    assert (result["rows"], result["inserted"]) == (2, 2)
    assert (await customer(pool, "tom@noheader.example"))["company"] == "Acme"
    ann = await customer(pool, "ann@noheader.example")
    assert (ann["importance"], ann["valid"]) == (0, 2)


async def test_no_email_column_is_one_clear_error_and_nothing_changes(
    client: TestClient, pool: Pool
) -> None:
    await insert(pool, "INSERT INTO customers (email, name) VALUES ('keep@x.example', 'K')")
    before = await table(pool)
    error = (await upload(client, b"Name,Company\nBob,Acme\n", status=400))["error"]
    assert error["code"] == "bad_csv" and error["field"] == "csv_file"
    assert "email column" in error["message"]
    assert await table(pool) == before
    error = (await upload(client, b"\x00\x01\xff\xfe\xfa" * 100, status=400))["error"]
    assert error["code"] == "bad_csv"


async def test_no_file_in_the_upload(client: TestClient) -> None:
    response = await client.post("/api/import", data={"other": "x"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "no_file"


async def test_existing_addresses_update_whatever_their_case_and_empty_cells_keep_values(
    client: TestClient, pool: Pool
) -> None:
    await insert(
        pool,
        "INSERT INTO customers (name, email, importance, company, phone, comment, valid) "
        "VALUES ('Old Name', 'Mixed@Case.example', 3, 'Old Co', '555', '<b>keep</b>', 1)",
    )
    content = "Email,Name,Company,Phone,Comment,Importance\n  mixed@case.EXAMPLE ,New Name,,,,\n"
    result = await upload(client, content.encode())
    assert (result["inserted"], result["updated"]) == (0, 1)
    rows = await fetch_all(pool, "SELECT * FROM customers")
    assert len(rows) == 1
    row = rows[0]
    assert row["email"] == "Mixed@Case.example", "the stored address keeps its spelling"
    assert row["name"] == "New Name"
    assert (row["company"], row["phone"], row["comment"], row["importance"], row["valid"]) == (
        "Old Co",
        "555",
        "<b>keep</b>",
        3,
        1,
    )


async def test_the_later_row_wins_and_is_reported(client: TestClient, pool: Pool) -> None:
    content = (
        "Email,Name,Importance\n"
        "twice@dup.example,First,1\n"
        "other@dup.example,Other,2\n"
        "TWICE@dup.example,Second,\n"
    )
    result = await upload(client, content.encode())
    assert result["inserted"] == 2 and result["rows"] == 3
    assert result["duplicates"] == [{"row": 4, "email": "TWICE@dup.example", "earlier_row": 2}]
    rows = await fetch_all(pool, "SELECT email, name, importance FROM customers ORDER BY id")
    assert [(r["email"].lower(), r["name"]) for r in rows] == [
        ("other@dup.example", "Other"),
        ("twice@dup.example", "Second"),
    ]


BAD_ROWS = (
    "邮箱,联系人,客户评级,最近联系时间,有效性\n"
    "good1@ok.example,好,1,2026-01-02,1\n"
    "not an address,坏,1,,\n"
    "good2@ok.example,好,7,,\n"
    "good3@ok.example,好,1,yesterday,\n"
    f"good4@ok.example,{'长' * 129},1,,\n"
    "good5@ok.example,好,1,,9\n"
    "good6@ok.example,好,5,2026/03/04 10:20,未确认\n"
    "good7@ok.example bad@@x,好,1,,\n"
)


async def test_bad_rows_are_rejected_with_row_field_and_reason_the_rest_imported(
    client: TestClient, pool: Pool
) -> None:
    result = await upload(client, BAD_ROWS.encode())
    rejected = [(r["row"], r["field"]) for r in result["rejected"]]
    assert rejected == [
        (3, "email"),
        (4, "importance"),
        (5, "last_contact_date"),
        (6, "name"),
        (7, "valid"),
        (9, "email"),
    ]
    messages = {r["row"]: r["message"] for r in result["rejected"]}
    assert messages[3].startswith("not a valid address: not ")
    assert messages[9].startswith("not a valid address: bad@@x ")
    assert "0-5" in messages[4]
    assert "yesterday" in messages[5]
    assert "129 characters, at most 128" in messages[6]
    assert result["rejected"][0]["cells"] == ["not an address", "坏", "1", "", ""]
    assert (result["rows"], result["inserted"], result["rejected_total"]) == (8, 2, 6)
    emails = await fetch_all(pool, "SELECT email, valid, last_contact_date FROM customers")
    assert [(r["email"], r["valid"], str(r["last_contact_date"])) for r in emails] == [
        ("good1@ok.example", 1, "2026-01-02 00:00:00"),
        ("good6@ok.example", 2, "2026-03-04 10:20:00"),
    ]
    zh = await upload(client, BAD_ROWS.encode(), query="?dry_run=1", lang="zh-CN")
    assert any("客户评级" in r["message"] for r in zh["rejected"])


async def test_a_dry_run_reports_the_same_and_writes_nothing(
    client: TestClient, pool: Pool
) -> None:
    await insert(pool, "INSERT INTO customers (email, name) VALUES ('good1@ok.example', 'Was')")
    before = await table(pool)
    checked = await upload(client, BAD_ROWS.encode(), query="?dry_run=1")
    assert checked["dry_run"] is True
    assert await table(pool) == before
    imported = await upload(client, BAD_ROWS.encode())
    for key in ("rows", "inserted", "updated", "rejected", "encoding"):
        assert checked[key] == imported[key], key
    assert (imported["inserted"], imported["updated"]) == (1, 1)


async def test_progress_is_streamed_then_the_result(client: TestClient, pool: Pool) -> None:
    content = "Email\n" + "".join(f"p{n}@progress.example\n" for n in range(12_000))
    form = FormData()
    form.add_field("csv_file", content.encode(), filename="big.csv")
    response = await client.post("/api/import?progress=1", data=form)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in (await response.text()).splitlines()]
    progress = [line["progress"] for line in lines[:-1]]
    assert [p["rows"] for p in progress] == [5000, 10000, 12000]
    assert all(p["size"] == len(content) for p in progress)
    assert lines[-1]["result"]["inserted"] == 12_000
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 12_000


async def test_a_file_over_the_limit_is_refused_with_413(pool: Pool, config: Config) -> None:
    limited = replace(config, web=replace(config.web, max_upload_mb=1))
    async with serving(pool, limited) as client:
        big = ("Email\n" + "x@big.example\n" * 90_000).encode()  # 1.2 MB
        assert len(big) > 2**20
        error = (await upload(client, big, status=413))["error"]
        assert error["code"] == "too_large" and error["field"] == "csv_file"
        assert "1 MB" in error["message"] and "max_upload_mb" in error["message"]
        assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
        assert list((limited.state_dir / "uploads").iterdir()) == [], "no upload left behind"
        small = await upload(client, b"Email\nsmall@big.example\n")
        assert small["inserted"] == 1


@pytest.fixture
async def local_files_refused(pool: Pool) -> AsyncIterator[None]:
    """A server that does not allow LOAD DATA LOCAL (MySQL 8's default)."""
    await execute(pool, "SET GLOBAL local_infile = 0")
    try:
        yield
    finally:
        await execute(pool, "SET GLOBAL local_infile = 1")


async def test_a_server_refusing_local_files_gets_the_same_import(
    client: TestClient, pool: Pool, local_files_refused: None
) -> None:
    await insert(pool, "INSERT INTO customers (email, name) VALUES ('good1@ok.example', 'Was')")
    result = await upload(client, BAD_ROWS.encode())
    assert (result["rows"], result["inserted"], result["updated"]) == (8, 1, 1)
    assert len(result["rejected"]) == 6
    rows = await fetch_all(pool, "SELECT email, name, valid FROM customers ORDER BY id")
    assert [(r["email"], r["name"], r["valid"]) for r in rows] == [
        ("good1@ok.example", "好", 1),
        ("good6@ok.example", "好", 2),
    ]
    twice = "Email,Name\nt@twice.example,First\nT@twice.example,Second\n"
    result = await upload(client, twice.encode())
    assert result["duplicates"] == [{"row": 3, "email": "T@twice.example", "earlier_row": 2}]


async def test_a_header_of_two_million_columns_is_refused_in_a_short_answer(
    client: TestClient, pool: Pool
) -> None:
    """Issue 14 item 5, the attack's shape at a tenth of its size: the reply once listed
    every column and held the loop while it was built."""
    content = ("email" + ",a" * 2_000_000 + "\nx@wide.example" + ",a" * 10 + "\n").encode()
    form = FormData()
    form.add_field("csv_file", content, filename="wide.csv", content_type="text/csv")
    response = await client.post("/api/import?dry_run=1", data=form)
    body = await response.read()
    assert response.status == 400, body[:300]
    assert len(body) < 2000
    error = json.loads(body)["error"]
    assert error["code"] == "bad_csv" and "line 1" in error["message"]
    assert "16,384 columns" in error["message"]
    assert (await client.get("/healthz")).status == 200


async def test_reports_are_bounded_and_every_rejected_row_is_downloadable(
    client: TestClient, pool: Pool
) -> None:
    extra = [f"extra{n}" for n in range(1000)]
    lines = [",".join(["Email", "Name", *extra])]
    lines += [f"bad{n},n{n}," + ",".join(["c" * 300] + ["c"] * 2199) for n in range(300)]
    lines.append("good@bounded.example,Good")
    lines.append("wide@bounded.example" + ",x" * 20_000)
    result = await upload(client, ("\n".join(lines) + "\n").encode())
    assert (result["rows"], result["inserted"], result["rejected_total"]) == (302, 1, 301)
    assert len(result["ignored_columns"]) == 100 and result["ignored_total"] == 1000
    assert len(result["rejected"]) == 100
    first = result["rejected"][0]
    assert first["row"] == 2 and first["field"] == "email"
    assert len(first["cells"]) == 100 and first["cells"][2] == "c" * 200 + "…"
    assert len(json.dumps(result)) < 3_000_000
    response = await client.get(result["rejected_csv"])
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:3] == ["Email", "Name", "extra0"] and rows[0][-1] == "Error"
    assert len(rows) == 1 + 301
    assert (
        rows[1][:2] == ["bad0", "n0"] and rows[1][2] == "c" * 300 and len(rows[1]) == 2 + 2200 + 1
    )
    assert rows[1][-1].startswith("email: not a valid address")
    assert rows[-1][-1] == ": line 303 has more than 16,384 columns; not read"
    # The downloaded file imports again as it is: its error column is only ignored.
    again = await upload(client, text.encode(), query="?dry_run=1")
    assert again["rejected_total"] == 301 and again["ignored_total"] == 1001
    missing = await client.get("/api/import/rejected?file=0123456789abcdef")
    assert missing.status == 404
    assert (await client.get("/api/import/rejected?file=../../etc")).status == 404


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("Email,Name\na@ok.example,A\nb@ok.example," + "x" * 140_000 + "\n", 3),
        (
            "Email,Name\n"
            + "".join(f"q{n}@ok.example,N{n}\n" for n in range(3))
            + 'open@ok.example,"never closed\n'
            + "".join(f"r{n}@ok.example,N{n}\n" for n in range(9000)),
            5,
        ),
    ],
    ids=["long cell", "open quote"],
)
async def test_a_line_the_csv_reader_refuses_rejects_the_file_naming_the_line(
    client: TestClient, pool: Pool, content: str, line: int
) -> None:
    error = (await upload(client, content.encode(), status=400))["error"]
    assert error["code"] == "bad_csv" and error["field"] == "csv_file"
    assert error["message"].startswith(f"line {line}: a cell longer than 131,072 characters")
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
    form = FormData()
    form.add_field("csv_file", content.encode(), filename="bad.csv")
    response = await client.post("/api/import?progress=1", data=form)
    last = json.loads((await response.text()).splitlines()[-1])
    assert last["error"]["message"].startswith(f"line {line}: ")


async def test_the_word_null_is_a_value_and_survives_export_then_import(
    client: TestClient, pool: Pool
) -> None:
    await insert(
        pool,
        "INSERT INTO customers (email, name, company, phone) "
        "VALUES ('null@word.example', 'NULL', 'NULL', '\\\\N')",
    )
    exported = await (await client.get("/export/customers.csv?type=all")).read()
    await execute(pool, "DELETE FROM customers")
    result = await upload(client, exported)
    assert result["inserted"] == 1, result
    row = await customer(pool, "null@word.example")
    assert (row["name"], row["company"], row["phone"]) == ("NULL", "NULL", "\\N")
    quoted = 'Email,Name,Company\nq@word.example,"NULL",NULL\n'
    await upload(client, quoted.encode())
    row = await customer(pool, "q@word.example")
    assert (row["name"], row["company"]) == ("NULL", "NULL")


async def test_a_validity_the_import_changes_is_in_the_history(
    client: TestClient, pool: Pool
) -> None:
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('h@buyer.example', 1)")
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('same@buyer.example', 0)")
    await upload(client, b"Email,Valid\nh@buyer.example,0\nsame@buyer.example,0\n")
    rows = await fetch_all(
        pool,
        "SELECT c.email, h.old, h.new, h.source FROM validity_history h "
        "JOIN customers c ON c.id = h.customer_id",
    )
    assert rows == [{"email": "h@buyer.example", "old": "1", "new": "0", "source": "import"}]
