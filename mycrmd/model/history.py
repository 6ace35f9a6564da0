"""Who or what changed a customer's validity (or its last contact date): the sources the
history table records."""

from enum import StrEnum


class Source(StrEnum):
    BOUNCE = "bounce"  # a bounce notice in the mailbox
    MAIL = "mail"  # a real mail received from the address
    VERIFY = "verify"  # the paid verify API
    PRECHECK = "precheck"  # the free DNS pre-check
    USER = "user"  # a person's edit in the UI or API
    IMPORT = "import"  # a CSV import


# Sources a person stands behind: they win over older automatic evidence.
PERSONAL = frozenset({Source.USER, Source.IMPORT})
