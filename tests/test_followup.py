"""The follow-up rule (R-FU1), clause by clause, and against a literal transcription of
the rule on random data."""

import random
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from mycrmd.store import config_table
from mycrmd.store.customer_list import ListQuery
from mycrmd.store.followup import Rule, due_count, due_page
from mycrmd.store.pool import Pool, fetch_all, insert

NOW = datetime.now().replace(microsecond=0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def customer(
    pool: Pool,
    email: str,
    *,
    importance: int = 3,
    contacted: datetime | None = None,
    company: str | None = None,
    valid: int = 1,
) -> int:
    return await insert(
        pool,
        "INSERT INTO customers (email, importance, last_contact_date, company, valid) "
        "VALUES (%s, %s, %s, %s, %s)",
        (email, importance, contacted, company, valid),
    )


DEFAULT_RULE = Rule(">=", 3, 30)


async def due(pool: Pool, rule: Rule = DEFAULT_RULE) -> list[str]:
    rows = await due_page(pool, rule, ListQuery(rows=500))
    assert await due_count(pool, rule, ListQuery()) == len(rows)
    return sorted(row["email"] for row in rows)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("=", ["i3@x.example"]),
        (">", ["i4@x.example", "i5@x.example"]),
        (">=", ["i3@x.example", "i4@x.example", "i5@x.example"]),
    ],
)
async def test_importance_against_the_rule(pool: Pool, operator: str, expected: list[str]) -> None:
    for importance in range(6):
        await customer(pool, f"i{importance}@x.example", importance=importance)
    assert await due(pool, Rule(operator, 3, 30)) == expected


async def test_the_last_mail_must_be_more_than_followup_days_ago_or_never(pool: Pool) -> None:
    midnight = NOW.replace(hour=0, minute=0, second=0)
    await customer(pool, "never@x.example")
    await customer(pool, "long-ago@x.example", contacted=days_ago(90))
    await customer(pool, "31-days@x.example", contacted=midnight - timedelta(days=31))
    # DATEDIFF(NOW(), d) > 30 counts calendar days: 30 days ago, even at 00:00:01, is not due.
    await customer(
        pool, "30-days@x.example", contacted=midnight - timedelta(days=30) + timedelta(seconds=1)
    )
    await customer(
        pool, "30-days-late@x.example", contacted=midnight - timedelta(days=29, seconds=1)
    )
    await customer(pool, "recent@x.example", contacted=days_ago(2))
    assert await due(pool) == ["31-days@x.example", "long-ago@x.example", "never@x.example"]


async def test_a_recent_mail_to_a_colleague_holds_the_whole_company(pool: Pool) -> None:
    await customer(pool, "a@acme.example", company="Acme")
    await customer(pool, "b@acme.example", company="Acme", contacted=days_ago(3))
    await customer(pool, "c@other.example", company="Other")
    assert await due(pool) == ["c@other.example"]


async def test_company_names_compare_as_the_collation_does(pool: Pool) -> None:
    await customer(pool, "a@acme.example", company="ACME ")
    await customer(pool, "b@acme.example", company="acme", contacted=days_ago(3))
    assert await due(pool) == []


async def test_a_company_whose_only_recent_mail_went_to_an_invalid_address_is_still_due(
    pool: Pool,
) -> None:
    await customer(pool, "a@acme.example", company="Acme")
    await customer(pool, "gone@acme.example", company="Acme", contacted=days_ago(1), valid=0)
    assert await due(pool) == ["a@acme.example"]


async def test_a_colleague_mailed_long_ago_does_not_hold_the_company(pool: Pool) -> None:
    await customer(pool, "a@acme.example", company="Acme")
    await customer(pool, "b@acme.example", company="Acme", contacted=days_ago(45))
    assert await due(pool) == ["a@acme.example", "b@acme.example"]


@pytest.mark.parametrize("company", [None, ""])
async def test_an_empty_or_null_company_skips_the_company_clause(
    pool: Pool, company: str | None
) -> None:
    await customer(pool, "a@solo.example", company=company)
    await customer(pool, "b@solo.example", company=company, contacted=days_ago(1))
    assert await due(pool) == ["a@solo.example"]


