"""The settings kept in the `config` table (R-DB4), each defined once: its name, what it
holds, its default, its range or choices, whether it is a secret and who may change it.

The migration seeds the defaults, the jobs and the follow-up rule read typed values through
`number()` and `text()`, the settings API checks changes with `Setting.check()`, and the
OpenAPI document and the settings form are built from the same entries.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from mycrmd.model.customer import IMPORTANCE
from mycrmd.model.numbers import whole_number
from mycrmd.model.words import Text

OPERATORS = ("=", ">", ">=")  # the follow-up rule's comparison of importance (R-FU1)
THEMES = ("default", "gray", "black", "metro")
LANGUAGES = ("zh", "en")
LANGUAGE_CHOICES = ("auto", *LANGUAGES)
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]{1,255}")


class SettingKind(StrEnum):
    WHOLE = "whole"  # a whole number within [low, high]
    CHOICE = "choice"
    TEXT = "text"
    HOST = "host"  # a server name or address
    CADENCE = "cadence"  # JSON text: days between follow-ups per rating, {"5": 14, "4": 21}


class Refused(ValueError):
    """A value a setting cannot take; `reason` says why, for the user."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


@dataclass(frozen=True)
class Setting:
    name: str
    kind: SettingKind
    label: Text
    default: str = ""
    seeded: bool = False  # written into a new database's config table
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    max_length: int = 255
    min_length: int = 0  # of a text that is not empty
    secret: bool = False  # never shown, never logged
    editable: bool = True  # by people, through the settings API; else kept by the jobs
    edited_in: str = ""  # where the UI edits it: "parameters" (参数设置), "followup", "menu"
    # The secret this setting says where to send: changing it needs that secret again in the
    # same change, or the stored one would go to whoever the new value names.
    guards: str = ""

    def parse(self, raw: str | None) -> int | str:
        """The stored text as its value; what cannot be read gives the default."""
        text = (raw or "").strip()
        if self.kind is SettingKind.WHOLE:
            number = whole_number(text)
            return (
                number
                if number is not None and self.low <= number <= self.high
                else int(self.default)
            )
        if self.kind is SettingKind.CHOICE:
            return text if text in self.choices else self.default
        if self.kind is SettingKind.CADENCE:
            try:
                return _cadence_text(text) if text else ""
            except Refused:
                return self.default
        if self.secret:
            return raw or ""
        return text or self.default

    def check(self, value: Any) -> str:
        """A person's new value as it will be stored, or Refused."""
        if self.kind is SettingKind.WHOLE:
            number = None if isinstance(value, bool) else whole_number(str(value))
            if number is None or not self.low <= number <= self.high:
                raise Refused(
                    Text(
                        f"必须是 {self.low} 到 {self.high} 的整数",
                        f"must be a number from {self.low} to {self.high}",
                    )
                )
            return str(number)
        if self.kind is SettingKind.CHOICE:
            if value not in self.choices:
                listed = " ".join(self.choices)
                raise Refused(Text(f"必须是 {listed} 之一", f"must be one of {listed}"))
            return str(value)
        if not isinstance(value, str) or len(value) > self.max_length:
            raise Refused(
                Text(
                    f"必须是不超过 {self.max_length} 个字符的文本",
                    f"must be text of at most {self.max_length} characters",
                )
            )
        text = value.strip()
        if self.kind is SettingKind.CADENCE:
            return _cadence_text(text) if text else ""
        if 0 < len(text) < self.min_length:
            raise Refused(
                Text(
                    f"至少需要 {self.min_length} 个字符",
                    f"must be {self.min_length} characters or more",
                )
            )
        if self.kind is SettingKind.HOST and text and not _HOST.fullmatch(text):
            raise Refused(Text("不是有效的服务器地址", "is not a server name or address"))
        return text


CADENCE_DAYS = (1, 36500)


def _cadence_text(text: str) -> str:
    """A cadence map checked and written one way: ratings as keys in order, days as numbers."""
    refusal = Refused(
        Text(
            f'必须是 JSON 对象，如 {{"5": 14, "4": 21}}：评级 0–5，天数 {CADENCE_DAYS[0]}–'
            f"{CADENCE_DAYS[1]}",
            f'must be a JSON object such as {{"5": 14, "4": 21}}: ratings 0-5, days '
            f"{CADENCE_DAYS[0]}-{CADENCE_DAYS[1]}",
        )
    )
    try:
        found = json.loads(text)
    except ValueError:
        raise refusal from None
    if not isinstance(found, dict):
        raise refusal
    cadence: dict[int, int] = {}
    for key, days in found.items():
        rating = whole_number(key)
        if rating is None or rating not in IMPORTANCE:
            raise refusal
        if isinstance(days, bool) or not isinstance(days, int):
            raise refusal
        if not CADENCE_DAYS[0] <= days <= CADENCE_DAYS[1]:
            raise refusal
        cadence[rating] = days
    if not cadence:
        return ""
    return json.dumps({str(rating): cadence[rating] for rating in sorted(cadence, reverse=True)})


