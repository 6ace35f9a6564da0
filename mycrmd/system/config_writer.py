"""Writing the web password's hash into the configuration file (`mycrmd passwd`).

Only that one key changes: the rest of the file, comments included, stays as the administrator
wrote it. The new file replaces the old in one rename, readable by its owner only (mode 0600),
keeping the old file's owner and group so a service user that could read it still can.
"""

import json
import os
import re
import tempfile
from pathlib import Path

from mycrmd.config import ConfigError, load

_SECTION = re.compile(r"^\s*\[\s*web\s*\]\s*(#.*)?$")
_ANY_SECTION = re.compile(r"^\s*\[")
_KEY = re.compile(r"^\s*password_hash\s*=")


def set_password_hash(path: Path, password_hash: str) -> None:
    """Write [web] password_hash into the TOML file (or MyCRM's config.json) at path,
    creating the file when there is none. ConfigError when the result would not load."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.suffix == ".json":
        data = json.loads(old or "{}")
        data.setdefault("web", {})["password_hash"] = password_hash
        new = json.dumps(data, ensure_ascii=False, indent=4) + "\n"
    else:
        new = _toml_with_hash(old, password_hash)
    _replace(path, new, password_hash)


def _toml_with_hash(text: str, password_hash: str) -> str:
    line = f'password_hash = "{password_hash}"'
    lines = text.splitlines()
    start = next((i for i, item in enumerate(lines) if _SECTION.match(item)), None)
    if start is None:
        return text + ("\n" if text and not text.endswith("\n") else "") + f"\n[web]\n{line}\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if _ANY_SECTION.match(lines[i])), len(lines)
    )
    for i in range(start + 1, end):
        if _KEY.match(lines[i]):
            lines[i] = line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


def _replace(path: Path, text: str, password_hash: str) -> None:
    """The new file is checked (it loads, with the hash) before it takes the old one's place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = path.stat() if path.exists() else None
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        if load(Path(temporary)).web.password_hash != password_hash:
            raise ConfigError(f"{path}: could not set [web] password_hash; edit the file by hand")
        if owner is not None and os.geteuid() == 0:
            os.chown(temporary, owner.st_uid, owner.st_gid)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