async def test_invalid_addresses_are_never_due_unconfirmed_ones_are(pool: Pool) -> None:
    await customer(pool, "invalid@x.example", valid=0)
    await customer(pool, "valid@x.example", valid=1)
    await customer(pool, "unconfirmed@x.example", valid=2)
    assert await due(pool) == ["unconfirmed@x.example", "valid@x.example"]


LITERAL = """
SELECT email FROM customers c
WHERE c.importance {op} %s
  AND (c.last_contact_date IS NULL OR DATEDIFF(NOW(), c.last_contact_date) > %s)
  AND (c.company IS NULL OR c.company = '' OR NOT EXISTS (
        SELECT 1 FROM customers o
        WHERE o.company = c.company AND o.valid >= 1
          AND o.last_contact_date IS NOT NULL AND NOT DATEDIFF(NOW(), o.last_contact_date) > %s))
  AND c.valid >= 1
"""


@pytest.mark.parametrize("seed", range(3))
async def test_the_rule_matches_its_literal_transcription_on_random_data(
    pool: Pool, seed: int
) -> None:
    rng = random.Random(seed)
    companies = [None, "", "Acme", "acme", "Beta", "Gamma ", "gamma", "Delta"]
    for n in range(400):
        contacted = None if rng.random() < 0.25 else days_ago(rng.uniform(0, 90))
        await customer(
            pool,
            f"r{n}@x.example",
            importance=rng.randint(0, 5),
            contacted=contacted,
            company=rng.choice(companies),
            valid=rng.choice([0, 1, 1, 2]),
        )
    for operator in ("=", ">", ">="):
        rule = Rule(operator, rng.randint(1, 4), rng.randint(5, 60))
        literal = await fetch_all(
            pool, LITERAL.format(op=operator), (rule.importance, rule.days, rule.days)
        )
        assert await due(pool, rule) == sorted(row["email"] for row in literal), rule


async def test_the_follow_up_api_uses_the_saved_rule_and_the_grid_features(
    client: TestClient, pool: Pool
) -> None:
    for importance in range(6):
        await customer(
            pool, f"i{importance}@x.example", importance=importance, company=f"C{importance}"
        )
    await config_table.put(pool, {"followup_importance_operators": ">", "followup_importance": "3"})
    data = await (await client.get("/api/followup?sort=importance&order=desc")).json()
    assert [row["email"] for row in data["rows"]] == ["i5@x.example", "i4@x.example"]
    assert data["total"] == 2
    searched = await (await client.get("/api/followup?q=C5")).json()
    assert [row["email"] for row in searched["rows"]] == ["i5@x.example"]
    paged = await (await client.get("/api/followup?rows=1&page=2&sort=importance")).json()
    assert [row["email"] for row in paged["rows"]] == ["i5@x.example"]


def cadence_rule(cadence: dict[int, int]) -> Rule:
    return Rule(">=", 3, 30, tuple(cadence.items()))


async def test_each_row_says_why_it_is_due_and_sorts_by_it(pool: Pool) -> None:
    midnight = NOW.replace(hour=0, minute=0, second=0)
    await customer(pool, "never@x.example", company="Acme")
    await customer(pool, "old@x.example", company="Acme", contacted=midnight - timedelta(days=40))
    await customer(pool, "older@y.example", company="Beta", contacted=midnight - timedelta(days=60))
    await customer(pool, "solo@z.example", contacted=midnight - timedelta(days=50))
    rows = await due_page(pool, DEFAULT_RULE, ListQuery(rows=50))
    by_email = {row["email"]: row for row in rows}
    assert by_email["never@x.example"]["days_since_contact"] is None
    assert by_email["never@x.example"]["days_since_company_contact"] == 40
    assert by_email["old@x.example"]["days_since_contact"] == 40
    assert by_email["older@y.example"]["days_since_company_contact"] == 60
    assert by_email["solo@z.example"]["days_since_company_contact"] is None
    assert {(row["due_rule"], row["due_after_days"]) for row in rows} == {("mycrm", 30)}
    ordered = await due_page(pool, DEFAULT_RULE, ListQuery(rows=50), "days_since_contact")
    assert [row["email"] for row in ordered] == [
        "old@x.example",
        "solo@z.example",
        "older@y.example",
        "never@x.example",
    ]
    by_company = await due_page(
        pool, DEFAULT_RULE, ListQuery(rows=2, page=1, order="desc"), "days_since_company_contact"
    )
    assert [row["email"] for row in by_company] == ["solo@z.example", "older@y.example"]


