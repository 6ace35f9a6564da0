"""Why a mail bounced (after Sisimai's taxonomy), and which reasons say the address is dead."""

from enum import StrEnum


class Reason(StrEnum):
    USER_UNKNOWN = "user_unknown"
    HOST_UNKNOWN = "host_unknown"
    MAILBOX_MOVED = "mailbox_moved"
    NOT_ACCEPT = "not_accept"
    MAILBOX_DISABLED = "mailbox_disabled"
    MAILBOX_FULL = "mailbox_full"
    MESSAGE_TOO_BIG = "message_too_big"
    BLOCKED = "blocked"
    SPAM = "spam"
    POLICY = "policy"
    REJECTED_SENDER = "rejected_sender"
    EXPIRED = "expired"
    NETWORK = "network"
    TEMPORARY = "temporary"
    OTHER = "other"


# Only these, with a permanent (5.x.x or 5xx) status, make a customer's address invalid.
DEAD_ADDRESS = frozenset(
    {Reason.USER_UNKNOWN, Reason.HOST_UNKNOWN, Reason.MAILBOX_MOVED, Reason.NOT_ACCEPT}
)
