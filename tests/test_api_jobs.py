"""The jobs API: listing and starting jobs, and their logs."""

from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.jobs.joblog import job_logger
from tests.support.api import get_json


async def test_logs_serve_only_the_three_job_logs(client: TestClient, config: Config) -> None:
    job_logger("fetch", config.log_dir).info("folder=INBOX new=3")
    data = await get_json(client, "/api/logs/fetch")
    assert data["job"] == "fetch" and data["lines"][-1].endswith("INFO folder=INBOX new=3")
    assert (await get_json(client, "/api/logs/verify"))["lines"] == []
    for name in ("passwd", "..%2F..%2Fetc%2Fpasswd", "fetch.log", "%2Fetc%2Fpasswd"):
        assert (await client.get(f"/api/logs/{name}")).status == 404


async def test_a_log_shows_its_last_500_lines(client: TestClient, config: Config) -> None:
    logger = job_logger("verify", config.log_dir)
    for n in range(700):
        logger.info("line %d", n)
    lines = (await get_json(client, "/api/logs/verify"))["lines"]
    assert len(lines) == 500 and lines[-1].endswith("line 699") and lines[0].endswith("line 200")


async def test_jobs_can_be_listed_and_started(client: TestClient) -> None:
    names = [job["name"] for job in (await get_json(client, "/api/jobs"))["jobs"]]
    assert names == ["fetch", "verify", "backup"]
    response = await client.post("/api/jobs/verify/run")
    assert response.status == 202 and (await response.json())["outcome"] in ("started", "queued")
    assert (await client.post("/api/jobs/rm-rf/run")).status == 404
