"""What request handlers reach through the application."""

from dataclasses import dataclass

from aiohttp import web

from mycrmd.config import Config
from mycrmd.jobs.idle import IdleWatcher
from mycrmd.jobs.scheduler import Scheduler
from mycrmd.store.pool import Pool


@dataclass
class Services:
    """`config` is replaced when SIGHUP reloads the file."""

    pool: Pool
    scheduler: Scheduler
    config: Config
    idle: IdleWatcher | None = None  # IMAP IDLE push, made afresh when the mailbox changes


SERVICES = web.AppKey("services", Services)
