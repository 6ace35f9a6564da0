"""The backup job (R-JOB5): dump and zip the database, prove the zip restores, upload it over
FTP or SFTP, then delete backups older than days_saved.

The proof comes before the upload and the clean-up, so a backup that does not restore is a
failed run that neither reaches the server nor makes room by deleting older, good backups.
Uploads go to a temporary name and are renamed when complete: a cut connection never leaves a
truncated file under a backup's name. Connection failures are retried three times.
"""

import asyncio
import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from mycrmd.config import Config
from mycrmd.jobs import remote
from mycrmd.jobs.dump import DumpError, dump_to_zip, load_zip
from mycrmd.jobs.scheduler import JobContext, JobResult
from mycrmd.model.jobs import RunStatus
from mycrmd.store import databases
from mycrmd.store.pool import Pool

RETRY_DELAYS = (2.0, 4.0, 8.0)
_PART = ".part"


class BackupFailed(Exception):
    """The run failed; the message says at which step and why."""


def local_template(config: Config) -> Path:
    """The local copies' path with its date codes; always a .zip."""
    template = Path(config.backup.local_file or config.state_dir / "backup" / "mycrm-%Y%m%d.zip")
    return template if template.suffix == ".zip" else template.with_name(template.name + ".zip")


def local_path(config: Config, day: datetime) -> Path:
    return Path(day.strftime(str(local_template(config))))


def name_pattern(template: str) -> re.Pattern[str]:
    """A file-name template such as "mycrm-%Y%m%d.zip" as a pattern capturing the date."""
    codes = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{2})", "%d": r"(?P<d>\d{2})", "%%": "%"}
    parts = re.split(r"(%.)", template)
    return re.compile(
        "".join(
            codes.get(part, ".+?" if part.startswith("%") else re.escape(part)) for part in parts
        )
    )


