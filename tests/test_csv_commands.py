"""`mycrmd import` and `mycrmd export` as processes, and an import killed part-way: the table
is left exactly as it was."""

import asyncio
import contextlib
import csv
import io
import os
import signal
from pathlib import Path

import pytest

from mycrmd.config import DbConfig
from mycrmd.store.pool import Pool, execute, fetch_one, fetch_value
from tests.support.daemon_process import db_toml, mycrmd_binary, run_command
from tests.support.waiting import eventually


@pytest.fixture
def config_file(db_config: DbConfig, tmp_path: Path) -> Path:
    path = tmp_path / "mycrmd.toml"
    path.write_text(db_toml(db_config) + f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    return path


async def test_import_lists_what_it_did_and_exits_3_on_rejected_rows(
    config_file: Path, pool: Pool, tmp_path: Path
) -> None:
    await execute(pool, "INSERT INTO customers (email, name) VALUES ('old@cli.example', 'Old')")
    source = tmp_path / "in.csv"
    source.write_bytes(
        "邮箱,联系人,客户评级,来源\nOLD@cli.example,新名字,2,x\nnew@cli.example,,9,y\n"
        "a@cli.example b@cli.example,多,1,z\n".encode("gbk")
    )
    code, output = await run_command(config_file, "import", str(source), "--dry-run")
    assert code == 3, output
    assert (
        "would import" in output and "3 rows, 2 new, 1 updated, 0 unchanged, 1 rejected" in output
    )
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 1
    code, output = await run_command(config_file, "import", str(source))
    assert code == 3, output
    assert "read as GB18030 (GBK)" in output
    assert "column '来源' ignored" in output
    assert "row 3 rejected, importance: Importance must be a whole number 0-5" in output
    names = await fetch_value(
        pool, "SELECT GROUP_CONCAT(name ORDER BY id SEPARATOR '|') FROM customers"
    )
    assert names == "新名字|多|多"
    fine = tmp_path / "fine.csv"
    fine.write_text("Email\nfine@cli.example\n")
    assert (await run_command(config_file, "import", str(fine)))[0] == 0


async def test_import_of_a_file_without_email_column_exits_1(
    config_file: Path, pool: Pool, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("Name,Company\nBob,Acme\n")
    code, output = await run_command(config_file, "import", str(source))
    assert code == 1 and "no email column" in output
    code, output = await run_command(config_file, "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "missing.csv" in output


async def test_export_to_a_file_and_to_standard_output(
    config_file: Path, pool: Pool, tmp_path: Path
) -> None:
    await execute(
        pool,
        "INSERT INTO customers (email, name, importance, valid) VALUES "
        "('a@exp.example', 'Ann', 5, 1), ('b@exp.example', NULL, 4, 2), "
        "('c@exp.example', 'Cy', 1, 0)",
    )
    out = tmp_path / "valid.csv"
    code, output = await run_command(config_file, "export", "--type", "valid", "-o", str(out))
    assert code == 0, output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert [row[1] for row in rows] == ["邮箱", "a@exp.example"]
    code, output = await run_command(config_file, "export", "--type", "followup")
    assert code == 0
    assert output.startswith("\ufeffName,Email,")
    assert "\r\nSir,b@exp.example," in output
    code, output = await run_command(
        config_file,
        "export",
        "--type",
        "current",
        "--q",
        "exp",
        "--sort",
        "email",
        "--order",
        "desc",
    )
    assert [line.split(",")[1] for line in output.splitlines()[1:]] == [
        "c@exp.example",
        "b@exp.example",
        "a@exp.example",
    ]


def _big_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Email,Name,Importance,Company,Comment\r\n")
        for n in range(rows):
            out.write(f"k{n}@kill.example,客户 {n},{n % 6},公司 {n % 97},第 {n} 行\r\n")


async def _import_statement(pool: Pool, db: str, prefix: str) -> int | None:
    """The id of the connection running a statement starting with prefix, in this test's
    database."""
    row = await fetch_one(
        pool,
        "SELECT id FROM information_schema.processlist WHERE db = %s AND info LIKE %s",
        (db, prefix + "%"),
    )
    return int(row["id"]) if row else None


@pytest.mark.parametrize(
    "statement", ["INSERT INTO import_rows", "UPDATE customers c JOIN import_rows"]
)
async def test_a_killed_import_leaves_the_table_exactly_as_it_was(
    config_file: Path, pool: Pool, db_config: DbConfig, tmp_path: Path, statement: str
) -> None:
    """200,000 rows, of which the first 5,000 update customers already there; kill -9 while
    rows are staged, or while they are being applied."""
    await execute(
        pool,
        "INSERT INTO customers (email, name, importance, valid) "
        "SELECT CONCAT('k', seq, '@kill.example'), 'before', 1, 1 FROM seq_0_to_4999",
    )
    before = await fetch_one(pool, "CHECKSUM TABLE customers")
    source = tmp_path / "big.csv"
    await asyncio.to_thread(_big_file, source, 200_000)
    proc = await asyncio.create_subprocess_exec(
        mycrmd_binary(),
        "--config",
        str(config_file),
        "import",
        str(source),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        connection_id = None
        deadline = asyncio.get_running_loop().time() + 60
        while connection_id is None:
            assert proc.returncode is None, "the import ended before it could be killed"
            assert asyncio.get_running_loop().time() < deadline, f"never saw {statement}"
            connection_id = await _import_statement(pool, db_config.db, statement)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL, "killed part-way, not finished"

    async def gone() -> bool:
        found = await fetch_value(
            pool,
            "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s",
            (connection_id,),
        )
        return found == 0

    # the server notices the dead client and rolls its transaction back
    await eventually(gone, within=60, describe=lambda: "the killed import's connection is open")
    assert await fetch_one(pool, "CHECKSUM TABLE customers") == before
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 5000
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers WHERE name <> 'before'") == 0


async def test_export_into_a_pipe_closed_early_ends_at_once_and_frees_its_connection(
    config_file: Path, pool: Pool, db_config: DbConfig, tmp_path: Path
) -> None:
    """`mycrmd export | head -c 100`: 30,000 rows are far more than a pipe holds."""
    await execute(
        pool,
        "INSERT INTO customers (email, name, comment) SELECT CONCAT('p', seq, '@pipe.example'), "
        "'管道', REPEAT('x', 100) FROM seq_1_to_30000",
    )
    err, code = tmp_path / "err", tmp_path / "code"
    script = '{ "$0" --config "$1" export 2>"$2"; echo $? >"$3"; } | head -c 100 >/dev/null'
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, mycrmd_binary(), str(config_file), str(err), str(code)
    )
    await asyncio.wait_for(proc.wait(), 30)
    assert code.read_text().strip() in ("0", "141"), err.read_text()
    assert "Traceback" not in err.read_text() and "Broken pipe" not in err.read_text()

    async def released() -> bool:
        found = await fetch_value(
            pool,
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = %s "
            "AND id <> CONNECTION_ID() AND info LIKE 'SELECT%%DATE_FORMAT%%'",
            (db_config.db,),
        )
        return found == 0

    await eventually(released, within=10, describe=lambda: "the export's query is running")


async def test_import_shows_progress_on_a_terminal_only(
    config_file: Path, pool: Pool, tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    await asyncio.to_thread(_big_file, source, 30_000)
    main, child = os.openpty()
    proc = await asyncio.create_subprocess_exec(
        mycrmd_binary(),
        "--config",
        str(config_file),
        "import",
        str(source),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    terminal = b""
    with contextlib.suppress(OSError):  # EIO once the child side is closed
        while chunk := os.read(main, 65536):
            terminal += chunk
    os.close(main)
    assert proc.returncode == 0, terminal
    shown = terminal.decode()
    assert "\rimporting: 30000 rows read, 100%" in shown
    assert "%" not in out.decode() and "30000 rows, 30000 new" in out.decode()
    again = tmp_path / "again.csv"
    again.write_text("Email\nq@progress.example\n")
    code, output = await run_command(config_file, "import", str(again))
    assert code == 0 and "importing:" not in output


async def test_a_missing_import_file_is_reported_before_any_database_starts(
    tmp_path: Path,
) -> None:
    """With no [db] server, mycrmd would start its own; for a missing file it must not."""
    state = tmp_path / "own"
    config = tmp_path / "embedded.toml"
    config.write_text(f'[paths]\nstate_dir = "{state}"\n')
    code, output = await run_command(config, "import", str(tmp_path / "missing.csv"), within=10)
    assert code == 1 and f"{tmp_path / 'missing.csv'}: no such file" in output
    assert not (state / "mariadb").exists()


async def test_import_of_a_file_the_csv_reader_refuses_names_the_line_and_exits_1(
    config_file: Path, pool: Pool, tmp_path: Path
) -> None:
    source = tmp_path / "open-quote.csv"
    rows = "".join(f"r{n}@cli.example,N{n}\n" for n in range(9000))
    source.write_text('Email,Name\nfirst@cli.example,"left open\n' + rows)
    code, output = await run_command(config_file, "import", str(source))
    assert code == 1, output
    assert "line 2: a cell longer than 131,072 characters" in output
    assert "Traceback" not in output
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
