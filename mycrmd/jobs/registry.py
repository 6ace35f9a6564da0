"""The daemon's jobs and their schedules."""

from mycrmd.jobs.scheduler import Job


def jobs() -> list[Job]:
    return []
