"""A raw mail (RFC 5322) as the record the mail job stores: sender, recipients, date, subject,
sanitised HTML, and what identifies it across folders. Attachments and inline images are never
kept; dates in odd formats, or none, fall back to the server's arrival time.
"""

import email
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import TypeVar

from mycrmd.mail.bounce import Bounce, detect_bounce
from mycrmd.mail.mime import body_parts, decode_header_value, part_text, raw_header, raw_headers
from mycrmd.safety.sanitize import clean_html, text_to_html

T = TypeVar("T")


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    dedupe_key: bytes
    sender_name: str
    sender_address: str
    recipients: tuple[str, ...]  # To, Cc, Bcc
    date: datetime  # local time, naive (docs/DESIGN.md)
    subject: str
    html: str
    bounce: Bounce | None
    automatic: bool = False  # auto-reply, list or bulk mail (RFC 3834, List-Id, Precedence)


def parse_mail(raw: bytes, internaldate: datetime | None) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    sender_name, sender_address = _first_address(raw_headers(msg, "From"))
    recipients: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for _, address in _addresses(raw_headers(msg, header)):
            if address not in recipients:
                recipients.append(address)
    message_id = _message_id(raw_header(msg, "Message-ID"))
    # An RFC 6532 Message-ID in raw UTF-8 arrives as surrogate escapes: keyed by its bytes.
    if message_id:
        key_source = f"id:{message_id}".encode("utf-8", "surrogateescape")
    else:
        key_source = b"raw:" + raw
    return ParsedMail(
        message_id=message_id,
        dedupe_key=hashlib.sha256(key_source).digest(),
        sender_name=sender_name,
        sender_address=sender_address,
        recipients=tuple(recipients),
        date=_date(raw_header(msg, "Date"), internaldate),
        subject=decode_header_value(raw_header(msg, "Subject")),
        html=_body_html(msg),
        bounce=detect_bounce(msg, sender_address),
        automatic=is_automatic(msg),
    )


_AUTOMATIC_PRECEDENCE = ("auto_reply", "bulk", "list", "junk")


def is_automatic(msg: Message) -> bool:
    """Mail no person wrote to us, which proves nothing about the sender's address and waits
    for no reply: Auto-Submitted other than "no" (RFC 3834), a list's List-Id, the
    X-Autoreply / X-Autorespond marks, or an automatic Precedence."""
    if raw_header(msg, "Auto-Submitted").strip().lower() not in ("", "no"):
        return True
    if raw_header(msg, "List-Id").strip():
        return True
    if raw_header(msg, "X-Autoreply").strip() or raw_header(msg, "X-Autorespond").strip():
        return True
    return raw_header(msg, "Precedence").strip().lower() in _AUTOMATIC_PRECEDENCE


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs; names decoded after splitting, since an encoded name
    may hide a comma."""
    pairs = []
    for name, address in getaddresses(values):
        address = decode_header_value(address).strip().strip("<>")
        if "@" in address:
            pairs.append((decode_header_value(name).strip('"'), address))
    return pairs


def _first_address(values: list[str]) -> tuple[str, str]:
    """The sender; a From without an address still gives its name."""
    pairs = _addresses(values)
    if pairs:
        return pairs[0]
    return (decode_header_value(values[0]) if values else ""), ""


def _message_id(value: str) -> str:
    found = re.search(r"<([^<>\s]+)>", value)
    return found.group(1) if found else value.strip()


def _date(value: str, internaldate: datetime | None) -> datetime:
    """The Date header in local time; INTERNALDATE when it is missing, unreadable or absurd."""
    arrived = _local(internaldate) if internaldate else datetime.now().replace(microsecond=0)
    parsed: datetime | None = None
    if value:
        cleaned = re.sub(r"\([^)]*\)", "", decode_header_value(value)).strip()
        try:
            parsed = parsedate_to_datetime(cleaned)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return arrived
    local = _local(parsed)
    if local.year < 1990 or local > arrived + timedelta(days=2):
        return arrived
    return local


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.replace(tzinfo=None, microsecond=0)


def _body_html(msg: Message) -> str:
    """The first HTML part, else the first text part as HTML; never an attachment, never a
    part of a mail quoted inside this one."""
    html = plain = None
    for part in body_parts(msg):
        kind = part.get_content_type()
        if kind == "text/html" and html is None:
            html = part
        elif kind == "text/plain" and plain is None:
            plain = part
    if html is not None:
        return clean_html(part_text(html))
    if plain is not None:
        return text_to_html(part_text(plain))
    return ""


def _salvage(read: Callable[[], T], fallback: T) -> T:
    try:
        return read()
    except Exception:  # what cannot be read is left out, the rest is kept
        return fallback


def parse_damaged(raw: bytes, internaldate: datetime | None, problem: str) -> ParsedMail:
    """A mail parse_mail could not read, with what can be read of it (date, addresses,
    subject) and a note of the error as its content, rather than dropped (issue 17)."""
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    sender_name, sender_address = _salvage(
        lambda: _first_address(raw_headers(msg, "From")), ("", "")
    )
    recipients = _salvage(
        lambda: tuple(
            dict.fromkeys(
                address
                for header in ("To", "Cc", "Bcc")
                for _, address in _addresses(raw_headers(msg, header))
            )
        ),
        (),
    )
    message_id = _salvage(lambda: _message_id(raw_header(msg, "Message-ID")), "")
    if message_id:
        key_source = f"id:{message_id}".encode("utf-8", "surrogateescape")
    else:
        key_source = b"raw:" + raw
    arrived = _local(internaldate) if internaldate else datetime.now().replace(microsecond=0)
    return ParsedMail(
        message_id=message_id,
        dedupe_key=hashlib.sha256(key_source).digest(),
        sender_name=sender_name,
        sender_address=sender_address,
        recipients=recipients,
        date=_salvage(lambda: _date(raw_header(msg, "Date"), internaldate), arrived),
        subject=_salvage(lambda: decode_header_value(raw_header(msg, "Subject")), ""),
        html=text_to_html(f"mycrmd could not read this mail: {problem}"),
        bounce=None,
        automatic=True,  # unread, it proves nothing about its sender's address
    )
