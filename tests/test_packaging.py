"""A real (not editable) install: the wheel, installed with its dependencies into a virtual
environment that sees nothing installed around it, carries templates/, static/, schema.sql and
the README; its command runs, and its daemon serves and uses them."""

import asyncio
import subprocess
import sys
import zipfile
from pathlib import Path

import aiohttp

import mycrmd
from mycrmd.config import DbConfig
from mycrmd.store.pool import Pool, fetch_all
from tests.support.daemon_process import DaemonFactory
from tests.support.isolation import isolated_environment

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("templates/base.html", "static/css/app.css", "schema.sql", "README.md")


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


def run_installed(venv: Path, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    """From /, so that this checkout is not on the path of what runs."""
    return subprocess.run(
        [str(venv / "bin" / program), *args],
        capture_output=True,
        text=True,
        env=isolated_environment(),
        cwd="/",
    )


def install_into_new_venv(wheel: Path, venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = run_installed(venv, "python", "-m", "pip", "install", "--quiet", str(wheel))
    assert installed.returncode == 0, installed.stderr


async def test_the_installed_wheel_runs_and_serves_its_templates_static_files_and_schema(
    tmp_path: Path, daemons: DaemonFactory, db_config: DbConfig, raw_pool: Pool
) -> None:
    wheel = await asyncio.to_thread(build_wheel, tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in SHIPPED:
        assert f"mycrmd/{shipped}" in names, shipped

    venv = tmp_path / "venv"
    await asyncio.to_thread(install_into_new_venv, wheel, venv)
    found = run_installed(venv, "python", "-c", "import mycrmd; print(mycrmd.__file__)")
    assert found.returncode == 0, found.stderr
    package = Path(found.stdout.strip()).parent
    assert package.is_relative_to(venv), package
    for shipped in SHIPPED:
        assert (package / shipped).is_file(), shipped

    version = run_installed(venv, "mycrmd", "--version")
    assert (version.returncode, version.stdout) == (0, f"mycrmd {mycrmd.__version__}\n")
    config_path = tmp_path / "mycrmd.toml"
    config_path.write_text(
        f'[db]\ndb = "{db_config.db}"\nunix_socket = "{db_config.unix_socket}"\n'
    )
    checked = run_installed(venv, "mycrmd", "check-config", "--config", str(config_path))
    assert checked.returncode == 0, checked.stderr
    assert f'db = "{db_config.db}"' in checked.stdout

    daemon = await daemons.start(config_path.read_text(), binary=str(venv / "bin" / "mycrmd"))
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