def cadence(values: Mapping[str, str]) -> dict[int, int]:
    """Days between follow-ups per rating; empty when unset (MyCRM's single rule applies)."""
    stored = BY_NAME["followup_days_by_importance"].parse(values.get("followup_days_by_importance"))
    assert isinstance(stored, str)
    return {int(rating): days for rating, days in json.loads(stored).items()} if stored else {}


def _whole(name: str, label: Text, default: int, low: int, high: int, edited_in: str) -> Setting:
    return Setting(
        name, SettingKind.WHOLE, label, str(default), True, low, high, edited_in=edited_in
    )


_FOLLOWUP, _PARAMETERS = "followup", "parameters"
_MAIL_CREDENTIAL = "mail_password"

SETTINGS: tuple[Setting, ...] = (
    _whole(
        "followup_days", Text("跟进间隔天数", "Follow-up interval (days)"), 30, 1, 36500, _FOLLOWUP
    ),
    Setting(
        "followup_importance_operators",
        SettingKind.CHOICE,
        Text("跟进评级比较", "Importance comparison"),
        ">=",
        seeded=True,
        choices=OPERATORS,
        edited_in=_FOLLOWUP,
    ),
    _whole("followup_importance", Text("跟进客户评级", "Follow-up importance"), 3, 0, 5, _FOLLOWUP),
    # Unset: MyCRM's single rule above. Set: each listed rating has its own interval (the
    # company rule per that interval) and ratings not listed are not followed up.
    Setting(
        "followup_days_by_importance",
        SettingKind.CADENCE,
        Text("按评级的跟进间隔（天）", "Follow-up interval by rating (days)"),
        max_length=200,
        edited_in=_FOLLOWUP,
    ),
    _whole(
        "monitor_mail_days", Text("邮箱监控天数上限", "Look back (days)"), 10, 1, 36500, _PARAMETERS
    ),
    _whole(
        "mail_reserved_days",
        Text("邮箱消息保存天数", "Keep messages (days)"),
        365,
        1,
        36500,
        _PARAMETERS,
    ),
    Setting(
        "mail_host",
        SettingKind.HOST,
        Text("邮箱服务器地址", "IMAP server"),
        edited_in=_PARAMETERS,
        guards=_MAIL_CREDENTIAL,
    ),
    replace(
        _whole("mail_port", Text("邮箱服务器端口", "IMAP port"), 993, 1, 65535, _PARAMETERS),
        guards=_MAIL_CREDENTIAL,
    ),
    Setting(
        "mail_username",
        SettingKind.TEXT,
        Text("邮箱服务器账号", "IMAP account"),
        edited_in=_PARAMETERS,
        guards=_MAIL_CREDENTIAL,
    ),
    Setting(
        _MAIL_CREDENTIAL,
        SettingKind.TEXT,
        Text("邮箱服务器密码", "IMAP password"),
        min_length=4,  # what safety/redact.py can mask in logs without masking ordinary words
        secret=True,
        edited_in=_PARAMETERS,
    ),
    Setting(
        "theme",
        SettingKind.CHOICE,
        Text("外观主题", "Theme"),
        "default",
        seeded=True,
        choices=THEMES,
        edited_in="menu",
    ),
    Setting(
        "language",
        SettingKind.CHOICE,
        Text("界面语言", "Language"),
        "auto",
        choices=LANGUAGE_CHOICES,
        edited_in=_PARAMETERS,
    ),
    Setting(
        "woocommerce_api",
        SettingKind.TEXT,
        Text("WooCommerce API", "WooCommerce API"),
        max_length=1000,
    ),
    # The verify job's 61-minute guard (R-JOB2): when the last run that asked the API ended.
    Setting(
        "mail_checked_date",
        SettingKind.TEXT,
        Text("上次邮箱检查时间", "Last address check"),
        editable=False,
    ),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}
SECRETS = tuple(setting.name for setting in SETTINGS if setting.secret)
SEEDED = {setting.name: setting.default for setting in SETTINGS if setting.seeded}


def number(values: Mapping[str, str], name: str) -> int:
    """A whole-number setting's value from the config table's rows."""
    value = BY_NAME[name].parse(values.get(name))
    assert isinstance(value, int), name
    return value


def text(values: Mapping[str, str], name: str) -> str:
    value = BY_NAME[name].parse(values.get(name))
    assert isinstance(value, str), name
    return value
