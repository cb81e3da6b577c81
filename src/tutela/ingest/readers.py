"""One reader per format: each fills a staging table with a file's rows inside DuckDB.

`STAGERS` maps a format's name (`tutela.formats.FileFormat.name`) to its reader; every
reader takes a `StageRequest` and returns `Staged`. A new format adds its reader here (and,
for a workbook, its sheet lister to `SHEETS`).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from tutela.base.errors import InputFileError
from tutela.base.progress import ProgressCallback
from tutela.base.sql import file_pattern
from tutela.engine import Connection, SqlError
from tutela.formats import FileFormat
from tutela.ingest.sniff import Dialect, check_column_names, sniff_dialect
from tutela.workspace import quote_ident


@dataclass(frozen=True)
class StageRequest:
    """One file (or workbook sheet) to read into the temp table `staging`."""

    con: Connection
    staging: str
    path: Path
    """The user's file, named in every error."""
    text_path: Path
    """Its UTF-8 text (decoded copy for text formats in another encoding), else `path`."""
    format: FileFormat
    sheet: str | None
    tmp: Path
    """A private directory for intermediate files, removed by the caller."""
    delimiter: str | None
    """`--delimiter`, when given."""
    progress: ProgressCallback


@dataclass(frozen=True)
class Staged:
    """What the reader knows that the table needs: which text columns may be typed by
    inference (None: all of them, for all-text CSV; declared types are never re-guessed),
    the delimiter used, and notes for the user."""

    inferable: frozenset[str] | None = frozenset()
    notes: tuple[str, ...] = ()
    delimiter: str | None = None


Stager = Callable[[StageRequest], Staged]

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def run_with_progress(
    con: Connection,
    sql: str,
    params: list[Any],
    label: str,
    progress: ProgressCallback,
) -> None:
    """Execute one statement while a thread reports DuckDB's own query progress."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            try:
                fraction = con.query_progress()
            except SqlError:
                return
            if fraction is not None and fraction >= 0:
                progress(label, fraction / 100.0)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        con.execute(sql, params)
    finally:
        done.set()
        watcher.join()
    progress(label, 1.0)


def _engine_message(path: Path, exc: SqlError) -> str:
    """A one-line message from a DuckDB reader error; never echoes row content."""
    text = str(exc)
    line = _CSV_LINE.search(text)
    cols = _COLS.search(text)
    if line and cols:
        return f"{path}:{line.group(1)}: expected {cols.group(1)} columns, found {cols.group(2)}"
    if line:
        detail = text.split("\n", 1)[0].split("Error:", 1)[-1].strip()
        return f"{path}:{line.group(1)}: {detail}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"{path}: {first}"


def stage_csv(
    con: Connection,
    staging: str,
    path: Path,
    text_path: Path,
    dialect: Dialect,
    progress: ProgressCallback,
) -> None:
    """Read every field as text first; types are inferred afterwards over all rows."""
    columns = {name: "VARCHAR" for name in dialect.columns}
    sql = (
        f"CREATE TEMP TABLE {quote_ident(staging)} AS SELECT * FROM read_csv(?, delim = ?, "
        "quote = '\"', escape = '\"', header = ?, auto_detect = false, columns = ?, "
        "strict_mode = true, null_padding = false, max_line_size = 16777216, "
        # DuckDB 1.5 sizes its read buffer from max_line_size (256 MiB), more than a
        # TUTELA_MEMORY_LIMIT of 256MB allows; 32 MiB still holds any 16 MiB line.
        "buffer_size = 33554432)"
    )
    params = [file_pattern(text_path), dialect.delimiter, dialect.has_header, columns]
    try:
        run_with_progress(con, sql, params, f"reading {path.name}", progress)
    except SqlError as exc:
        long_line = None if _CSV_LINE.search(str(exc)) else _first_long_line(text_path)
        if long_line is not None:  # DuckDB gives up on such a line without saying where
            number, size = long_line
            raise InputFileError(
                f"{path}:{number}: a line of {size:,} bytes; lines of up to "
                f"{MAX_LINE_BYTES // (1 << 20)} MiB are read",
                hint="a field this large is not a record: check the file around that line",
            ) from exc
        raise InputFileError(_engine_message(path, exc)) from exc


MAX_LINE_BYTES = 16 * 1024 * 1024  # DuckDB's max_line_size above


def _first_long_line(text_path: Path, limit: int = MAX_LINE_BYTES) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than `limit` bytes, streaming."""
    number, length = 1, 0
    with text_path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                length += end - start
                if length > limit:
                    return number, length
                number, length, start = number + 1, 0, end + 1
            length += len(chunk) - start
            if length > limit:
                while (rest := fh.read(1 << 20)) and b"\n" not in rest:
                    length += len(rest)
                if rest:
                    length += rest.find(b"\n")
                return number, length
    return None


