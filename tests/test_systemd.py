"""The systemd unit: what it must declare, a comment for each hardening directive, and
`systemd-analyze verify` passing."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.daemon_process import mycrmd_binary

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "mycrmd.service"


def directives(text: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.M))


def test_the_unit_declares_notify_watchdog_restart_reload_and_its_directories() -> None:
    unit = directives(UNIT.read_text())
    assert unit["Type"] == "notify"
    assert int(unit["WatchdogSec"]) > 0
    assert unit["Restart"] == "on-failure"
    assert unit["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["ExecStart"].endswith("mycrmd --config /etc/mycrmd/mycrmd.toml serve")
    assert unit["User"] == "mycrmd"
    assert unit["StateDirectory"] == "mycrmd" and unit["LogsDirectory"] == "mycrmd"


def test_the_unit_runs_mycrmd_where_the_install_script_puts_it_as_root() -> None:
    unit = directives(UNIT.read_text())
    script = (UNIT.parent / "install.sh").read_text()
    (root_venv,) = re.findall(r"venv_dir=\$\{MYCRMD_VENV:-(/[^}]*)\}", script)
    assert unit["ExecStart"].split()[0] == f"{root_venv}/bin/mycrmd"


def test_every_hardening_directive_has_a_comment() -> None:
    hardening = UNIT.read_text().split("# Hardening\n", 1)[1].split("\n[Install]", 1)[0]
    previous = "#"
    for line in hardening.strip().splitlines():
        if "=" in line and not line.startswith("#"):
            assert previous.startswith("#") or "=" in previous, f"no comment before {line}"
        previous = line
    commented = [line for line in hardening.splitlines() if line.startswith("#")]
    assert len(commented) >= 10


def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (a container without systemd)")
    # verify checks that ExecStart exists: point it at the installed command.
    unit = UNIT.read_text().replace("/opt/mycrmd/bin/mycrmd", mycrmd_binary())
    copy = tmp_path / "mycrmd.service"
    copy.write_text(unit)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "mycrmd.service" not in result.stderr, result.stderr
