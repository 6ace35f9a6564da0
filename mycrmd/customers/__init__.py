"""The customer domain outside SQL: field checks, addresses, the CSV format, import, export."""
