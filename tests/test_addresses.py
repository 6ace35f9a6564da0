"""Address syntax: the fast path never accepts what email-validator refuses; IDN, quoted and
literal forms are addresses; several addresses in a cell are split."""

import string

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mycrmd.customers.addresses import (
    _PLAIN,
    InvalidAddress,
    ascii_domain,
    check_address,
    split_addresses,
)

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
local_parts = st.lists(st.text(ATEXT, min_size=1, max_size=12), min_size=1, max_size=4).map(
    ".".join
)
labels = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=20)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=6),
)


@settings(max_examples=3000, deadline=None)
@given(st.builds("{}@{}".format, local_parts, domains))
def test_the_fast_path_accepts_only_what_email_validator_accepts(address: str) -> None:
    if not _PLAIN.fullmatch(address):
        return
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        pytest.fail(f"fast path accepted {address!r}, which email-validator refuses: {exc}")


@settings(max_examples=500, deadline=None)
@given(st.emails())
def test_what_email_validator_accepts_is_an_address(address: str) -> None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        with pytest.raises(InvalidAddress):
            check_address(address)
    else:
        assert check_address(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "zhang.san@example.cn",
        "  padded@example.com  ",
        "josé@bücher.de",
        "张三@例子.中国",
        '"john smith"@example.com',
        "user@[192.0.2.1]",
        "o'brien+crm@sub.example.co.uk",
    ],
)
def test_addresses(address: str) -> None:
    assert check_address(address) == address.strip()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty address"),
        ("no-at-sign", "must have an @-sign"),
        ("a@b", "should have a period"),
        ("a..b@example.com", "two periods in a row"),
        ("a@-example.com", "hyphen"),
        ("a b@example.com", "invalid characters before the @-sign"),
    ],
)
def test_not_addresses_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidAddress, match=reason) as refused:
        check_address(text)
    assert refused.value.reason.en.startswith(str(refused.value))
    assert refused.value.reason.zh.isascii() is False, "the Chinese reason is Chinese"


@pytest.mark.parametrize(
    ("text", "zh"),
    [
        ("no-at-sign", "缺少 @ 符号"),
        ("a@b", "@ 后面的域名必须含有点号"),
        ("a..b@example.com", "不能有两个连续的点号"),
        ("a b@example.com", "@ 前面含有无效字符"),
        ("@example.com", "@ 前面不能为空"),
    ],
)
def test_the_reasons_read_in_chinese_without_an_english_tail(text: str, zh: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        check_address(text)
    assert refused.value.reason.zh.startswith(zh)
    assert "@-sign" not in refused.value.reason.zh and "." not in refused.value.reason.zh[-1:]


def test_the_domain_for_dns_is_ascii() -> None:
    assert ascii_domain("a@Example.COM") == "example.com"
    assert ascii_domain("张三@例子.中国") == "xn--fsqu00a.xn--fiqs8s"
    assert ascii_domain("a@[192.0.2.1]") is None


def test_several_addresses_in_one_cell() -> None:
    cell = "a@x.com, b@y.com;c@z.com\nd@w.com \t e@v.com;;"
    assert split_addresses(cell) == ["a@x.com", "b@y.com", "c@z.com", "d@w.com", "e@v.com"]
    assert split_addresses("  ") == []
