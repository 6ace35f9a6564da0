"""The private MariaDB server mycrmd runs when no [db] host or unix_socket is configured.

It lives under state_dir/mariadb, listens on a unix socket only, and never outlives the
process that started it: the kernel sends it SIGTERM when that process dies, even by SIGKILL
(PR_SET_PDEATHSIG), and a start finds and stops any server of the same datadir whose owner is
gone. A one-shot command (`mycrmd run verify`) beside a running daemon attaches to the
daemon's server instead of starting another.
"""

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger("mycrmd.embedded_db")

_SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/mysql/bin")
_SOCKET_MAX = 107  # sun_path holds 108 bytes with the terminating NUL
_START_TIMEOUT = 120.0  # crash recovery of a large datadir can take a while
_STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1
# mariadbd speaks systemd's notify protocol too: given our $NOTIFY_SOCKET it would report its
# own readiness and status as if it were mycrmd.
_SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")
_libc_prctl = ctypes.CDLL(None, use_errno=True).prctl
# Mroonga (Debian's mariadb-plugin-mroonga) gives the mail search an n-gram full-text index;
# loaded when installed, and the search falls back to a scan when it is not.
_PLUGIN_DIRS = ("/usr/lib/mysql/plugin", "/usr/lib64/mysql/plugin", "/usr/local/mysql/lib/plugin")
_MROONGA = "ha_mroonga.so"


class EmbeddedServerError(Exception):
    """The embedded server cannot be set up or started; the message is for the user."""


