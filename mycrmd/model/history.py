"""Who or what changed a customer's validity (or its last contact date): the sources the
history table records."""

from enum import StrEnum

from mycrmd.model.words import Text


class Source(StrEnum):
    BOUNCE = "bounce"  # a bounce notice in the mailbox
    MAIL = "mail"  # a real mail received from the address
    VERIFY = "verify"  # the paid verify API
    PRECHECK = "precheck"  # the free DNS pre-check
    USER = "user"  # a person's edit in the UI or API
    IMPORT = "import"  # a CSV import


# Sources a person stands behind: they win over older automatic evidence.
PERSONAL = frozenset({Source.USER, Source.IMPORT})

SOURCE_LABELS = {
    Source.BOUNCE: Text("退信", "Bounce"),
    Source.MAIL: Text("收到邮件", "Mail received"),
    Source.VERIFY: Text("验证", "Verification"),
    Source.PRECHECK: Text("预检", "Pre-check"),
    Source.USER: Text("手工修改", "Edited"),
    Source.IMPORT: Text("导入", "Import"),
}
