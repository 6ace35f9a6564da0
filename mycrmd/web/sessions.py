"""Login sessions as signed cookies: `<expires>.<id>.<signature>`, HMAC-SHA256 under a key
kept in state_dir (so sessions outlive a restart) mixed with the password's hash (so setting a
new password ends every session). Logging out revokes the session's id until it would have
expired anyway; the revocations are kept in state_dir too."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

from mycrmd.model.numbers import whole_number

COOKIE = "mycrmd_session"


class Sessions:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._key = _secret_key(state_dir / "session.key")
        self._revoked_file = state_dir / "revoked-sessions.json"
        self._revoked = _read_revoked(self._revoked_file)

    def issue(self, password_hash: str, lifetime: float) -> str:
        expires = int(time.time() + lifetime)
        body = f"{expires}.{secrets.token_urlsafe(18)}"
        return f"{body}.{self._sign(body, password_hash)}"

    def session_id(self, cookie: str | None, password_hash: str) -> str | None:
        """The session's id when the cookie is ours, unexpired and not logged out."""
        if not cookie or cookie.count(".") != 2:
            return None
        body, signature = cookie.rsplit(".", 1)
        # bytes: compare_digest refuses str that is not ASCII, and a cookie can be anything
        if not hmac.compare_digest(signature.encode(), self._sign(body, password_hash).encode()):
            return None
        expires, session = body.split(".")
        until = whole_number(expires)
        if until is None or until < time.time() or session in self._revoked:
            return None
        return session

    def revoke(self, cookie: str | None, password_hash: str) -> None:
        session = self.session_id(cookie, password_hash)
        if session is None or cookie is None:
            return
        now = time.time()
        self._revoked = {key: until for key, until in self._revoked.items() if until > now}
        self._revoked[session] = int(cookie.split(".")[0])
        _write_private(self._revoked_file, json.dumps(self._revoked).encode())

    def _sign(self, body: str, password_hash: str) -> str:
        key = hmac.new(self._key, password_hash.encode(), hashlib.sha256).digest()
        mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _secret_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    _write_private(path, key)
    return key


def _read_revoked(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    now = time.time()
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v > now}


def _write_private(path: Path, data: bytes) -> None:
    """Mode 0600, replaced in one rename."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
