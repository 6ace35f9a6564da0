"""The process's one aiomysql pool and the query helpers every store module uses.

A lost or refused connection becomes DatabaseUnavailable, which the web answers with 503 and
a job records as a failed run. The pool drops connections the server closed, so after a
database restart the next use reconnects by itself; a read that meets a connection dying
under it is retried once on a fresh one.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiomysql
import pymysql

from mycrmd.config import DbConfig

Pool = aiomysql.Pool
Row = dict[str, Any]
Args = Sequence[Any] | dict[str, Any]

# Client and server error codes that mean "no usable connection", as opposed to a bad query.
_CONNECTION_ERRORS = {1040, 1053, 1927, 2002, 2003, 2006, 2013, 2026, 2045, 2055}
_UNKNOWN_DATABASE = 1049
# Errors at connect time that waiting will not cure: access denied, unknown database.
_CONFIGURATION_ERRORS = {1044, 1045, 1049, 1698}
_STRICT = "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


class DatabaseUnavailable(Exception):
    """The database server cannot be reached now; try again later."""


class DatabaseConfigError(Exception):
    """The server answers but refuses the configured account or database."""


_CONFLICTS = {1205, 1213}  # lock wait timeout, deadlock: the statement may simply be retried


def is_conflict(exc: BaseException) -> bool:
    """A write that lost a lock race: InnoDB rolled it back, and running it again is safe."""
    return (
        isinstance(exc, pymysql.err.OperationalError)
        and bool(exc.args)
        and (exc.args[0] in _CONFLICTS)
    )


async def conflict_pause(attempt: int) -> None:
    """A short, random wait, longer each time, so two writers that collided do not again."""
    await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))


def is_connection_error(exc: BaseException) -> bool:
    """Only the driver's errors count: an IMAP ConnectionError inside a transaction is not ours."""
    if isinstance(exc, pymysql.err.InterfaceError):
        return True
    if isinstance(exc, pymysql.err.OperationalError):
        return not exc.args or exc.args[0] in _CONNECTION_ERRORS
    return False


@contextlib.contextmanager
def _unavailable_on_loss() -> Any:
    try:
        yield
    except Exception as exc:
        if is_connection_error(exc):
            raise DatabaseUnavailable(_describe(exc)) from exc
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, pymysql.err.MySQLError) and len(exc.args) > 1:
        return f"database unavailable: {exc.args[1]}"
    return f"database unavailable: {exc or type(exc).__name__}"


def _session_setup() -> str:
    """Naive DATETIMEs are the daemon's local time, so NOW() must be too (docs/DESIGN.md)."""
    offset = time.localtime().tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return f"SET time_zone = '{sign}{hours:02d}:{minutes:02d}', sql_mode = '{_STRICT}'"


def _connect_args(config: DbConfig, socket: Path | None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "user": config.user,
        "password": config.passwd,
        # utf8 in the original's config.json meant "Unicode"; MariaDB's utf8 cannot hold emoji.
        "charset": "utf8mb4" if config.charset.lower() in ("utf8", "utf-8") else config.charset,
        "autocommit": True,
        "connect_timeout": 5,
        "init_command": _session_setup(),
    }
    if socket is not None:
        args["unix_socket"] = str(socket)
    elif config.unix_socket:
        args["unix_socket"] = config.unix_socket
    else:
        args["host"] = config.host
        args["port"] = config.port
    return args


async def create_pool(
    config: DbConfig, socket: Path | None = None, *, create_database: bool = False
) -> Pool:
    """The pool for config.db; `socket` overrides for the embedded server.

    With create_database the database is created when missing (the embedded server starts
    empty; on a server of the user's, creating databases is the administrator's call).
    """
    args = _connect_args(config, socket)
    try:
        with _unavailable_on_loss():
            try:
                return await aiomysql.create_pool(
                    minsize=1, maxsize=20, pool_recycle=3600, db=config.db, **args
                )
            except pymysql.err.OperationalError as exc:
                if not (create_database and exc.args and exc.args[0] == _UNKNOWN_DATABASE):
                    raise
            await _create_database(config.db, args)
            return await aiomysql.create_pool(
                minsize=1, maxsize=20, pool_recycle=3600, db=config.db, **args
            )
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] in _CONFIGURATION_ERRORS:
            raise DatabaseConfigError(f"cannot use database {config.db!r}: {exc.args[1]}") from None
        raise


