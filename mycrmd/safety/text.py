"""A mail's words without its markup: what the search indexes and quotes from. Tags, scripts,
styles and comments never reach the index, so searching for `div` finds no mail by its
layout."""

from html import unescape
from html.parser import HTMLParser

_SKIPPED = frozenset({"script", "style", "head", "title", "template"})
_BREAKS = frozenset(
    {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BREAKS or tag == "td":
            self.parts.append("\n" if tag in _BREAKS else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment, runs of blanks made one space or one line."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return unescape("\n".join(line for line in lines if line))
