"""What a stored message is (R-DB3): its types, as MyCRM named them."""

from enum import StrEnum

from mycrmd.model.words import Text


class MessageType(StrEnum):
    RECEIVE = "receive"  # written to us
    SENDTO = "sendto"  # written by us (from the mailbox's own address)
    COMMENT = "comment"
    SYSTEM = "system"  # the admin's notices, bounces and other automatic mail


MESSAGE_TYPE_LABELS = {
    MessageType.RECEIVE: Text("收到", "Received"),
    MessageType.SENDTO: Text("发出", "Sent"),
    MessageType.SYSTEM: Text("系统", "System"),
    MessageType.COMMENT: Text("备注", "Note"),
}