async def _create_database(name: str, args: dict[str, Any]) -> None:
    conn = await aiomysql.connect(**args)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {quote_name(name)} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            )
    finally:
        conn.close()


async def close_pool(pool: Pool) -> None:
    pool.close()
    await pool.wait_closed()


def arg_marks(count: int) -> str:
    """The placeholders of an IN list or a VALUES row of `count` arguments."""
    return ", ".join(["%s"] * count)


def quote_name(name: str) -> str:
    """An identifier for the few statements that cannot take one as a parameter."""
    return "`" + name.replace("`", "``") + "`"


@contextlib.asynccontextmanager
async def bulk_loading_connection(pool: Pool) -> AsyncIterator[aiomysql.Connection]:
    """A connection of its own, outside the pool, that may send local files (LOAD DATA LOCAL):
    only the import asks for that, so only its connection allows it."""
    with _unavailable_on_loss():
        # the pool's own connection settings (aiomysql keeps them as _conn_kwargs)
        conn = await aiomysql.connect(**pool._conn_kwargs, local_infile=True)
    try:
        with _unavailable_on_loss():
            yield conn
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def connection(pool: Pool) -> AsyncIterator[aiomysql.Connection]:
    """One pooled connection, for work that must stay on it (named locks, transactions)."""
    with _unavailable_on_loss():
        async with pool.acquire() as conn:
            yield conn


@contextlib.asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[aiomysql.DictCursor]:
    """A cursor inside BEGIN … COMMIT; any exception rolls everything back."""
    async with connection(pool) as conn:
        await conn.begin()
        try:
            async with conn.cursor(aiomysql.DictCursor) as cur:
                yield cur
            await conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.rollback()
            raise


async def fetch_all(pool: Pool, sql: str, args: Args | None = None) -> list[Row]:
    try:
        return await _fetch_all_once(pool, sql, args)
    except DatabaseUnavailable:
        # A pooled connection may have died with a server restart; a fresh one may work.
        return await _fetch_all_once(pool, sql, args)


async def _fetch_all_once(pool: Pool, sql: str, args: Args | None) -> list[Row]:
    async with connection(pool) as conn, conn.cursor(aiomysql.DictCursor) as cur:
        await cur.execute(sql, args)
        return list(await cur.fetchall())


async def fetch_one(pool: Pool, sql: str, args: Args | None = None) -> Row | None:
    rows = await fetch_all(pool, sql, args)
    return rows[0] if rows else None


async def fetch_value(pool: Pool, sql: str, args: Args | None = None) -> Any:
    row = await fetch_one(pool, sql, args)
    return next(iter(row.values())) if row else None


async def execute(pool: Pool, sql: str, args: Args | None = None) -> int:
    """One statement in autocommit; returns the affected row count."""
    async with connection(pool) as conn, conn.cursor() as cur:
        return await cur.execute(sql, args)


async def insert(pool: Pool, sql: str, args: Args | None = None) -> int:
    """One INSERT in autocommit; returns the new row's id."""
    async with connection(pool) as conn, conn.cursor() as cur:
        await cur.execute(sql, args)
        return int(cur.lastrowid)


class Probe:
    """ "Does the database answer?" on a connection of its own, outside the pool: the health
    check and the watchdog must not queue behind 20 slow searches holding every pooled one
    (they would report a working database as down). One query at a time; a lost connection
    is opened again at the next ping."""

    def __init__(self, pool: Pool) -> None:
        self._connect_args = dict(pool._conn_kwargs)  # the pool's own settings
        self._conn: aiomysql.Connection | None = None
        self._lock = asyncio.Lock()

    async def ping(self) -> bool:
        async with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await aiomysql.connect(**self._connect_args)
                async with self._conn.cursor() as cur:
                    await cur.execute("SELECT 1")
                    return await cur.fetchone() == (1,)
            except BaseException as exc:
                self.close()  # a query cut short leaves the connection unusable
                if isinstance(exc, OSError) or is_connection_error(exc):
                    return False
                raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def ping(pool: Pool) -> bool:
    """Whether the database answers now (health check, systemd watchdog)."""
    try:
        return await fetch_value(pool, "SELECT 1") == 1
    except DatabaseUnavailable:
        return False
