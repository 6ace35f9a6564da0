"""The daemon: config → (embedded server) → pool → migrations → web site → scheduler → READY.

Signals only trigger things: SIGUSR1 fetch, SIGUSR2 backup, SIGRTMIN+1 verify, SIGHUP reload
the configuration file, SIGTERM/SIGINT stop gracefully (jobs interrupted and recorded, the
pool closed, the embedded server stopped).
"""

import asyncio
import contextlib
import ipaddress
import logging
import resource
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web

from mycrmd.config import Config, ConfigError, load, locate
from mycrmd.jobs import registry
from mycrmd.jobs.idle import IdleWatcher
from mycrmd.jobs.rejudge import REJUDGED_FROM, rejudge_bounces
from mycrmd.jobs.scheduler import Scheduler
from mycrmd.model.jobs import JobName
from mycrmd.store.migrate import migrate, schema_version
from mycrmd.store.pool import Pool, Probe, close_pool, create_pool
from mycrmd.system import sdnotify
from mycrmd.system.embedded_db import EmbeddedServer
from mycrmd.web.app import create_app
from mycrmd.web.services import Services

log = logging.getLogger("mycrmd")

JOB_SIGNALS = {
    signal.SIGUSR1: JobName.FETCH,
    signal.SIGUSR2: JobName.BACKUP,
    signal.SIGRTMIN + 1: JobName.VERIFY,
}
_STOP_JOBS_TIMEOUT = 5.0
_WEB_SHUTDOWN_TIMEOUT = 2.0
# A request's head must arrive within this of the connection opening (or of the previous
# answer on it): aiohttp's keep-alive timer also closes a connection still sending its head.
HEAD_SECONDS = 10.0
# File descriptors kept for everything but web clients: the pool, the probes, log files,
# the embedded server's socket, IMAP, FTP, dumps.
_RESERVED_FILES = 128
_ACCEPT_FAILED = "socket.accept() out of system resource"
_ACCEPT_LOG_EVERY = 10.0


class StartupError(Exception):
    """The daemon cannot start; the message is the one line the user sees."""


@contextlib.asynccontextmanager
async def open_store(config: Config) -> AsyncIterator[Pool]:
    """The pool on a migrated database, with the embedded server around it when configured;
    for the daemon and for one-shot commands alike."""
    server = None
    if config.db.embedded:
        server = EmbeddedServer(config.state_dir, config.db.buffer_pool_size)
        await server.start()
    try:
        socket = server.socket if server else None
        pool = await create_pool(config.db, socket, create_database=server is not None)
        try:
            before = await schema_version(pool)
            await migrate(pool)
            if before < REJUDGED_FROM:
                await _rejudge_once(pool)
            yield pool
        finally:
            await close_pool(pool)
    finally:
        if server:
            await server.stop()


async def _rejudge_once(pool: Pool) -> None:
    """The upgrade to the history's schema re-judges the bounces older rules acted on, once."""
    for change in await rejudge_bounces(pool, dry_run=False):
        log.info("rejudged address=%s was=%r now=%r", change.email, change.was, change.now)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_exposure(config: Config) -> None:
    """No password, no listening beyond this machine; a config file others can read is said."""
    if not is_loopback(config.web.host) and not config.web.password_hash:
        raise StartupError(
            f"refusing to listen on {config.web.host} without a password: "
            'set one with `mycrmd passwd`, or keep [web] host = "127.0.0.1"'
        )
    if config.source is not None:
        with contextlib.suppress(OSError):
            if config.source.stat().st_mode & 0o004:
                log.warning(
                    "%s is readable by every user of this machine and may hold passwords: "
                    "chmod o-r it",
                    config.source,
                )


async def serve(config: Config) -> int:
    _check_exposure(config)
    logging.getLogger("asyncio").addFilter(_ACCEPT_FILTER)  # once, however often serve runs
    async with open_store(config) as pool:
        scheduler = Scheduler(pool, config, registry.jobs())
        idle = IdleWatcher(pool, scheduler, config)
        services = Services(pool=pool, scheduler=scheduler, config=config, idle=idle)
        runner = web.AppRunner(
            create_app(services),
            shutdown_timeout=_WEB_SHUTDOWN_TIMEOUT,
            keepalive_timeout=HEAD_SECONDS,
        )
        await runner.setup()
        try:
            # Signals are handled before anything is served: a SIGUSR2 sent as soon as the
            # health check answers would otherwise hit its default action and end the daemon.
            await scheduler.start()
            stop = asyncio.Event()
            _install_signals(services, stop)
            site = CappedSite(runner, config.web.host, config.web.port, connection_limit())
            try:
                await site.start()
            except OSError as exc:
                await scheduler.stop(_STOP_JOBS_TIMEOUT)
                raise StartupError(
                    f"cannot listen on {config.web.host}:{config.web.port}: {exc.strerror}"
                ) from None
            idle.start()
            sdnotify.notify("READY=1")
            log.info("serving %s", _url(config))
            watchdog = asyncio.create_task(_watchdog(pool), name="watchdog")
            await stop.wait()
            log.info("stopping")
            sdnotify.notify("STOPPING=1")
            watchdog.cancel()
            await idle.stop()
            await scheduler.stop(_STOP_JOBS_TIMEOUT)
        finally:
            await runner.cleanup()
    log.info("stopped")
    return 0


