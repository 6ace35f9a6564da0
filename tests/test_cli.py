"""The command line: `--config PATH` before the command or after it, for every command."""

import argparse
from pathlib import Path

import pytest

from mycrmd import cli

# What each command needs besides its options; a command not listed needs nothing.
REQUIRED_ARGUMENTS = {"run": ["fetch"], "import": ["customers.csv"], "restore": ["backup.zip"]}


def commands() -> list[str]:
    (subcommands,) = [
        action
        for action in cli._parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    return list(subcommands.choices)


@pytest.mark.parametrize("command", commands())
def test_every_command_takes_config_before_or_after_its_name(command: str) -> None:
    rest = REQUIRED_ARGUMENTS.get(command, [])
    before = cli._parser().parse_args(["--config", "/a.toml", command, *rest])
    after = cli._parser().parse_args([command, *rest, "--config", "/b.toml"])
    neither = cli._parser().parse_args([command, *rest])
    assert (before.command, before.config) == (command, "/a.toml")
    assert (after.command, after.config) == (command, "/b.toml")
    assert neither.config is None


def test_config_after_the_command_wins_over_one_before_it() -> None:
    args = cli._parser().parse_args(["--config", "/a.toml", "serve", "--config", "/b.toml"])
    assert args.config == "/b.toml"


@pytest.mark.parametrize("order", ["before", "after"])
def test_check_config_reads_the_file_given_on_either_side(
    order: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[db]\ndb = "crm_from_the_option"\n')
    option = ["--config", str(path)]
    argv = [*option, "check-config"] if order == "before" else ["check-config", *option]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"# source: {path}" in out
    assert 'db = "crm_from_the_option"' in out