async def test_a_cadence_gives_each_rating_its_interval_and_drops_the_others(pool: Pool) -> None:
    midnight = NOW.replace(hour=0, minute=0, second=0)
    for importance in range(6):
        for days in (10, 15, 22, 40):
            await customer(
                pool,
                f"i{importance}-{days}@x.example",
                importance=importance,
                contacted=midnight - timedelta(days=days) + timedelta(seconds=1),
            )
    rule = cadence_rule({5: 14, 4: 21, 1: 30})
    assert await due(pool, rule) == [
        "i1-40@x.example",
        "i4-22@x.example",
        "i4-40@x.example",
        "i5-15@x.example",
        "i5-22@x.example",
        "i5-40@x.example",
    ]
    rows = await due_page(pool, rule, ListQuery(rows=50, sort="importance"))
    assert (rows[0]["due_rule"], rows[0]["due_after_days"]) == ("cadence", 30)
    assert (rows[-1]["due_rule"], rows[-1]["due_after_days"]) == ("cadence", 14)


async def test_the_company_rule_applies_within_each_customers_cadence(pool: Pool) -> None:
    await customer(pool, "boss@acme.example", importance=5, company="Acme")
    await customer(pool, "clerk@acme.example", importance=1, company="Acme")
    await customer(
        pool, "mailed@acme.example", importance=0, company="Acme", contacted=days_ago(20)
    )
    # 20 days ago is outside the 14-day cadence of rating 5, inside the 30 days of rating 1.
    assert await due(pool, cadence_rule({5: 14, 1: 30})) == ["boss@acme.example"]


async def test_the_cadence_setting_is_read_checked_and_stored_in_one_form(
    client: TestClient, pool: Pool
) -> None:
    name = "followup_days_by_importance"
    saved = await client.patch("/api/settings", json={name: '{"4": 21, "5": 14}'})
    assert saved.status == 200, await saved.text()
    assert await config_table.get(pool, name) == '{"5": 14, "4": 21}'
    assert (await (await client.get("/api/settings")).json())[name] == '{"5": 14, "4": 21}'
    rule = Rule.from_settings(await config_table.load(pool))
    assert rule.cadence == ((5, 14), (4, 21))
    for bad in ('{"6": 3}', '{"5": 0}', "[1]", "{", '{"5": "14"}', '{"5": true}'):
        refused = await client.patch("/api/settings", json={name: bad})
        assert refused.status == 400, bad
        assert (await refused.json())["error"]["field"] == name
    cleared = await client.patch("/api/settings", json={name: ""})
    assert cleared.status == 200
    assert Rule.from_settings(await config_table.load(pool)).cadence == ()


def boundary_times(rng: random.Random) -> datetime | None:
    """Contacts at, just before and just after midnight around the interval's edges."""
    if rng.random() < 0.15:
        return None
    midnight = NOW.replace(hour=0, minute=0, second=0)
    day = midnight - timedelta(days=rng.randint(0, 70))
    return day + timedelta(seconds=rng.choice([0, 1, -1, 43200, 86399]))


