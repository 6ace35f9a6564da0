"""Recognising bounces: RFC 3464 delivery-status reports, and the common non-standard notices
(Postfix, Exim, qmail, Exchange/Outlook, Gmail, Tencent Exmail's Chinese 退信) — by their
shape, not by one company's subject line.

The bounced address is read from the report's Final-Recipient, from X-Failed-Recipients, or
from the notice's own text, before the copy of the original message that most notices quote;
the addresses the notice is sent to (ours) and role addresses (postmaster, mailer-daemon) are
never taken for it.
"""

import re
from dataclasses import dataclass
from email.message import Message

from mycrmd.mail.mime import body_parts, decode_header_value, part_text, raw_header, raw_headers

_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon"}
_ROLE_LOCALS = _DAEMONS | {"abuse", "noreply", "no-reply", "bounce", "bounces"}
_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|return(ed)? to sender|delivery status notification"
    r"|mail delivery (failed|failure|subsystem)|failure notice|delivery failure|non-delivery"
    r"|could not be delivered|nondeliverable"
    r"|退信|退回|无法投递|投递失败|发送失败|未送达|无法送达",
    re.IGNORECASE,
)
# Where a notice starts quoting the original message: addresses below are not the bounced one.
_ORIGINAL = re.compile(
    r"^\s*(-{2,}.*(original message|copy of the message|message follows|returned message"
    r"|undelivered message|message headers)"
    r"|-{3,}\s*(below this line|original)"
    r"|(以下是|下面是)?原(始)?邮件|原信件|被退回的邮件内容"
    r"|Received: |Return-Path: )",
    re.IGNORECASE | re.MULTILINE,
)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_ENHANCED = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_SMTP = re.compile(r"(?:^|[\s:;(\[#])([45]\d\d)(?=[\s-])", re.MULTILINE)
_PERMANENT = re.compile(
    r"user unknown|unknown user|no such user|does ?n[o']t exist|address (couldn't|could not) "
    r"be found|address not found|not found|invalid recipient|recipient address rejected"
    r"|mailbox unavailable|mailbox not found|permanent (error|failure)|this is a permanent"
    r"|该用户不存在|用户不存在|收件人不存在|邮箱不存在|地址不存在|收件人地址(错误|有误)|无效的收件人",
    re.IGNORECASE,
)
_TEMPORARY = re.compile(
    r"delayed|will (be )?retr(y|ied)|temporar(y|ily)|try again later|still trying|not yet been"
    r"|延迟|暂时|稍后重试|正在重试",
    re.IGNORECASE,
)
# Permanent failures that say nothing against the address: a full mailbox, a message too big,
# content or policy (spam) rejections. The customer stays valid.
_NOT_THE_ADDRESS = ("5.2.2", "5.2.3", "5.3.4", "5.6.", "5.7.")
_MEANINGS = {
    "5.0.0": "undeliverable",
    "5.1.0": "bad address",
    "5.1.1": "user unknown",
    "5.1.2": "bad destination domain",
    "5.1.3": "bad address syntax",
    "5.1.6": "mailbox moved",
    "5.1.10": "recipient not found",
    "5.2.0": "mailbox unavailable",
    "5.2.1": "mailbox disabled",
    "5.2.2": "mailbox full",
    "5.3.4": "message too big",
    "5.4.1": "no answer from host",
    "5.4.4": "unable to route",
    "5.5.0": "mailbox unavailable",
    "5.7.1": "rejected by policy",
    "4.2.2": "mailbox full",
    "4.4.1": "no answer from host",
    "4.4.7": "delivery time expired",
}


@dataclass(frozen=True)
class Bounce:
    addresses: tuple[str, ...]
    status: str  # "5.1.1", or an SMTP code, or "" when the notice gives none
    permanent: bool
    reason: str  # short, for customers.last_checked_log: "bounce 5.1.1 user unknown"

    @property
    def address_is_dead(self) -> bool:
        """A permanent failure that is about the address itself."""
        return self.permanent and not self.status.startswith(_NOT_THE_ADDRESS)


