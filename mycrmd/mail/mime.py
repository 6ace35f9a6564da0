"""Reading MIME as mail really comes: charsets that are not what they say (GB2312 labels on GBK
text, Latin-1 labels on UTF-8), raw 8-bit headers, broken encodings. Every decoding falls back
rather than fails, so one strange mail never stops a run.
"""

import re
from email.header import decode_header
from email.message import Message

# Labels that undersell their text: decode with the superset that real mailers meant.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
}
_LATIN_LABELS = {"cp1252", "iso-8859-15"}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in the charset it claims, or in the one it most likely has."""
    label = (charset or "").strip().strip('"').lower()
    codec = _CHARSET_ALIASES.get(label, label) or "utf-8"
    if codec in _LATIN_LABELS or not label:
        # Latin-1 labels are often put on UTF-8; valid UTF-8 is almost never an accident.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec)
    except (LookupError, UnicodeDecodeError):
        pass
    for fallback in ("utf-8", "gb18030"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode(codec if _known(codec) else "cp1252", errors="replace")


def _known(codec: str) -> bool:
    try:
        "".encode(codec)
    except LookupError:
        return False
    return True


def raw_headers(msg: Message, name: str) -> list[str]:
    """A header's values as they came, 8-bit bytes kept as surrogates (the compat32 API would
    hand back Header objects already decoded as Latin-1)."""
    wanted = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]


def raw_header(msg: Message, name: str) -> str:
    values = raw_headers(msg, name)
    return values[0] if values else ""


def decode_header_value(value: str) -> str:
    """An RFC 2047 (or raw 8-bit) header value as text, on one line."""
    if not value:
        return ""
    raw = value.encode("utf-8", "surrogateescape")  # 8-bit bytes come back as they were
    if not re.search(rb"=\?[^?]+\?[bBqQ]\?", raw):
        text = decode_bytes(raw, None)
    else:
        try:
            parts = decode_header(raw.decode("utf-8", "replace"))
        except (ValueError, IndexError):
            parts = [(raw, None)]
        text = "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in parts
        )
    return re.sub(r"\s+", " ", text).strip()


def body_parts(msg: Message) -> list[Message]:
    """The leaf parts of this mail that are not attachments (message/* parts not entered)."""
    if msg.is_multipart():
        parts: list[Message] = []
        for sub in msg.get_payload():
            if isinstance(sub, Message):
                parts += body_parts(sub)
        return parts
    if msg.get_content_maintype() == "message":
        return []
    if (msg.get_content_disposition() or "") == "attachment":
        return []
    return [msg]


def part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return decode_bytes(payload, part.get_content_charset())
