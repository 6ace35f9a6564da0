"""A real MariaDB Galera cluster on loopback: three nodes by default, each its own mariadbd.

Each node is an EmbeddedServer (its datadir initialisation, its unix socket, and
PR_SET_PDEATHSIG, so a killed test run leaves no server) that also listens on 127.0.0.1 with
wsrep on: its own SQL port, Galera group port, IST and SST ports, all picked free when the
cluster is made. The first node bootstraps (--wsrep-new-cluster); the others join by rsync
SST. A node killed or stopped is started again with `GaleraCluster.restart` and rejoins by IST.

Needs Debian's mariadb-server (mariadbd and the wsrep_sst_rsync script), galera-4 and rsync.
"""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import aiomysql
import pymysql

from mycrmd.system.embedded_db import EmbeddedServer, EmbeddedServerError, find_program

PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
_SYNC_TIMEOUT = 120.0
# What a node answers while it starts, joins or leaves: connection refused or lost, and
# 1047 "WSREP has not yet prepared node for application use".
_NOT_YET = {1047, 2002, 2003, 2006, 2013}
_RECOVERED = re.compile(r"WSREP: Recovered position: ([0-9a-f-]{36}:-?\d+)")
# Run by root, the joiner's rsync daemon would serve the SST as "nobody", who cannot write the
# private datadir (MDEV-40688). This rsync, first on the SST script's PATH, keeps root.
_ROOT_RSYNC = """#!/bin/sh
case " $* " in
*" --daemon "*) exec {rsync} --dparam=uid=0 --dparam=gid=0 "$@" ;;
esac
exec {rsync} "$@"
"""


def why_unavailable() -> str | None:
    """Why a cluster cannot run on this machine (the reason for a skip), or None."""
    needs = [
        (PROVIDER.exists(), f"the Galera provider {PROVIDER} (apt-get install galera-4)"),
        (find_program("mariadbd") is not None, "mariadbd (apt-get install mariadb-server)"),
        (
            find_program("wsrep_sst_rsync") is not None,
            "the SST script wsrep_sst_rsync (apt-get install mariadb-server)",
        ),
        (shutil.which("rsync") is not None, "rsync (apt-get install rsync)"),
    ]
    absent = [what for present, what in needs if not present]
    return "no Galera cluster here: missing " + ", ".join(absent) if absent else None


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: each is held open until all are chosen."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


