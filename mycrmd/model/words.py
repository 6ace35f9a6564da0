"""Words for the user, in both languages the UI speaks."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def in_(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


def localized(message: "Text | str", language: str) -> str:
    return message.in_(language) if isinstance(message, Text) else message
