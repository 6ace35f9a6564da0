"""systemd/install.sh, the README's first command, with only Debian's directories on PATH and
into a temporary place (MYCRMD_VENV, MYCRMD_BIN_DIR): a virtual environment of its own on the
distribution's python3, the command linked, a warning while its folder is not on PATH, its
arguments run as a mycrmd command, and a second run upgrading the same environment in place."""

import shutil
import subprocess
from pathlib import Path

import mycrmd
from tests.support.isolation import isolated_environment

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def install(
    source: Path, venv: Path, bin_dir: Path, *args: str, path: str = DEBIAN_PATH
) -> subprocess.CompletedProcess[str]:
    env = isolated_environment() | {
        "PATH": path,
        "MYCRMD_VENV": str(venv),
        "MYCRMD_BIN_DIR": str(bin_dir),
    }
    return subprocess.run(
        ["sh", str(source / "systemd" / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
    )


def source_with_version(tmp_path: Path, version: str) -> Path:
    """A copy of this source tree whose version is `version`."""
    copy = tmp_path / "source"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", ".*cache"))
    init = copy / "mycrmd" / "__init__.py"
    old = f'__version__ = "{mycrmd.__version__}"'
    assert old in init.read_text()
    init.write_text(init.read_text().replace(old, f'__version__ = "{version}"'))
    return copy


def test_install_links_the_command_runs_its_arguments_and_upgrades_in_place(
    tmp_path: Path,
) -> None:
    venv, bin_dir = tmp_path / "venv", tmp_path / "bin"
    config_path = tmp_path / "mycrmd.toml"
    config_path.write_text('[db]\ndb = "crm_installed"\n')

    first = install(ROOT, venv, bin_dir, "check-config", "--config", str(config_path))
    assert first.returncode == 0, first.stderr
    assert f"installed: {bin_dir}/mycrmd (mycrmd {mycrmd.__version__})" in first.stdout
    assert f"note: {bin_dir} is not on PATH" in first.stdout
    assert f"# source: {config_path}" in first.stdout
    assert 'db = "crm_installed"' in first.stdout
    assert (bin_dir / "mycrmd").readlink() == venv / "bin" / "mycrmd"
    assert "home = /usr/bin\n" in (venv / "pyvenv.cfg").read_text()
    made = (venv / "pyvenv.cfg").stat().st_mtime_ns

    newer = f"{mycrmd.__version__}.post1"
    second = install(
        source_with_version(tmp_path, newer), venv, bin_dir, path=f"{bin_dir}:{DEBIAN_PATH}"
    )
    assert second.returncode == 0, second.stderr
    assert f"installed: {bin_dir}/mycrmd (mycrmd {newer})" in second.stdout
    assert "note:" not in second.stdout
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == made
    version = subprocess.run(
        [str(bin_dir / "mycrmd"), "--version"], capture_output=True, text=True, cwd="/"
    )
    assert version.stdout == f"mycrmd {newer}\n"
