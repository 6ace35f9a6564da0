"""Mail bodies and customers' rich-text comments as HTML safe to show: nh3 (ammonia) keeps
formatting and drops everything that runs, loads or escapes — scripts, event handlers,
javascript: and data: URLs, forms, frames, styles beyond a harmless list of properties (no
url(), so no tracking through CSS). Links get rel="noopener noreferrer".

Remote images survive sanitising on purpose: the page that shows a message blocks them with
its Content-Security-Policy until the user asks for that message's images.
"""

import re
from html import escape, unescape

import nh3

_TAGS = {
    "a",
    "abbr",
    "address",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
}
_EVERYWHERE = {"style", "title", "align", "dir", "lang"}
_ATTRIBUTES = {
    "*": _EVERYWHERE,
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "width", "bgcolor"},
    "td": {"colspan", "rowspan", "width", "valign", "bgcolor", "nowrap"},
    "th": {"colspan", "rowspan", "width", "valign", "bgcolor", "nowrap"},
    "tr": {"valign", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
}
# Layout and typography only: nothing here can carry a URL.
_STYLES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "line-height",
    "letter-spacing",
    "white-space",
    "vertical-align",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "max-width",
    "min-width",
    "height",
    "max-height",
    "min-height",
    "display",
    "float",
    "clear",
    "list-style-type",
}
_SCHEMES = {"http", "https", "mailto", "tel"}
_COLOUR_FUNCTIONS = re.compile(r"\b(?:rgba?|hsla?)\(", re.IGNORECASE)


def _style_values(tag: str, attribute: str, value: str) -> str | None:
    """Within the allowed properties, no function but colours and no CSS escapes: nothing
    that could become url(), expression() or similar in any browser's parser."""
    if attribute != "style":
        return value
    kept = [
        declaration
        for declaration in value.split(";")
        if declaration.strip()
        and "\\" not in declaration
        and "(" not in _COLOUR_FUNCTIONS.sub("", declaration)
    ]
    return ";".join(kept) or None


def clean_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        filter_style_properties=_STYLES,
        attribute_filter=_style_values,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_COMMENT_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "div",
    "em",
    "font",
    "i",
    "li",
    "ol",
    "p",
    "s",
    "span",
    "strike",
    "strong",
    "u",
    "ul",
}
_COMMENT_ATTRIBUTES = {"a": {"href"}, "font": {"color"}}
# The only characters nh3 changes in text without markup (found by trying every one; a test
# keeps it so): NUL dropped, CR made LF, & < > and no-break space written as entities.
_CHANGED_BY_CLEANING = frozenset("\x00\r&<>\xa0")


def clean_comment(html: str) -> str:
    """A customer's rich-text comment: formatting, lists, links and colour (as <font color>),
    no style attributes — the page that shows comments forbids inline styles."""
    if not _CHANGED_BY_CLEANING.intersection(html):
        return html  # plain text nh3 would give back as it is; a CSV import's usual comment
    return nh3.clean(
        html,
        tags=_COMMENT_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_COMMENT_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def text_to_html(text: str) -> str:
    """A plain-text body as HTML that keeps its line breaks."""
    return f'<div style="white-space: pre-wrap">{escape(text)}</div>'


_LINE_ENDS = re.compile(r"<br\s*/?>|</(?:p|div|li|blockquote)>", re.IGNORECASE)


def comment_text(html: str) -> str:
    """A stored comment as the plain text a spreadsheet shows (a CSV export): markup
    dropped, its line breaks kept; clean_comment() of it is what an import stores."""
    if "<" not in html and "&" not in html:
        return html
    return unescape(nh3.clean(_LINE_ENDS.sub("\n", html), tags=set())).strip()
