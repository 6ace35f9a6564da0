"""Uploading customers: POST /api/import with the CSV in the multipart field `csv_file`.

The upload goes to a private temporary file as it arrives (the size limit is checked on the
way, so an oversized file is refused without filling memory), then customer_import reads it.
`?dry_run=1` reports without writing; `?progress=1` answers with NDJSON lines — progress,
then the result — for the UI's progress bar. The result lists the first rejected rows; all of
them, with their reasons, are in a CSV file that GET /api/import/rejected?file=… streams from
disk, kept for REJECTED_KEPT seconds.
"""

import contextlib
import os
import re
import secrets
import time
from dataclasses import asdict
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from mycrmd.customers.csv_format import CsvError
from mycrmd.customers.importing import ImportResult, ProgressCallback, import_csv
from mycrmd.model.words import Text
from mycrmd.web.catalog import catalog
from mycrmd.web.errors import ApiError
from mycrmd.web.i18n import request_language
from mycrmd.web.jsonout import dumps, respond
from mycrmd.web.params import Flag, Words
from mycrmd.web.routes import Answer, Endpoint
from mycrmd.web.services import SERVICES

_CHUNK = 256 * 1024
DRY_RUN = Flag("dry_run", "check and count only", False)
PROGRESS = Flag("progress", "answer NDJSON progress lines", False)
FIELD = "csv_file"
REJECTED_FILE = Words("file", "the rejected-rows file an import named", 16)
REJECTED_KEPT = 3600
_REJECTED_NAME = re.compile(r"[0-9a-f]{16}")


def result_json(result: ImportResult, rejected: str) -> dict[str, object]:
    """The result, and where its rejected rows can be downloaded (when there are any)."""
    answer = asdict(result)
    if result.rejected_total:
        answer["rejected_csv"] = f"/api/import/rejected?file={rejected}"
    return answer


async def import_customers(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    megabytes = services.config.web.max_upload_mb
    dry_run = DRY_RUN.read(request)
    language = request_language(request)
    if request.content_length is not None and request.content_length > megabytes * 2**20 + _CHUNK:
        raise _too_large(megabytes)
    folder = _uploads(services.config.state_dir)
    upload, size = await _receive(request, folder / f"{secrets.token_hex(8)}.csv", megabytes)
    run = _Run(folder, dry_run, language)
    try:
        if PROGRESS.read(request):
            return await _with_progress(request, upload, size, run)
        try:
            result = await run.import_csv(request, upload)
        except CsvError as exc:
            raise ApiError(400, "bad_csv", str(exc), field=FIELD) from None
        return respond(result_json(result, run.token))
    finally:
        os.unlink(upload)


class _Run:
    """One import's options and its rejected-rows file, which is kept only when it has rows."""

    def __init__(self, folder: Path, dry_run: bool, language: str) -> None:
        self.dry_run, self.language = dry_run, language
        self.token = secrets.token_hex(8)
        self.rejected = _rejected_path(folder, self.token)
        _forget_old_rejected(folder)

    async def import_csv(
        self, request: web.Request, upload: Path, progress: ProgressCallback | None = None
    ) -> ImportResult:
        try:
            result = await import_csv(
                request.app[SERVICES].pool,
                upload,
                dry_run=self.dry_run,
                language=self.language,
                progress=progress,
                rejected_csv=self.rejected,
                error_column=catalog(self.language)["import.error_column"],
            )
        except BaseException:
            self.rejected.unlink(missing_ok=True)
            raise
        if not result.rejected_total:
            self.rejected.unlink(missing_ok=True)
        return result


async def rejected_rows(request: web.Request) -> web.StreamResponse:
    """The rejected rows of a recent import, as CSV (UTF-8 with BOM), from disk."""
    token = REJECTED_FILE.read(request)
    path = _rejected_path(_uploads(request.app[SERVICES].config.state_dir), token)
    if not _REJECTED_NAME.fullmatch(token) or not path.is_file():
        raise ApiError(
            404,
            "not_found",
            Text(
                "没有此文件（被拒绝的行保留一小时）",
                "no such file (rejected rows are kept an hour)",
            ),
            field=REJECTED_FILE.name,
        )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="rejected-rows.csv"',
            "Cache-Control": "no-store",
        },
    )


