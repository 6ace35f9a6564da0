"""The configuration file: TOML, or the original MyCRM's config.json read as-is.

Everything the web UI must not edit lives here (R-CF1); what the UI edits lives in the
database's `config` table (store/settings.py). Errors name the file and the key, in one line.
"""

import ipaddress
import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from mycrmd.model.folders import SKIPPED_BY_DEFAULT, FolderRole
from mycrmd.model.numbers import whole_number
from mycrmd.safety import redact

DEFAULT_PATH = Path("/etc/mycrmd/mycrmd.toml")
MASK = "********"

_SECRET = {"secret": True}


class ConfigError(Exception):
    """A configuration problem, worded as the one line the user sees."""


def _one_of(*choices: str) -> dict[str, Any]:
    return {"check": lambda v: None if v in choices else f"must be one of {', '.join(choices)}"}


def _matching(pattern: str, hint: str) -> dict[str, Any]:
    rx = re.compile(pattern)
    return {"check": lambda v: None if not v or rx.fullmatch(v) else hint}


def _between(low: int, high: int) -> dict[str, Any]:
    return {"check": lambda v: None if low <= v <= high else f"must be between {low} and {high}"}


def nameserver_address(text: str) -> tuple[str, int]:
    """`[verify] nameserver` as (ip, port): "192.0.2.1", "192.0.2.1:5353", "2001:db8::1" or
    "[2001:db8::1]:5353"."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not port:
        return host, 53
    number = whole_number(port)
    return host, -1 if number is None else number  # -1: refused by the check below


def _nameserver() -> dict[str, Any]:
    """An IP address with an optional port: the resolver takes no host names."""

    def check(value: str) -> str | None:
        if not value:
            return None
        host, port = nameserver_address(value)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return 'must be an IP address, optionally with a port ("192.0.2.53:5353")'
        return None if 0 < port < 65536 else "has a port that is not a number from 1 to 65535"

    return {"check": check}


def _networks() -> dict[str, Any]:
    def check(values: tuple[str, ...]) -> str | None:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                return f'must list IP addresses or networks ("127.0.0.1", "10.0.0.0/8"): {value!r}'
        return None

    return {"check": check}


def _roles() -> dict[str, Any]:
    def check(values: tuple[str, ...]) -> str | None:
        unknown = [value for value in values if value not in set(FolderRole)]
        if unknown:
            return f"must list folder roles ({', '.join(FolderRole)}): {unknown[0]!r}"
        return None

    return {"check": check}


def _secret(default: str = "") -> Any:
    return field(default=default, metadata=_SECRET)


@dataclass(frozen=True)
class DbConfig:
    db: str = "mycrm"
    host: str = ""
    port: int = field(default=3306, metadata=_between(1, 65535))
    user: str = "root"
    passwd: str = _secret()
    charset: str = "utf8mb4"
    unix_socket: str = ""
    buffer_pool_size: str = field(
        default="", metadata=_matching(r"\d+[KMG]?", 'a size such as "512M" or "2G"')
    )

    @property
    def embedded(self) -> bool:
        """No server named: mycrmd runs its own (embedded_db.py)."""
        return not self.host and not self.unix_socket


@dataclass(frozen=True)
class MailboxConfig:
    address: str = ""
    admin: str = ""
    exclude: tuple[str, ...] = ()
    # Folders not synced by their special use (RFC 6154 flags, else the usual names).
    skip: tuple[str, ...] = field(default=tuple(SKIPPED_BY_DEFAULT), metadata=_roles())
    security: str = field(default="ssl", metadata=_one_of("ssl", "starttls", "plain"))
    ca_file: str = ""
    # A command printing an OAuth 2.0 access token: XOAUTH2 instead of LOGIN (Microsoft 365).
    oauth2_token_command: str = ""
    # IMAP connections at most, the IDLE ones included (providers cap them per account).
    max_connections: int = field(default=2, metadata=_between(1, 10))


@dataclass(frozen=True)
class BackupConfig:
    sftp: bool = False
    host: str = ""
    port: int = field(default=21, metadata=_between(1, 65535))
    user: str = ""
    passwd: str = _secret()
    local_file: str = ""
    remote_file: str = "/backup/mycrm-%Y%m%d.zip"
    days_saved: int = field(default=10, metadata=_between(1, 36500))
    known_hosts: str = ""
    host_key: str = field(
        default="", metadata=_matching(r"SHA256:[A-Za-z0-9+/]{43}=?", 'a fingerprint "SHA256:…"')
    )
    ftps: bool = False
    verify: bool = True


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_between(1, 65535))
    password_hash: str = _secret()
    max_upload_mb: int = field(default=50, metadata=_between(1, 10240))
    session_days: int = field(default=7, metadata=_between(1, 365))
    trusted_proxies: tuple[str, ...] = field(default=(), metadata=_networks())
    # Host names, besides this daemon's own address, that requests may name (a reverse proxy's).
    allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobsConfig:
    fetch_interval: int = field(default=15, metadata=_between(1, 10080))
    # IMAP IDLE push on INBOX and the sent folder, beside the polling (issue 17).
    idle: bool = True
    backup_at: str = field(
        default="03:00", metadata=_matching(r"([01]\d|2[0-3]):[0-5]\d", 'a time such as "03:00"')
    )


@dataclass(frozen=True)
class PathsConfig:
    state_dir: str = ""
    log_dir: str = ""


@dataclass(frozen=True)
class VerifyConfig:
    api_url: str = "https://verify-email.org/home/verify-as-guest/"
    per_run: int = field(default=5, metadata=_between(1, 1000))
    nameserver: str = field(default="", metadata=_nameserver())


@dataclass(frozen=True)
class Config:
    db: DbConfig = DbConfig()
    mailbox: MailboxConfig = MailboxConfig()
    backup: BackupConfig = BackupConfig()
    web: WebConfig = WebConfig()
    jobs: JobsConfig = JobsConfig()
    paths: PathsConfig = PathsConfig()
    verify: VerifyConfig = VerifyConfig()
    dump_path: str = ""
    source: Path | None = None

    @property
    def state_dir(self) -> Path:
        return Path(self.paths.state_dir)

    @property
    def log_dir(self) -> Path:
        return Path(self.paths.log_dir)


_SECTION_TYPES: dict[str, type] = {
    name: typ
    for name, typ in get_type_hints(Config).items()
    if hasattr(typ, "__dataclass_fields__")
}


def locate(cli_path: str | None) -> Path | None:
    """--config, else $MYCRMD_CONFIG, else /etc/mycrmd/mycrmd.toml if present, else none."""
    for given in (cli_path, os.environ.get("MYCRMD_CONFIG")):
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                raise ConfigError(f"{path}: configuration file not found")
            return path
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load(path: Path | None) -> Config:
    """Read and check a configuration file; None gives the defaults."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_json(path) if path.suffix == ".json" else _read_toml(path)
    config = _build_config(raw, path)
    redact.remember(config.db.passwd, config.backup.passwd, config.web.password_hash)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _read_json(path: Path) -> dict[str, Any]:
    """The original config.json: `ftp` is our [backup], `sqldump_path` our dump_path."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    renamed = {"ftp": "backup", "sqldump_path": "dump_path"}
    return {renamed.get(key, key): value for key, value in data.items()}


def _build_config(raw: dict[str, Any], path: Path | None) -> Config:
    where = str(path) if path else "defaults"
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTION_TYPES:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a section (a table of keys)")
            values[key] = _build_section(_SECTION_TYPES[key], value, key, where)
        elif key == "dump_path":
            values[key] = _checked(str, value, "dump_path", where)
        else:
            raise ConfigError(f"{where}: unknown key {key}")
    config = Config(**values, source=path)
    return _with_default_paths(config)


def _build_section(cls: type, data: dict[str, Any], section: str, where: str) -> Any:
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key [{section}] {key}")
        label = f"[{section}] {key}"
        checked = _checked(hints[key], value, label, where)
        check = known[key].metadata.get("check")
        problem = check(checked) if check else None
        if problem:
            raise ConfigError(f"{where}: {label} {problem}, got {value!r}")
        values[key] = checked
    return cls(**values)


def _checked(expected: Any, value: Any, label: str, where: str) -> Any:
    if expected == tuple[str, ...]:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"{where}: {label} must be a list of strings, got {value!r}")
    # bool is an int in Python; a port of `true` is still a mistake.
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    names = {str: "a string", int: "an integer", bool: "true or false"}
    raise ConfigError(f"{where}: {label} must be {names[expected]}, got {value!r}")


def _with_default_paths(config: Config) -> Config:
    """State and logs go where systemd says (StateDirectory=, LogsDirectory=), else home;
    "~" in file names is the user's home."""
    state = config.paths.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if not state:
        state = str(Path.home() / ".local" / "state" / "mycrmd")
    state_dir = Path(state).expanduser()
    logs = config.paths.log_dir or os.environ.get("LOGS_DIRECTORY", "").split(":")[0]
    log_dir = Path(logs).expanduser() if logs else state_dir / "log"
    paths = PathsConfig(state_dir=str(state_dir), log_dir=str(log_dir))
    backup = replace(
        config.backup,
        local_file=_expanded(config.backup.local_file),
        known_hosts=_expanded(config.backup.known_hosts),
    )
    mailbox = replace(config.mailbox, ca_file=_expanded(config.mailbox.ca_file))
    return replace(config, paths=paths, backup=backup, mailbox=mailbox)


def _expanded(path: str) -> str:
    return str(Path(path).expanduser()) if path else ""


def render(config: Config) -> str:
    """The effective configuration as TOML, secrets masked (for `mycrmd check-config`)."""
    lines = [f"# source: {config.source or 'built-in defaults'}"]
    lines.append(f"dump_path = {_toml_value(config.dump_path)}")
    for name in _SECTION_TYPES:
        section = getattr(config, name)
        lines.append(f"\n[{name}]")
        for f in fields(section):
            value = getattr(section, f.name)
            if f.metadata.get("secret") and value:
                value = MASK
            lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
