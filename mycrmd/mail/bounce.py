"""Recognising bounces and judging them by their reason.

RFC 3464 delivery-status reports are read per recipient (Action, Status, Final-Recipient,
Original-Recipient, Diagnostic-Code); plain notices (Postfix, Exim, Sendmail, qmail, Exchange,
Gmail, Yahoo, Amazon SES, Tencent, NetEase, Alibaba, Sina) by their own recipient lines. The
bounced address never comes from the returned copy of the original message, nor from the
notice's own headers: a quoted sender, Cc or list address is a bystander. The reason comes from
the RFC 3463 enhanced code when it is specific, else from the diagnostic's words, else from
the SMTP reply code. Auto-replies (RFC 3834), ARF feedback reports and DSNs that say delivered,
relayed or expanded are not bounces.
"""

import re
from dataclasses import dataclass
from email.message import Message

from mycrmd.mail.mime import body_parts, decode_header_value, part_text, raw_header, raw_headers
from mycrmd.model.bounce import DEAD_ADDRESS, Reason

_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon"}
_ROLE_LOCALS = _DAEMONS | {"abuse", "noreply", "no-reply", "bounce", "bounces"}
_SUBJECT = re.compile(
    r"undeliver|returned mail|return(ed)? to sender|delivery status notification"
    r"|mail delivery (failed|failure|subsystem)|failure notice|delivery failure|non-delivery"
    r"|could not be delivered|nondeliverable|delivery has failed"
    r"|退信|退回|无法投递|投递失败|发送失败|未送达|无法送达",
    re.IGNORECASE,
)
_VACATION = re.compile(
    r"out of (the )?office|auto(matic)?[- ]?reply|autoreply|vacation|自动回复|休假", re.IGNORECASE
)
# Where a notice starts quoting the original message: addresses below are not the bounced one.
_ORIGINAL = re.compile(
    r"^\s*(-{2,}.*(original message|copy of the message|message follows|returned message"
    r"|undelivered message|message headers|below this line)"
    r"|-{3,}\s*(below this line|original)|original message headers"
    r"|(以下是|下面是|以下为)?原(始)?邮件|原信件|被退回的邮件内容"
    r"|Received: |Return-Path: )",
    re.IGNORECASE | re.MULTILINE,
)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP = re.compile(r"(?<![\d.#-])([245]\d\d)(?![\d.])")
# A notice's own lines that name the failed recipient (qmail, Postfix, Yahoo, Exchange, Gmail,
# SES, the Chinese providers); the address is the first in the match.
_RECIPIENT_LINES = re.compile(
    r"^\s*<(?P<a1>[^<>\s]+@[^<>\s]+)>\s*:"
    r"|^\s*(?P<a2>[^<>\s:]+@[^<>\s:]+)\s+on\s+\d"
    r"|(?:wasn't|was not|could not be|couldn't be|cannot be|can't be) delivered to\s+<?"
    r"(?P<a3>[^<>\s,]+@[^<>\s,]+?)>?[\s,.]"
    r"|(?:message|mail) to\s+<?(?P<a4>[^<>\s]+@[^<>\s]+?)>?\s+(?:was undeliverable|failed)"
    r"|(?:delivery to|rcpt to:?)\s*<?(?P<a5>[^<>\s:]+@[^<>\s:]+?)>?\s*(?:failed|:|$)"
    r"|(?:收件人|收信人|以下收件人|recipient)\s*(?:地址)?\s*[:：]\s*<?(?P<a6>[^<>\s,，]+@[^<>\s,，]+)"
    r"|(?:发送至|发往|发给)\s*<?(?P<a7>[^<>\s]+@[^<>\s]+?)>?\s*的",
    re.IGNORECASE | re.MULTILINE,
)
# Words of the diagnostic, most telling first: a notice that blames our sender or the content
# says nothing against the address, whatever else it says.
_WORDS: tuple[tuple[Reason, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        (
            Reason.REJECTED_SENDER,
            r"sender (address )?(rejected|denied|verify failed|unknown|not allowed)"
            r"|sender verification|mail from .*(rejected|refused)|发件人.*(拒绝|不存在|无效)",
        ),
        (
            Reason.BLOCKED,
            r"block ?list|black ?list|blocked|\brbl\b|dnsbl|spamhaus|banned|reputation"
            r"|listed (at|in|on)|client host .*rejected|not accepted from this IP|IP.*(拒绝|封禁)",
        ),
        (
            Reason.SPAM,
            r"\bspam|junk mail|unsolicited|\bUCE\b|DT:SPM|content (rejected|filter)"
            r"|垃圾邮件|内容.*拒绝",
        ),
        (
            Reason.MESSAGE_TOO_BIG,
            r"too (big|large)|size limit|message size|mailsize|exceeds? .*size|邮件(过大|太大)"
            r"|超(过|出).*大小",
        ),
        (
            Reason.MAILBOX_FULL,
            r"quota|mailbox (is )?full|mailbox.*exceeded|insufficient (storage|system storage)"
            r"|out of storage|storage (space|limit)|inbox is full|邮箱(已满|满了|空间不足)|容量"
            r"|空间已满",
        ),
        (
            Reason.EXPIRED,
            r"expired|retry timeout exceeded|in the queue too long"
            r"|cannot send message for|could not be delivered within|超时未能投递",
        ),
        (
            Reason.MAILBOX_MOVED,
            r"user not local|has moved|address (has )?changed|moved to|no longer (at|with)",
        ),
        (
            Reason.NOT_ACCEPT,
            r"does not accept (e-?)?mail|accepts no mail|not accepting (e-?)?mail|null mx"
            r"|不接收邮件",
        ),
        (
            Reason.MAILBOX_DISABLED,
            r"disabled|deactivated|suspended|inactive|locked|no longer (active|in use)"
            r"|冻结|停用|被禁用|已注销",
        ),
        (
            Reason.HOST_UNKNOWN,
            r"host (or domain name )?not found|host unknown|unknown host|domain not found"
            r"|no such domain|domain (does not|doesn't) exist|nonexistent domain|unrouteable"
            r"|unroutable|no mx|domain name not found|域名(不存在|无效|错误)",
        ),
        (
            Reason.USER_UNKNOWN,
            r"user ?unknown|unknown (user|recipient|mailbox)|no such (user|mailbox|recipient)"
            r"|user (not found|does not exist|doesn't exist)|(mailbox|recipient|account|address)"
            r" (not found|does not exist|doesn't exist|unknown)|(does not|doesn't) have an? "
            r"[\w.-]+ account|invalid (recipient|mailbox|address|user)|not a valid (mailbox|user)"
            r"|no mailbox|couldn't be found|could not be found|address not found|recipnotfound"
            r"|recipientnotfound|account does not exist|e-?mail account does not exist"
            r"|access denied\. AS\(201806281\)|bad destination mailbox"
            r"|(user|recipient|recipient name|address) (is )?not (known|recognized)"
            r"|invalid final delivery userid|does not have a final e-?mail delivery point"
            r"|用户不存在|收件人不存在|邮箱不存在|帐号不存在|账号不存在|账户不存在|地址不存在"
            r"|无此用户|查无此|收件人地址(错误|有误|无效)|无效的收件人",
        ),
        (
            Reason.POLICY,
            r"policy|not authori[sz]ed|access denied|relay(ing)? (denied|not permitted)"
            r"|authentication required|dmarc|\bspf\b|dkim|refused|rejected|拒绝",
        ),
        (
            Reason.NETWORK,
            r"connection (refused|timed out|reset)|timed out|no route to host|lost connection"
            r"|network|unreachable|name service error|连接(失败|超时)",
        ),
        (
            Reason.TEMPORARY,
            r"delayed|will (be )?retr(y|ied)|temporar(y|ily)|try again later|still trying"
            r"|not yet been|延迟|暂时|稍后重试|正在重试",
        ),
    )
)
# Enhanced status codes (RFC 3463) that say what happened without the words' help.
_SUBJECT_DETAIL = {
    "1.1": Reason.USER_UNKNOWN,
    "1.2": Reason.HOST_UNKNOWN,
    "1.3": Reason.USER_UNKNOWN,
    "1.6": Reason.MAILBOX_MOVED,
    "1.7": Reason.REJECTED_SENDER,
    "1.8": Reason.REJECTED_SENDER,
    "2.1": Reason.MAILBOX_DISABLED,
    "2.2": Reason.MAILBOX_FULL,
    "2.3": Reason.MESSAGE_TOO_BIG,
    "3.4": Reason.MESSAGE_TOO_BIG,
    "4.7": Reason.EXPIRED,
    "7.1": Reason.POLICY,
}
# Reasons the words may give over a code that says the address is dead: a 5.1.1 that also
# says "spam" or "blocked" is a filter's refusal, not a missing mailbox.
_OVERRIDES_DEAD = frozenset(
    {Reason.REJECTED_SENDER, Reason.SPAM, Reason.BLOCKED, Reason.MAILBOX_FULL, Reason.EXPIRED}
)
_TEMPORARY = dict(_WORDS)[Reason.TEMPORARY]
_WORDS_OR_CODE = re.compile(r"[a-z]{3}|\d\d\d|[\u4e00-\u9fff]", re.IGNORECASE)
_SMTP_MEANINGS = {
    "551": Reason.MAILBOX_MOVED,
    "552": Reason.MAILBOX_FULL,
    "556": Reason.NOT_ACCEPT,
    "521": Reason.NOT_ACCEPT,
}


