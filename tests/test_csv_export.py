"""CSV export (R-IO1): each kind of download, UTF-8 with BOM, the date in the file name,
`Sir` for the follow-up list, formulas neutralised, and export -> import giving back every
field unchanged."""

import csv
import io
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycrmd.customers.csv_format import FIELDS, HEADERS_EN, HEADERS_ZH
from mycrmd.customers.exporting import export_csv
from mycrmd.customers.fields import check_field
from mycrmd.customers.importing import import_csv
from mycrmd.model.customer import BY_NAME
from mycrmd.safety.sanitize import clean_comment, comment_text
from mycrmd.store.pool import Pool, execute, fetch_all, insert


async def add(pool: Pool, **values: Any) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    return await insert(
        pool, f"INSERT INTO customers ({columns}) VALUES ({marks})", tuple(values.values())
    )


async def download(client: TestClient, query: str) -> tuple[list[list[str]], Any]:
    response = await client.get(f"/export/customers.csv?{query}")
    assert response.status == 200, await response.text()
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    return rows, response.headers


async def sample(pool: Pool) -> None:
    await add(pool, name="张三", email="zhang@x.example", importance=5, company="上海贸易", valid=1)
    await add(pool, name="", email="noname@x.example", importance=4, company="Acme", valid=2)
    await add(pool, name="Bob", email="bob@x.example", importance=1, company="Bob Co", valid=0)
    await add(pool, name="Anna", email="anna@x.example", importance=3, country="DE", valid=1)


async def test_all_has_chinese_headers_every_customer_and_a_dated_name(
    client: TestClient, pool: Pool
) -> None:
    await sample(pool)
    await execute(
        pool,
        "UPDATE customers SET comment = '<b>好</b><br>&lt;坏&gt;', "
        "last_contact_date = '2026-11-01 09:30:00' WHERE email = 'zhang@x.example'",
    )
    rows, headers = await download(client, "type=all")
    assert rows[0] == list(HEADERS_ZH)
    assert [row[1] for row in rows[1:]] == [
        "zhang@x.example",
        "noname@x.example",
        "bob@x.example",
        "anna@x.example",
    ]
    assert rows[1] == [
        "张三",
        "zhang@x.example",
        "5",
        "上海贸易",
        "",
        "",
        "",
        "",
        "好\n<坏>",
        "2026-11-01 09:30:00",
        "1",
    ]
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    today = f"{date.today():%Y%m%d}"
    assert headers["Content-Disposition"] == f'attachment; filename="customers-all-{today}.csv"'


async def test_valid_and_invalid(client: TestClient, pool: Pool) -> None:
    await sample(pool)
    valid, _ = await download(client, "type=valid")
    assert [row[1] for row in valid[1:]] == ["zhang@x.example", "anna@x.example"]
    invalid, _ = await download(client, "type=invalid")
    assert [row[1] for row in invalid[1:]] == ["bob@x.example"]


async def test_followup_has_english_headers_and_sir_for_no_name(
    client: TestClient, pool: Pool
) -> None:
    await sample(pool)
    rows, headers = await download(client, "type=followup")
    assert rows[0] == list(HEADERS_EN)
    # the default rule: importance >= 3, not mailed in 30 days, address not invalid
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("张三", "zhang@x.example"),
        ("Sir", "noname@x.example"),
        ("Anna", "anna@x.example"),
    ]
    assert "customers-followup-" in headers["Content-Disposition"]


async def test_current_is_the_grid_as_shown(client: TestClient, pool: Pool) -> None:
    await sample(pool)
    rows, _ = await download(client, "type=current&q=x.example&only_valid=1&sort=name&order=desc")
    assert [row[0] for row in rows[1:]] == ["张三", "Anna", ""]
    rows, _ = await download(client, "type=current&q=Acme")
    assert [row[1] for row in rows[1:]] == ["noname@x.example"]