def stage_json(
    con: Connection, staging: str, path: Path, fmt: str, progress: ProgressCallback
) -> None:
    json_format = "newline_delimited" if fmt == "ndjson" else "auto"
    sql = (
        f"CREATE TEMP TABLE {quote_ident(staging)} AS SELECT * FROM read_json(?, "
        "format = ?, sample_size = -1, maximum_object_size = 67108864)"
    )
    try:
        run_with_progress(
            con, sql, [file_pattern(path), json_format], f"reading {path.name}", progress
        )
    except SqlError as exc:
        raise InputFileError(_engine_message(path, exc)) from exc


def stage_parquet(con: Connection, staging: str, path: Path, progress: ProgressCallback) -> None:
    if not path.open("rb").read(4) == b"PAR1":
        raise InputFileError(f"{path}: not a Parquet file (missing PAR1 magic bytes)")
    sql = f"CREATE TEMP TABLE {quote_ident(staging)} AS SELECT * FROM read_parquet(?)"
    try:
        run_with_progress(con, sql, [file_pattern(path)], f"reading {path.name}", progress)
    except SqlError as exc:
        raise InputFileError(_engine_message(path, exc)) from exc


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def excel_sheets(path: Path) -> list[str]:
    workbook = _open_workbook(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _open_workbook(path: Path, *, data_only: bool = True) -> Any:
    import zipfile

    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(f"{path}: not a readable .xlsx workbook ({exc})") from exc


def _check_formulas(path: Path, sheet: str, line: int, values: Any, formulas: Any) -> None:
    """A formula whose result was never saved (workbook written by a program, not Excel)
    would load as an empty cell: refuse it rather than lose the value."""
    from openpyxl.utils import get_column_letter

    for i, (value, formula) in enumerate(zip(values, formulas, strict=False), start=1):
        if value is None and isinstance(formula, str) and formula.startswith("="):
            raise InputFileError(
                f"{path} [sheet {sheet}]:{line}: cell {get_column_letter(i)}{line} holds a "
                "formula whose value was never saved",
                hint="open and save the workbook in a spreadsheet program, or export it as CSV",
            )


def excel_sheet_to_csv(path: Path, sheet: str, target: Path) -> Dialect:
    """Stream one sheet into a UTF-8 CSV (openpyxl read-only mode keeps memory flat)."""
    workbook = _open_workbook(path)
    # the same sheet with formulas, to tell an empty cell from an unsaved formula result
    formulas = _open_workbook(path, data_only=False)
    try:
        if sheet not in workbook.sheetnames:
            raise InputFileError(
                f"{path}: no sheet named {sheet!r} (sheets: {', '.join(workbook.sheetnames)})"
            )
        rows = workbook[sheet].iter_rows(values_only=True)
        formula_rows = formulas[sheet].iter_rows(values_only=True)
        header: list[str] | None = None
        text: set[int] = set()  # positions of columns with a text cell
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
            for line, row in enumerate(rows, start=1):
                _check_formulas(path, sheet, line, row, next(formula_rows, ()))
                cells = [_cell(v) for v in row]
                if header is None:
                    if not any(c not in (None, "") for c in cells):
                        continue
                    while cells and cells[-1] in (None, ""):
                        cells.pop()
                    header = [(c or "").strip() for c in cells]
                    check_column_names(f"{path} [sheet {sheet}]", header, line=line)
                    writer.writerow(header)
                    continue
                if any(c not in (None, "") for c in cells[len(header) :]):
                    raise InputFileError(
                        f"{path} [sheet {sheet}]:{line}: a value beyond the last header column"
                    )
                cells = cells[: len(header)] + [None] * (len(header) - len(cells))
                if all(c in (None, "") for c in cells):
                    continue
                text.update(i for i, v in enumerate(row[: len(header)]) if isinstance(v, str))
                writer.writerow(["" if c is None else c for c in cells])
        if header is None:
            raise InputFileError(f"{path} [sheet {sheet}]: sheet is empty")
        return Dialect(
            ",", True, header, text_columns=frozenset(header[i] for i in text if i < len(header))
        )
    finally:
        workbook.close()
        formulas.close()


def drop_trailing(con: Connection, staging: str, path: Path, dialect: Dialect) -> None:
    """Columns after a trailing delimiter have no name: drop them if they hold nothing."""
    for i, name in enumerate(dialect.columns[len(dialect.columns) - dialect.trailing :]):
        row = con.execute(
            f"SELECT count({quote_ident(name)}) FROM temp.{quote_ident(staging)}"
        ).fetchone()
        if row and row[0]:
            position = len(dialect.columns) - dialect.trailing + i + 1
            raise InputFileError(
                f"{path}:1: column {position} has an empty name but holds values",
                hint="give every column a header",
            )
        con.execute(f"ALTER TABLE temp.{quote_ident(staging)} DROP COLUMN {quote_ident(name)}")


def unwrap_json(con: Connection, staging: str, path: Path) -> None:
    """`{"data": [{...}, ...], "count": 2}`: the records are the list, not the wrapper."""
    rel = con.sql(f"SELECT * FROM temp.{quote_ident(staging)} LIMIT 2")
    rows = con.execute(f"SELECT count(*) FROM temp.{quote_ident(staging)}").fetchone()
    record_lists = [
        name
        for name, dtype in zip(rel.columns, rel.types, strict=True)
        if getattr(dtype, "id", None) == "list"
        and getattr(dtype.children[0][1], "id", None) == "struct"
    ]
    if rows and rows[0] == 1 and len(record_lists) == 1:
        col = quote_ident(record_lists[0])
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_ident(staging)} AS SELECT r.* FROM "
                f"(SELECT unnest({col}) AS r FROM temp.{quote_ident(staging)})"
            )
        except SqlError as exc:  # e.g. a record field with an empty name
            raise InputFileError(
                f"{path}: the records in {record_lists[0]!r} cannot be read as rows: "
                f"{str(exc).splitlines()[0]}",
                hint="every field of a record needs a non-empty name",
            ) from exc