def connection_limit() -> int:
    """Web connections at most: below the file limit, so accept() never runs out of them."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, soft - _RESERVED_FILES)


class _Refused(asyncio.Protocol):
    """A connection beyond the limit while every other one is being answered: closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()


class CappedSite(web.TCPSite):
    """A TCP site holding at most `limit` connections. When full, the oldest connection that
    is not being answered (idle, or still sending its head: a slowloris) makes room for the
    new one; only when every one is being answered is the new one closed at once."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, limit: int) -> None:
        super().__init__(runner, host, port)
        self._limit = limit

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner, as TCPSite does
        self._server = await asyncio.get_running_loop().create_server(
            self._connection, self._host, self._port, reuse_address=True
        )

    def _connection(self) -> asyncio.Protocol:
        server = self._runner.server
        assert server is not None
        handlers = server.connections
        if len(handlers) >= self._limit:
            # aiohttp has no public "being answered" flag; _request_in_progress is it
            idle = [h for h in handlers if not h._request_in_progress and not h._force_close]
            if not idle:
                return _Refused()
            idle[0].force_close()
        return server()


class AcceptFailureFilter(logging.Filter):
    """asyncio logs a failed accept() each time it retries (every 0.1 s per listening socket,
    1.2 million lines in 100 s under a connection flood): one line per interval, with the
    count of those held back."""

    def __init__(self) -> None:
        super().__init__()
        self._next = 0.0
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(_ACCEPT_FAILED):
            return True
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return False
        if self._held:
            record.msg = f"{record.msg} (and {self._held} more since the last such line)"
        self._next, self._held = now + _ACCEPT_LOG_EVERY, 0
        return True


_ACCEPT_FILTER = AcceptFailureFilter()


def _url(config: Config) -> str:
    host = config.web.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.web.port}/"


def _install_signals(services: Services, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    for signum, job in JOB_SIGNALS.items():
        loop.add_signal_handler(signum, _trigger, services, job)
    loop.add_signal_handler(signal.SIGHUP, _reload, services)


def _trigger(services: Services, job: str) -> None:
    if job not in services.scheduler.jobs:
        log.warning("signal: job=%s is not registered", job)
        return
    outcome = services.scheduler.trigger(job, "signal")
    log.info("signal: job=%s %s", job, outcome)


_BACKGROUND: set[asyncio.Task[None]] = set()


def _reload(services: Services) -> None:
    """Re-read the file; a broken file keeps the running configuration."""
    old = services.config
    try:
        new = load(old.source or locate(None))
    except ConfigError as exc:
        log.error("reload failed, keeping the running configuration: %s", exc)
        return
    for section in ("db", "paths"):
        if getattr(new, section) != getattr(old, section):
            log.warning("reload: [%s] changes take effect after a restart", section)
    if (new.web.host, new.web.port) != (old.web.host, old.web.port):
        log.warning("reload: [web] host and port take effect after a restart")
    web_config = replace(new.web, host=old.web.host, port=old.web.port)
    if not is_loopback(old.web.host) and not new.web.password_hash:
        log.error("reload: keeping the password, [web] host %s needs one", old.web.host)
        web_config = replace(web_config, password_hash=old.web.password_hash)
    new = replace(new, db=old.db, paths=old.paths, web=web_config)
    services.config = new
    services.scheduler.config = new
    if services.idle is not None:
        task = asyncio.create_task(services.idle.restart(new), name="idle-restart")
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)
    log.info("configuration reloaded from %s", new.source or "defaults")


async def _watchdog(pool: Pool) -> None:
    """WATCHDOG=1 only while the database answers, so systemd restarts a stuck daemon.

    Pings start every `period` (half of WatchdogSec) and each may take half of that, so two
    good pings are never further apart than 1.5 periods. The pings have a connection of their
    own, so a pool busy with slow queries is not taken for a stuck daemon.
    """
    period = sdnotify.watchdog_period()
    if period is None:
        return
    loop = asyncio.get_running_loop()
    probe = Probe(pool)
    try:
        while True:
            started = loop.time()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(probe.ping(), period / 2):
                    sdnotify.notify("WATCHDOG=1")
            await asyncio.sleep(max(0.0, started + period - loop.time()))
    finally:
        probe.close()
