"""The settings API: read under MyCRM's names, saved all or nothing, the password write-only."""

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mycrmd.store import config_table
from mycrmd.store.pool import Pool
from tests.support.api import get_json


async def patch_settings(client: TestClient, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.patch("/api/settings", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_settings_are_read_under_their_names_and_the_password_never_leaves(
    client: TestClient, pool: Pool
) -> None:
    await config_table.put(pool, {"mail_password": "imap-pw-9931", "mail_host": "imap.example.com"})
    data = await get_json(client, "/api/settings")
    assert data["mail_host"] == "imap.example.com"
    assert data["monitor_mail_days"] == "10" and data["followup_importance_operators"] == ">="
    assert data["mail_password_set"] is True
    assert "mail_password" not in data
    assert "imap-pw-9931" not in str(data)


async def test_settings_are_saved_all_or_nothing(client: TestClient, pool: Pool) -> None:
    saved = await patch_settings(
        client,
        {
            "followup_days": 45,
            "followup_importance_operators": ">",
            "mail_port": "143",
            "theme": "black",
        },
    )
    assert (saved["followup_days"], saved["followup_importance_operators"]) == ("45", ">")
    assert saved["mail_port"] == "143" and saved["theme"] == "black"
    error = (await patch_settings(client, {"followup_days": 60, "mail_port": 70000}, 400))["error"]
    assert error["field"] == "mail_port"
    assert await config_table.get(pool, "followup_days") == "45", "nothing saved"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"followup_days": 0}, "followup_days", "invalid_setting"),
        ({"followup_days": "-3"}, "followup_days", "invalid_setting"),
        ({"followup_days": 1.5}, "followup_days", "invalid_setting"),
        ({"monitor_mail_days": "ten"}, "monitor_mail_days", "invalid_setting"),
        ({"mail_reserved_days": True}, "mail_reserved_days", "invalid_setting"),
        ({"followup_importance": 6}, "followup_importance", "invalid_setting"),
        (
            {"followup_importance_operators": "<"},
            "followup_importance_operators",
            "invalid_setting",
        ),
        (
            {"followup_importance_operators": ">= 1 OR 1=1"},
            "followup_importance_operators",
            "invalid_setting",
        ),
        ({"mail_host": "imap example.com"}, "mail_host", "invalid_setting"),
        ({"mail_port": 0}, "mail_port", "invalid_setting"),
        ({"mail_password": "abc"}, "mail_password", "invalid_setting"),  # too short to mask
        ({"theme": "neon"}, "theme", "invalid_setting"),
        ({"language": "fr"}, "language", "invalid_setting"),
        ({"mail_checked_date": "2000-01-01 00:00:00"}, "mail_checked_date", "field_not_editable"),
        ({"admin_password": "x"}, "admin_password", "unknown_setting"),
    ],
)
async def test_bad_settings_are_refused_naming_them(
    client: TestClient, body: dict[str, Any], field: str, code: str
) -> None:
    error = (await patch_settings(client, body, 400))["error"]
    assert (error["field"], error["code"]) == (field, code)


async def test_the_password_is_write_only_and_can_be_cleared(
    client: TestClient, pool: Pool
) -> None:
    saved = await patch_settings(client, {"mail_password": "secret-1"})
    assert saved["mail_password_set"] is True and "secret-1" not in str(saved)
    assert await config_table.get(pool, "mail_password") == "secret-1"
    assert (await patch_settings(client, {"mail_password": ""}))["mail_password_set"] is False


@pytest.mark.parametrize(
    "change", [{"mail_host": "imap.attacker.example"}, {"mail_port": 143}, {"mail_username": "x"}]
)
async def test_the_mail_password_goes_elsewhere_only_when_entered_again(
    client: TestClient, pool: Pool, change: dict[str, Any]
) -> None:
    stored = {"mail_password": "imap-pw-9931", "mail_host": "imap.example.com"}
    await config_table.put(pool, {**stored, "mail_username": "me", "mail_port": "993"})
    refused = await patch_settings(client, change, 400)
    assert refused["error"]["field"] == "mail_password"
    assert (await config_table.load(pool))["mail_host"] == "imap.example.com", "nothing saved"
    same = {"mail_host": "imap.example.com", "mail_port": "993", "mail_username": "me"}
    await patch_settings(client, same)  # the UI's unchanged values need no password
    await patch_settings(client, {**change, "mail_password": "new-pw-1234"})
    values = await config_table.load(pool)
    assert values["mail_password"] == "new-pw-1234"
    assert all(values[name] == str(value) for name, value in change.items())


async def test_every_refused_setting_is_reported_at_once_by_its_label(
    client: TestClient, pool: Pool
) -> None:
    body = {"mail_reserved_days": "ten", "followup_days": 60, "mail_port": 0, "theme": "neon"}
    error = (await patch_settings(client, body, 400))["error"]
    assert error["code"] == "invalid_setting" and error["field"] == "mail_reserved_days"
    fields = {item["field"]: item["message"] for item in error["fields"]}
    assert set(fields) == {"mail_reserved_days", "mail_port", "theme"}
    for name, message in fields.items():
        assert name not in message, "a setting is named by its label, not its key"
        assert message in error["message"]
    assert fields["mail_reserved_days"].startswith("邮箱消息保存天数")
    assert await config_table.get(pool, "followup_days") != "60", "nothing saved"
    response = await client.patch(
        "/api/settings", json={"mail_port": 0}, headers={"Accept-Language": "en"}
    )
    error = (await response.json())["error"]
    assert error["fields"] == [{"field": "mail_port", "message": error["message"]}]
    assert "mail_port" not in error["message"] and "must be a number" in error["message"]
