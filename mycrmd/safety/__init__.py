"""Keeping untrusted input and secrets in their place: HTML sanitising, password hashes,
secrets masked in logs."""