def find_program(*names: str) -> str | None:
    """A MariaDB program on PATH or in the usual sbin folders, which PATH often lacks."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SEARCH_PATH])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    return None


def socket_path(state_dir: Path) -> Path:
    """Where the embedded server of a state directory listens, for other programs too."""
    return state_dir / "mariadb" / "mariadb.sock"


def default_buffer_pool() -> str:
    """A quarter of the machine's memory, between 128 MiB and 2 GiB.

    MariaDB's 128 MiB default made the follow-up query 7x slower at a million customers.
    """
    total_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                total_kib = int(line.split()[1])
                break
    mib = max(128, min(2048, total_kib // 4 // 1024))
    return f"{mib}M"


def _server_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in _SYSTEMD_VARIABLES}


def _die_with_parent() -> None:
    """Runs in the forked child before exec: SIGTERM when the parent dies."""
    _libc_prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks: tells a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


class EmbeddedServer:
    """One private mariadbd for a state directory."""

    def __init__(self, state_dir: Path, buffer_pool_size: str = "") -> None:
        self.base = state_dir / "mariadb"
        self.datadir = self.base / "data"
        self.socket = socket_path(state_dir)
        self.buffer_pool_size = buffer_pool_size or default_buffer_pool()
        self._owner_file = self.base / "owner"
        self._error_log = self.base / "error.log"
        self._tmpdir = self.base / "tmp"
        self._proc: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.owned = False

    async def start(self) -> None:
        """Initialise on first use, then start the server or attach to the live one."""
        server = find_program("mariadbd", "mysqld")
        if server is None:
            raise EmbeddedServerError(
                "no MariaDB server (mariadbd) found: install it with "
                "'apt-get install mariadb-server' or set [db] host in the configuration file"
            )
        if len(os.fsencode(self.socket)) > _SOCKET_MAX:
            raise EmbeddedServerError(
                f"socket path {self.socket} is too long for a unix socket: "
                "set a shorter [paths] state_dir"
            )
        self.base.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.base, 0o700)
        if await self._attach_or_clear():
            return
        if not (self.datadir / "mysql").is_dir():
            await self._initialise()
        await self._spawn(server)
        self._watcher = asyncio.create_task(self._watch(server), name="embedded-db-watch")

    async def stop(self) -> None:
        """Stop the server if this process started it; an attached one is left running."""
        self._stopping = True
        if self._watcher:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._proc and self._proc.returncode is None:
            await _terminate(self._proc.pid, lambda: self._proc.wait())
            log.info("embedded server stopped")
        if self.owned:
            self._owner_file.unlink(missing_ok=True)
        self.owned = False

    async def _attach_or_clear(self) -> bool:
        """True when a live owner's server is already running; stale servers are stopped."""
        pid = self._running_pid()
        if pid is None:
            return False
        owner = self._owner()
        if owner is not None and owner != os.getpid():
            log.info("attaching to the embedded server of process %d", owner)
            await self._wait_ready(None)
            return True
        log.warning("stopping a stale embedded server (pid %d) left by a dead process", pid)
        await _terminate(pid, lambda: _wait_gone(pid))
        return False

    def _running_pid(self) -> int | None:
        """The mariadbd serving this datadir, found by its command line, not a pid file."""
        marker = os.fsencode(f"--datadir={self.datadir}")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in args:
                return int(entry.name)
        return None

    def _owner(self) -> int | None:
        """The live process that owns the running server, if any."""
        try:
            pid_text, started = self._owner_file.read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            return None
        return pid if _start_time(pid) == started else None

    async def _initialise(self) -> None:
        """Create the datadir in a side folder and rename it, so a kill leaves no half one."""
        install = find_program("mariadb-install-db", "mysql_install_db")
        if install is None:
            raise EmbeddedServerError(
                "mariadb-install-db not found: install it with 'apt-get install mariadb-server'"
            )
        scratch = self.base / "data.init"
        shutil.rmtree(scratch, ignore_errors=True)
        args = [
            install,
            "--no-defaults",
            f"--datadir={scratch}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *self._user_args(),
        ]
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_server_env(),
        )
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            tail = output.decode(errors="replace").strip().splitlines()[-5:]
            raise EmbeddedServerError(
                f"mariadb-install-db failed ({proc.returncode}): {' | '.join(tail)}"
            )
        scratch.rename(self.datadir)
        log.info("initialised %s in %.1f s", self.datadir, time.monotonic() - started)

    def _server_args(self, server: str) -> list[str]:
        return [
            server,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            "--skip-networking",
            f"--pid-file={self.base / 'mariadbd.pid'}",
            # Its own temporary files, not /tmp's: a cleaner of /tmp (or another program)
            # removing them mid-statement fails the statement.
            f"--tmpdir={self._tmpdir}",
            f"--log-error={self._error_log}",
            f"--innodb-buffer-pool-size={self.buffer_pool_size}",
            "--tmp-table-size=64M",
            "--max-heap-table-size=64M",
            "--max-allowed-packet=64M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            *_plugin_args(),
            *self._user_args(),
        ]

    @staticmethod
    def _user_args() -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    async def _spawn(self, server: str) -> None:
        started = time.monotonic()
        self._tmpdir.mkdir(exist_ok=True, mode=0o700)
        self._proc = await asyncio.create_subprocess_exec(
            *self._server_args(server),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            env=_server_env(),
        )
        self._owner_file.write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
        self.owned = True
        await self._wait_ready(self._proc)
        log.info(
            "embedded server ready on %s in %.2f s (pid %d, buffer pool %s)",
            self.socket,
            time.monotonic() - started,
            self._proc.pid,
            self.buffer_pool_size,
        )

    async def _wait_ready(self, proc: asyncio.subprocess.Process | None) -> None:
        """Until the server sends its greeting on the socket."""
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if proc is not None and proc.returncode is not None:
                raise EmbeddedServerError(
                    f"the embedded server exited with code {proc.returncode}: {self._log_tail()}"
                )
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
                reader, writer = await asyncio.open_unix_connection(str(self.socket))
                try:
                    await asyncio.wait_for(reader.readexactly(4), 2.0)
                    return
                finally:
                    writer.close()
            await asyncio.sleep(0.05)
        raise EmbeddedServerError(
            f"the embedded server did not accept connections within {_START_TIMEOUT:.0f} s: "
            f"{self._log_tail()}"
        )

    async def _watch(self, server: str) -> None:
        """Restart the server if it dies under us; the pool reconnects by itself."""
        delay = 1.0
        while True:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            log.error("embedded server exited with code %d; restarting in %.0f s", code, delay)
            await asyncio.sleep(delay)
            try:
                await self._spawn(server)
                delay = 1.0
            except EmbeddedServerError as exc:
                log.error("embedded server restart failed: %s", exc)
                delay = min(delay * 2, 60.0)

    def _log_tail(self) -> str:
        try:
            lines = self._error_log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"no error log at {self._error_log}"
        errors = [line for line in lines if "[ERROR]" in line] or lines
        return " | ".join(errors[-3:])


def _plugin_args() -> list[str]:
    """Load Mroonga when its shared object is installed."""
    for folder in _PLUGIN_DIRS:
        if (Path(folder) / _MROONGA).is_file():
            return [f"--plugin-dir={folder}", f"--plugin-load-add={_MROONGA}"]
    return []


async def _terminate(pid: int, wait: Callable[[], Awaitable[object]]) -> None:
    """SIGTERM (a clean InnoDB shutdown), then SIGKILL if it will not go."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(wait(), _STOP_TIMEOUT)
    except TimeoutError:
        log.error("embedded server %d ignored SIGTERM for %.0f s; killing it", pid, _STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        await wait()


async def _wait_gone(pid: int) -> None:
    """Wait for a process that is not our child to exit: its pidfd becomes readable."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited = loop.create_future()
    loop.add_reader(fd, lambda: exited.done() or exited.set_result(None))
    try:
        await exited
    finally:
        loop.remove_reader(fd)
        os.close(fd)