class GaleraNode(EmbeddedServer):
    """One cluster member: an embedded server that also speaks TCP and Galera."""

    def __init__(
        self, state_dir: Path, name: str, ports: Sequence[int], cluster_address: str
    ) -> None:
        super().__init__(state_dir, buffer_pool_size="128M")
        self.name = name
        self.port, self.group_port, self.ist_port, self.sst_port = ports
        self.cluster_address = cluster_address
        # A basedir whose bin/ holds the root-safe rsync: mariadbd puts basedir/bin first on
        # the PATH of the SST script it runs.
        self.basedir: Path | None = None
        self._bootstrap = False
        self._start_position = ""

    @property
    def error_log(self) -> Path:
        return self._error_log

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, *, bootstrap: bool = False) -> None:
        """Start the server without waiting for it to join (see GaleraCluster.wait_synced).

        Only the bootstrap node needs an initialised datadir: a joiner's comes by SST. A
        datadir left by a kill first has its last committed position recovered from InnoDB,
        so the node can rejoin by IST instead of a full SST.
        """
        assert not self.running, f"{self.name} is running"
        server = find_program("mariadbd")
        if server is None:
            raise EmbeddedServerError(why_unavailable() or "no mariadbd")
        self.base.mkdir(parents=True, exist_ok=True, mode=0o700)
        if bootstrap and not (self.datadir / "mysql").is_dir():
            await self._initialise()
        self.datadir.mkdir(exist_ok=True, mode=0o700)
        self._start_position = await self._recover_position(server)
        self._bootstrap = bootstrap
        await self._spawn(server)

    def failure(self) -> str:
        """The last errors of the node's log, to say why it exited."""
        return self._log_tail()

    async def kill(self) -> None:
        """SIGKILL: a crash, without a goodbye to the group."""
        assert self._proc is not None, f"{self.name} never started"
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()
        await self._proc.wait()

    async def connect(self, db: str | None = None, **kwargs: object) -> aiomysql.Connection:
        """A client connection over TCP, as another host would make it."""
        return await aiomysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            db=db,
            autocommit=True,
            connect_timeout=5,
            **kwargs,
        )

    async def status(self) -> dict[str, str]:
        """The node's wsrep_% status variables."""
        conn = await self.connect()
        try:
            async with conn.cursor() as cur:
                await cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep\\_%'")
                return {name: value for name, value in await cur.fetchall()}
        finally:
            conn.close()

    def _server_args(self, server: str) -> list[str]:
        args = self._member_args(server)
        if self._start_position:
            args.append(f"--wsrep-start-position={self._start_position}")
        if self._bootstrap:
            args.append("--wsrep-new-cluster")
        return args

    def _member_args(self, server: str) -> list[str]:
        """The embedded server's arguments with TCP and wsrep: what every start shares."""
        args = [arg for arg in super()._server_args(server) if arg != "--skip-networking"]
        provider_options = ";".join(
            [
                f"gmcast.listen_addr=tcp://127.0.0.1:{self.group_port}",
                f"ist.recv_addr=127.0.0.1:{self.ist_port}",
                "gcache.size=64M",
            ]
        )
        args += [
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            "--binlog-format=ROW",
            "--default-storage-engine=InnoDB",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON",
            f"--wsrep-provider={PROVIDER}",
            f"--wsrep-provider-options={provider_options}",
            f"--wsrep-cluster-address={self.cluster_address}",
            f"--wsrep-node-name={self.name}",
            f"--wsrep-node-address=127.0.0.1:{self.group_port}",
            f"--wsrep-node-incoming-address=127.0.0.1:{self.port}",
            "--wsrep-sst-method=rsync",
            f"--wsrep-sst-receive-address=127.0.0.1:{self.sst_port}",
        ]
        if self.basedir is not None:
            # basedir also moves these, which must stay the installed ones
            args += [
                f"--basedir={self.basedir}",
                "--plugin-dir=/usr/lib/mysql/plugin",
                "--lc-messages-dir=/usr/share/mysql",
                "--character-sets-dir=/usr/share/mysql/charsets",
            ]
        return args

    async def _recover_position(self, server: str) -> str:
        """What Debian's galera_recovery does before a start: after a crash grastate.dat says
        seqno -1, and only InnoDB knows the last committed transaction."""
        state = self.datadir / "grastate.dat"
        if not state.exists() or "seqno:   -1" not in state.read_text():
            return ""
        # The position goes to the error log; on stderr it cannot interleave with the file's.
        args = [arg for arg in self._member_args(server) if not arg.startswith("--log-error=")]
        proc = await asyncio.create_subprocess_exec(
            *args,
            "--wsrep-recover",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, output = await proc.communicate()
        found = _RECOVERED.findall(output.decode(errors="replace"))
        return found[-1] if found else ""


class GaleraCluster:
    """Nodes under one root folder, 127.0.0.1 only; `nodes[0]` bootstraps."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        ports = free_ports(4 * size)
        address = "gcomm://" + ",".join(f"127.0.0.1:{ports[4 * i + 1]}" for i in range(size))
        self.nodes = [
            GaleraNode(root / f"n{i + 1}", f"node{i + 1}", ports[4 * i : 4 * i + 4], address)
            for i in range(size)
        ]

    async def start(self) -> None:
        """From empty datadirs: bootstrap the first node, then let the others join."""
        reason = why_unavailable()
        if reason:
            raise EmbeddedServerError(reason)
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._install_root_rsync()
        first, *others = self.nodes
        await first.start(bootstrap=True)
        await self.wait_synced()
        await asyncio.gather(*(node.start() for node in others))
        await self.wait_synced()

    async def restart(self, node: GaleraNode) -> None:
        """Start a stopped or killed node again and wait until it has caught up."""
        await node.start()
        await self.wait_synced()

    async def wait_synced(self, within: float = _SYNC_TIMEOUT) -> None:
        """Until every running node is ready, synced, and in one component with the others."""
        members = [node for node in self.nodes if node.running]
        deadline = time.monotonic() + within
        while True:
            seen = {node.name: await _sync_state(node, len(members)) for node in members}
            if all(state == "synced" for state in seen.values()):
                return
            for node in members:
                if not node.running:
                    raise EmbeddedServerError(f"{node.name} exited: {node.failure()}")
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"cluster not synced within {within:.0f} s: {seen}")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stop every node cleanly, then kill whatever is left under the root (a server that
        missed its SIGTERM, an SST script's rsync)."""
        for node in reversed(self.nodes):
            if node.running:
                await node.stop()
        for pid in processes_under(self.root):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _install_root_rsync(self) -> None:
        rsync = shutil.which("rsync")
        bindir = self.root / "base" / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        wrapper = bindir / "rsync"
        wrapper.write_text(_ROOT_RSYNC.format(rsync=rsync))
        wrapper.chmod(0o755)
        for node in self.nodes:
            node.basedir = bindir.parent


async def _sync_state(node: GaleraNode, size: int) -> str:
    """'synced', or what the node is instead, for the timeout message."""
    if not node.running:
        return "not running"
    try:
        status = await node.status()
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] in _NOT_YET:
            return f"error {exc.args[0]}"
        raise
    state = (
        status.get("wsrep_ready"),
        status.get("wsrep_cluster_size"),
        status.get("wsrep_local_state_comment"),
    )
    return "synced" if state == ("ON", str(size), "Synced") else "/".join(map(str, state))


def processes_under(root: Path) -> list[int]:
    """Live processes whose command line names a path under root: servers, SST scripts."""
    marker = os.fsencode(f"{root}/")
    found = []
    for pid in _pids():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in args and state != "Z":
            found.append(pid)
    return found


def _pids() -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            yield int(entry.name)
