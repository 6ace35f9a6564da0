"""A stand-in for verify-email.org's guest API on 127.0.0.1, replying as its documentation
shows (the original README), or with the rate-limit text, a 500, or garbage, per address."""

from collections.abc import Callable
from urllib.parse import unquote

from aiohttp import web

RATE_LIMIT_TEXT = '"You have reached the limit of 5 emails per hour"'

Reply = Callable[[str], web.Response]


def documented(status: int, log: str) -> Reply:
    def reply(address: str) -> web.Response:
        return web.json_response(
            {"email": address, "response": {"status": status, "log": log}, "credits": 4}
        )

    return reply


VALID = documented(1, "Success")
DOES_NOT_EXIST = documented(0, "MailboxDoesNotExist")
CATCH_ALL = documented(0, "ServerIsCatchAll")
UNKNOWN = documented(0, "SmtpConnectionFailure")


def rate_limited(address: str) -> web.Response:
    return web.Response(text=RATE_LIMIT_TEXT, content_type="text/html")


def server_error(address: str) -> web.Response:
    return web.Response(status=500, text="Internal Server Error")


def garbage(address: str) -> web.Response:
    return web.Response(text="<html>maintenance</html>", content_type="text/html")


class FakeVerifyApi:
    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.asked: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/home/verify-as-guest/{address:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/home/verify-as-guest/"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        address = unquote(request.match_info["address"])
        self.asked.append(address)
        return self.replies.get(address, VALID)(address)
