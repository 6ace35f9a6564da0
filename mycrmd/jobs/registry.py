"""The daemon's jobs and their schedules."""

from datetime import timedelta

from mycrmd.jobs.backup import BackupJob
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.scheduler import Job, daily, every
from mycrmd.jobs.verify import VerifyJob
from mycrmd.model.jobs import JobName


def jobs() -> list[Job]:
    return [
        Job(
            JobName.FETCH,
            FetchMailJob().run,
            every(lambda config: timedelta(minutes=config.jobs.fetch_interval)),
        ),
        Job(JobName.VERIFY, VerifyJob().run, every(lambda config: timedelta(hours=1))),
        Job(JobName.BACKUP, BackupJob().run, daily(lambda config: config.jobs.backup_at)),
    ]