def detect_bounce(msg: Message, sender_address: str) -> Bounce | None:
    ours = {address.lower() for address in _header_addresses(msg, "To", "Delivered-To", "Cc")}
    report = _delivery_report(msg, ours)
    if report is not None:
        return report
    sender_local = sender_address.split("@")[0].lower()
    failed_header = _header_addresses(msg, "X-Failed-Recipients")
    subject = raw_header(msg, "Subject")
    notice = _notice_text(msg)
    # A subject alone is not enough: customers write "Re: undelivered goods" too. Machines
    # that bounce say who they are (mailer-daemon, postmaster) or that they are machines.
    automatic = raw_header(msg, "Auto-Submitted").strip().lower() not in ("", "no")
    looks_like = (
        sender_local in _DAEMONS
        or bool(failed_header)
        or (automatic and bool(_SUBJECT.search(decode_header_value(subject))))
    )
    if not looks_like:
        return None
    addresses = failed_header or [
        found
        for found in dict.fromkeys(_ADDRESS.findall(notice))
        if found.lower() not in ours
        and found.lower() != sender_address.lower()
        and found.split("@")[0].lower() not in _ROLE_LOCALS
    ]
    if not addresses:
        return None
    status, permanent = _status(notice)
    return Bounce(tuple(addresses), status, permanent, _reason(status, notice))


def _delivery_report(msg: Message, ours: set[str]) -> Bounce | None:
    """RFC 3464: multipart/report; report-type=delivery-status."""
    if msg.get_content_type() != "multipart/report":
        return None
    if (msg.get_param("report-type") or "").lower() != "delivery-status":
        return None
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            return None
        failed: list[str] = []
        delayed: list[str] = []
        status = diagnostic = ""
        for block in blocks[1:]:
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = recipient.split(";", 1)[-1].strip().strip("<>")
            if "@" not in address or address.lower() in ours:
                continue
            action = str(block.get("Action") or "").strip().lower()
            code = str(block.get("Status") or "").strip().split()[0:1]
            if action == "failed" or (code and code[0].startswith("5")):
                failed.append(address)
                status = status or (code[0] if code else "5.0.0")
                diagnostic = diagnostic or str(block.get("Diagnostic-Code") or "")
            elif action == "delayed" or (code and code[0].startswith("4")):
                delayed.append(address)
                status = status or (code[0] if code else "4.0.0")
        if failed:
            return Bounce(tuple(failed), status, True, _reason(status, diagnostic))
        if delayed:
            return Bounce(tuple(delayed), status, False, _reason(status, diagnostic))
    return None


def _notice_text(msg: Message) -> str:
    """The notice's own words: its text parts, up to where the original message is quoted."""
    texts = []
    for part in body_parts(msg):
        if part.get_content_maintype() != "text":
            continue
        text = part_text(part)
        if part.get_content_type() == "text/html":
            text = re.sub(r"<[^>]+>", " ", text)
        texts.append(text)
    notice = "\n".join(texts)
    cut = _ORIGINAL.search(notice)
    return notice[: cut.start()] if cut else notice


def _status(notice: str) -> tuple[str, bool]:
    enhanced = _ENHANCED.search(notice)
    if enhanced:
        return enhanced.group(1), enhanced.group(1).startswith("5")
    smtp = _SMTP.search(notice)
    if smtp:
        return smtp.group(1), smtp.group(1).startswith("5")
    if _TEMPORARY.search(notice):
        return "", False
    return "", bool(_PERMANENT.search(notice))


def _reason(status: str, text: str) -> str:
    meaning = _MEANINGS.get(status, "")
    if not meaning:
        phrase = _PERMANENT.search(text) or _TEMPORARY.search(text)
        meaning = phrase.group(0).lower() if phrase else ""
    return " ".join(part for part in ("bounce", status, meaning) if part)[:256]


def _header_addresses(msg: Message, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in raw_headers(msg, name):
            found += _ADDRESS.findall(decode_header_value(value))
    return list(dict.fromkeys(found))