def _uploads(state_dir: Path) -> Path:
    folder = state_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _rejected_path(folder: Path, token: str) -> Path:
    return folder / f"rejected-{token}.csv"


def _forget_old_rejected(folder: Path) -> None:
    expired = time.time() - REJECTED_KEPT
    for old in folder.glob("rejected-*.csv"):
        with contextlib.suppress(FileNotFoundError):
            if old.stat().st_mtime < expired:
                old.unlink()


async def _receive(request: web.Request, path: Path, megabytes: int) -> tuple[Path, int]:
    """The `csv_file` part, written to `path` (mode 0600) as it arrives; its size. A body
    that is not well-formed multipart (a bad part header, say) is a 400 like no file at all."""
    try:
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == FIELD:
                return path, await _save(part, path, megabytes)  # type: ignore[arg-type]
    except (AssertionError, ValueError, KeyError, HttpProcessingError):
        raise _no_file() from None
    raise _no_file()


async def _save(part: BodyPartReader, path: Path, megabytes: int) -> int:
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await part.read_chunk(_CHUNK):
                size += len(chunk)
                if size > megabytes * 2**20:
                    raise _too_large(megabytes)
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return size


async def _with_progress(
    request: web.Request, upload: Path, size: int, run: _Run
) -> web.StreamResponse:
    """NDJSON: a line per batch read, {"progress": {rows, bytes, size}}, then {"result": …}
    or {"error": …}."""
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)

    async def line(value: object) -> None:
        await response.write((dumps(value) + "\n").encode())

    async def progress(rows: int, read: int) -> None:
        await line({"progress": {"rows": rows, "bytes": read, "size": size}})

    try:
        result = await run.import_csv(request, upload, progress)
        await line({"result": result_json(result, run.token)})
    except CsvError as exc:
        await line({"error": {"code": "bad_csv", "message": str(exc), "field": FIELD}})
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def _too_large(megabytes: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        Text(
            f"文件超过 {megabytes} MB 的上限（可在配置文件 [web] max_upload_mb 中调整）",
            f"the file is larger than {megabytes} MB ([web] max_upload_mb sets the limit)",
        ),
        field=FIELD,
    )


def _no_file() -> ApiError:
    return ApiError(
        400,
        "no_file",
        Text(
            f"请在 {FIELD} 字段中上传 CSV 文件", f"send the CSV file in the multipart field {FIELD}"
        ),
        field=FIELD,
    )


IMPORT_RESULT = {
    "type": "object",
    "required": ["rows", "inserted", "updated", "rejected", "encoding"],
    "properties": {
        "rows": {"type": "integer"},
        "inserted": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["row", "field", "message"],
                "properties": {
                    "row": {"type": "integer"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "cells": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "encoding": {"type": "string"},
        "delimiter": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "rejected_total": {"type": "integer"},
        "rejected_csv": {"type": "string", "description": "where all rejected rows are"},
        "duplicates": {"type": "array"},
        "duplicates_total": {"type": "integer"},
        "ignored_columns": {"type": "array", "items": {"type": "string"}},
        "ignored_total": {"type": "integer"},
    },
}

ENDPOINTS = (
    Endpoint(
        "POST",
        "/api/import",
        import_customers,
        f"Import customers from a CSV file (multipart field {FIELD})",
        Answer(
            200,
            "what was imported; with progress, NDJSON lines of progress and then the result "
            "or the error",
            {
                "application/json": {"schema": IMPORT_RESULT},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        ),
        query=(DRY_RUN, PROGRESS),
        body={
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
        errors=(400, 413),
    ),
    Endpoint(
        "GET",
        "/api/import/rejected",
        rejected_rows,
        "All rejected rows of a recent import, with their reasons, as CSV",
        Answer(200, "CSV", {"text/csv": {"schema": {"type": "string"}}}),
        query=(REJECTED_FILE,),
        errors=(400, 404),
        downloads=True,
    ),
)
