"""The web UI and its JSON API."""
