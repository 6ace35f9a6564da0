"""IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): "已发送" is "&XfJT0ZAB-".

Printable ASCII stands for itself, "&" is "&-", anything else is UTF-16BE in base64 with ","
for "/", between "&" and "-".
"""

import base64
import re

_SHIFTED = re.compile(r"&([^-]*)-")


def decode(name: str) -> str:
    def shifted(match: re.Match[str]) -> str:
        encoded = match.group(1)
        if not encoded:
            return "&"
        data = encoded.replace(",", "/")
        data += "=" * (-len(data) % 4)
        try:
            return base64.b64decode(data).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)  # not valid modified UTF-7: keep it as the server sent it

    return _SHIFTED.sub(shifted, name)


def encode(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
