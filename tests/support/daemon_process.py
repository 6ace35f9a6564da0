"""The installed `mycrmd` command run as a real process, as systemd or a user would run it."""

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp

from mycrmd.config import DbConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mycrmd_binary() -> str:
    found = shutil.which("mycrmd")
    assert found, "the mycrmd command is not installed (pip install -e .)"
    return found


def mariadbd_pids(datadir: Path) -> list[int]:
    """mariadbd processes serving this datadir (zombies excluded)."""
    marker = os.fsencode(f"--datadir={datadir}")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args:
            pids.append(int(entry.name))
    return pids


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    config_path: Path
    state_dir: Path
    port: int
    log_path: Path
    notify: socket.socket | None = None
    notifications: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def datadir(self) -> Path:
        return self.state_dir / "mariadb" / "data"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rewrite_config(self, toml: str) -> None:
        """New file contents for a SIGHUP, keeping this daemon's state_dir and port."""
        self.config_path.write_text(_with_defaults(toml, self.state_dir, self.port))

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def memory_mb(self, field: str = "VmRSS") -> float:
        """A memory figure of /proc/PID/status in MB: VmRSS now, VmHWM the peak."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        raise AssertionError(f"no {field} for pid {self.proc.pid}")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    async def wait_healthy(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise AssertionError(f"mycrmd exited {self.proc.returncode}:\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"mycrmd not healthy within {within} s:\n{self.log()}")

    async def read_notifications(self, until: str, within: float = 10.0) -> list[str]:
        """Datagrams received on the NOTIFY_SOCKET until one equals `until`."""
        assert self.notify is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while until not in self.notifications:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {until} among {self.notifications}:\n{self.log()}")
            data = await asyncio.wait_for(loop.sock_recv(self.notify, 4096), remaining)
            self.notifications.extend(data.decode().splitlines())
        return self.notifications

    async def stop(self, signum: int = signal.SIGTERM, within: float = 15.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
        return await asyncio.wait_for(self.proc.wait(), within)


class DaemonFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Daemon] = []

    async def start(
        self,
        toml: str = "",
        *,
        state_dir: Path | None = None,
        env: dict[str, str] | None = None,
        notify: bool = False,
        wait: bool = True,
        port: int | None = None,
        binary: str | None = None,
        open_files: int | None = None,
    ) -> Daemon:
        """`mycrmd --config FILE serve` with [paths] and [web] port filled in unless given;
        `open_files` is its RLIMIT_NOFILE, as LimitNOFILE= would set it."""
        index = len(self.started)
        state_dir = state_dir or self.root / f"s{index}"
        port = port or free_port()
        config_path = self.root / f"mycrmd{index}.toml"
        config_path.write_text(_with_defaults(toml, state_dir, port))
        log_path = self.root / f"daemon{index}.log"
        child_env = {**os.environ, **(env or {})}
        notify_sock = None
        if notify:
            notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify_path = self.root / f"notify{index}.sock"
            notify_sock.bind(str(notify_path))
            notify_sock.setblocking(False)
            child_env["NOTIFY_SOCKET"] = str(notify_path)
        with log_path.open("wb") as log_file:
            proc = await asyncio.create_subprocess_exec(
                binary or mycrmd_binary(),
                "--config",
                str(config_path),
                "serve",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=child_env,
                cwd="/",
                preexec_fn=None if open_files is None else partial(_limit_files, open_files),
            )
        daemon = Daemon(proc, config_path, state_dir, port, log_path, notify_sock)
        self.started.append(daemon)
        if wait:
            await daemon.wait_healthy()
        return daemon

    async def stop_all(self) -> None:
        for daemon in self.started:
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await daemon.stop()
            if daemon.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    daemon.proc.kill()
                await daemon.proc.wait()
            if daemon.notify:
                daemon.notify.close()
            for pid in mariadbd_pids(daemon.datadir):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _limit_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def _with_defaults(toml: str, state_dir: Path, port: int) -> str:
    """Add [paths] state_dir, [web] port, a small [db] and an offline [verify] to a TOML text
    unless it sets them itself."""
    extra = []
    if "[paths]" not in toml:
        extra.append(f'[paths]\nstate_dir = "{state_dir}"\n')
    if "[web]" not in toml:
        extra.append(f"[web]\nport = {port}\n")
    if "[db]" not in toml:
        extra.append('[db]\nbuffer_pool_size = "128M"\n')
    if "[verify]" not in toml:
        # Never the internet: the verify job's API and DNS on a loopback port nobody serves.
        extra.append('[verify]\napi_url = "http://127.0.0.1:9/"\nnameserver = "127.0.0.1:9"\n')
    return toml + "\n" + "\n".join(extra)


def db_toml(db_config: DbConfig) -> str:
    """A [db] section pointing at a test's database on the session's server."""
    return f'[db]\ndb = "{db_config.db}"\nunix_socket = "{db_config.unix_socket}"\n'


async def run_command(config_path: Path, *args: str, within: float = 60.0) -> tuple[int, str]:
    """`mycrmd --config FILE ARGS...` to completion: exit status and combined output."""
    proc = await asyncio.create_subprocess_exec(
        mycrmd_binary(),
        "--config",
        str(config_path),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd="/",
    )
    output, _ = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode is not None
    return proc.returncode, output.decode(errors="replace")
