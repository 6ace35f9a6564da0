"""The web UI's password, stored as a salted scrypt hash (hashlib; no extra dependency).

The stored form names its parameters, `scrypt$n$r$p$salt$hash` (base64), so they can be
raised later without invalidating passwords already set.
"""

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**15, 8, 1  # ~0.1 s and 32 MiB per check: slow to guess, cheap for one login
_SALT_BYTES, _HASH_BYTES = 16, 32
MIN_LENGTH = 8


class PasswordError(ValueError):
    """The new password is not acceptable; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must have at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _N, _R, _P)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """Constant-time; a malformed stored hash matches nothing."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=_HASH_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
