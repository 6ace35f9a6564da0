"""The process's surroundings: the embedded database server, systemd, shipped files, the
configuration file on disk."""
