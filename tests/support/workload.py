"""What the resilience tests and the soak script do to a daemon: mail in Dovecot, CSV files,
the mailbox settings, uploads and job runs, over the daemon's own HTTP API."""

from collections.abc import Iterator
from pathlib import Path

import aiohttp

from tests.support import mail_samples as samples
from tests.support.certs import ServerCertificate
from tests.support.daemon_process import Daemon
from tests.support.dovecot import Dovecot, MailUser

FOLDERS = ("INBOX", "Sent", "Archive", "客户")


def mails(count: int, start: int = 0, size: int = 0) -> Iterator[bytes]:
    for n in range(start, start + count):
        subject = f"询价 第{n}号" if n % 5 < 2 else f"Order {n}"
        yield samples.plain(
            message_id=f"m{n}@buyer.example",
            sender=f"Buyer {n} <buyer{n % 500}@buyer.example>",
            to=samples.ME,
            subject=subject,
            body=("x" * 76 + "\r\n") * (size // 78) if size else f"mail {n}",
        )


def csv_file(path: Path, rows: int, comment: str = "") -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("Email,Name,Company,Comment\n")
        for n in range(rows):
            out.write(f"c{n}@import.example,客户{n},公司{n % 97},{comment}\n")
    return path


def mailbox_toml(dovecot: Dovecot, certificate: ServerCertificate) -> str:
    return (
        f'[mailbox]\naddress = "{samples.ME}"\nadmin = "{samples.ADMIN_NAME}"\n'
        f'ca_file = "{certificate.ca_file}"\n'
    )


async def point_at(daemon: Daemon, dovecot: Dovecot, user: MailUser) -> None:
    settings = {
        "mail_host": "127.0.0.1",
        "mail_port": str(dovecot.ssl_port),
        "mail_username": user.name,
        "mail_password": user.password,
    }
    async with (
        aiohttp.ClientSession() as http,
        http.patch(f"{daemon.url}/api/settings", json=settings) as response,
    ):
        assert response.status == 200, await response.text()


async def api(daemon: Daemon, path: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(daemon.url + path) as response:
        assert response.status == 200, (path, response.status, await response.text())
        return await response.json()


async def runs(daemon: Daemon, job: str) -> list[dict]:
    jobs = {job["name"]: job for job in (await api(daemon, "/api/jobs"))["jobs"]}
    return jobs[job]["runs"]


async def finished_runs(daemon: Daemon, job: str) -> list[dict]:
    return [run for run in await runs(daemon, job) if run["finished_at"]]


async def upload(daemon: Daemon, path: Path, within: float = 600) -> dict:
    form = aiohttp.FormData()
    form.add_field("csv_file", path.open("rb"), filename=path.name, content_type="text/csv")
    timeout = aiohttp.ClientTimeout(total=within)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.post(f"{daemon.url}/api/import", data=form) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def fill_folders(dovecot: Dovecot, user: MailUser, count: int) -> None:
    """`count` mails spread over FOLDERS."""
    await dovecot.create(user, *FOLDERS[1:])
    share = count // len(FOLDERS)
    for index, folder in enumerate(FOLDERS):
        await dovecot.deliver(user, folder, mails(share, start=index * share))
