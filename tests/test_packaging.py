"""A real (not editable) install carries templates/, static/, schema.sql and the README, and
the installed daemon serves and uses them."""

import asyncio
import subprocess
import sys
import zipfile
from pathlib import Path

import aiohttp

from mycrmd.config import DbConfig
from mycrmd.store.pool import Pool, fetch_all
from tests.support.daemon_process import DaemonFactory

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = out.glob("mycrmd-*.whl")
    return wheel


async def test_the_installed_wheel_serves_its_templates_static_files_and_schema(
    tmp_path: Path, daemons: DaemonFactory, db_config: DbConfig, raw_pool: Pool
) -> None:
    wheel = await asyncio.to_thread(build_wheel, tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "mycrmd/templates/base.html",
        "mycrmd/static/css/app.css",
        "mycrmd/schema.sql",
        "mycrmd/README.md",
    ):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    # The dependencies come from this interpreter; mycrmd itself only from the wheel.
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        check=True,
    )
    await asyncio.to_thread(
        subprocess.run,
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
    )
    found = await asyncio.to_thread(
        subprocess.run,
        [str(venv / "bin" / "python"), "-c", "import mycrmd; print(mycrmd.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    where = found.stdout.strip()
    assert where.startswith(str(venv)), where

    daemon = await daemons.start(
        f'[db]\ndb = "{db_config.db}"\nunix_socket = "{db_config.unix_socket}"\n',
        binary=str(venv / "bin" / "mycrmd"),
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{daemon.url}/") as page:
            assert page.status == 200
            assert '<link rel="stylesheet" href="/static/css/app.css">' in await page.text()
        async with http.get(f"{daemon.url}/static/css/app.css") as css:
            assert css.status == 200
    tables = await fetch_all(
        raw_pool,
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    assert {"customers", "mail_folders", "job_runs"} <= {row["t"] for row in tables}
    assert await daemon.stop() == 0
