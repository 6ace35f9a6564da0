"""The web app served in this process on a test's pool and configuration, its jobs registered
but not started."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from mycrmd.config import Config
from mycrmd.jobs import registry
from mycrmd.jobs.scheduler import Scheduler
from mycrmd.store.pool import Pool
from mycrmd.web.app import create_app
from mycrmd.web.services import Services


@asynccontextmanager
async def serving(pool: Pool, config: Config) -> AsyncIterator[TestClient]:
    scheduler = Scheduler(pool, config, registry.jobs())
    app = create_app(Services(pool=pool, scheduler=scheduler, config=config))
    async with TestClient(TestServer(app)) as client:
        yield client