async def test_current_of_the_follow_up_grid_is_its_rule_search_and_sort(
    client: TestClient, pool: Pool
) -> None:
    await sample(pool)
    rows, _ = await download(client, "type=current&list=followup&q=x.example&sort=email&order=desc")
    assert rows[0] == list(HEADERS_ZH), "the grid as shown, in the UI's headers"
    assert [row[1] for row in rows[1:]] == ["zhang@x.example", "noname@x.example", "anna@x.example"]
    rows, _ = await download(client, "type=current&list=followup&q=Acme")
    assert [row[1] for row in rows[1:]] == ["noname@x.example"]
    response = await client.get("/export/customers.csv?type=current&list=everyone")
    assert response.status == 400
    assert "参数 list" in await response.text()


async def test_template_is_the_headers_alone(client: TestClient, pool: Pool) -> None:
    await sample(pool)
    rows, headers = await download(client, "type=template")
    assert rows == [list(HEADERS_ZH)]
    assert "customers-template-" in headers["Content-Disposition"]


async def test_an_unknown_type_or_sort_is_refused(client: TestClient) -> None:
    response = await client.get("/export/customers.csv?type=everything")
    assert response.status == 400
    assert "参数 type" in await response.text()
    response = await client.get("/export/customers.csv?type=current&sort=password")
    assert response.status == 400


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example","click")',
    "company": "@SUM(A1:A9)",
    "phone": "+1+cmd|' /C calc'!A0",
    "address": "-2+3",
    "country": "'quoted",
    "website": "\thttp://tab.example",
    "comment": "\r=cmd|' /C calc'!A0",
}


async def test_formulas_are_neutralised_and_import_takes_them_back_exactly(
    client: TestClient, pool: Pool, tmp_path: Path
) -> None:
    await add(pool, email="f@formula.example", importance=2, valid=1, **FORMULAS)
    response = await client.get("/export/customers.csv?type=all")
    exported = tmp_path / "exported.csv"
    exported.write_bytes(await response.read())
    rows = list(csv.reader(io.StringIO(exported.read_bytes().decode("utf-8-sig"), newline="")))
    cells = dict(zip(FIELDS, rows[1], strict=True))
    for field, value in FORMULAS.items():
        assert cells[field] == "'" + value, field
    await execute(pool, "DELETE FROM customers")
    result = await import_csv(pool, exported)
    assert result.rejected == []
    after = (await fetch_all(pool, "SELECT * FROM customers"))[0]
    for field, value in FORMULAS.items():
        # the apostrophe is gone; the import trims text as the API does
        assert after[field] == value.strip(), field


async def test_only_what_a_spreadsheet_would_evaluate_is_guarded_in_every_part(
    client: TestClient, pool: Pool, tmp_path: Path
) -> None:
    """Issue 14 item 11, issue 15 item 12: a phone keeps its +, a part after `;` or `,` is
    guarded as a whole cell is, and such cells are quoted for every locale."""
    values = {
        "phone": "+86 21 5555 0101",
        "address": "-2",
        "company": "Acme;=HYPERLINK(1)",
        "country": "a,@x",
        "website": "tab\there",
        "name": "plain",
    }
    await add(pool, email="p@parts.example", importance=2, valid=1, **values)
    text = (await (await client.get("/export/customers.csv?type=all")).read()).decode("utf-8-sig")
    line = text.split("\r\n")[1]
    assert ",+86 21 5555 0101," in line and ",-2," in line and line.startswith("plain,")
    assert '"Acme;\'=HYPERLINK(1)"' in line and '"a,\'@x"' in line and '"tab\there"' in line
    exported = tmp_path / "parts.csv"
    exported.write_text(text, encoding="utf-8-sig")
    await execute(pool, "DELETE FROM customers")
    await import_csv(pool, exported)
    after = (await fetch_all(pool, "SELECT * FROM customers"))[0]
    for field, value in values.items():
        assert after[field] == value, field


# The round trip: whatever the API would store comes back unchanged after export -> import.
# Text is stored trimmed (as the API stores it), and CSV cannot tell an empty cell from NULL,
# so those compare equal.
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("=+-@'\t\r\n,;\""),
    max_size=40,
)


def _stored(field: str, value: str) -> str:
    return check_field(field, value[: BY_NAME[field].length])


