"""An IMAP client on aioimaplib, with what it lacks for unattended use.

aioimaplib 2.0 (measured with Dovecot 2.3): its per-command timeout restarts with every line
and a dropped connection leaves a command waiting forever, so every command here runs under
an overall deadline and fails at once when the connection is lost; it has no STARTTLS, no
mailbox-name quoting, no modified UTF-7; EXAMINE does not enter the selected state; one
connection must not run two commands at once (a lock); its response handling recurses once per
line and copies the rest of what it was handed for every line, so fetches go in batches of
BATCH and what the socket delivers is handed over in slices of _SLICE (a 256 KB read that
arrived while the loop was busy held it for 0.3 s; sliced, for a few ms). Its IDLE
(idle_start, wait_server_push, idle_done) is used as it is, under the same lock and loss
watch; measured with Dovecot: a pushed APPEND reaches the database in 0.6 s (p95, loopback),
an idle connection costs about 0.08 s of CPU an hour (tests/bench/bench_idle.py).
"""

import asyncio
import re
import ssl
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import aioimaplib

from mycrmd import __version__
from mycrmd.mail import mutf7
from mycrmd.model.folders import FLAG_ROLES, NAME_ROLES, FolderRole
from mycrmd.model.words import Text

BATCH = 100
TEXT_LIMIT = 1024 * 1024  # body bytes fetched per mail: text parts come before attachments
_CONNECT_TIMEOUT = 15.0
_LINE_TIMEOUT = 30.0
_COMMAND_DEADLINE = 60.0
_FETCH_DEADLINE = 180.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_SLICE = 16 * 1024

Security = Literal["ssl", "starttls", "plain"]
T = TypeVar("T")


class _SlicingProtocol(aioimaplib.IMAP4ClientProtocol):
    greeting = ""

    async def welcome(self, command: bytes) -> None:
        """Kept: a provider's greeting names it when its host name does not."""
        self.greeting = command.decode("utf-8", "replace")
        await super().welcome(command)

    def data_received(self, d: bytes) -> None:
        for start in range(0, len(d), _SLICE):
            super().data_received(d[start : start + _SLICE])


class _Imap4(aioimaplib.IMAP4):
    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop,
        conn_lost_cb: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """aioimaplib's own, with the slicing protocol (it offers no other way to give one)."""
        self.protocol = _SlicingProtocol(loop or asyncio.get_running_loop(), conn_lost_cb)
        self._client_task = self.protocol.loop.create_task(
            self.protocol.loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )


class ImapError(Exception):
    """The server refused, failed or went away; `lost` when the connection is gone,
    `throttled` when the server asked us to slow down, `hint` what the user can do."""

    def __init__(
        self, message: str, *, lost: bool = False, throttled: bool = False, hint: Text | None = None
    ) -> None:
        super().__init__(message)
        self.lost = lost
        self.throttled = throttled
        self.hint = hint


class LoginRefused(ImapError):
    """The server said no to our credentials: retrying at once would only lock the account."""


