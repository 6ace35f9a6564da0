"""Real servers for the whole session; a fresh database for every test.

The MariaDB server is started through mycrmd's own embedded_db module, so the suite needs no
system service and runs anywhere `mariadbd` is installed.
"""

import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiomysql
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import settings
from playwright.async_api import Browser

from mycrmd.config import Config, DbConfig, PathsConfig
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import Pool, close_pool, create_pool
from mycrmd.system.embedded_db import EmbeddedServer
from tests.support.app_client import serving
from tests.support.browser import UiPage, launch, new_page
from tests.support.certs import ServerCertificate, make_certificate
from tests.support.daemon_process import DaemonFactory
from tests.support.dovecot import Dovecot, MailUser
from tests.support.fake_dns import FakeDns
from tests.support.fake_verify_api import FakeVerifyApi
from tests.support.file_servers import FtpServer
from tests.support.galera import GaleraCluster, why_unavailable

_db_numbers = itertools.count(1)

# No example database in the working tree: each run starts from the same seedless search.
settings.register_profile("mycrmd", database=None)
settings.load_profile("mycrmd")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked galera are skipped, saying what to install, where no cluster can run."""
    reason = why_unavailable()
    if reason:
        for item in items:
            if item.get_closest_marker("galera"):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    """A short path: unix socket paths must stay under 108 bytes. Traversable by others, so the
    test Dovecot's own users reach their files; what must be private has its own 0700 folder."""
    path = Path(tempfile.mkdtemp(prefix="mycrmd-t-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def mariadb(work_dir: Path) -> AsyncIterator[EmbeddedServer]:
    server = EmbeddedServer(work_dir / "db", buffer_pool_size="512M")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def galera(work_dir: Path) -> AsyncIterator[GaleraCluster]:
    """A three-node Galera cluster for the session. A test that stops or kills a node starts
    it again before it ends, so the next test finds the cluster whole."""
    cluster = GaleraCluster(work_dir / "galera")
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
async def db_config(mariadb: EmbeddedServer) -> AsyncIterator[DbConfig]:
    """A database of its own for the test, dropped afterwards."""
    name = f"t{next(_db_numbers)}"
    yield DbConfig(db=name, unix_socket=str(mariadb.socket), user="root")
    conn = await aiomysql.connect(unix_socket=str(mariadb.socket), user="root")
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@pytest.fixture
async def raw_pool(db_config: DbConfig) -> AsyncIterator[Pool]:
    """A pool on the test's empty database (not migrated)."""
    pool = await create_pool(db_config, create_database=True)
    yield pool
    await close_pool(pool)


@pytest.fixture
async def pool(raw_pool: Pool) -> Pool:
    """A pool on the test's database, migrated to the current schema."""
    await migrate(raw_pool)
    return raw_pool


@pytest.fixture
def config(db_config: DbConfig, tmp_path: Path) -> Config:
    """The configuration a test's daemon or job would see, on the test's database."""
    paths = PathsConfig(state_dir=str(tmp_path / "state"), log_dir=str(tmp_path / "log"))
    return replace(Config(), db=db_config, paths=paths)


@pytest.fixture
async def daemons(work_dir: Path) -> AsyncIterator[DaemonFactory]:
    """Start `mycrmd serve` processes; whatever a test leaves running is stopped."""
    factory = DaemonFactory(Path(tempfile.mkdtemp(prefix="d-", dir=work_dir)))
    yield factory
    await factory.stop_all()


@pytest.fixture
async def verify_api() -> AsyncIterator[FakeVerifyApi]:
    api = FakeVerifyApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def fake_dns() -> AsyncIterator[FakeDns]:
    server = FakeDns()
    await server.start()
    yield server
    server.stop()


@pytest.fixture
async def ftp(tmp_path: Path) -> AsyncIterator[FtpServer]:
    server = FtpServer(tmp_path / "ftp-root")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def certificate(work_dir: Path) -> ServerCertificate:
    return make_certificate(work_dir / "tls")


@pytest.fixture(scope="session")
async def dovecot(work_dir: Path, certificate: ServerCertificate) -> AsyncIterator[Dovecot]:
    server = Dovecot(work_dir / "dovecot", certificate)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def mail_user(dovecot: Dovecot) -> MailUser:
    """A new, empty mailbox on the session's Dovecot."""
    return dovecot.add_user()


@pytest.fixture
async def client(pool: Pool, config: Config) -> AsyncIterator[TestClient]:
    """The web app in this process, on the test's database."""
    async with serving(pool, config) as test_client:
        yield test_client


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of every page the UI tests saw, kept with the run's output."""
    path = tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
async def ui(browser: Browser, client: TestClient, screenshots: Path) -> AsyncIterator[UiPage]:
    page = await new_page(browser, str(client.make_url("")).rstrip("/"), screenshots)
    yield page
    await page.context.close()
    assert page.errors == [], page.errors
