"""What a mail folder is for (RFC 6154 special use), and which ones the sync skips.

A server marks its special folders with LIST flags (`\\Sent`, `\\Junk`, …); where it does not,
the usual names of the providers our users have stand in for the flags.
"""

from enum import StrEnum

from mycrmd.model.words import Text


class FolderRole(StrEnum):
    SENT = "sent"
    JUNK = "junk"
    TRASH = "trash"
    DRAFTS = "drafts"
    ALL = "all"  # Gmail's "All Mail": a copy of every mail, in every label
    ARCHIVE = "archive"


# Spam is not correspondence, trash and drafts are not mail that was exchanged, and "All Mail"
# repeats every other folder.
SKIPPED_BY_DEFAULT = (FolderRole.JUNK, FolderRole.TRASH, FolderRole.DRAFTS, FolderRole.ALL)
# A mail found here proves nothing about its sender's address, even when the folder is synced.
NOT_EVIDENCE = (FolderRole.JUNK,)

ROLE_LABELS = {
    FolderRole.SENT: Text("已发送", "Sent"),
    FolderRole.JUNK: Text("垃圾邮件", "Junk"),
    FolderRole.TRASH: Text("已删除", "Trash"),
    FolderRole.DRAFTS: Text("草稿", "Drafts"),
    FolderRole.ALL: Text("所有邮件", "All mail"),
    FolderRole.ARCHIVE: Text("归档", "Archive"),
}

# The LIST flag of each role (RFC 6154), lower-cased as the parser keeps flags.
FLAG_ROLES = {f"\\{role.value}": role for role in FolderRole}

# Names that mean a role when the server sets no flag (compared case-insensitively, decoded,
# the last level of the name): Dovecot's and Thunderbird's, Outlook's, Gmail's, and the Chinese
# providers'.
NAME_ROLES: dict[str, FolderRole] = {
    **dict.fromkeys(
        ("sent", "sent messages", "sent items", "sent mail", "已发送", "已发送邮件", "已发邮件"),
        FolderRole.SENT,
    ),
    **dict.fromkeys(
        ("junk", "spam", "junk e-mail", "junk email", "bulk mail", "垃圾邮件", "垃圾箱"),
        FolderRole.JUNK,
    ),
    **dict.fromkeys(
        ("trash", "deleted", "deleted items", "deleted messages", "bin", "已删除", "已删除邮件"),
        FolderRole.TRASH,
    ),
    **dict.fromkeys(("drafts", "draft", "草稿箱", "草稿"), FolderRole.DRAFTS),
    **dict.fromkeys(("all mail", "所有邮件"), FolderRole.ALL),
    **dict.fromkeys(("archive", "archives", "归档"), FolderRole.ARCHIVE),
}


class UidOutcome(StrEnum):
    """What became of one mail of a folder in the sync ledger (issue 17): stored, or skipped
    for one of these reasons. A mail on the server within the window with none is missing."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # its Message-ID (else its content) is stored already
    EXCLUDED = "excluded"  # its folder is not synced
    OLDER = "older"  # its Date: is before the look-back window
    UNREADABLE = "unreadable"  # not even its headers could be read


SKIP_REASONS = (UidOutcome.DUPLICATE, UidOutcome.EXCLUDED, UidOutcome.OLDER, UidOutcome.UNREADABLE)