# Response codes and words with which servers say "too much, later" (RFC 5530 LIMIT and
# UNAVAILABLE, Gmail's and Exchange's texts).
_THROTTLED = re.compile(
    r"\[(LIMIT|UNAVAILABLE|INUSE|OVERQUOTA)\]|throttl|too many|rate limit|try again later",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Folder:
    wire: str  # the name as the server sends it (modified UTF-7)
    name: str  # decoded, as people read it
    selectable: bool
    flags: frozenset[str] = frozenset()  # LIST flags, lower-cased: "\\sent", "\\noselect"
    delimiter: str = "/"

    @property
    def role(self) -> FolderRole | None:
        """Its special use: by the server's flag, else by the usual name of its last level."""
        for flag in self.flags:
            if flag in FLAG_ROLES:
                return FLAG_ROLES[flag]
        last = self.name.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.name
        return NAME_ROLES.get(last.strip().lower())


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    internaldate: datetime | None
    size: int
    raw: bytes  # the header and the first TEXT_LIMIT bytes of the body


def quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_date(day: date) -> str:
    """IMAP's date format, English month names whatever the locale."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


class ImapClient:
    def __init__(self, client: aioimaplib.IMAP4, lost: asyncio.Future[Exception | None]) -> None:
        self._client = client
        self._lost = lost
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls, host: str, port: int, security: Security, ca_file: str = ""
    ) -> "ImapClient":
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[Exception | None] = loop.create_future()

        def on_lost(exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(exc)

        context = ssl.create_default_context(cafile=ca_file or None)
        # IMAP4_SSL would drop conn_lost_cb; the base class takes both.
        client = _Imap4(
            host,
            port,
            timeout=_LINE_TIMEOUT,
            conn_lost_cb=on_lost,
            ssl_context=context if security == "ssl" else None,
        )
        imap = cls(client, lost)
        try:
            await asyncio.wait_for(client.wait_hello_from_server(), _CONNECT_TIMEOUT)
        except TimeoutError:
            imap.close()
            raise ImapError(
                f"no greeting from {host}:{port} within {_CONNECT_TIMEOUT:.0f} s"
            ) from None
        except (OSError, aioimaplib.AioImapException) as exc:
            imap.close()
            raise ImapError(f"cannot connect to {host}:{port}: {_reason(exc)}", lost=True) from None
        if security == "starttls":
            await imap._starttls(host, context)
        return imap

    async def _starttls(self, host: str, context: ssl.SSLContext) -> None:
        protocol = self._client.protocol
        if "STARTTLS" not in protocol.capabilities:
            self.close()
            raise ImapError("the server does not offer STARTTLS (set [mailbox] security)")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        response = await self._run(protocol.execute(command), _COMMAND_DEADLINE)
        _expect_ok(response, "STARTTLS")
        loop = asyncio.get_running_loop()
        try:
            protocol.transport = await loop.start_tls(
                protocol.transport, protocol, context, server_hostname=host
            )
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ImapError(f"STARTTLS failed: {_reason(exc)}", lost=True) from None
        # RFC 3501: capabilities must be asked again once TLS is on.
        await self._run(protocol.capability(), _COMMAND_DEADLINE)

    @property
    def greeting(self) -> str:
        return getattr(self._client.protocol, "greeting", "")

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(word.upper() for word in self._client.protocol.capabilities)

    async def login(self, user: str, password: str) -> None:
        response = await self._run(self._client.login(user, password), _COMMAND_DEADLINE)
        if response.result != "OK":
            raise LoginRefused(f"login refused for {user}: {_text(response)}")

    async def authenticate_xoauth2(self, user: str, token: str) -> None:
        """SASL XOAUTH2 (Google's and Microsoft's), the token sent as the initial response."""
        if "AUTH=XOAUTH2" not in self.capabilities:
            raise LoginRefused("the server does not offer AUTHENTICATE XOAUTH2")
        response = await self._run(self._client.xoauth2(user, token), _COMMAND_DEADLINE)
        if response.result != "OK":
            raise LoginRefused(f"XOAUTH2 refused for {user}: {_text(response)}")

    async def identify(self) -> None:
        """RFC 2971 ID, written as its grammar wants it: `ID ("name" "mycrmd" ...)`.

        NetEase refuses SELECT and EXAMINE from a client that has not identified itself, and
        answers aioimaplib's own `id()`, which puts spaces inside the parentheses, with BAD.
        """
        if "ID" not in self.capabilities:
            await self._run(self._client.protocol.capability(), _COMMAND_DEADLINE)
        if "ID" not in self.capabilities:
            return
        fields = ("name", "mycrmd", "version", __version__, "vendor", "mycrmd")
        protocol = self._client.protocol
        command = aioimaplib.Command(
            "ID",
            protocol.new_tag(),
            "(" + " ".join(quote(value) for value in fields) + ")",
            loop=protocol.loop,
        )
        response = await self._run(protocol.execute(command), _COMMAND_DEADLINE)
        _expect_ok(response, "ID")

    async def folders(self) -> list[Folder]:
        response = await self._run(self._client.list('""', '"*"'), _COMMAND_DEADLINE)
        _expect_ok(response, "LIST")
        return _parse_list(response.lines[:-1])

    async def status(self, folder: Folder) -> FolderStatus:
        response = await self._run(
            self._client.status(quote(folder.wire), "(UIDVALIDITY UIDNEXT)"), _COMMAND_DEADLINE
        )
        _expect_ok(response, f"STATUS {folder.name}")
        values = _status_values(b" ".join(bytes(line) for line in response.lines[:-1]))
        return FolderStatus(values.get("UIDVALIDITY", 0), values.get("UIDNEXT", 0))

    async def examine(self, folder: Folder) -> FolderStatus:
        """Open read-only: nothing we do can change the mailbox's flags."""
        response = await self._run(self._client.examine(quote(folder.wire)), _COMMAND_DEADLINE)
        _expect_ok(response, f"EXAMINE {folder.name}")
        # aioimaplib leaves the state at AUTH after EXAMINE; the mailbox is selected.
        self._client.protocol.state = aioimaplib.SELECTED
        joined = b" ".join(bytes(line) for line in response.lines)
        codes = {
            key.decode(): int(value)
            for key, value in re.findall(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]", joined)
        }
        return FolderStatus(codes.get("UIDVALIDITY", 0), codes.get("UIDNEXT", 0))

    async def uid_search(self, *criteria: str) -> list[int]:
        response = await self._run(
            self._client.uid_search(*criteria, charset=None), _COMMAND_DEADLINE
        )
        _expect_ok(response, "SEARCH")
        uids: list[int] = []
        for line in response.lines[:-1]:
            uids += [int(token) for token in bytes(line).split() if token.isdigit()]
        return sorted(set(uids))

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMail]:
        """The header and the first TEXT_LIMIT bytes of the body (BODY.PEEK: no \\Seen)."""
        if len(uids) > BATCH:
            raise ValueError(f"fetch at most {BATCH} mails at a time")
        items = f"(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.{TEXT_LIMIT}>)"
        uid_set = ",".join(str(uid) for uid in uids)
        response = await self._run(self._client.uid("fetch", uid_set, items), _FETCH_DEADLINE)
        _expect_ok(response, "FETCH")
        return _parse_fetch(response.lines[:-1])

    async def idle(self, renew: float) -> list[str]:
        """RFC 2177 IDLE in the selected mailbox until the server pushes a change or `renew`
        seconds pass (servers drop an IDLE after 30 minutes); the pushed lines, or none."""
        if "IDLE" not in self.capabilities:
            raise ImapError("the server does not offer IDLE")
        async with self._lock:
            try:
                ended = await asyncio.wait_for(self._client.idle_start(renew), _COMMAND_DEADLINE)
                waiting = asyncio.ensure_future(self._client.wait_server_push(renew + 5))
                await asyncio.wait({waiting, self._lost}, return_when=asyncio.FIRST_COMPLETED)
                if self._lost.done():
                    waiting.cancel()
                    raise ImapError(f"connection lost: {_reason(self._lost.result())}", lost=True)
                pushed = waiting.result()
                self._client.idle_done()
                await asyncio.wait_for(ended, _COMMAND_DEADLINE)
            except (TimeoutError, aioimaplib.AioImapException, OSError) as exc:
                self.close()
                raise ImapError(f"IDLE failed: {_reason(exc)}", lost=True) from None
        if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:  # the renewal came first
            return []
        return [bytes(line).decode("utf-8", "replace") for line in pushed]

    async def logout(self) -> None:
        try:
            await self._run(self._client.logout(), 5.0)
        except ImapError:
            pass
        finally:
            self.close()

    def close(self) -> None:
        transport = getattr(self._client.protocol, "transport", None)
        if transport is not None:
            transport.close()

    async def _run(self, command: Coroutine[Any, Any, T], deadline: float) -> T:
        """One command at a time, within `deadline` seconds, failing as soon as the
        connection is lost."""
        async with self._lock:
            if self._lost.done():
                command.close()  # never sent
                raise ImapError(f"connection lost: {_reason(self._lost.result())}", lost=True)
            task = asyncio.ensure_future(command)
            done, _ = await asyncio.wait(
                {task, self._lost}, timeout=deadline, return_when=asyncio.FIRST_COMPLETED
            )
            if task in done:
                try:
                    return task.result()
                except aioimaplib.CommandTimeout:
                    raise ImapError("the server stopped answering", lost=True) from None
                except (OSError, aioimaplib.AioImapException) as exc:
                    raise ImapError(f"IMAP error: {_reason(exc)}", lost=True) from None
            task.cancel()
            self.close()
            if self._lost.done():
                raise ImapError(f"connection lost: {_reason(self._lost.result())}", lost=True)
            raise ImapError(f"no answer within {deadline:.0f} s", lost=True)


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "closed by the server"
    return str(exc) or type(exc).__name__


