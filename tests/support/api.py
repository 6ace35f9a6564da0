"""Calling the JSON API of a test client."""

from typing import Any

from aiohttp.test_utils import TestClient


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status == status, await response.text()
    return await response.json()
