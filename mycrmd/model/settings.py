"""The settings kept in the `config` table (R-DB4), each defined once: its name, what it
holds, its default, its range or choices, whether it is a secret and who may change it.

The migration seeds the defaults, the jobs and the follow-up rule read typed values through
`number()` and `text()`, the settings API checks changes with `Setting.check()`, and the
OpenAPI document and the settings form are built from the same entries.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

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
