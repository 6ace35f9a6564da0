"""A mail provider's IMAP front in front of the real Dovecot, on loopback: it speaks IMAP to
mycrmd and does what the provider does (its greeting, its capabilities, its refusals), and
passes everything else to Dovecot's plain port unchanged.

What each provider does is a `Quirks`: NetEase's refusal of SELECT/EXAMINE before a well-formed
ID, Outlook's XOAUTH2-only login, special-use LIST flags, throttled FETCHes.
"""

import asyncio
import base64
import contextlib
import re
from dataclasses import dataclass, field

from tests.support.dovecot import Dovecot, MailUser

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_WELL_FORMED_ID = re.compile(rb'^\((?:"[^"]*"|NIL)(?: (?:"[^"]*"|NIL))*\)$|^NIL$')


@dataclass
class Quirks:
    greeting: str = "* OK IMAP ready"
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
    require_id: bool = False  # NetEase: SELECT/EXAMINE refused before ID
    login_refusal: str = ""  # LOGIN answered NO with this text
    login_echo: bool = False  # LOGIN answered NO quoting its arguments, as they were sent
    xoauth2_token: str = ""  # AUTHENTICATE XOAUTH2 accepted with this bearer token
    special_use: dict[str, str] = field(default_factory=dict)  # wire name → flag to add
    throttle_fetches: int = 0  # this many UID FETCHes answered NO [UNAVAILABLE]
    # What was seen, for the tests.
    id_commands: list[bytes] = field(default_factory=list)
    logins: int = 0


class ProviderProxy:
    def __init__(self, dovecot: Dovecot, user: MailUser, quirks: Quirks) -> None:
        self.dovecot = dovecot
        self.user = user
        self.quirks = quirks
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> "ProviderProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.dovecot.plain_port)
        try:
            await up_reader.readline()  # Dovecot's greeting: ours replaces it
            writer.write(self._rewrite(self.quirks.greeting.encode() + b"\r\n"))
            await writer.drain()
            downstream = asyncio.ensure_future(self._relay_down(up_reader, writer))
            await self._relay_up(reader, writer, up_writer)
            downstream.cancel()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            for stream in (writer, up_writer):
                stream.close()

    async def _relay_up(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: asyncio.StreamWriter,
    ) -> None:
        identified = False
        while line := await reader.readline():
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            verb, _, args = rest.partition(b" ")
            verb = verb.upper()
            if verb == b"UID" and args.upper().startswith(b"FETCH"):
                verb = b"UID FETCH"
            answer = self._answer(tag, verb, args, identified)
            if verb == b"ID" and b"\r\n" + tag + b" OK" in answer:
                identified = True
            if answer == b"LOGIN":  # a good token: Dovecot gets the user's own login
                upstream.write(tag + b' LOGIN "%s" "%s"\r\n' % self._credentials())
            elif answer:
                writer.write(answer)
                await writer.drain()
            else:
                upstream.write(line)
            await upstream.drain()

    def _credentials(self) -> tuple[bytes, bytes]:
        return self.user.name.encode(), self.user.password.encode()

    def _answer(self, tag: bytes, verb: bytes, args: bytes, identified: bool) -> bytes:
        """What the provider answers itself; b"" to pass the command on."""
        quirks = self.quirks
        if verb == b"ID":
            quirks.id_commands.append(args)
            if not _WELL_FORMED_ID.match(args):
                return tag + b" BAD Command syntax error\r\n"
            return b'* ID ("name" "provider")\r\n' + tag + b" OK ID completed\r\n"
        if verb in (b"SELECT", b"EXAMINE") and quirks.require_id and not identified:
            return tag + b" NO SELECT Unsafe Login. Please contact kefu@188.com for help\r\n"
        if verb == b"LOGIN":
            quirks.logins += 1
            if quirks.login_refusal:
                return tag + b" NO " + quirks.login_refusal.encode() + b"\r\n"
            if quirks.login_echo:
                return tag + b" NO LOGIN " + args + b" refused\r\n"
        if verb == b"AUTHENTICATE":
            mechanism, _, initial = args.partition(b" ")
            sent = base64.b64decode(initial or b"=").decode("utf-8", "replace")
            wanted = f"user={self.user.name}\x01auth=Bearer {quirks.xoauth2_token}\x01\x01"
            if mechanism.upper() == b"XOAUTH2" and quirks.xoauth2_token and sent == wanted:
                return b"LOGIN"
            return tag + b" NO [AUTHENTICATIONFAILED] AUTHENTICATE failed.\r\n"
        if verb == b"UID FETCH" and quirks.throttle_fetches > 0:
            quirks.throttle_fetches -= 1
            return tag + b" NO [UNAVAILABLE] Request is throttled. Try again later.\r\n"
        return b""

    async def _relay_down(
        self, upstream: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while line := await upstream.readline():
            literal = _LITERAL.search(line)
            writer.write(self._rewrite(line))
            if literal:
                writer.write(await upstream.readexactly(int(literal.group(1))))
            await writer.drain()

    def _rewrite(self, line: bytes) -> bytes:
        quirks = self.quirks
        if b"CAPABILITY " in line:
            words = [
                word
                for word in line.rstrip(b"\r\n").split(b" ")
                if word.rstrip(b"]").decode() not in quirks.capabilities_drop
            ]
            at = next(
                (i + 1 for i, w in enumerate(words) if w.lstrip(b"[").upper() == b"CAPABILITY"),
                len(words),
            )
            words[at:at] = [word.encode() for word in quirks.capabilities_add]
            return b" ".join(words) + b"\r\n"
        match = re.match(rb'^\* LIST \(([^)]*)\) (".*?"|NIL) (.*)\r\n$', line)
        if match:
            name = match.group(3).strip(b'"').decode()
            flag = quirks.special_use.get(name)
            if flag:
                flags = (match.group(1) + b" " + flag.encode()).strip()
                return b"* LIST (%s) %s %s\r\n" % (flags, match.group(2), match.group(3))
        return line
