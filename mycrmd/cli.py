"""The `mycrmd` command."""

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mycrmd import __version__, config
from mycrmd.customers.csv_format import CsvError
from mycrmd.customers.exporting import KINDS, export_csv
from mycrmd.customers.importing import import_csv
from mycrmd.daemon import StartupError, open_store, serve
from mycrmd.jobs import registry
from mycrmd.jobs.backup import restore
from mycrmd.jobs.dump import DumpError
from mycrmd.jobs.rejudge import rejudge_bounces
from mycrmd.jobs.scheduler import Scheduler
from mycrmd.jobs.verify import every_address_errored
from mycrmd.model.customer import COLUMNS
from mycrmd.model.jobs import JobName, RunStatus
from mycrmd.safety import passwords, redact
from mycrmd.store import databases, search
from mycrmd.store.customer_list import ORDERS, ListQuery
from mycrmd.store.migrate import MigrationError, schema_version
from mycrmd.store.pool import DatabaseConfigError, DatabaseUnavailable
from mycrmd.system import config_writer
from mycrmd.system.embedded_db import EmbeddedServerError

log = logging.getLogger("mycrmd")

Command = Callable[[config.Config, argparse.Namespace], Awaitable[int]]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging()
    try:
        cfg = config.load(config.locate(args.config))
    except config.ConfigError as exc:
        print(f"mycrmd: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        sys.stdout.write(config.render(cfg))
        return 0
    if args.command == "passwd":
        return _passwd(cfg.source or config.DEFAULT_PATH)
    if args.command == "import" and not args.file.is_file():
        print(f"mycrmd: {args.file}: no such file", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_COMMANDS[args.command](cfg, args))
    except (
        StartupError,
        EmbeddedServerError,
        MigrationError,
        DatabaseUnavailable,
        DatabaseConfigError,
        DumpError,
        CsvError,
        OSError,
    ) as exc:
        print(f"mycrmd: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mycrmd", description="A self-hosted CRM daemon that lives in its mailbox."
    )
    parser.add_argument("--version", action="version", version=f"mycrmd {__version__}")
    _add_config_option(parser, default=None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="run the daemon: web UI and scheduled jobs")
    run = sub.add_parser("run", help="run one job now and exit when it is done")
    run.add_argument("job", choices=[job.name for job in registry.jobs()])
    sub.add_parser("migrate", help="bring the database's schema up to date")
    sub.add_parser("reindex", help="rebuild the mail search's index from the stored mail")
    import_cmd = sub.add_parser("import", help="import customers from a CSV file")
    import_cmd.add_argument("file", type=Path, help="CSV: UTF-8, UTF-16 or GBK; , ; or tab")
    import_cmd.add_argument(
        "--dry-run", action="store_true", help="check and count only; change nothing"
    )
    export_cmd = sub.add_parser("export", help="export customers as CSV")
    export_cmd.add_argument("--type", choices=KINDS, default="all", dest="kind")
    export_cmd.add_argument(
        "-o", "--output", type=Path, help="file to write (default: standard output)"
    )
    export_cmd.add_argument("--q", default="", help="for --type current: the search")
    export_cmd.add_argument("--only-valid", action="store_true", help="for --type current")
    export_cmd.add_argument("--sort", default="id", choices=COLUMNS, help="for --type current")
    export_cmd.add_argument("--order", default="asc", choices=ORDERS)
    restore_cmd = sub.add_parser(
        "restore", help="load a backup zip into a database and print its row counts"
    )
    restore_cmd.add_argument("file", type=Path, help="a backup made by mycrmd (FILE.zip)")
    restore_cmd.add_argument(
        "--into",
        metavar="DB",
        help="the database to load it into (default: a new one, <db>_restore_<date>_<time>)",
    )
    restore_cmd.add_argument(
        "--replace",
        action="store_true",
        help="load into a database that already has tables, replacing them",
    )
    rejudge = sub.add_parser(
        "rejudge-bounces",
        help="re-judge stored bounces with the current rules; restore wrongly invalidated",
    )
    rejudge.add_argument("--dry-run", action="store_true", help="print, change nothing")
    sub.add_parser("check-config", help="print the effective configuration, secrets masked")
    sub.add_parser(
        "passwd",
        help="set the web UI's password (from the terminal, or the first line of standard input)",
    )
    for command in sub.choices.values():
        _add_config_option(command, default=argparse.SUPPRESS)
    return parser


def _add_config_option(parser: argparse.ArgumentParser, default: str | None) -> None:
    """--config before the command or after it; after it, SUPPRESS keeps an absent option from
    hiding one given before."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="configuration file (default: $MYCRMD_CONFIG, else /etc/mycrmd/mycrmd.toml)",
    )


def _setup_logging() -> None:
    """stderr for journald: no timestamps under systemd, which adds its own."""
    under_systemd = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not under_systemd:
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        redact.protect(handler)


def _passwd(path: Path) -> int:
    """Exit 0 when the hash is written, 1 when the password or the file is refused."""
    if sys.stdin.isatty():
        password = getpass.getpass("New password for the web UI: ")
        if getpass.getpass("Again: ") != password:
            print("mycrmd: the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        config_writer.set_password_hash(path, passwords.hash_password(password))
    except (passwords.PasswordError, config.ConfigError, OSError, ValueError) as exc:
        print(f"mycrmd: {exc}; nothing changed", file=sys.stderr)
        return 1
    print(
        f"password set in {path} (mode 0600); a running daemon takes it on reload "
        "(systemctl reload mycrmd, or SIGHUP)"
    )
    return 0


async def _serve(cfg: config.Config, args: argparse.Namespace) -> int:
    return await serve(cfg)


async def _run_job(cfg: config.Config, args: argparse.Namespace) -> int:
    """One run beside (or without) the daemon; SIGTERM interrupts it cleanly."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with open_store(cfg) as pool:
        scheduler = Scheduler(pool, cfg, registry.jobs())
        try:
            result = await scheduler.run_once(args.job, "cli")
        except asyncio.CancelledError:
            print(f"mycrmd: {args.job} interrupted", file=sys.stderr)
            return 143
    if result is None:
        print(f"mycrmd: {args.job} did not run (see its log)", file=sys.stderr)
        return 1
    print(f"{args.job}: {result.status}")
    for key, value in result.summary.items():
        print(f"  {key.replace('_', ' ')}: {_readable(value)}")
    if result.status == RunStatus.FAILED:
        return 1
    if args.job == JobName.VERIFY and every_address_errored(result.summary):
        print("mycrmd: verify: every address asked ended in an error", file=sys.stderr)
        return 1
    return 0


def _readable(value: object) -> str:
    """A summary value as a person reads it: lists one item after another, a hint in
    English (the command speaks English), nothing as "-"."""
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return str(value.get("en", value))
    return "-" if value is None else str(value)


async def _migrate(cfg: config.Config, args: argparse.Namespace) -> int:
    async with open_store(cfg) as pool:
        print(f"schema version {await schema_version(pool)}")
    return 0


async def _reindex(cfg: config.Config, args: argparse.Namespace) -> int:
    async with open_store(cfg) as pool:
        done = await search.reindex(pool)
    if done < 0:
        print("mycrmd: the database server has no Mroonga engine; searches scan instead")
        return 1
    print(f"indexed {done} mails")
    return 0


async def _restore(cfg: config.Config, args: argparse.Namespace) -> int:
    into = args.into or f"{cfg.db.db}_restore_{datetime.now():%Y%m%d_%H%M%S}"
    async with open_store(cfg) as pool:
        if not args.replace and await databases.has_tables(pool, into):
            print(
                f"mycrmd: database {into} already has tables; add --replace to replace them",
                file=sys.stderr,
            )
            return 1
        report = await restore(cfg, pool, args.file, into)
    print(f"restored {args.file} into database {into}:")
    for table, count in report.counts.items():
        print(f"  {table:<20} {count:>10} rows")
    return 0


async def _import(cfg: config.Config, args: argparse.Namespace) -> int:
    """Exit 0 when every row was imported, 3 when some were rejected (they are listed)."""
    progress = _Progress(args.file.stat().st_size) if sys.stderr.isatty() else None
    async with open_store(cfg) as pool:
        result = await import_csv(pool, args.file, dry_run=args.dry_run, progress=progress)
    if progress is not None:
        progress.end()
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{verb} {args.file}: {result.rows} rows, {result.inserted} new, {result.updated} "
        f"updated, {result.unchanged} unchanged, {result.rejected_total} rejected "
        f"(read as {result.encoding}, separated by {result.delimiter!r})"
    )
    for column in result.ignored_columns:
        print(f"  column {column!r} ignored")
    _more(result.ignored_total, result.ignored_columns, "columns ignored")
    for duplicate in result.duplicates:
        print(
            f"  row {duplicate['row']}: {duplicate['email']} also in row "
            f"{duplicate['earlier_row']}; the later row wins"
        )
    _more(result.duplicates_total, result.duplicates, "addresses given twice")
    for rejected in result.rejected:
        print(f"  row {rejected['row']} rejected, {rejected['field']}: {rejected['message']}")
    _more(result.rejected_total, result.rejected, "rows rejected")
    return 3 if result.rejected_total else 0