@pytest.mark.parametrize("seed", range(2))
async def test_with_no_cadence_the_list_is_mycrms_exactly_at_midnight_boundaries(
    pool: Pool, seed: int
) -> None:
    rng = random.Random(seed)
    companies = [None, "", "Acme", "acme", "Beta", "Gamma ", "Delta"]
    for n in range(400):
        await customer(
            pool,
            f"b{n}@x.example",
            importance=rng.randint(0, 5),
            contacted=boundary_times(rng),
            company=rng.choice(companies),
            valid=rng.choice([0, 1, 1, 2]),
        )
    unset = Rule.from_settings(await config_table.load(pool))
    assert unset.cadence == ()
    for days in (1, 7, 30, 45):
        rule = Rule(unset.operator, unset.importance, days)
        literal = await fetch_all(
            pool, LITERAL.format(op=rule.operator), (rule.importance, days, days)
        )
        assert await due(pool, rule) == sorted(row["email"] for row in literal), days


CADENCE_LITERAL = """
SELECT email FROM customers c
WHERE c.valid >= 1 AND c.importance = %s
  AND (c.last_contact_date IS NULL OR DATEDIFF(NOW(), c.last_contact_date) > %s)
  AND (c.company IS NULL OR c.company = '' OR NOT EXISTS (
        SELECT 1 FROM customers o
        WHERE o.company = c.company AND o.valid >= 1
          AND o.last_contact_date IS NOT NULL AND NOT DATEDIFF(NOW(), o.last_contact_date) > %s))
"""


async def test_a_cadence_matches_its_literal_transcription_at_midnight_boundaries(
    pool: Pool,
) -> None:
    rng = random.Random(7)
    for n in range(400):
        await customer(
            pool,
            f"k{n}@x.example",
            importance=rng.randint(0, 5),
            contacted=boundary_times(rng),
            company=rng.choice([None, "", "Acme", "acme", "Beta"]),
            valid=rng.choice([0, 1, 2]),
        )
    cadence = {5: 7, 4: 21, 2: 45}
    expected: list[str] = []
    for rating, days in cadence.items():
        rows = await fetch_all(pool, CADENCE_LITERAL, (rating, days, days))
        expected += [row["email"] for row in rows]
    assert await due(pool, cadence_rule(cadence)) == sorted(expected)


async def test_a_snoozed_customer_is_hidden_until_its_day_starts(
    client: TestClient, pool: Pool
) -> None:
    hidden = await customer(pool, "hidden@x.example")
    ended = await customer(pool, "ended@x.example")
    await customer(pool, "plain@x.example")
    tomorrow = (NOW + timedelta(days=1)).strftime("%Y-%m-%d")
    today = NOW.strftime("%Y-%m-%d")
    answer = await client.put(f"/api/customers/{hidden}/snooze", json={"until": tomorrow})
    assert answer.status == 200
    assert (await answer.json())["snoozed_until"] == f"{tomorrow} 00:00:00"
    assert (await client.put(f"/api/customers/{ended}/snooze", json={"until": today})).status == 200
    assert await due(pool) == ["ended@x.example", "plain@x.example"]
    assert await due(pool, cadence_rule({3: 30})) == ["ended@x.example", "plain@x.example"]
    listed = await (await client.get("/api/customers?q=hidden")).json()
    assert listed["rows"][0]["snoozed_until"] == f"{tomorrow} 00:00:00"
    cleared = await client.delete(f"/api/customers/{hidden}/snooze")
    assert (await cleared.json())["snoozed_until"] is None
    assert len(await due(pool)) == 3


@pytest.mark.parametrize(
    "body",
    [
        {"until": "2026-02-30"},
        {"until": "tomorrow"},
        {"until": 20261201},
        {"until": "0408-12-22"},  # a day long past (schemathesis found it)
        {},
        {"x": 1},
    ],
)
async def test_a_snooze_needs_a_real_day(client: TestClient, pool: Pool, body: object) -> None:
    hidden = await customer(pool, "hidden@x.example")
    answer = await client.put(f"/api/customers/{hidden}/snooze", json=body)
    assert answer.status == 400
    assert (await answer.json())["error"]["field"] == "until"
    missing = await client.put("/api/customers/999999/snooze", json={"until": "2030-01-01"})
    assert missing.status == 404
