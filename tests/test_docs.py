"""The documentation says what the code does: the README's two commands, every configuration
key, command and signal; the example configuration holds exactly the defaults."""

import argparse
import re
import signal
from dataclasses import fields
from pathlib import Path

from mycrmd import cli, config, daemon
from mycrmd.config import Config, load

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "systemd" / "mycrmd.toml.example"


def config_keys() -> list[tuple[str, str]]:
    keys = [("", "dump_path")]
    for section in fields(Config):
        if hasattr(section.type, "__dataclass_fields__"):
            keys += [(section.name, key.name) for key in fields(section.type)]
    return keys


def test_the_readme_starts_with_exactly_two_commands_and_ci_runs_the_second() -> None:
    first_prose = README.index("\nThe first command")
    blocks = re.findall(r"```sh\n(.*?)```", README[:first_prose], re.S)
    assert [block.strip().count("\n") for block in blocks] == [0, 0], "two one-line commands"
    assert blocks[0].strip() == "sh systemd/install.sh serve"
    test_command = blocks[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"exec {test_command}" in ci


def test_every_configuration_key_is_in_the_readme_and_the_example() -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    sections = {
        name: body
        for name, body in re.findall(r"^\[(\w+)\]\n(.*?)(?=^\[|\Z)", example, re.M | re.S)
    }
    top = example.split("\n[", 1)[0]
    for section, key in config_keys():
        if section:
            rows = [line for line in README.splitlines() if line.startswith(f"| `[{section}] ")]
            assert any(f"] {key}`" in row or f"`{key}`" in row for row in rows), (section, key)
            assert re.search(rf"^{key} = ", sections[section], re.M), (section, key)
        else:
            assert f"| `{key}` |" in README
            assert re.search(rf"^{key} = ", top, re.M)


def test_the_example_configuration_is_the_defaults() -> None:
    example = load(EXAMPLE)
    defaults = load(None)
    for section in fields(Config):
        if section.name not in ("source", "paths"):
            assert getattr(example, section.name) == getattr(defaults, section.name), section.name


def signal_label(signum: int) -> str:
    if signum > signal.SIGRTMIN:
        return f"SIGRTMIN+{signum - signal.SIGRTMIN}"
    return signal.Signals(signum).name


def test_every_command_and_signal_is_documented() -> None:
    (subcommands,) = [
        action
        for action in cli._parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    for command in subcommands.choices:
        assert f"`mycrmd {command}" in README, command
    for signum in daemon.JOB_SIGNALS:
        assert f"| `{signal_label(signum)}` |" in README, signal_label(signum)
    for name in ("SIGHUP", "SIGINT", "SIGTERM"):
        assert f"`{name}`" in README, name
    assert config.DEFAULT_PATH.as_posix() in README
