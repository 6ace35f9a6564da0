"""The model is the one definition: the database, the page and the code agree with it."""

import re
from pathlib import Path

from mycrmd.model.customer import FIELDS, Validity
from mycrmd.store.pool import Pool, fetch_all

ROOT = Path(__file__).resolve().parent.parent


def _normal(column_type: str) -> str:
    """MariaDB's spelling of a type as the model writes it: INT(11) UNSIGNED → INT UNSIGNED."""
    return re.sub(r"^(tiny|small|medium|big)?int\(\d+\)", r"\1int", column_type.lower()).upper()


async def test_the_customers_table_is_the_models(pool: Pool) -> None:
    rows = await fetch_all(
        pool,
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' ORDER BY ORDINAL_POSITION",
    )
    assert [(row["name"], _normal(row["type"])) for row in rows] == [
        (field.name, field.sql_type) for field in FIELDS
    ]


def test_the_javascript_keeps_no_list_of_fields() -> None:
    """Field lists come from the page's data-model; an array literal naming two or more
    fields in a script is a second definition."""
    names = {field.name for field in FIELDS}
    found = []
    for script in (ROOT / "static" / "js").glob("*.js"):
        for array in re.findall(r"\[[^\[\]]*\]", script.read_text(encoding="utf-8")):
            named = names & set(re.findall(r"[\"'](\w+)[\"']", array))
            if len(named) >= 2:
                found.append((script.name, sorted(named)))
    assert found == []


def test_no_bare_validity_codes_outside_the_model() -> None:
    """`valid = 1` and friends in code would be a second definition of Validity."""
    bare = re.compile(r"\bvalid\b\s*(=|==|!=|<>|>=|<=|>|<|===)\s*[0-9]")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("mycrmd", "static/js", "templates")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".js", ".html") and "model" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []
    assert [int(v) for v in Validity] == [0, 1, 2]  # MyCRM's codes (R-DB2)
