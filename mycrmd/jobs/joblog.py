"""Each job's own log file (log_dir/<job>.log, rotated), which the UI shows (R-JOB6). The
folder is made 0700 and the files 0600 whatever the umask: outside systemd (whose
LogsDirectoryMode= decides there) they hold customers' addresses.

Lines also reach stderr through the root logger, so journald keeps them too.
"""

import io
import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from mycrmd.safety import redact

_MAX_BYTES = 2 * 1024 * 1024
_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class _PrivateFileHandler(RotatingFileHandler):
    """Every file it opens, the first and each after a rotation, is the owner's alone."""

    def _open(self) -> "io.TextIOWrapper":
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def job_logger(job: str, log_dir: Path) -> logging.Logger:
    """The job's logger, writing to log_dir/<job>.log; re-pointed when log_dir changes."""
    logger = logging.getLogger(f"mycrmd.job.{job}")
    logger.setLevel(logging.INFO)
    path = log_dir / f"{job}.log"
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path:
            return logger
        logger.removeHandler(handler)
        handler.close()
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = _PrivateFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT, "%Y-%m-%d %H:%M:%S"))
    logger.addHandler(redact.protect(handler))
    return logger


def tail(job: str, log_dir: Path, lines: int = 500) -> list[str]:
    """The last `lines` lines of the job's current log file, oldest first."""
    path = log_dir / f"{job}.log"
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            block = 64 * 1024
            data = b""
            while size > 0 and data.count(b"\n") <= lines:
                step = min(block, size)
                size -= step
                fh.seek(size)
                data = fh.read(step) + data
    except FileNotFoundError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-lines:]