@dataclass(frozen=True)
class Failure:
    """One recipient the notice reports on."""

    address: str
    status: str  # "5.1.1", an SMTP code "550", or "" when the notice gives none
    reason: Reason
    diagnostic: str

    @property
    def permanent(self) -> bool:
        """A 5.x.x or 5xx status; a notice without any code is permanent only when it says a
        dead-address reason and nothing temporary."""
        if self.status:
            return self.status.startswith("5")
        return self.reason in DEAD_ADDRESS

    @property
    def dead(self) -> bool:
        return self.permanent and self.reason in DEAD_ADDRESS


@dataclass(frozen=True)
class Bounce:
    failures: tuple[Failure, ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(failure.address for failure in self.failures)

    @property
    def dead_addresses(self) -> tuple[str, ...]:
        return tuple(failure.address for failure in self.failures if failure.dead)

    @property
    def status(self) -> str:
        return self.failures[0].status

    @property
    def permanent(self) -> bool:
        return any(failure.permanent for failure in self.failures)

    @property
    def address_is_dead(self) -> bool:
        return any(failure.dead for failure in self.failures)

    @property
    def kind(self) -> Reason:
        return self.failures[0].reason

    @property
    def reason(self) -> str:
        """Short, for customers.last_checked_log and the history: "bounce 5.1.1 user_unknown"."""
        first = self.failures[0]
        return " ".join(part for part in ("bounce", first.status, first.reason) if part)[:256]


def detect_bounce(msg: Message, sender_address: str) -> Bounce | None:
    if _not_a_bounce(msg):
        return None
    ours = {address.lower() for address in _header_addresses(msg, "To", "Delivered-To", "Cc")}
    report = _delivery_report(msg, ours)
    if report is not None:
        return report if report.failures else None
    failed_header = _header_addresses(msg, "X-Failed-Recipients")
    subject = decode_header_value(raw_header(msg, "Subject"))
    return_path = raw_header(msg, "Return-Path").strip()
    # A subject alone is not enough: customers write "Re: undelivered goods" too. Machines
    # that bounce say who they are (mailer-daemon, postmaster, the null sender) or that they
    # are machines.
    automatic = raw_header(msg, "Auto-Submitted").strip().lower() not in ("", "no")
    from_machine = (
        sender_address.split("@")[0].lower() in _DAEMONS
        or not sender_address
        or return_path == "<>"
    )
    if not (failed_header or from_machine or (automatic and _SUBJECT.search(subject))):
        return None
    if not failed_header and not _SUBJECT.search(subject) and not from_machine:
        return None
    notice = _notice_text(msg)
    bystanders = ours | {sender_address.lower()} | _quoted_addresses(msg)
    addresses = failed_header or _notice_recipients(notice, bystanders)
    if not addresses:
        return None
    failures = tuple(_judge(address, _near(notice, address)) for address in addresses)
    return Bounce(failures)


def _not_a_bounce(msg: Message) -> bool:
    """Auto-replies (RFC 3834, vacation notices) and ARF feedback reports."""
    if msg.get_content_type() == "multipart/report":
        kind = (msg.get_param("report-type") or "").lower()
        if kind == "feedback-report":
            return True
    auto = raw_header(msg, "Auto-Submitted").strip().lower()
    subject = decode_header_value(raw_header(msg, "Subject"))
    if auto.startswith("auto-replied") and not _SUBJECT.search(subject):
        return True
    if raw_header(msg, "X-Autoreply") or raw_header(msg, "X-Autorespond"):
        return True
    return bool(_VACATION.search(subject)) and not _SUBJECT.search(subject)


def _delivery_report(msg: Message, ours: set[str]) -> Bounce | None:
    """RFC 3464: multipart/report; report-type=delivery-status, read per recipient. An empty
    Bounce when every recipient was delivered, relayed or expanded."""
    if msg.get_content_type() != "multipart/report":
        return None
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            return None
        failures: list[Failure] = []
        for block in blocks[1:]:
            address = _recipient(block, "Original-Recipient") or _recipient(
                block, "Final-Recipient"
            )
            if not address or address.lower() in ours:
                continue
            action = str(block.get("Action") or "").strip().lower()
            if action in ("delivered", "relayed", "expanded"):
                continue
            status_line = str(block.get("Status") or "").strip()
            status = (status_line.split() or [""])[0]
            diagnostic = decode_header_value(str(block.get("Diagnostic-Code") or ""))
            # Some MTAs explain the status in a comment: "5.0.0 (recipient reached disk quota)".
            diagnostic = " ".join(
                (diagnostic.split(";", 1)[-1].strip(), status_line[len(status) :])
            )
            if not _WORDS_OR_CODE.search(diagnostic):
                # No diagnostic: the notice's own words about this recipient.
                diagnostic = f"{diagnostic} {_near(_notice_text(msg), address)}"
            failures.append(_judge(address, diagnostic, status, delayed=action == "delayed"))
        return Bounce(tuple(failures))
    return None


def _recipient(block: Message, name: str) -> str:
    value = str(block.get(name) or "")
    address = value.split(";", 1)[-1].strip().strip("<>")
    return address if _ADDRESS.fullmatch(address) else ""


def _judge(address: str, text: str, status: str = "", *, delayed: bool = False) -> Failure:
    """A recipient's reason and status from a report's Status and its diagnostic words."""
    enhanced = _ENHANCED.search(text)
    smtp = _SMTP.search(text)
    if not _ENHANCED.fullmatch(status):
        status = ""
    # A report's Status is the verdict; a code in the words only refines a generic one.
    if enhanced and (not status or (status.endswith(".0.0") and status[0] == enhanced[1])):
        status = enhanced.group(0)
    if not status and smtp:
        status = smtp.group(1)
    if not status and _TEMPORARY.search(text):
        status = "4.0.0"
    if delayed and not status.startswith("4"):
        status = "4.0.0"
    return Failure(address, status, _reason(status, text), text.strip()[:256])


def _reason(status: str, text: str) -> Reason:
    by_words = next((reason for reason, pattern in _WORDS if pattern.search(text)), None)
    code = _ENHANCED.fullmatch(status)
    by_code = _SUBJECT_DETAIL.get(f"{code[2]}.{code[3]}") if code else None
    if status.startswith("4") and by_code == Reason.POLICY:
        by_code = None
    soft_words = by_words in (None, Reason.POLICY, Reason.NETWORK)
    if status.startswith("4") and soft_words and _TEMPORARY.search(text):
        return Reason.TEMPORARY
    if by_code is None and code is None and by_words is None:
        by_code = _SMTP_MEANINGS.get(status)
    if by_code is not None:
        if by_code in DEAD_ADDRESS and by_words in _OVERRIDES_DEAD:
            return by_words
        if by_code == Reason.POLICY and by_words in (Reason.SPAM, Reason.BLOCKED):
            return by_words
        return by_code
    if by_words is not None:
        return by_words
    if status.startswith("4"):
        return Reason.TEMPORARY
    return Reason.OTHER


def _notice_text(msg: Message) -> str:
    """The notice's own words: its text parts, up to where the original message is quoted."""
    texts = []
    for part in body_parts(msg):
        if (
            part.get_content_maintype() != "text"
            or part.get_content_type() == "text/rfc822-headers"
        ):
            continue
        text = part_text(part)
        if part.get_content_type() == "text/html":
            text = re.sub(r"<[^>]+>", " ", text)
            text = re.sub(r"&lt;", "<", re.sub(r"&gt;", ">", text))
        texts.append(text)
    notice = "\n".join(texts)
    cut = _ORIGINAL.search(notice)
    return notice[: cut.start()] if cut else notice


def _quoted_addresses(msg: Message) -> set[str]:
    """Every address in a returned copy of the original (message/rfc822 or headers parts)."""
    found: set[str] = set()
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            found |= {address.lower() for address in _ADDRESS.findall(part.as_string())}
    return found


def _notice_recipients(notice: str, bystanders: set[str]) -> list[str]:
    """The recipients the notice's own lines name; else, when those lines are missing, the
    addresses of the notice's words that are neither ours, role addresses, nor quoted."""
    found = [
        _PREFIX.sub("", address.strip(".,;:'\"()[]"))
        for match in _RECIPIENT_LINES.finditer(notice)
        for address in match.groupdict().values()
        if address
    ]
    if not found:
        found = [
            address
            for line in notice.splitlines()
            if not _QUOTING_LINE.match(line)
            for address in _ADDRESS.findall(line)
            if not re.search(rf"\bfrom\s+<?{re.escape(address)}", line, re.IGNORECASE)
        ]
        found = [_PREFIX.sub("", address) for address in found]
    return list(
        dict.fromkeys(
            address
            for address in found
            if _ADDRESS.fullmatch(address)
            and address.lower() not in bystanders
            and address.split("@")[0].lower() not in _ROLE_LOCALS
        )
    )


# Lines of a notice that quote the original's header (Exchange's summary among them).
_QUOTING_LINE = re.compile(
    r"\s*(from|to|sender|reply-to|cc|bcc|list-[\w-]+|发件人|收件人列表|抄送)\s*[:：]", re.IGNORECASE
)
_PREFIX = re.compile(r"^(smtp|rfc822|mailto)[=:;]\s*", re.IGNORECASE)


def _near(notice: str, address: str) -> str:
    """The words about one recipient: from its first mention to the next recipient's block
    (a few lines), else the whole notice."""
    at = notice.lower().find(address.lower())
    if at < 0:
        return notice
    window = notice[max(0, at - 300) : at + 600]
    return window if (_ENHANCED.search(window) or _SMTP.search(window)) else notice


def _header_addresses(msg: Message, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in raw_headers(msg, name):
            found += _ADDRESS.findall(decode_header_value(value))
    return list(dict.fromkeys(found))
