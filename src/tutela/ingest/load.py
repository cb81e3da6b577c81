"""Loading files into the workspace: one atomic transaction per table, with provenance."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anyascii import anyascii

import tutela.ingest.readers as readers
from tutela import __version__, audit
from tutela.base.errors import (
    EngineError,
    InputFileError,
    InterruptedByUser,
    NoSpaceError,
    TableExistsError,
    TutelaError,
    UsageError,
    WorkspaceDamagedError,
    classify,
)
from tutela.base.keys import MasterKey
from tutela.base.progress import ProgressCallback, no_progress
from tutela.base.sql import sql_literal
from tutela.engine import Connection, Relation, SqlError
from tutela.formats import FileFormat, format_for
from tutela.ingest.readers import Staged, StageRequest
from tutela.ingest.sniff import FileFacts, detect_encoding, hash_file, transcode_to_utf8
from tutela.workspace import INTERNAL, Workspace, quote_ident

STAGING = "__tutela_staging"


@dataclass
class SchemaChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[dict[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)


@dataclass
class LoadResult:
    """What happened to one table: loaded, replaced, unchanged, or failed (with the error)."""

    path: str
    table: str | None
    status: str
    rows: int = 0
    columns: list[dict[str, str]] = field(default_factory=list)
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    sha256: str | None = None
    schema_change: SchemaChange | None = None
    error: TutelaError | None = None
    notes: list[str] = field(default_factory=list)  # e.g. a generated column name

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "table": self.table,
            "status": self.status,
            "rows": self.rows,
            "format": self.format,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "sha256": self.sha256,
            "columns": self.columns,
        }
        if self.schema_change is not None:
            data["schema_change"] = {
                "added": self.schema_change.added,
                "removed": self.schema_change.removed,
                "retyped": self.schema_change.retyped,
            }
        if self.error is not None:
            data["error"] = {"slug": self.error.slug, "message": self.error.message}
        if self.notes:
            data["notes"] = self.notes
        return data


def table_name_for(stem: str) -> str:
    """A safe, readable, ASCII table name from a file or sheet name.

    Every script is transliterated (anyascii): `Clientes 2024 (ES)` -> `clientes_2024_es`,
    `Łódź` -> `lodz`, `Πελάτες` -> `pelates`, `לקוחות` -> `lkvhvt`, so names in Hebrew,
    Arabic or Greek stay readable and distinct instead of all becoming `table`. Control
    and format characters (U+202E, right-to-left override) never reach a name. A name
    with no letter or digit left gets a short hash of the original, so two such files do
    not collide."""
    visible = "".join(c for c in stem if unicodedata.category(c) not in ("Cc", "Cf"))
    name = re.sub(r"[^0-9a-zA-Z]+", "_", anyascii(visible)).strip("_").lower()
    if not name:
        digest = hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"table_{digest}"
    if name[0].isdigit():
        name = "t_" + name
    return name[:63]


@dataclass(frozen=True)
class _Job:
    path: Path
    format: FileFormat
    table: str
    sheet: str | None = None


def load_files(
    ws: Workspace,
    paths: Sequence[str | Path],
    *,
    table: str | None = None,
    source: str | None = None,
    replace: bool = False,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: ProgressCallback = no_progress,
    audit_key: MasterKey | None = None,
) -> list[LoadResult]:
    """Load every file; each table is loaded atomically and failures do not stop the others.

    With `audit_key`, each table's load is written to the audit log in its transaction.
    """
    if not paths:
        raise UsageError("no files given")
    if table is not None and len(paths) > 1:
        raise UsageError("--table names one table: give exactly one file with it")
    results: list[LoadResult] = []
    jobs: list[_Job] = []
    for raw in paths:
        path = Path(raw)
        try:
            jobs.extend(_plan(path, table, sheet))
        except TutelaError as exc:
            results.append(LoadResult(str(path), None, "failed", error=exc))
    seen: dict[str, str] = {}
    for job in jobs:
        if job.table.casefold() in seen:
            err = UsageError(
                f"{job.path}{f' [{job.sheet}]' if job.sheet else ''} and "
                f"{seen[job.table.casefold()]} would both become table {job.table!r}",
                hint="load them separately with --table",
            )
            results.append(LoadResult(str(job.path), job.table, "failed", error=err))
            continue
        seen[job.table.casefold()] = f"{job.path}{f' [{job.sheet}]' if job.sheet else ''}"
        try:
            results.append(
                _load_one(ws, job, source, replace, encoding, delimiter, progress, audit_key)
            )
        except TutelaError as exc:
            mapped = classify(exc, database=str(ws.root / "tutela.duckdb"))
            if isinstance(mapped, NoSpaceError | InterruptedByUser | WorkspaceDamagedError):
                raise mapped from exc  # not this file's fault: the next ones would fail too
            results.append(
                LoadResult(str(job.path), job.table, "failed", sheet=job.sheet, error=exc)
            )
    return results


@dataclass(frozen=True)
class StagedFile:
    """A file read into a temp table by the loaders `tutela load` uses (for commands that
    read a side file, like `consent import`): where its text went, and its dialect."""

    format: str
    text_path: Path | None
    encoding: str | None
    delimiter: str | None


def stage_file(ws: Workspace, path: Path, staging: str, tmp: Path) -> StagedFile:
    """Read one file (any format and encoding `tutela load` reads) into `temp.<staging>`,
    with the same line-numbered errors. `tmp` is a private directory the caller removes."""
    job = _plan(path, None, None)[0]
    facts = hash_file(path)
    if facts.size == 0:
        raise InputFileError(f"{path}: file is empty")
    encoding, delimiter, _ = _stage(ws, job, facts, tmp, None, None, no_progress)
    if staging != STAGING:
        ws.con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(staging)}")
        ws.con.execute(f"ALTER TABLE temp.{quote_ident(STAGING)} RENAME TO {quote_ident(staging)}")
    text_path = None
    if job.format.text:
        converted = tmp / "utf8.txt"
        text_path = converted if converted.exists() else path
    return StagedFile(job.format.name, text_path, encoding, delimiter)


def _plan(path: Path, table: str | None, sheet: str | None) -> list[_Job]:
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory; give the files inside it")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read file ({exc.strerror})") from exc
    fmt = format_for(path)
    if table is not None:
        if not table.strip():
            raise UsageError("--table must not be empty")
        if table.startswith("_tutela") or table == STAGING:
            raise UsageError(f"table name {table!r} is reserved")
    if not fmt.sheets:
        if sheet is not None:
            raise UsageError("--sheet applies to .xlsx files only")
        return [_Job(path, fmt, table or table_name_for(path.stem))]
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty")
    sheets = readers.SHEETS[fmt.name](path)
    if sheet is not None:
        if sheet not in sheets:
            raise InputFileError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(sheets)})")
        sheets = [sheet]
    if len(sheets) == 1:
        return [_Job(path, fmt, table or table_name_for(path.stem), sheets[0])]
    base = table or table_name_for(path.stem)
    return [_Job(path, fmt, table_name_for(f"{base}_{s}"), s) for s in sheets]


def _previous(ws: Workspace, table: str) -> dict[str, Any] | None:
    rows = ws.con.execute(
        f"SELECT sha256, path, loaded_at, columns, sheet FROM {INTERNAL}.sources "
        "WHERE table_name = ?",
        [table],
    ).fetchall()
    if not rows:
        return None
    sha, path, loaded_at, columns, sheet = rows[0]
    return {
        "sha256": sha,
        "path": path,
        "loaded_at": loaded_at,
        "columns": json.loads(columns),
        "sheet": sheet,
    }


def _load_one(
    ws: Workspace,
    job: _Job,
    source: str | None,
    replace: bool,
    encoding: str | None,
    delimiter: str | None,
    progress: ProgressCallback,
    audit_key: MasterKey | None,
) -> LoadResult:
    path = job.path
    facts = hash_file(path, lambda f: progress(f"hashing {path.name}", f))
    if facts.size == 0:
        raise InputFileError(f"{path}: file is empty")
    existing = {t.casefold(): t for t in ws.user_tables()}
    if job.table.casefold() in existing:  # names are case-insensitive: use the stored one
        job = dataclasses.replace(job, table=existing[job.table.casefold()])
    previous = _previous(ws, job.table)
    exists = ws.has_table(job.table)
    same = previous and previous["sha256"] == facts.sha256 and previous["sheet"] == job.sheet
    if same and exists:
        assert previous is not None
        return LoadResult(
            str(path),
            job.table,
            "unchanged",
            rows=ws.row_count(job.table),
            columns=previous["columns"],
            format=job.format.name,
            sheet=job.sheet,
            sha256=facts.sha256,
        )
    if exists and not replace:
        held = (
            f"{previous['path']} loaded {previous['loaded_at']:%Y-%m-%d %H:%M}"
            if previous
            else "data not loaded by tutela"
        )
        raise TableExistsError(
            f"table {job.table!r} already holds {held}; {path} differs",
            hint="pass --replace to replace it, or --table to load under another name",
        )
    with tempfile.TemporaryDirectory(prefix="load-", dir=ws.root) as tmp:
        text_encoding, used_delimiter, staged = _stage(
            ws, job, facts, Path(tmp), encoding, delimiter, progress
        )
        try:
            with ws.transaction() as con:
                target = ws.table_ident(job.table)  # refuses an attached table's name
                columns = _materialize(
                    con, job.table, target, replace=exists, inferable=staged.inferable
                )
                rows = ws.row_count(job.table)
                _record(con, job, source, facts, text_encoding, used_delimiter, rows, columns)
                if audit_key is not None:
                    audit.append(
                        con,
                        audit_key,
                        command="load",
                        arguments={"file": str(path), "sheet": job.sheet, "source": source},
                        tables=[job.table],
                        counts={"rows": rows, "columns": len(columns)},
                        result=f"{'replaced' if exists else 'loaded'} sha256={facts.sha256}",
                    )
        except SqlError as exc:
            raise EngineError(
                f"{path}: loading into table {job.table!r} failed: {str(exc).splitlines()[0]}"
            ) from exc
        finally:  # the staging table lives outside the (possibly aborted) transaction
            ws.con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(STAGING)}")
    change = _schema_change(previous["columns"], columns) if previous and exists else None
    result = LoadResult(
        str(path),
        job.table,
        "replaced" if exists else "loaded",
        rows=rows,
        columns=columns,
        format=job.format.name,
        encoding=text_encoding,
        sheet=job.sheet,
        sha256=facts.sha256,
        schema_change=change,
    )
    result.notes = list(staged.notes)
    return result


def _stage(
    ws: Workspace,
    job: _Job,
    facts: FileFacts,
    tmp: Path,
    encoding: str | None,
    delimiter: str | None,
    progress: ProgressCallback,
) -> tuple[str | None, str | None, Staged]:
    """Fill the temp staging table from the file with its format's reader (text formats
    decoded to UTF-8 first); returns the text encoding, the delimiter, and what was read."""
    con, path = ws.con, job.path
    con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(STAGING)}")
    text_encoding: str | None = None
    text_path = path
    if job.format.text:
        text_encoding = encoding or detect_encoding(path, facts)
        if text_encoding not in ("utf-8", "utf-8-sig"):
            try:
                "".encode(text_encoding)
            except LookupError as exc:
                raise UsageError(f"unknown encoding {text_encoding!r}") from exc
            text_path = tmp / "utf8.txt"
            transcode_to_utf8(
                path, text_encoding, text_path, lambda f: progress(f"decoding {path.name}", f)
            )
        elif encoding and facts.utf8_error is not None:
            raise InputFileError(
                f"{path}: not valid UTF-8 although --encoding {encoding} was given"
            )
    reader = readers.STAGERS[job.format.name]
    staged = reader(
        StageRequest(con, STAGING, path, text_path, job.format, job.sheet, tmp, delimiter, progress)
    )
    return text_encoding, staged.delimiter, staged


def _flat_columns(rel: Relation) -> list[tuple[str, str]]:
    """(output name, SQL expression) pairs; STRUCT columns become `parent.child` columns."""
    out: list[tuple[str, str]] = []

    def walk(name: str, expr: str, dtype: Any) -> None:
        if getattr(dtype, "id", None) == "struct":
            for child, child_type in dtype.children:
                walk(f"{name}.{child}", f"struct_extract({expr}, {sql_literal(child)})", child_type)
        else:
            out.append((name, expr))

    for name, dtype in zip(rel.columns, rel.types, strict=True):
        walk(name, quote_ident(name), dtype)
    return out


_LEADING = r"^\s*([+]|-?0[0-9])"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"


_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

# Lossless conversions, narrowest first: a predicate that a trimmed text value {v} satisfies
# when the type holds it exactly (TRY_CAST alone would round '12.5' to a BIGINT 13).
_TYPE_CHECKS = {
    "BIGINT": "regexp_matches({v}, '^-?[0-9]{{1,18}}$') AND NOT regexp_matches({v}, '{lead}')",
    "DECIMAL": "regexp_matches({v}, '^-?[0-9]{{1,18}}(\\.[0-9]{{1,18}})?$') "
    "AND NOT regexp_matches({v}, '{lead}')",
    "DATE": "regexp_matches({v}, '{date}') AND TRY_CAST({v} AS DATE) IS NOT NULL",
    "TIMESTAMP": "(regexp_matches({v}, '{ts}') OR regexp_matches({v}, '{date}')) "
    "AND TRY_CAST({v} AS TIMESTAMP) IS NOT NULL",
    "BOOLEAN": "lower({v}) IN ('true', 'false')",
}
_SAMPLE_ROWS = 20_000


def _inferred_types(
    con: Connection, exprs: list[tuple[str, str]], varchar: set[str]
) -> dict[str, str]:
    """For text columns, the narrowest type that every non-empty value converts to exactly.

    Values with a leading zero or plus sign stay text (postcodes, phone numbers), and so do
    integers too long for exact arithmetic. Candidates come from the first rows; each
    candidate is then checked over all rows, so a late odd value keeps the column text.
    """
    names = [n for n, _ in exprs if n in varchar]
    if not names:
        return {}
    expr_of = dict(exprs)

    def predicate(name: str, type_name: str) -> str:
        v = f"trim({expr_of[name]})"
        return _TYPE_CHECKS[type_name].format(v=v, lead=_LEADING, date=_DATE, ts=_TIMESTAMP)

    staging = f"temp.{quote_ident(STAGING)}"
    sample_checks = []
    for name in names:
        sample_checks.append(f"count(NULLIF(trim({expr_of[name]}), ''))")
        sample_checks += [f"count(*) FILTER (WHERE {predicate(name, t)})" for t in _TYPE_CHECKS]
    row = con.execute(
        f"SELECT {', '.join(sample_checks)} FROM (SELECT * FROM {staging} LIMIT {_SAMPLE_ROWS})"
    ).fetchone()
    assert row is not None
    width = len(_TYPE_CHECKS) + 1
    candidates: list[tuple[str, str]] = []
    for i, name in enumerate(names):
        non_empty, *counts = row[i * width : (i + 1) * width]
        if non_empty:
            candidates += [
                (name, t) for t, n in zip(_TYPE_CHECKS, counts, strict=True) if n == non_empty
            ]
    if not candidates:
        return {}
    full_checks = [
        f"count(*) FILTER (WHERE trim({expr_of[n]}) <> '' AND NOT ({predicate(n, t)}))"
        for n, t in candidates
    ]
    failures = con.execute(f"SELECT {', '.join(full_checks)} FROM {staging}").fetchone()
    assert failures is not None
    types: dict[str, str] = {}
    for (name, type_name), failed in zip(candidates, failures, strict=True):
        if failed == 0 and name not in types:
            types[name] = type_name
    decimals = [n for n, t in types.items() if t == "DECIMAL"]
    if decimals:  # exact decimals: precision and scale as observed ('12.50' stays 12.50)
        parts = []
        for n in decimals:
            v = f"trim({expr_of[n]})"
            parts += [
                f"max(length(ltrim(split_part({v}, '.', 1), '-')))",
                f"max(length(split_part({v}, '.', 2)))",
            ]
        digits = con.execute(f"SELECT {', '.join(parts)} FROM {staging}").fetchone()
        assert digits is not None
        for i, n in enumerate(decimals):
            whole, scale = int(digits[2 * i] or 1), int(digits[2 * i + 1] or 0)
            if whole + scale > 38:
                del types[n]
            else:
                types[n] = f"DECIMAL({max(whole + scale, 1)}, {scale})"
    return types


def _materialize(
    con: Connection,
    table: str,
    target: str,
    *,
    replace: bool,
    inferable: frozenset[str] | None = None,
) -> list[dict[str, str]]:
    """Create the loaded table `table` (quoted as `target`) from the staged rows."""
    rel = con.sql(f"SELECT * FROM temp.{quote_ident(STAGING)}")
    exprs = _flat_columns(rel)
    check_names = [n for n, _ in exprs]
    from tutela.ingest.sniff import check_column_names

    check_column_names(table, check_names)
    varchar = {n for (n, e), t in zip(exprs, _flat_types(rel), strict=True) if t == "VARCHAR"}
    if inferable is not None:
        varchar &= inferable
    inferred = _inferred_types(con, exprs, varchar)
    select = []
    json_typed = {n for (n, _), t in zip(exprs, _flat_types(rel), strict=True) if t == "JSON"}
    for name, expr in exprs:
        if name in json_typed:  # values of mixed JSON types: keep them as plain text
            expr = f"json_extract_string({expr}, '$')"
        if name in inferred:
            expr = f"CAST(NULLIF(trim({expr}), '') AS {inferred[name]})"
        select.append(f"{expr} AS {quote_ident(name)}")
    if replace:
        con.execute(f"DROP TABLE {target}")
    con.execute(
        f"CREATE TABLE {target} AS SELECT {', '.join(select)} FROM temp.{quote_ident(STAGING)}"
    )
    described = con.execute(f"DESCRIBE {target}").fetchall()
    return [{"name": r[0], "type": r[1]} for r in described]


def _flat_types(rel: Relation) -> list[str]:
    out: list[str] = []

    def walk(dtype: Any) -> None:
        if getattr(dtype, "id", None) == "struct":
            for _, child_type in dtype.children:
                walk(child_type)
        else:
            out.append(str(dtype))

    for dtype in rel.types:
        walk(dtype)
    return out


def _record(
    con: Connection,
    job: _Job,
    source: str | None,
    facts: FileFacts,
    encoding: str | None,
    delimiter: str | None,
    rows: int,
    columns: list[dict[str, str]],
) -> None:
    con.execute(f"DELETE FROM {INTERNAL}.sources WHERE table_name = ?", [job.table])
    con.execute(
        f"INSERT INTO {INTERNAL}.sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            job.table,
            source,
            str(job.path.resolve()),
            job.sheet,
            job.format.name,
            encoding,
            delimiter,
            facts.sha256,
            facts.size,
            rows,
            json.dumps(columns, ensure_ascii=False),
            datetime.now(UTC).replace(tzinfo=None),
            __version__,
        ],
    )


def _schema_change(old: list[dict[str, str]], new: list[dict[str, str]]) -> SchemaChange:
    before = {c["name"]: c["type"] for c in old}
    after = {c["name"]: c["type"] for c in new}
    return SchemaChange(
        added=[n for n in after if n not in before],
        removed=[n for n in before if n not in after],
        retyped=[
            {"column": n, "from": before[n], "to": after[n]}
            for n in after
            if n in before and before[n] != after[n]
        ],
    )