_CUSTOMER = st.fixed_dictionaries(
    {
        "name": _TEXT.map(lambda v: _stored("name", v)),
        "importance": st.integers(0, 5),
        "company": _TEXT.map(lambda v: _stored("company", v)),
        "country": _TEXT.map(lambda v: _stored("country", v)),
        "address": _TEXT.map(lambda v: _stored("address", v)),
        "phone": _TEXT.map(lambda v: _stored("phone", v)),
        "website": _TEXT.map(lambda v: _stored("website", v)),
        "comment": st.one_of(st.just(""), _TEXT.map(clean_comment)).map(
            lambda v: check_field("comment", v)
        ),
        "last_contact_date": st.one_of(
            st.none(),
            st.datetimes(datetime(2000, 1, 1), datetime(2037, 12, 31)).map(
                lambda d: d.replace(microsecond=0)
            ),
        ),
        "valid": st.integers(0, 2),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(customers=st.lists(_CUSTOMER, min_size=1, max_size=8))
async def test_export_then_import_gives_back_every_field(
    pool: Pool, customers: list[dict[str, Any]]
) -> None:
    await execute(pool, "DELETE FROM customers")
    for number, values in enumerate(customers):
        await add(pool, email=f"c{number}@round.example", **values)
    # A comment goes out as plain text, so it comes back (into an emptied table) without markup.
    at = FIELDS.index("comment")
    before = [
        (*row[:at], clean_comment(comment_text(row[at])), *row[at + 1 :])
        for row in await _rows(pool)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8", newline="") as out:
        async for chunk in export_csv(pool, "all"):
            out.write(chunk)
        out.flush()
        await execute(pool, "DELETE FROM customers")
        result = await import_csv(pool, Path(out.name))
    assert result.rejected == [], result.rejected
    assert await _rows(pool) == before


async def _rows(pool: Pool) -> list[tuple[Any, ...]]:
    rows = await fetch_all(pool, f"SELECT {', '.join(FIELDS)} FROM customers ORDER BY email")
    return [tuple("" if row[f] is None else row[f] for f in FIELDS) for row in rows]


@pytest.mark.parametrize("kind", ["all", "valid", "followup"])
async def test_an_export_streams_from_an_unbuffered_cursor_batch_by_batch(
    pool: Pool, kind: str
) -> None:
    await execute(
        pool,
        "INSERT INTO customers (email, name, importance, valid) "
        "SELECT CONCAT('s', seq, '@stream.example'), CONCAT('n', seq), 5, 1 "
        "FROM seq_1_to_2500",
    )
    chunks = [chunk async for chunk in export_csv(pool, kind)]
    assert len(chunks) == 1 + 2, "the header, then one chunk per 2,000 rows"
    text = "".join(chunks)
    assert text.count("\r\n") == 2501


async def test_importing_an_export_unchanged_reports_unchanged_not_updated(
    client: TestClient, pool: Pool, tmp_path: Path
) -> None:
    """Issue 15 item 12: an import of identical data counts the rows whose values did not
    change; a change of case is a change."""
    await add(pool, email="same@u.example", name="Same", importance=3, valid=1, phone="+86 1")
    await add(pool, email="case@u.example", name="Case", importance=2, valid=2)
    exported = tmp_path / "all.csv"
    exported.write_bytes(await (await client.get("/export/customers.csv?type=all")).read())
    result = await import_csv(pool, exported)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 2)
    await execute(pool, "UPDATE customers SET name = 'case' WHERE email = 'case@u.example'")
    result = await import_csv(pool, exported)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)


async def test_a_comment_is_plain_text_in_csv_and_keeps_its_markup_when_imported_back(
    client: TestClient, pool: Pool, tmp_path: Path
) -> None:
    """Issue 15 item 12: a spreadsheet shows text, not HTML; an unchanged import of the export
    changes nothing, the comment's formatting included."""
    rich = '<p><b>VIP</b> &amp; friend</p><p>call <a href="https://x.example">back</a></p>'
    rich = clean_comment(rich)
    await add(pool, email="rich@c.example", name="Rich", importance=1, valid=1, comment=rich)
    exported = tmp_path / "rich.csv"
    exported.write_bytes(await (await client.get("/export/customers.csv?type=all")).read())
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[1][FIELDS.index("comment")] == "VIP & friend\ncall back"
    result = await import_csv(pool, exported)
    assert (result.updated, result.unchanged) == (0, 1)
    after = await fetch_all(pool, "SELECT comment FROM customers")
    assert after[0]["comment"] == rich
