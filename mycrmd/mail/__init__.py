"""Mail: the IMAP client, parsing and bounce recognition."""