class _Progress:
    """Rows read and the share of the file, on one terminal line rewritten in place."""

    def __init__(self, size: int) -> None:
        self.size = max(size, 1)

    async def __call__(self, rows: int, read: int) -> None:
        percent = min(100, read * 100 // self.size)
        sys.stderr.write(f"\rimporting: {rows} rows read, {percent}%")
        sys.stderr.flush()

    def end(self) -> None:
        sys.stderr.write("\n")


def _more(total: int, listed: list[Any], what: str) -> None:
    if total > len(listed):
        print(f"  … and {total - len(listed)} more {what}")


async def _export(cfg: config.Config, args: argparse.Namespace) -> int:
    """To a file or standard output; a reader that goes away (`| head`) ends it at once, the
    rows' cursor closed and the connection released, exit 0."""
    query = ListQuery(q=args.q, only_valid=args.only_valid, sort=args.sort, order=args.order)
    async with open_store(cfg) as pool:
        if args.output is None:
            async with contextlib.aclosing(export_csv(pool, args.kind, query)) as chunks:
                try:
                    async for chunk in chunks:
                        sys.stdout.write(chunk)
                    sys.stdout.flush()
                except BrokenPipeError:
                    # Python would flush (and fail) again at exit: point stdout at nothing
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        with args.output.open("w", encoding="utf-8", newline="") as out:
            async with contextlib.aclosing(export_csv(pool, args.kind, query)) as chunks:
                async for chunk in chunks:
                    out.write(chunk)
    print(f"exported {args.kind} customers to {args.output}", file=sys.stderr)
    return 0


async def _rejudge(cfg: config.Config, args: argparse.Namespace) -> int:
    async with open_store(cfg) as pool:
        changes = await rejudge_bounces(pool, dry_run=args.dry_run)
    verb = "would restore" if args.dry_run else "restored"
    for change in changes:
        print(
            f"{verb} {change.email} (id {change.customer_id}): was {change.was!r}, now {change.now}"
        )
    print(f"{len(changes)} customers {verb}")
    return 0


_COMMANDS: dict[str, Command] = {
    "serve": _serve,
    "run": _run_job,
    "migrate": _migrate,
    "reindex": _reindex,
    "restore": _restore,
    "import": _import,
    "export": _export,
    "rejudge-bounces": _rejudge,
}
