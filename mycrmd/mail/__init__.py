"""Mail: the IMAP client, parsing, sanitising and bounce recognition."""
