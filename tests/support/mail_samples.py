"""Raw mails as real mailers send them, oddities included, for the tests' mailbox.

Addresses: ME is the CRM user's own mailbox, ADMIN_NAME the display name of system notices.
"""

import base64
from datetime import datetime, timedelta
from email.utils import format_datetime

ME = "sales@mytrade.example"
ADMIN_NAME = "CRM Admin"


def rfc2047(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def when(days_ago: float = 1.0) -> str:
    return format_datetime((datetime.now() - timedelta(days=days_ago)).astimezone())


def plain(
    *,
    message_id: str | None,
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello",
    date: str | None = None,
    extra: str = "",
) -> bytes:
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if date is not False:
        headers.append(f"Date: {date or when()}")
    if message_id:
        headers.append(f"Message-ID: <{message_id}>")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    headers += [line for line in extra.splitlines() if line]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def gbk_under_gb2312_label() -> bytes:
    """A subject and name in GBK-only characters (镕, 喆) labelled GB2312, as Outlook on
    Chinese Windows writes them."""
    subject = rfc2047("关于朱镕基纪念品的报价", "gbk").replace("?gbk?", "?gb2312?")
    name = rfc2047("王喆", "gbk").replace("?gbk?", "?GB2312?")
    body = "您好，附件是报价单。".encode("gbk")
    return (
        f"From: {name} <wangzhe@buyer.example>\r\nTo: {ME}\r\nSubject: {subject}\r\n"
        f"Date: {when(2)}\r\nMessage-ID: <gbk-1@buyer.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(body)


def big5_and_latin2() -> bytes:
    subject = rfc2047("報價單", "big5") + " " + rfc2047("Zażółć gęślą", "iso-8859-2")
    return (
        (
            f"From: {rfc2047('陳大文', 'big5')} <chan@hk.example>\r\nTo: {ME}\r\n"
            f"Subject: {subject}\r\nDate: {when(2)}\r\nMessage-ID: <big5-1@hk.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=big5\r\n\r\n"
        ).encode()
        + "請報價".encode("big5")
        + b"\r\n"
    )


RAW8_DAY = datetime.now().date() - timedelta(days=2)


def raw_utf8_headers_and_lying_charset() -> bytes:
    """8-bit UTF-8 in headers (no RFC 2047), a body labelled ISO-8859-1 that is UTF-8, and a
    Date with a comment and an odd zone, two days ago (RAW8_DAY) at 9:05 in India."""
    day = RAW8_DAY.strftime("%a, %-d %b %Y")
    return (
        f"From: Müller GmbH <info@mueller.example>\r\nTo: {ME}\r\n"
        "Subject: Bestellung über 500 Stück — 你好\r\n"
        f"Date: {day} 9:05:00 +0530 (IST)\r\n"
        "Message-ID: <raw-1@mueller.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        "Grüße aus München\r\n"
    ).encode()


def unknown_charset_no_date() -> bytes:
    return (
        f"From: x@weird.example\r\nTo: {ME}\r\nSubject: =?x-mystery?B?aGVsbG8=?=\r\n"
        "Message-ID: <nodate-1@weird.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-mystery\r\n\r\nplain \xe9 text\r\n"
    ).encode("latin-1")


HOSTILE_HTML = (
    '<html><head><script>alert("head")</script><style>body{background:url(http://t.example/'
    'css.png)}</style></head><body onload="alert(1)"><p style="color:#c00;background-image:'
    'url(http://t.example/bg.png)">Dear buyer</p><img src="http://tracker.example/pixel.gif"'
    ' onerror="alert(2)"><a href="javascript:alert(3)">click</a><a href="https://shop.example/'
    'p/1" target="_blank">catalogue</a><svg><script>alert(4)</script></svg>'
    '<iframe src="https://evil.example"></iframe><form action="https://evil.example">'
    '<input name="x"></form><img src="cid:logo@x"></body></html>'
)


def html_with_attachment_and_inline_image() -> bytes:
    boundary, related = "outer-b", "related-b"
    attachment = base64.encodebytes(b"%PDF-1.4 " + b"x" * 2000).decode()
    return (
        f'From: "Shop" <shop@shop.example>\r\nTo: {ME}\r\nSubject: Catalogue\r\n'
        f"Date: {when(1)}\r\nMessage-ID: <html-1@shop.example>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\n"
        f'Content-Type: multipart/related; boundary="{related}"\r\n\r\n'
        f"--{related}\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n"
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain version\r\n"
        f"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{HOSTILE_HTML}\r\n--alt--\r\n"
        f"--{related}\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        f"--{related}--\r\n"
        f'--{boundary}\r\nContent-Type: application/pdf; name="price.pdf"\r\n'
        'Content-Disposition: attachment; filename="price.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--{boundary}--\r\n"
    ).encode()


def dsn(recipient: str, status: str, action: str, *, message_id: str) -> bytes:
    """An RFC 3464 delivery-status report, as Postfix and Gmail send them; the quoted original
    mentions other addresses that must not be taken for the bounced one."""
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.mytrade.example>\r\nTo: {ME}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {when(0.5)}\r\n"
        f"Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
        "--dsn\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.mytrade.example.\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        f"<{recipient}>: host mx.buyer.example said: 550 {status} User unknown\r\n\r\n"
        "--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.mytrade.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: User unknown\r\n\r\n"
        "--dsn\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {ME}\r\nTo: {recipient}\r\nCc: colleague@buyer.example\r\n"
        "Subject: Offer\r\n\r\nPlease also ask boss@buyer.example.\r\n--dsn--\r\n"
    ).encode()


def exim_bounce(recipient: str) -> bytes:
    return (
        f"From: Mail Delivery System <Mailer-Daemon@relay.example>\r\nTo: {ME}\r\n"
        "Subject: Mail delivery failed: returning message to sender\r\n"
        f"Date: {when(0.5)}\r\nMessage-ID: <exim-1@relay.example>\r\n"
        f"X-Failed-Recipients: {recipient}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {recipient}\r\n    SMTP error from remote mail server after RCPT TO:<{recipient}>:\r\n"
        f"    550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n\r\n"
        "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
        f"From: {ME}\r\nTo: {recipient}, other@quoted.example\r\n\r\nHello\r\n"
    ).encode()


def qmail_bounce(recipient: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@qmail.example\r\nTo: {ME}\r\nSubject: failure notice\r\n"
        f"Date: {when(0.5)}\r\nMessage-ID: <qmail-1@qmail.example>\r\n\r\n"
        "Hi. This is the qmail-send program at qmail.example.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        f"<{recipient}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        f"From: {ME}\r\nTo: {recipient}\r\nCc: quoted@qmail.example\r\n"
    ).encode()


def exchange_bounce(recipient: str) -> bytes:
    html = (
        "<html><body><p><b>Delivery has failed to these recipients or groups:</b></p>"
        f'<p><a href="mailto:{recipient}">{recipient}</a><br>The email address you entered '
        "couldn't be found.</p><p>Diagnostic information for administrators:</p>"
        f"<p>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
        f"{recipient} not found by SMTP address lookup'</p></body></html>"
    )
    return (
        f"From: postmaster@exchange.example\r\nTo: {ME}\r\n"
        "Subject: Undeliverable: Offer\r\n"
        f"Date: {when(0.5)}\r\nMessage-ID: <exch-1@exchange.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
    ).encode()


def gmail_bounce(recipient: str) -> bytes:
    return (
        f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nTo: {ME}\r\n"
        "Subject: Delivery Status Notification (Failure)\r\n"
        f"Date: {when(0.5)}\r\nMessage-ID: <gmail-1@mail.gmail.com>\r\n"
        f"X-Failed-Recipients: {recipient}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        "** Address not found **\r\n\r\n"
        f"Your message wasn't delivered to {recipient} because the address couldn't be "
        "found, or is unable to receive mail.\r\n\r\n"
        "The response from the remote server was:\r\n"
        f"550 5.1.1 The email account that you tried to reach does not exist.\r\n"
    ).encode()


def exmail_bounce(recipient: str) -> bytes:
    """Tencent Exmail's Chinese bounce notice (退信), GB18030-encoded as it sends them."""
    subject = rfc2047("系统退信", "gb18030")
    body = (
        "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\r\n"
        "被退回的邮件：\r\n"
        "    主    题：报价\r\n"
        f"    收件人：{recipient}\r\n"
        "退信原因：\r\n"
        "    收件人邮箱不存在 550 Mailbox not found\r\n"
        "\r\n以下是原邮件内容：\r\n"
        f"发件人：{ME}\r\n抄送：cc@quoted.example\r\n"
    )
    return (
        f"From: {rfc2047('系统管理员', 'gb18030')} <PostMaster@exmail.qq.com>\r\nTo: {ME}\r\n"
        f"Subject: {subject}\r\nDate: {when(0.5)}\r\nMessage-ID: <exmail-1@qq.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb18030\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(body.encode("gb18030"))


def delayed_dsn(recipient: str) -> bytes:
    return dsn(recipient, "4.4.7", "delayed", message_id="delay-1@mx.mytrade.example")


def mailbox_full_dsn(recipient: str) -> bytes:
    return dsn(recipient, "5.2.2", "failed", message_id="full-1@mx.mytrade.example")
