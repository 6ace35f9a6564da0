"""Background jobs run by the scheduler (fetch, verify, backup)."""