def _text(response: aioimaplib.Response) -> str:
    last = response.lines[-1] if response.lines else b""
    return bytes(last).decode("utf-8", "replace").strip() or response.result


def _expect_ok(response: aioimaplib.Response, what: str) -> None:
    if response.result != "OK":
        text = _text(response)
        raise ImapError(
            f"{what} failed: {response.result} {text}", throttled=bool(_THROTTLED.search(text))
        )


_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')


def _parse_list(lines: Sequence[bytes | bytearray]) -> list[Folder]:
    folders = []
    items = iter(lines)
    for line in items:
        match = _LIST_LINE.match(bytes(line))
        if not match:
            continue
        raw = match["name"]
        literal = re.fullmatch(rb"\{(\d+)\}", raw)
        if literal:
            raw = bytes(next(items, b""))
        wire = _unquote(raw.decode("utf-8", "replace"))
        flags = frozenset(flag.lower() for flag in match["flags"].decode().split())
        selectable = not ({"\\noselect", "\\nonexistent"} & flags)
        delimiter = _unquote(match["delim"].decode()) if match["delim"] != b"NIL" else ""
        folders.append(Folder(wire, mutf7.decode(wire), selectable, flags, delimiter))
    return folders


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _status_values(line: bytes) -> dict[str, int]:
    inner = re.search(rb"\(([^()]*)\)\s*$", line)
    tokens = inner.group(1).split() if inner else []
    return {
        tokens[i].decode().upper(): int(tokens[i + 1])
        for i in range(0, len(tokens) - 1, 2)
        if tokens[i + 1].isdigit()
    }