# -- the readers `tutela load` dispatches to, one per format name -------------------------


def read_delimited(req: StageRequest) -> Staged:
    """CSV/TSV: dialect and header sniffed, every field read as text, typed afterwards."""
    dialect = sniff_dialect(req.path, req.text_path, req.delimiter)
    stage_csv(req.con, req.staging, req.path, req.text_path, dialect, req.progress)
    drop_trailing(req.con, req.staging, req.path, dialect)
    notes = tuple(
        f"{req.path}:1: column {i} has no name in the header; loaded as {name!r}"
        for i, name in dialect.generated
    )
    return Staged(inferable=None, notes=notes, delimiter=dialect.delimiter)


def read_json(req: StageRequest) -> Staged:
    """A JSON array (or one wrapper object around a list of records) or NDJSON."""
    stage_json(req.con, req.staging, req.text_path, req.format.name, req.progress)
    unwrap_json(req.con, req.staging, req.path)
    return Staged()  # the file declares its types: keep them


def read_parquet(req: StageRequest) -> Staged:
    stage_parquet(req.con, req.staging, req.path, req.progress)
    return Staged()  # the file declares its types: keep them


def read_workbook(req: StageRequest) -> Staged:
    """One sheet of an .xlsx workbook, streamed through a UTF-8 CSV."""
    assert req.sheet is not None
    csv_path = req.tmp / "sheet.csv"
    sheet_dialect = excel_sheet_to_csv(req.path, req.sheet, csv_path)
    stage_csv(req.con, req.staging, req.path, csv_path, sheet_dialect, req.progress)
    # a column with any text cell stays text ('600000030' typed as text in Excel)
    untyped = frozenset(sheet_dialect.columns) - sheet_dialect.text_columns
    return Staged(inferable=untyped)


SHEETS: dict[str, Callable[[Path], list[str]]] = {"xlsx": excel_sheets}
"""The sheet names of a workbook, for each format with `sheets` set."""

STAGERS: dict[str, Stager] = {
    "csv": read_delimited,
    "json": read_json,
    "ndjson": read_json,
    "parquet": read_parquet,
    "xlsx": read_workbook,
}
