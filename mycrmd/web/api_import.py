"""Uploading customers: POST /api/import with the CSV in the multipart field `csv_file`.

The upload goes to a private temporary file as it arrives (the size limit is checked on the
way, so an oversized file is refused without filling memory), then customer_import reads it.
`?dry_run=1` reports without writing; `?progress=1` answers with NDJSON lines — progress,
then the result — for the UI's progress bar.
"""

import contextlib
import os
import secrets
from dataclasses import asdict
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from mycrmd.customers.csv_format import CsvError
from mycrmd.customers.importing import ImportResult, import_csv
from mycrmd.model.words import Text
from mycrmd.web.errors import ApiError
from mycrmd.web.i18n import request_language
from mycrmd.web.jsonout import dumps, respond
from mycrmd.web.params import Flag
from mycrmd.web.routes import Answer, Endpoint
from mycrmd.web.services import SERVICES

_CHUNK = 256 * 1024
DRY_RUN = Flag("dry_run", "check and count only", False)
PROGRESS = Flag("progress", "answer NDJSON progress lines", False)
FIELD = "csv_file"


def result_json(result: ImportResult) -> dict[str, object]:
    return asdict(result)


async def import_customers(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    megabytes = services.config.web.max_upload_mb
    dry_run = DRY_RUN.read(request)
    language = request_language(request)
    if request.content_length is not None and request.content_length > megabytes * 2**20 + _CHUNK:
        raise _too_large(megabytes)
    upload, size = await _receive(request, _upload_path(services.config.state_dir), megabytes)
    try:
        if PROGRESS.read(request):
            return await _with_progress(request, upload, size, dry_run, language)
        try:
            result = await import_csv(services.pool, upload, dry_run=dry_run, language=language)
        except CsvError as exc:
            raise ApiError(400, "bad_csv", str(exc), field=FIELD) from None
        return respond(result_json(result))
    finally:
        os.unlink(upload)


def _upload_path(state_dir: Path) -> Path:
    folder = state_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{secrets.token_hex(8)}.csv"


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
    request: web.Request, upload: Path, size: int, dry_run: bool, language: str
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
        result = await import_csv(
            request.app[SERVICES].pool,
            upload,
            dry_run=dry_run,
            language=language,
            progress=progress,
        )
        await line({"result": result_json(result)})
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
        "duplicates": {"type": "array"},
        "ignored_columns": {"type": "array", "items": {"type": "string"}},
        "header": {"type": "array", "items": {"type": "string"}},
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
)
