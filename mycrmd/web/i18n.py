"""The UI speaks Simplified Chinese like MyCRM, and English on request: `?lang=`, the `lang`
cookie, the language setting, or the browser's Accept-Language, in that order."""

from aiohttp import web

LANGUAGES = ("zh", "en")


def request_language(request: web.Request, setting: str = "auto") -> str:
    explicit = request.query.get("lang") or request.cookies.get("lang")
    if explicit in LANGUAGES:
        return explicit
    if setting in LANGUAGES:
        return setting
    return _accepted(request.headers.get("Accept-Language", ""))


def _accepted(header: str) -> str:
    """The first of zh/en by the header's q-values; Chinese when it names neither."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return "zh"