_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_NUMBER_ITEM = re.compile(rb"\b(UID|RFC822\.SIZE) (\d+)")
_DATE_ITEM = re.compile(rb'INTERNALDATE "([^"]+)"')
_SECTION = rb"(BODY\[(?:HEADER|TEXT)\](?:<\d+>)?)"
_LITERAL_ITEM = re.compile(_SECTION + rb" \{(\d+)\}$")
_QUOTED_ITEM = re.compile(_SECTION + rb' (?:"((?:[^"\\]|\\.)*)"|NIL)')


def _parse_fetch(lines: Sequence[bytes | bytearray]) -> list[FetchedMail]:
    """FETCH responses: lines with literals between them, e.g.
    `1 FETCH (UID 5 ... BODY[HEADER] {49}`, <49 bytes>, ` BODY[TEXT]<0> {6}`, <6 bytes>, `)`."""
    records: list[dict[str, object]] = []
    record: dict[str, object] | None = None
    pending: str | None = None
    for item in lines:
        if isinstance(item, bytearray):
            if record is not None and pending:
                record[pending] = bytes(item)
            pending = None
            continue
        start = _FETCH_START.match(item)
        if start:
            record = {}
            records.append(record)
        if record is None:
            continue
        for key, value in _NUMBER_ITEM.findall(item):
            record[key.decode()] = int(value)
        if date_match := _DATE_ITEM.search(item):
            record["INTERNALDATE"] = date_match.group(1).decode()
        for key, value in _QUOTED_ITEM.findall(item):
            record[_section(key)] = value
        literal = _LITERAL_ITEM.search(item)
        pending = _section(literal.group(1)) if literal else None
    mails = []
    for found in records:
        header = found.get("HEADER")
        if "UID" not in found or not isinstance(header, bytes):
            continue  # an unsolicited FETCH (a flag change), not an answer
        text = found.get("TEXT")
        mails.append(
            FetchedMail(
                uid=int(found["UID"]),  # type: ignore[call-overload]
                internaldate=_internaldate(str(found.get("INTERNALDATE", ""))),
                size=int(found.get("RFC822.SIZE", 0)),  # type: ignore[call-overload]
                raw=header + (text if isinstance(text, bytes) else b""),
            )
        )
    return mails


def _section(key: bytes) -> str:
    return "HEADER" if key.startswith(b"BODY[HEADER]") else "TEXT"


def _internaldate(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
