"""The background jobs by name, and what a run of one can end as (job_runs.status)."""

from enum import StrEnum

from mycrmd.model.words import Text


class JobName(StrEnum):
    FETCH = "fetch"
    VERIFY = "verify"
    BACKUP = "backup"


JOB_LABELS = {
    JobName.FETCH: Text("邮件监控", "Mail fetch"),
    JobName.VERIFY: Text("邮箱有效性检查", "Address verification"),
    JobName.BACKUP: Text("数据备份", "Backup"),
}


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"  # the process stopped or died mid-run


RUN_STATUS_LABELS = {
    RunStatus.RUNNING: Text("运行中", "running"),
    RunStatus.OK: Text("成功", "ok"),
    RunStatus.FAILED: Text("失败", "failed"),
    RunStatus.SKIPPED: Text("跳过", "skipped"),
    RunStatus.INTERRUPTED: Text("中断", "interrupted"),
}
