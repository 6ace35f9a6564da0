"""Secrets never reach a log line, a job's summary or an error message (issue: security).

Every secret the process learns — database and backup passwords, the web password's hash, the
IMAP password from the settings table — is remembered here, and the filter installed on every
log handler writes `***` in its place, in messages and tracebacks alike.
"""

import logging

MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words
# Longest first, so a secret containing another is masked whole; kept sorted here, as every
# log line (access lines included) is checked against it.
_secrets: tuple[str, ...] = ()


def remember(*values: str | None) -> None:
    """Each secret, and the forms escaping gives it: an IMAP quoted string and JSON both
    write `"` and `\\` after a backslash, so a password echoed by a server and then stored as
    JSON (a job's summary) is escaped once or twice."""
    global _secrets
    new = {
        form
        for value in values
        if value and len(value) >= _MIN_LENGTH
        for form in (value, _escaped(value), _escaped(_escaped(value)))
    } - set(_secrets)
    if new:
        _secrets = tuple(sorted({*_secrets, *new}, key=len, reverse=True))


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def protect(handler: logging.Handler) -> logging.Handler:
    """The handler, with the filter (once)."""
    if not any(isinstance(f, SecretFilter) for f in handler.filters):
        handler.addFilter(SecretFilter())
    return handler
