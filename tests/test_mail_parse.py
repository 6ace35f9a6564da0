"""Parsing, decoding, sanitising and bounce recognition, mail by mail."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mycrmd.config import MailboxConfig
from mycrmd.jobs.fetch_mail import to_record
from mycrmd.mail import mutf7
from mycrmd.mail.mime import decode_bytes, decode_header_value
from mycrmd.mail.parse import parse_mail
from mycrmd.safety.sanitize import clean_html
from tests.support import mail_samples as samples

ARRIVED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@given(st.text())
def test_modified_utf7_round_trips_any_name(name: str) -> None:
    encoded = mutf7.encode(name)
    assert encoded.isascii()
    assert mutf7.decode(encoded) == name


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        ("INBOX", "INBOX"),
        ("&XfJT0ZAB-", "已发送"),
        ("A&-B", "A&B"),
        ("&V4NXPpCuTvY-/2024", "垃圾邮件/2024"),
    ],
)
def test_modified_utf7_names_as_servers_send_them(wire: str, name: str) -> None:
    assert mutf7.decode(wire) == name
    assert mutf7.encode(name) == wire


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("镕喆".encode("gbk"), "gb2312", "镕喆"),  # GBK under a GB2312 label
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # UTF-8 under a Latin-1 label
        ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
        ("報價".encode("big5"), "big5", "報價"),
        ("中文".encode(), "x-unknown-charset", "中文"),
        (b"caf\xe9", "x-unknown-charset", "café"),
        ("Zażółć".encode("iso-8859-2"), "ISO-8859-2", "Zażółć"),
    ],
)
def test_charsets_that_lie_or_are_unknown_still_decode(
    data: bytes, charset: str, text: str
) -> None:
    assert decode_bytes(data, charset) == text


def test_header_values_in_any_encoding() -> None:
    assert decode_header_value("=?utf-8?Q?caf=C3=A9?= au lait") == "café au lait"
    assert decode_header_value(samples.rfc2047("王喆", "gbk").replace("gbk", "gb2312")) == "王喆"
    raw8 = "Müller".encode().decode("ascii", "surrogateescape")
    assert decode_header_value(raw8) == "Müller"
    assert decode_header_value("=?broken?X?zzz?=") == "=?broken?X?zzz?="


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 17 Nov 2026 10:00:00 +0800", datetime(2026, 11, 17, 2, 0, tzinfo=UTC)),
        ("17 Nov 2026 10:00:00 GMT", datetime(2026, 11, 17, 10, 0, tzinfo=UTC)),
        ("Tue, 17 Nov 2026 10:00:00 -0500 (EST)", datetime(2026, 11, 17, 15, 0, tzinfo=UTC)),
        ("Tue,  17 Nov 2026  10:00 +0000", datetime(2026, 11, 17, 10, 0, tzinfo=UTC)),
        ("yesterday at noon", ARRIVED),
        ("Mon, 1 Jan 1900 00:00:00 +0000", ARRIVED),  # absurd: the arrival time
        ("Tue, 17 Nov 2099 10:00:00 +0000", ARRIVED),  # from the future: likewise
    ],
)
def test_dates_in_odd_formats_become_local_time(date: str, expected: datetime) -> None:
    raw = samples.plain(
        message_id="d@x", sender="a@a.example", to="b@b.example", subject="d", date=date
    )
    local = expected.astimezone().replace(tzinfo=None)
    assert parse_mail(raw, ARRIVED).date == local


def test_a_mail_without_a_date_uses_its_arrival() -> None:
    parsed = parse_mail(samples.unknown_charset_no_date(), ARRIVED)
    assert parsed.date == ARRIVED.astimezone().replace(tzinfo=None)


def test_the_same_message_id_is_the_same_mail_and_no_id_falls_back_to_content() -> None:
    one = samples.plain(message_id="same@x", sender="a@a.example", to="b@b.example", subject="1")
    two = samples.plain(message_id="same@x", sender="a@a.example", to="b@b.example", subject="2")
    assert parse_mail(one, ARRIVED).dedupe_key == parse_mail(two, ARRIVED).dedupe_key
    anonymous = samples.plain(message_id=None, sender="a@a.example", to="b@b.example", subject="x")
    other = samples.plain(message_id=None, sender="a@a.example", to="b@b.example", subject="y")
    assert parse_mail(anonymous, ARRIVED).dedupe_key == parse_mail(anonymous, ARRIVED).dedupe_key
    assert parse_mail(anonymous, ARRIVED).dedupe_key != parse_mail(other, ARRIVED).dedupe_key


def test_html_is_preferred_and_attachments_and_inline_images_are_dropped() -> None:
    parsed = parse_mail(samples.html_with_attachment_and_inline_image(), ARRIVED)
    assert "Dear buyer" in parsed.html and "plain version" not in parsed.html
    assert "%PDF" not in parsed.html and "iVBORw0KGgo" not in parsed.html


def test_a_text_mail_becomes_escaped_html() -> None:
    raw = samples.plain(
        message_id="t@x", sender="a@a.example", to="b@b.example", subject="t", body="<b>1 < 2</b>"
    )
    html = parse_mail(raw, ARRIVED).html
    assert html.startswith('<div style="white-space: pre-wrap">&lt;b&gt;1 &lt; 2&lt;/b&gt;')
    assert "<b>" not in html


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<p style="background-image:url(http://tracker.example/t.gif)">x</p>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]


@pytest.mark.parametrize("payload", XSS)
def test_sanitising_removes_everything_that_runs_or_loads(payload: str) -> None:
    cleaned = clean_html(payload).lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<base",
        "<link",
        "url(",
        "expression(",
        "data:",
        "<style",
    ):
        assert bad not in cleaned, (payload, cleaned)


def test_sanitising_keeps_formatting_and_marks_links() -> None:
    html = (
        '<p style="color: #c00; font-weight: bold">Hi</p><ul><li>one</li></ul>'
        '<a href="https://shop.example">shop</a><table><tr><td colspan="2">x</td></tr></table>'
    )
    cleaned = clean_html(html)
    assert '<p style="color:#c00;font-weight:bold">Hi</p>' in cleaned
    assert "<ul><li>one</li></ul>" in cleaned
    assert '<a href="https://shop.example" rel="noopener noreferrer">shop</a>' in cleaned
    assert '<td colspan="2">x</td>' in cleaned
    assert clean_html('<span style="color: rgb(1, 2, 3)">c</span>') == (
        '<span style="color:rgb(1, 2, 3)">c</span>'
    )


@pytest.mark.parametrize(
    ("raw", "addresses", "status", "permanent", "dead"),
    [
        (
            samples.dsn("a@b.example", "5.1.1", "failed", message_id="1@x"),
            ("a@b.example",),
            "5.1.1",
            True,
            True,
        ),
        (samples.exim_bounce("e@b.example"), ("e@b.example",), "5.1.1", True, True),
        (samples.qmail_bounce("q@b.example"), ("q@b.example",), "5.1.1", True, True),
        (samples.exchange_bounce("x@b.example"), ("x@b.example",), "5.1.10", True, True),
        (samples.gmail_bounce("g@b.example"), ("g@b.example",), "5.1.1", True, True),
        (samples.exmail_bounce("c@b.example"), ("c@b.example",), "550", True, True),
        (samples.delayed_dsn("d@b.example"), ("d@b.example",), "4.4.7", False, False),
        (samples.mailbox_full_dsn("f@b.example"), ("f@b.example",), "5.2.2", True, False),
    ],
)
def test_bounces_in_every_form(
    raw: bytes, addresses: tuple[str, ...], status: str, permanent: bool, dead: bool
) -> None:
    bounce = parse_mail(raw, ARRIVED).bounce
    assert bounce is not None
    assert (bounce.addresses, bounce.status, bounce.permanent) == (addresses, status, permanent)
    assert bounce.address_is_dead is dead


def test_a_policy_rejection_is_not_a_dead_address() -> None:
    bounce = parse_mail(
        samples.dsn("p@b.example", "5.7.1", "failed", message_id="p@x"), ARRIVED
    ).bounce
    assert bounce is not None and bounce.permanent and not bounce.address_is_dead


def test_an_automatic_notice_with_a_bounce_subject_is_a_bounce() -> None:
    raw = samples.plain(
        message_id="auto@x",
        sender="Delivery <notices@relay.example>",
        to=samples.ME,
        subject="Undeliverable: Offer",
        body="Delivery to gone@buyer.example failed: 550 5.1.1 user unknown",
        extra="Auto-Submitted: auto-replied",
    )
    bounce = parse_mail(raw, ARRIVED).bounce
    assert bounce is not None and bounce.addresses == ("gone@buyer.example",)


def test_mail_that_only_talks_about_bounces_is_not_one() -> None:
    raw = samples.plain(
        message_id="talk@x",
        sender="Bob <bob@buyer.example>",
        to=samples.ME,
        subject="Re: undelivered goods",
        body="The 550 boxes were undelivered; contact warehouse@buyer.example. Not found yet.",
    )
    assert parse_mail(raw, ARRIVED).bounce is None


def test_a_mail_from_the_future_is_kept_at_arrival_time() -> None:
    date = (ARRIVED + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    raw = samples.plain(
        message_id="f@x", sender="a@a.example", to="b@b.example", subject="f", date=date
    )
    assert parse_mail(raw, ARRIVED).date == ARRIVED.astimezone().replace(tzinfo=None)


def test_a_raw_utf8_message_id_is_read_and_keys_the_mail() -> None:
    """RFC 6532 lets a Message-ID carry UTF-8: such a mail was dropped, not stored."""

    def with_id(message_id: str) -> bytes:
        return samples.plain(
            message_id=message_id, sender="a@b.example", to=samples.ME, subject="询盘"
        )

    first = parse_mail(with_id("询盘-1@buyer.example"), ARRIVED)
    again = parse_mail(with_id("询盘-1@buyer.example"), ARRIVED)
    other = parse_mail(with_id("询盘-2@buyer.example"), ARRIVED)

    assert first.dedupe_key == again.dedupe_key != other.dedupe_key


@pytest.mark.parametrize(
    ("extra", "proves"),
    [
        ("", True),
        ("Auto-Submitted: auto-replied", False),
        ("List-Id: <trade.lists.example>", False),
        ("Precedence: bulk", False),
        ("Precedence: list", False),
        ("X-Autoreply: yes", False),
    ],
)
def test_only_a_real_mail_from_a_customer_proves_its_address(extra: str, proves: bool) -> None:
    raw = samples.plain(
        message_id="real@x",
        sender="Bob <bob@buyer.example>",
        to=samples.ME,
        subject="询价",
        extra=extra,
    )
    record = to_record(parse_mail(raw, ARRIVED), MailboxConfig(address=samples.ME))
    assert record.proves == ("bob@buyer.example" if proves else "")


def test_neither_a_bounce_nor_our_own_mail_proves_anything() -> None:
    mailbox = MailboxConfig(address=samples.ME)
    bounce = to_record(parse_mail(samples.exim_bounce("e@b.example"), ARRIVED), mailbox)
    assert bounce.proves == "" and bounce.dead_addresses == ("e@b.example",)
    ours = samples.plain(message_id="o@x", sender=samples.ME, to="bob@buyer.example", subject="s")
    assert to_record(parse_mail(ours, ARRIVED), mailbox).proves == ""
