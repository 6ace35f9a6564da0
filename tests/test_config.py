"""The configuration file: TOML, the original config.json, one-line errors, masked output."""

import json
from pathlib import Path

import pytest

from mycrmd import cli, config
from mycrmd.config import ConfigError, load, locate, render

# The example config.json of the original README (R-CF1), comments removed.
ORIGINAL_CONFIG_JSON = {
    "db": {
        "db": "my_crm",
        "host": "localhost",
        "port": 3306,
        "user": "root",
        "passwd": "root",
        "charset": "utf8",
    },
    "mailbox": {
        "exclude": ['"Drafts"', '"Templates"'],
        "address": "admin@mailbox.com",
        "admin": "AdminName",
    },
    "ftp": {
        "sftp": False,
        "host": "ftp.yourhost.com",
        "port": 21,
        "user": "username",
        "passwd": "password",
        "local_file": "~/backup/mycrm.sql",
        "remote_file": "/backup/mycrm-%Y%m%d.zip",
        "days_saved": 10,
    },
    "sqldump_path": "/usr/local/mysql/bin/mysqldump",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.delenv("LOGS_DIRECTORY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = load(None)
    assert cfg.db.embedded
    assert cfg.web.host == "127.0.0.1" and cfg.web.port == 8080
    assert cfg.jobs.fetch_interval == 15 and cfg.jobs.backup_at == "03:00"
    assert cfg.verify.api_url == "https://verify-email.org/home/verify-as-guest/"
    assert cfg.state_dir == tmp_path / ".local" / "state" / "mycrmd"
    assert cfg.log_dir == cfg.state_dir / "log"


def test_systemd_directories_are_the_defaults_under_systemd(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/mycrmd")
    monkeypatch.setenv("LOGS_DIRECTORY", "/var/log/mycrmd")
    cfg = load(None)
    assert cfg.state_dir == Path("/var/lib/mycrmd")
    assert cfg.log_dir == Path("/var/log/mycrmd")


def test_toml_sections_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.toml",
        """
dump_path = "/usr/bin/mariadb-dump"
[db]
host = "db.example"
port = 3307
passwd = "s3cret"
[mailbox]
address = "me@example.com"
exclude = ["Drafts", "垃圾邮件"]
[backup]
sftp = true
days_saved = 30
[jobs]
fetch_interval = 5
backup_at = "04:30"
[paths]
state_dir = "/srv/mycrmd"
""",
    )
    cfg = load(path)
    assert cfg.source == path
    assert not cfg.db.embedded and cfg.db.host == "db.example" and cfg.db.port == 3307
    assert cfg.mailbox.exclude == ("Drafts", "垃圾邮件")
    assert cfg.backup.sftp is True and cfg.backup.days_saved == 30
    assert cfg.jobs.backup_at == "04:30"
    assert cfg.dump_path == "/usr/bin/mariadb-dump"
    assert cfg.log_dir == Path("/srv/mycrmd/log")


def test_the_original_config_json_is_accepted_as_is(tmp_path: Path) -> None:
    path = write(tmp_path, "config.json", json.dumps(ORIGINAL_CONFIG_JSON, indent=2))
    cfg = load(path)
    assert cfg.db.db == "my_crm" and cfg.db.host == "localhost" and cfg.db.passwd == "root"
    assert cfg.db.charset == "utf8"
    assert cfg.mailbox.exclude == ('"Drafts"', '"Templates"')
    assert cfg.mailbox.admin == "AdminName"
    assert cfg.backup.host == "ftp.yourhost.com" and cfg.backup.sftp is False
    assert cfg.backup.remote_file == "/backup/mycrm-%Y%m%d.zip"
    assert cfg.dump_path == "/usr/local/mysql/bin/mysqldump"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[db]\nport = "3306"\n', "[db] port must be an integer, got '3306'"),
        ("[db]\nport = true\n", "[db] port must be an integer, got True"),
        ("[db]\nprot = 3306\n", "unknown key [db] prot"),
        ("[dbs]\nport = 3306\n", "unknown key dbs"),
        ("db = 3\n", "[db] must be a section"),
        ('[backup]\nsftp = "yes"\n', "[backup] sftp must be true or false, got 'yes'"),
        ('[mailbox]\nexclude = "Drafts"\n', "[mailbox] exclude must be a list of strings"),
        ('[jobs]\nbackup_at = "3am"\n', "[jobs] backup_at a time such as \"03:00\", got '3am'"),
        ("[web]\nport = 70000\n", "[web] port must be between 1 and 65535, got 70000"),
        ("[db\nport = 1\n", "not valid TOML"),
        ('[verify]\nnameserver = "dns.example"\n', "[verify] nameserver must be an IP address"),
        ('[verify]\nnameserver = "10.0.0.1:99999"\n', "has a port that is not a number"),
    ],
)
def test_a_mistake_gets_one_line_naming_the_key_and_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_a_wrong_type_in_config_json_names_the_original_section(tmp_path: Path) -> None:
    data = {**ORIGINAL_CONFIG_JSON, "ftp": {**ORIGINAL_CONFIG_JSON["ftp"], "port": "21"}}
    path = write(tmp_path, "config.json", json.dumps(data))
    with pytest.raises(ConfigError, match=r"config.json: \[backup\] port must be an integer"):
        load(path)


def test_locate_prefers_the_option_then_the_environment_then_etc(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    by_option = write(tmp_path, "a.toml", "")
    by_env = write(tmp_path, "b.toml", "")
    etc = write(tmp_path, "etc.toml", "")
    monkeypatch.setattr(config, "DEFAULT_PATH", etc)
    monkeypatch.setenv("MYCRMD_CONFIG", str(by_env))
    assert locate(str(by_option)) == by_option
    assert locate(None) == by_env
    monkeypatch.delenv("MYCRMD_CONFIG")
    assert locate(None) == etc
    etc.unlink()
    assert locate(None) is None
    with pytest.raises(ConfigError, match="configuration file not found"):
        locate(str(tmp_path / "missing.toml"))


def test_check_config_prints_the_effective_configuration_with_secrets_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "c.toml",
        '[db]\npasswd = "db-pass-123"\n[backup]\npasswd = "ftp-pass-456"\nhost = "ftp.example"\n'
        '[web]\npassword_hash = "scrypt$abc$def"\n',
    )
    assert cli.main(["--config", str(path), "check-config"]) == 0
    out = capsys.readouterr().out
    for secret in ("db-pass-123", "ftp-pass-456", "scrypt$abc$def"):
        assert secret not in out
    assert out.count(config.MASK) == 3
    assert 'host = "ftp.example"' in out
    assert f"# source: {path}" in out
    assert 'api_url = "https://verify-email.org/home/verify-as-guest/"' in out


def test_the_rendered_configuration_reads_back_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "c.toml", '[mailbox]\nexclude = ["Drafts", "垃圾邮件"]\n')
    cfg = load(path)
    again = load(write(tmp_path, "again.toml", render(cfg)))
    assert again.mailbox == cfg.mailbox
    assert again.paths == cfg.paths
    assert again.jobs == cfg.jobs


def test_a_bad_file_makes_the_command_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.toml", '[web]\nport = "x"\n')
    assert cli.main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"mycrmd: {path}: [web] port must be an integer, got 'x'"