def date_in_name(pattern: re.Pattern[str], name: str) -> date | None:
    match = pattern.fullmatch(name)
    if not match or not {"Y", "m", "d"} <= match.groupdict().keys():
        return None
    try:
        return date(int(match["Y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@dataclass
class RestoreReport:
    database: str
    counts: dict[str, int]


async def restore(config: Config, pool: Pool, source: Path, into: str) -> RestoreReport:
    """Load a backup zip into the database `into` (created when missing)."""
    await databases.create_database(pool, into)
    await load_zip(config, source, into)
    return RestoreReport(into, await databases.table_counts(pool, into))


class BackupJob:
    async def run(self, ctx: JobContext) -> JobResult:
        today = datetime.now()
        target = local_path(ctx.config, today)
        summary: dict[str, object] = {"file": str(target)}
        try:
            # Counted before the dump: rows may come and go while it runs (see _verify).
            before = await databases.table_counts(ctx.pool, ctx.config.db.db)
            zip_bytes = await self._dump(ctx, target, summary)
            if ctx.config.backup.verify:
                try:
                    await self._verify(ctx, target, before, summary)
                except BackupFailed:
                    _discard(target)  # a backup that does not restore is no backup
                    raise
            if ctx.config.backup.host:
                await self._upload(ctx, target, zip_bytes, today, summary)
            else:
                ctx.log.info("upload: no [backup] host set, keeping the local copy only")
            summary["deleted_local"] = self._prune_local(ctx, target, today)
        except BackupFailed as exc:
            ctx.log.error("%s", exc)
            summary["error"] = str(exc)
            return JobResult(RunStatus.FAILED, summary)
        return JobResult(RunStatus.OK, summary)

    async def _dump(self, ctx: JobContext, target: Path, summary: dict[str, object]) -> int:
        entry = target.stem + ".sql"
        try:
            stats = await dump_to_zip(ctx.config, target, entry)
        except DumpError as exc:
            raise BackupFailed(f"dump: {exc}") from None
        except OSError as exc:
            raise BackupFailed(f"dump: cannot write {target}: {exc.strerror or exc}") from None
        ctx.log.info(
            "dump: %s of SQL, zipped to %s (%s) in %.1f s",
            _size(stats.dump_bytes),
            target,
            _size(stats.zip_bytes),
            stats.seconds,
        )
        summary.update(dump_bytes=stats.dump_bytes, zip_bytes=stats.zip_bytes)
        return stats.zip_bytes

    async def _verify(
        self, ctx: JobContext, target: Path, before: dict[str, int], summary: dict[str, object]
    ) -> None:
        """Restore into a scratch database and compare row counts with the source, which may
        have changed while the dump ran: each restored count must lie between the source's
        count before the dump and after the restore."""
        started = time.monotonic()
        source = ctx.config.db.db
        scratch = f"{source}_verify_{os.getpid()}"[:64]
        try:
            report = await restore(ctx.config, ctx.pool, target, scratch)
            after = await databases.table_counts(ctx.pool, source)
        except DumpError as exc:
            raise BackupFailed(f"verify: the backup does not restore: {exc}") from None
        finally:
            await databases.drop_database(ctx.pool, scratch)
        problems = [
            f"{table}: {report.counts.get(table, 'missing')} restored, "
            f"{before.get(table, 0)}..{after.get(table, 0)} in the source"
            for table in sorted(set(before) | set(after) | set(report.counts))
            if not (
                min(before.get(table, 0), after.get(table, 0))
                <= report.counts.get(table, -1)
                <= max(before.get(table, 0), after.get(table, 0))
            )
        ]
        if problems:
            raise BackupFailed("verify: row counts differ: " + "; ".join(problems))
        rows = sum(report.counts.values())
        ctx.log.info(
            "verify: %d tables, %d rows restored and counted in %.1f s",
            len(report.counts),
            rows,
            time.monotonic() - started,
        )
        summary.update(verified=True, tables=len(report.counts), rows=rows)

    async def _upload(
        self,
        ctx: JobContext,
        target: Path,
        zip_bytes: int,
        today: datetime,
        summary: dict[str, object],
    ) -> None:
        settings = ctx.config.backup
        final = PurePosixPath(today.strftime(settings.remote_file))
        partial = final.with_name(final.name + _PART)
        where = remote.describe(settings)
        last_error = ""
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS), start=1):
            if delay:
                ctx.log.warning("upload: retrying in %.0f s after: %s", delay, last_error)
                await asyncio.sleep(delay)
            started = time.monotonic()
            try:
                async with remote.connect(settings) as server:
                    await server.make_dirs(final.parent)
                    await server.upload(target, partial)
                    await server.replace(partial, final)
                    ctx.log.info(
                        "upload: %s to %s%s in %.1f s (attempt %d)",
                        _size(zip_bytes),
                        where,
                        final,
                        time.monotonic() - started,
                        attempt,
                    )
                    summary.update(remote=str(final), attempts=attempt)
                    summary["deleted_remote"] = await self._prune_remote(ctx, server, final, today)
                return
            except remote.RemoteRefused as exc:
                raise BackupFailed(f"upload: {exc}") from None
            except Exception as exc:  # a cut connection shows as many exception types
                last_error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise BackupFailed(f"upload to {where} failed after {attempt} attempts: {last_error}")

    async def _prune_remote(
        self, ctx: JobContext, server: remote.Remote, final: PurePosixPath, today: datetime
    ) -> list[str]:
        """Backups older than days_saved, and leftovers of cut uploads; other files never.

        Over SFTP a backup is dated by its name, over FTP by its modification time.
        """
        settings = ctx.config.backup
        pattern = name_pattern(PurePosixPath(settings.remote_file).name)
        deleted = []
        try:
            for item in await server.files(final.parent):
                if item.name == final.name:
                    continue
                if item.name.endswith(_PART) and pattern.fullmatch(item.name[: -len(_PART)]):
                    expired = True  # only one backup runs at a time: this upload was cut
                elif pattern.fullmatch(item.name):
                    dated = (
                        date_in_name(pattern, item.name)
                        if settings.sftp
                        else (item.modified.date() if item.modified else None)
                    )
                    expired = dated is not None and _age(today, dated) > settings.days_saved
                else:
                    expired = False
                if expired:
                    await server.delete(final.parent / item.name)
                    deleted.append(item.name)
        except Exception as exc:
            ctx.log.error("retention: could not clean %s: %s", final.parent, exc)
        if deleted:
            ctx.log.info("retention: deleted remote %s", ", ".join(deleted))
        return deleted

    def _prune_local(self, ctx: JobContext, current: Path, today: datetime) -> list[str]:
        """Local copies older than days_saved: dated by name, else by modification time."""
        pattern = name_pattern(local_template(ctx.config).name)
        deleted = []
        for path in current.parent.iterdir():
            if path == current or not path.is_file() or not pattern.fullmatch(path.name):
                continue
            dated = date_in_name(pattern, path.name)
            if dated is None:
                dated = datetime.fromtimestamp(path.stat().st_mtime).date()
            if _age(today, dated) > ctx.config.backup.days_saved:
                path.unlink()
                deleted.append(path.name)
        if deleted:
            ctx.log.info("retention: deleted local %s", ", ".join(deleted))
        return deleted


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _age(today: datetime, dated: date) -> int:
    return (today.date() - dated).days
