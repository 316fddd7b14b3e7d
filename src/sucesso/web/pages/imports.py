"""Imports over the API: the same importer as `sucesso import`, the same checks, all or nothing.

    curl -H "Authorization: Bearer $TOKEN" -F file=@accounts.csv http://127.0.0.1:8000/api/import/accounts

A token with the "ingest" scope (or a signed-in manager/admin session with its X-CSRF-Token).
The file keeps its name in every problem message. After a successful import the precomputed
pages are recomputed in the background.
"""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from sucesso.ingest import ImportOptions, import_file
from sucesso.ingest.parse import parse_date_format, parse_decimal_option
from sucesso.ingest.presets import load_preset, with_preset
from sucesso.ingest.problems import RejectedFile
from sucesso.ingest.sources import SOURCES, import_source, is_source
from sucesso.store.schema import CANONICAL
from sucesso.web.auth import User, api_scope

router = APIRouter()
MAX_BYTES = 512 * 1024 * 1024
CHUNK = 1024 * 1024


def _options(request: Request, format: str | None, encoding: str | None, delimiter: str | None,
             decimal: str | None, date_format: str | None, mapping: list[str], preset: str | None) -> ImportOptions:
    try:
        pairs = dict(m.split("=", 1) for m in mapping)
    except ValueError:
        raise HTTPException(422, "map entries are SOURCE=COLUMN, e.g. map=Empresa=name") from None
    try:
        options = ImportOptions(format=format, encoding=encoding, delimiter=delimiter,
                                decimal=parse_decimal_option(decimal) if decimal else None,
                                date_order=parse_date_format(date_format) if date_format else None, mapping=pairs)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if preset:
        try:
            _table, saved = request.app.state.workspace.run(lambda store: load_preset(store, preset))
        except RejectedFile as exc:
            raise HTTPException(422, str(exc)) from None
        options = with_preset(saved, options)
    return options


async def _save(upload: UploadFile, folder: str) -> str:
    name = os.path.basename(upload.filename or "upload") or "upload"
    path = os.path.join(folder, name)
    size = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                raise HTTPException(413, f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB")
            out.write(chunk)
    return path


@router.post("/api/import/{table}", tags=["imports"],
             summary="Import a file into a table, or another tool's export (zendesk, hubspot-companies, …)")
async def import_api(
    request: Request, table: str, file: UploadFile = File(...),
    format: str | None = None, encoding: str | None = None, delimiter: str | None = None,
    decimal: str | None = Query(None, description="comma or dot"),
    date_format: str | None = Query(None, description="dmy, mdy or ymd"),
    map: list[str] = Query([], description="SOURCE=COLUMN, repeatable"),  # noqa: A002 - the CLI's name
    preset: str | None = None,
    user: User = Depends(api_scope("ingest")),
):
    if table not in {t.name for t in CANONICAL} and not is_source(table):
        raise HTTPException(404, f"no table {table!r}; the tables are {', '.join(t.name for t in CANONICAL)}; "
                                 f"the sources are {', '.join(SOURCES)}")
    options = _options(request, format, encoding, delimiter, decimal, date_format, map, preset)
    workspace = request.app.state.workspace
    with tempfile.TemporaryDirectory(prefix="sucesso-upload-") as folder:
        path = await _save(file, folder)
        reports = workspace.run(lambda store: import_source(store, table, path, options) if is_source(table)
                                else [import_file(store, table, path, options)])
    bodies = [_body(report, folder) for report in reports]
    written = all(report.written for report in reports)
    if written:
        workspace.refresh_in_background()
    body = bodies[0] if len(bodies) == 1 else {"written": written, "reports": bodies}  # a workbook: one per sheet
    return JSONResponse(body, status_code=200 if written else 422)


def _body(report, folder: str) -> dict:
    body = {"file": report.file.replace(folder + os.sep, ""), "table": report.table}
    if not report.written:
        problems = [{"row": p.row, "column": p.column, "value": p.value, "expected": p.expected,
                     "message": str(p).replace(folder + os.sep, "")} for p in report.problems]
        return {**body, "written": False, "problems": problems}
    return {**body, "written": True, "inserted": report.inserted, "updated": report.updated,
            "unchanged": report.unchanged, "detected": report.detected, "ignored_columns": report.ignored_columns,
            "notes": report.notes}
