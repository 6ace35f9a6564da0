"""The comment sanitiser's shortcut for plain text gives exactly what nh3 would."""

import nh3
from hypothesis import given
from hypothesis import strategies as st

from mycrmd.safety import sanitize
from mycrmd.safety.sanitize import clean_comment


def test_the_shortcut_knows_every_character_nh3_changes_in_plain_text() -> None:
    # every character of the BMP, and every 13th beyond it
    codes = [*range(0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x110000, 13)]
    changed = {chr(c) for c in codes if nh3.clean(f"a{chr(c)}b") != f"a{chr(c)}b"}
    assert changed == set(sanitize._CHANGED_BY_CLEANING)


@given(st.text())
def test_plain_or_not_the_result_is_nh3s(text: str) -> None:
    full = nh3.clean(
        text,
        tags=sanitize._COMMENT_TAGS,
        clean_content_tags={"script", "style"},
        attributes=sanitize._COMMENT_ATTRIBUTES,
        url_schemes=sanitize._SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    assert clean_comment(text) == full


def test_markup_is_still_cleaned() -> None:
    assert clean_comment('<b onclick="x()">好</b><script>alert(1)</script>') == "<b>好</b>"
    assert clean_comment("a < b & c") == "a &lt; b &amp; c"
