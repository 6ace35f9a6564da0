"""mycrmd: a self-hosted CRM daemon that lives in its mailbox."""

__version__ = "0.1.0"
