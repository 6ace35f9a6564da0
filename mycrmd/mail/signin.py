"""Logging in to a mail provider as it wants it: LOGIN or XOAUTH2, then ID, with a hint the
user can act on when the provider says no."""

import asyncio
import shlex
from dataclasses import dataclass

from mycrmd.mail.imap import ImapClient, ImapError, LoginRefused
from mycrmd.mail.providers import provider_for

_TOKEN_DEADLINE = 30.0
_TOKEN_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    token_command: str = ""  # prints an OAuth 2.0 access token: XOAUTH2 instead of LOGIN


async def sign_in(client: ImapClient, host: str, credentials: Credentials) -> None:
    """Authenticated and identified, or ImapError (LoginRefused for credentials refused)."""
    try:
        if credentials.token_command:
            token = await access_token(credentials.token_command)
            await client.authenticate_xoauth2(credentials.user, token)
        else:
            await client.login(credentials.user, credentials.password)
    except LoginRefused as exc:
        provider = provider_for(host, client.greeting)
        raise LoginRefused(str(exc), hint=provider.login_hint if provider else None) from None
    await client.identify()


async def access_token(command: str) -> str:
    """The command's first line of output. Neither its output nor its errors are logged: they
    may hold the token or a refresh secret."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ImapError(f"[mailbox] oauth2_token_command cannot be read: {exc}") from None
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        raise ImapError(f"[mailbox] oauth2_token_command cannot run: {exc.strerror}") from None
    try:
        output, _ = await asyncio.wait_for(process.communicate(), _TOKEN_DEADLINE)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ImapError(
            f"[mailbox] oauth2_token_command gave no token within {_TOKEN_DEADLINE:.0f} s"
        ) from None
    token = output[:_TOKEN_LIMIT].decode("ascii", "replace").strip().splitlines()
    if process.returncode != 0 or not token or not token[0].strip():
        raise ImapError(
            f"[mailbox] oauth2_token_command printed no token (exit status {process.returncode})"
        )
    return token[0].strip()
