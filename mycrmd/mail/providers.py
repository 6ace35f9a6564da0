"""What the mail providers our users have require, and what to tell a user they refuse.

Each provider is known by the IMAP host names it serves; a host we do not know gets the
general behaviour. The hints are the words a user needs when a login or a folder is refused:
what the provider wants switched on or entered, and where to find it.
"""

from dataclasses import dataclass

from mycrmd.model.words import Text


@dataclass(frozen=True)
class Provider:
    name: str
    hosts: tuple[str, ...]  # IMAP host names, or the domains they end with
    greetings: tuple[str, ...]  # words of its server's greeting (a company's own host name)
    login_hint: Text  # said when LOGIN or AUTHENTICATE is refused


_NETEASE = Provider(
    "netease",
    ("imap.163.com", "imap.126.com", "imap.yeah.net", "imap.188.com", "qiye.163.com"),
    ("coremail", "163com", "126com", "netease"),
    Text(
        "网易邮箱需要“客户端授权密码”：在网页邮箱 设置 → POP3/SMTP/IMAP 中开启 IMAP 服务并生成"
        "授权密码，把它填作邮箱服务器密码。",
        "NetEase mail needs a client authorization password: in the web mail's Settings → "
        "POP3/SMTP/IMAP switch IMAP on, generate an authorization password and enter it as the "
        "IMAP password.",
    ),
)
_TENCENT = Provider(
    "tencent",
    ("imap.qq.com", "imap.exmail.qq.com", "imap.foxmail.com"),
    ("qqmail", "xmimap", "exmail", "tencent"),
    Text(
        "QQ 邮箱和腾讯企业邮需要“授权码”而不是登录密码：在网页邮箱 设置 → 账户 "
        "（企业邮：设置 → 客户端设置）中开启 IMAP/SMTP 服务并生成授权码，把它填作邮箱服务器密码。",
        "QQ Mail and Tencent Exmail take an authorization code, not the login password: in the "
        "web mail's Settings → Account (Exmail: Settings → Client settings) switch IMAP/SMTP on, "
        "generate an authorization code and enter it as the IMAP password.",
    ),
)
_ALIBABA = Provider(
    "alibaba",
    ("imap.qiye.aliyun.com", "imap.mxhichina.com", "imap.aliyun.com"),
    ("aliyun", "alimail", "mxhichina"),
    Text(
        "阿里企业邮箱：请在网页邮箱 设置 → 账户与安全 中开启 IMAP，开启了安全登录时使用三方客户端"
        "安全密码作为邮箱服务器密码。",
        "Alibaba Mail: switch IMAP on in the web mail's Settings → Account and security; with "
        "secure login on, enter the third-party client password as the IMAP password.",
    ),
)
_GOOGLE = Provider(
    "google",
    ("imap.gmail.com", "imap.googlemail.com"),
    ("gimap",),
    Text(
        "Gmail / Google Workspace 需要“应用专用密码”：在 Google 账号中开启两步验证，"
        "在 安全性 → 应用专用密码 中生成一个，把它填作邮箱服务器密码；并在 Gmail 设置中启用 IMAP。",
        "Gmail / Google Workspace need an app password: turn on 2-Step Verification in the "
        "Google account, create one under Security → App passwords and enter it as the IMAP "
        "password; IMAP must be enabled in Gmail's settings.",
    ),
)
_MICROSOFT = Provider(
    "microsoft",
    ("outlook.office365.com", "imap-mail.outlook.com", "outlook.live.com", "imap.outlook.com"),
    ("microsoft exchange", "outlook"),
    Text(
        "Outlook.com / Microsoft 365 已关闭 IMAP 的基本身份验证（用户名和密码）：需要 OAuth 2.0。"
        "请在配置文件 [mailbox] oauth2_token_command 中设置一个输出访问令牌的命令（见 README）。",
        "Outlook.com / Microsoft 365 have basic authentication (user name and password) for "
        "IMAP switched off: OAuth 2.0 is needed. Set [mailbox] oauth2_token_command in the "
        "configuration file to a command that prints an access token (see the README).",
    ),
)
PROVIDERS = (_NETEASE, _TENCENT, _ALIBABA, _GOOGLE, _MICROSOFT)

# NetEase's answer to SELECT/EXAMINE from a client that has not identified itself.
UNSAFE_LOGIN_HINT = Text(
    "网易邮箱拒绝了未识别的客户端（Unsafe Login）。mycrmd 已发送 ID 命令；如果仍然出现，"
    "请在网页邮箱中开启 IMAP 并使用客户端授权密码，必要时联系网易客服 kefu@188.com 解除限制。",
    "NetEase refused an unidentified client (Unsafe Login). mycrmd sent the ID command; if it "
    "still happens, switch IMAP on in the web mail, use a client authorization password, and "
    "if needed ask NetEase's support (kefu@188.com) to lift the restriction.",
)


def provider_for(host: str, greeting: str = "") -> Provider | None:
    """By the host name, else by the server's greeting."""
    host = host.strip().lower().rstrip(".")
    for provider in PROVIDERS:
        for known in provider.hosts:
            if host == known or host.endswith("." + known):
                return provider
    said = greeting.lower()
    for provider in PROVIDERS:
        if any(word in said for word in provider.greetings):
            return provider
    return None


def is_unsafe_login(server_text: str) -> bool:
    return "unsafe login" in server_text.lower()
