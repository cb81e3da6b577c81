"""Lakehouse tables in place: Delta Lake tables (delta-rs, no JVM) and plain Parquet folders.

`tutela attach lake delta:/data/lake` attaches one Delta table or a folder of them; the tables
are `lake.main.customers` (a table directly in the folder, or the folder itself) and
`lake.sales.orders` (one folder level down). `parquet:/data/exports` does the same for plain
Parquet folders (a folder of `.parquet` files, Hive partition folders allowed, is one table).
They plug into the attached-source machinery of `sources.py`: each table is read once per command
into a temporary DuckDB copy with a synthetic `rowid`, and an erasure's writes arrive through
`delete_rows/set_null/set_text`, are collected per table and committed by `commit_writes()`.

Delta: reading goes through delta-rs's own scan (deletion vectors and column mapping are
honoured; Arrow goes straight into DuckDB). A Delta table has no row address, so a planned row
is addressed by its content: the values of its comparable columns (everything but nested
ones). Before writing, Tutela checks on the copy that those values pick out exactly the
planned rows (refusing a table where they would also pick another row), and, if the table's
version moved since it was read, that the rows are still there unchanged (else nothing is
changed). Each table then gets ONE Delta commit: a MERGE of the planned rows' keys that
deletes, blanks or redacts them. Delta has no multi-table transaction: tables commit one by
one, each commit carries `tutela: erasure` in its commit info and is audited, and a run
interrupted half-way is finished by running it again (the rows left are found again, and
files still owed a purge are found from those commit markers).

A Delta DELETE only writes a new version; the old data files (and the log's statistics,
which hold column minimums and maximums) still hold the person, and time travel reads them.
`finish()` therefore purges each touched table: VACUUM with a zero retention that Tutela sets
for that call only (the table's properties are not changed), then a checkpoint and the
removal of the log before it (Tutela sets `delta.logRetentionDuration` to zero for that step
and restores it after). Before that it checks that no reader pins an old version: Delta keeps
no list of readers, so Tutela looks at what the zero-retention vacuum would delete besides
the erasure's own files. Files that other commits removed within the table's own retention
window (`delta.deletedFileRetentionDuration`, 7 days by default), or files written and not
yet committed (a writer in flight), mean someone may still read them: the purge is refused,
with the list, unless `--purge-now`. Finally every remaining file under the table's folder is
read (Parquet decoded by DuckDB, everything else as raw bytes) for each value the erasure
removed.

Parquet folders: the copy records each row's file and row number; an erasure rewrites each
affected file into a staged file beside it and swaps it in with an atomic rename, after
checking that the file is unchanged since it was read.

Iceberg tables (`iceberg:/path`: a table's folder, a folder of them, or one metadata file)
are read only, through pyiceberg (the optional extra `tutela[iceberg]`): the table as its
newest metadata file describes it (`version-hint.text` if present, else the highest
version), scanned as Arrow into the copy. They are never written: no library Tutela can
install offline removes an Iceberg table's orphan files (the data files and manifests that
still hold deleted rows), so an erasure there could not be made physical. An erasure,
retention or in-place pseudonymization that would change one is refused before anything
changes (`Source.check_writable`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.base.errors import UsageError
from tutela.base.sql import file_pattern, json_list, quote_ident, sql_literal
from tutela.engine import Connection, SqlError
from tutela.sources import (
    Attachment,
    Attachments,
    LiveErasure,
    LiveSourceError,
    LiveTable,
    Source,
    register_kind,
)

KINDS = ("delta", "parquet", "iceberg")
PREFIXES = {"delta": "delta", "parquet": "parquet", "iceberg": "iceberg"}
TUTELA_MARK = "tutela"
DEFAULT_FILE_RETENTION = "interval 7 days"
DEFAULT_LOG_RETENTION = "interval 30 days"
COMMIT_ATTEMPTS = 3
HISTORY_LOOKBACK = 200
# values shorter than this are not searched in raw bytes (they occur by chance in binary data)
MIN_BYTES_NEEDLE = 5
_NESTED = re.compile(r"(\[\]|\[\d+\]|^STRUCT|^MAP|^UNION|^VARIANT)", re.IGNORECASE)


def _refuse_rowid_column(name: str, columns: list[str]) -> None:
    """Tables are read with their row address as `rowid`: a column of that name is refused."""
    if any(c.casefold() == "rowid" for c in columns):
        raise _error(
            f"{name} has a column named rowid: Tutela uses that name for the row "
            "address and cannot read this table in place",
            hint="load an export of it instead",
        )


def _error(message: str, hint: str | None = None) -> LiveSourceError:
    return LiveSourceError(message, hint=hint)


# -- targets ------------------------------------------------------------------------------


def claims(text: str, kind: str | None) -> bool:
    """Whether an attach target is a lake folder (`delta:/path`, `parquet:/path`, or a
    folder) rather than a database."""
    if kind in KINDS:
        return True
    prefix = text.split(":", 1)[0].lower()
    if prefix in PREFIXES and ":" in text:
        return True
    if kind is None and text.endswith(".metadata.json"):
        return Path(text).expanduser().is_file()  # an Iceberg table's metadata file
    return kind is None and bool(text) and Path(text).expanduser().is_dir()


def parse_target(text: str, kind: str | None) -> tuple[str, str, None]:
    """(kind, absolute folder path, no password)."""
    raw = text.strip()
    prefix, _, rest = raw.partition(":")
    if prefix.lower() in PREFIXES and rest:
        named = PREFIXES[prefix.lower()]
        if kind is not None and kind != named:
            raise UsageError(f"{raw}: a {named} target cannot be attached as --type {kind}")
        kind, raw = named, rest
    path = Path(raw).expanduser()
    if kind in (None, "iceberg") and path.is_file() and path.name.endswith(".metadata.json"):
        return "iceberg", str(path.resolve()), None  # one table, pinned to this metadata
    if not path.is_dir():
        raise UsageError(f"{raw}: not a folder (a lake target is a table's or tables' folder)")
    path = path.resolve()
    if kind is None:
        kind = _detect(path)
    if kind == "iceberg" and not _iceberg_tables(path):
        raise UsageError(
            f"{raw}: not an Iceberg table or a folder of them (no metadata/*.metadata.json "
            "here or one or two levels down)"
        )
    if kind == "delta" and not _delta_tables(path):
        raise UsageError(
            f"{raw}: not a Delta table or a folder of Delta tables (no _delta_log folder "
            "here or one or two levels down)",
            hint="for plain Parquet files attach parquet:" + str(path),
        )
    if kind == "parquet" and not _parquet_tables(path):
        raise UsageError(f"{raw}: no .parquet files here or one or two levels down")
    return str(kind), str(path), None


def _detect(path: Path) -> str:
    if _delta_tables(path):
        return "delta"
    if _is_iceberg(path):
        return "iceberg"
    if _parquet_tables(path):
        return "parquet"
    raise UsageError(
        f"{path}: neither a Delta table (no _delta_log) nor a folder of Parquet files",
        hint="attach delta:PATH or parquet:PATH",
    )


def _is_iceberg(path: Path) -> bool:
    return bool(_iceberg_tables(path))


def _iceberg_tables(root: Path) -> dict[tuple[str, str], Path]:
    """(schema, table) -> the table's folder, or its metadata file when one was given. A
    namespace folder's `.db` suffix (Hive's layout) is not part of the schema's name."""
    if root.is_file():
        return {("main", _table_name(root.parent.parent.name)): root}
    if _metadata_files(root):
        return {("main", _table_name(root.name)): root}
    found: dict[tuple[str, str], Path] = {}
    for child in _children(root):
        if _metadata_files(child):
            found[("main", _table_name(child.name))] = child
            continue
        schema = _table_name(child.name.removesuffix(".db"))
        for grandchild in _children(child):
            if _metadata_files(grandchild):
                found[(schema, _table_name(grandchild.name))] = grandchild
    return found


def _metadata_files(folder: Path) -> list[Path]:
    try:
        return sorted((folder / "metadata").glob("*.metadata.json"))
    except OSError:
        return []


_METADATA_VERSION = re.compile(r"^v?(\d+)[-.]")


def newest_metadata(table: Path) -> Path | None:
    """An Iceberg table's current metadata file: the one `metadata/version-hint.text` names
    (a version number, or a file name), else the highest version (`v3.metadata.json`,
    `00003-<uuid>.metadata.json`), the newest file among equals. A metadata file given as
    the table is that file."""
    if table.is_file():
        return table
    meta = table / "metadata"
    hint = meta / "version-hint.text"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = hint.read_text().strip()
        if text and "/" not in text:
            for name in (f"v{text}.metadata.json", f"{text}.metadata.json", text):
                if (meta / name).is_file():
                    return meta / name
    ranked = []
    for p in _metadata_files(table):
        m = _METADATA_VERSION.match(p.name)
        with contextlib.suppress(OSError):
            ranked.append((int(m.group(1)) if m else -1, p.stat().st_mtime_ns, p.name, p))
    return max(ranked)[-1] if ranked else None


def _children(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    except OSError:
        return []


def _delta_tables(root: Path) -> dict[tuple[str, str], Path]:
    """(schema, table) -> folder: the root itself, its children, or their children."""
    if (root / "_delta_log").is_dir():
        return {("main", _table_name(root.name)): root}
    found: dict[tuple[str, str], Path] = {}
    for child in _children(root):
        if (child / "_delta_log").is_dir():
            found[("main", child.name)] = child
            continue
        for grandchild in _children(child):
            if (grandchild / "_delta_log").is_dir():
                found[(child.name, grandchild.name)] = grandchild
    return found


def _has_parquet(folder: Path) -> bool:
    """Parquet files directly inside, or inside Hive partition folders (`k=v`)."""
    if any(folder.glob("*.parquet")):
        return True
    return any("=" in p.name and _has_parquet(p) for p in _children(folder))


def _parquet_tables(root: Path) -> dict[tuple[str, str], Path]:
    if _has_parquet(root):
        return {("main", _table_name(root.name)): root}
    found: dict[tuple[str, str], Path] = {}
    for child in _children(root):
        if _has_parquet(child):
            found[("main", child.name)] = child
            continue
        for grandchild in _children(child):
            if _has_parquet(grandchild):
                found[(child.name, grandchild.name)] = grandchild
    return found


def _table_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower() or "table"


# -- results ------------------------------------------------------------------------------


@dataclass
class LakeCommit:
    """One table's erasure commit, as it landed."""

    table: str
    version_before: int | None
    version_after: int | None
    files_removed: list[str]
    bytes_removed: int
    files_added: int
    bytes_added: int
    table_bytes: int
    rows_deleted: int
    rows_updated: int
    gone: list[str] = field(default_factory=list)
    """String values the commit removed from the table (searched for in its files after)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "version_before": self.version_before,
            "version_after": self.version_after,
            "files_rewritten": len(self.files_removed),
            "bytes_rewritten": self.bytes_removed,
            "table_bytes": self.table_bytes,
            "rows_deleted": self.rows_deleted,
            "rows_updated": self.rows_updated,
        }


@dataclass(frozen=True)
class LakeErasure(LiveErasure):
    """A lake table's erasure: versions, files removed, what time travel returns."""

    version_before: int | None = None
    version_after: int | None = None
    files_removed: tuple[str, ...] = ()
    files_checked: int = 0
    residue: tuple[str, ...] = ()
    time_travel: str | None = None
    check: str | None = None
    """the file check in the workspace check's words: "files rewritten; 0 of N values
    found in K files" (subjects/physical.py)"""

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "version_before": self.version_before,
            "version_after": self.version_after,
            "files_removed": list(self.files_removed),
            "files_checked": self.files_checked,
            "residue_files": list(self.residue),
            "time_travel": self.time_travel,
            "file_check": self.check,
        }


# -- the shared part of both lake kinds ---------------------------------------------------


@dataclass
class _RowOps:
    delete: bool = False
    nulls: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)


class _LakeMixin:
    """What Delta and Parquet sources share: folder layout, collected writes, the values
    an erasure removes and the search for them in every file afterwards."""

    att: Attachment
    con: Connection
    copies: dict[str, str]
    in_transaction: bool
    written: set[str]
    committed: set[str]

    def _init_lake(self) -> None:
        self.paths: dict[tuple[str, str], Path] = {}
        self.ops: dict[str, dict[int, _RowOps]] = {}
        self.landed: list[LakeCommit] = []
        self.recorded = 0
        self.seen: set[str] = set()
        self.force_purge = False

    @property
    def root(self) -> Path:
        return Path(self.att.target)

    def path_of(self, live: LiveTable) -> Path:
        path = self.paths.get((live.schema, live.table))
        if path is None:
            raise _error(f"{live.name}: no such table in {self.att.name}")
        return path

    def new_table_path(self, schema: str, table: str) -> Path:
        """Where a new table `<attachment>.<schema>.<table>` goes in this folder."""
        return self.root / table if schema == "main" else self.root / schema / table

    def check_root(self) -> None:
        if not self.root.is_dir():
            raise _error(
                f"cannot attach {self.att.name} ({self.att.kind} {self.root}): the folder "
                "does not exist or cannot be read"
            )

    # -- collecting writes (nothing is written before commit)
    def begin(self) -> None:
        self.ops = {}
        self.landed = []
        self.recorded = 0

    def apply(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        columns: list[str],
        texts: dict[int, str],
    ) -> None:
        self.require_writable_path(live)
        rows = self.ops.setdefault(live.name, {})
        for rid in rowids:
            op = rows.setdefault(rid, _RowOps())
            if action == "delete":
                op.delete = True
            elif action == "null":
                op.nulls.update(columns)
            else:
                op.texts[columns[0]] = texts[rid]

    def rollback(self) -> None:
        self.ops = {}
        self.in_transaction = False

    def require_writable_path(self, live: LiveTable) -> None:
        path = self.path_of(live)
        probe = path / "_delta_log" if (path / "_delta_log").is_dir() else path
        if not _writable(probe):
            raise _error(
                f"{live.name} is on a read-only path ({probe}): Tutela cannot change it",
                hint="give Tutela write access there, or attach it --read-only to scan only",
            )

    # -- staging the planned rows in DuckDB
    def _stage_ops(self, name: str, temp: str) -> tuple[str, list[str], list[tuple[str, str]]]:
        """A temp table `_tutela_lake_ops` (rid, del, n<i>, t<i>) for the planned rows;
        returns its name, the columns changed, and the copy's (column, type) list."""
        ops = self.ops[name]
        cols = [
            (str(r[0]), str(r[1]))
            for r in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = 'temp' AND table_name = ? AND column_name <> 'rowid' "
                "ORDER BY ordinal_position",
                [temp],
            ).fetchall()
        ]
        changed = sorted({c for o in ops.values() for c in (*o.nulls, *o.texts)})
        rids = sorted(ops)
        params: list[Any] = [json_list(rids), json_list([ops[r].delete for r in rids])]
        parts = [
            "UNNEST(CAST(?::JSON AS BIGINT[])) AS rid",
            "UNNEST(CAST(?::JSON AS BOOLEAN[])) AS del",
        ]
        for i, col in enumerate(changed):
            parts.append(f"UNNEST(CAST(?::JSON AS BOOLEAN[])) AS n{i}")
            parts.append(f"UNNEST(CAST(?::JSON AS VARCHAR[])) AS t{i}")
            params.append(json_list([col in ops[r].nulls for r in rids]))
            params.append(json_list([ops[r].texts.get(col) for r in rids]))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _tutela_lake_ops AS SELECT {', '.join(parts)}", params
        )
        return "_tutela_lake_ops", changed, cols

    def _gone_values(self, temp: str, changed: list[str], cols: list[tuple[str, str]]) -> list[str]:
        """The string values the planned change removes from the table: in a changed cell
        of a planned row before, and in no cell of the table after."""
        text_cols = [c for c, t in cols if t.upper().startswith("VARCHAR")]
        if not text_cols:
            return []
        idx = {c: i for i, c in enumerate(changed)}
        copy = f"temp.main.{quote_ident(temp)}"

        def after(col: str) -> str:
            c = f"c.{quote_ident(col)}"
            if col not in idx:
                return f"CASE WHEN o.del THEN NULL ELSE {c} END"
            i = idx[col]
            return (
                f"CASE WHEN o.del OR o.n{i} THEN NULL WHEN o.t{i} IS NOT NULL THEN o.t{i} "
                f"ELSE {c} END"
            )

        def before(col: str) -> str:
            c = f"c.{quote_ident(col)}"
            if col not in idx:
                return f"CASE WHEN o.del THEN {c} END"
            i = idx[col]
            return f"CASE WHEN o.del OR o.n{i} OR o.t{i} IS NOT NULL THEN {c} END"

        rows = self.con.execute(
            f"""WITH old AS (
                  SELECT DISTINCT v FROM (SELECT UNNEST([{", ".join(before(c) for c in text_cols)}])
                  AS v FROM {copy} c JOIN _tutela_lake_ops o ON c.rowid = o.rid)
                  WHERE v IS NOT NULL AND v <> ''),
                kept AS (
                  SELECT DISTINCT v FROM (SELECT UNNEST([{
                ", ".join(
                    f"CASE WHEN o.rid IS NULL THEN c.{quote_ident(x)} ELSE {after(x)} END"
                    for x in text_cols
                )
            }]) AS v FROM {copy} c LEFT JOIN _tutela_lake_ops o ON c.rowid = o.rid)
                  WHERE v IN (SELECT v FROM old))
                SELECT v FROM old WHERE v NOT IN (SELECT v FROM kept) ORDER BY v"""
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- audit
    def unrecorded(self) -> list[LakeCommit]:
        out = self.landed[self.recorded :]
        self.recorded = len(self.landed)
        return out

    # -- checking files for what was removed
    def check_files(self, folder: Path, gone: Sequence[str]) -> FileCheck:
        """Read every file under the table's folder for each removed value: Parquet data
        files decoded (every column as text, exact values), every other file (the log,
        checkpoints, deletion vectors) as raw bytes. A value found only in the log whose
        text is still part of a longer value in the table's data files (a phone number
        inside a kept ticket's note: the log's column statistics copy it) is counted as
        held in the table, not as residue."""
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        searched = [v for v in gone if len(v.encode()) >= MIN_BYTES_NEEDLE]
        if not gone:
            return FileCheck(len(files), 0)
        hits: list[str] = []
        found: set[str] = set()
        in_log: dict[str, set[str]] = {}
        parquet = [
            p
            for p in files
            if p.suffix == ".parquet" and "_delta_log" not in p.relative_to(folder).parts
        ]
        cur = self.con.cursor()
        try:
            cur.execute(
                "CREATE OR REPLACE TEMP TABLE _tutela_lake_gone AS "
                "SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS v",
                [json_list(gone)],
            ).fetchall()
            for p in parquet:
                try:
                    cols = _string_columns(cur, p)
                    # the removed values are strings: string columns as such, nested ones
                    # as text (a value inside a struct or list), numbers cannot hold them
                    probes = [
                        f"{quote_ident(c)} IN (SELECT v FROM _tutela_lake_gone)"
                        if t == "VARCHAR"
                        else f"list_has_any([CAST({quote_ident(c)} AS VARCHAR)], "
                        "(SELECT list(v) FROM _tutela_lake_gone))"
                        for c, t in cols
                    ]
                    n = 0
                    if probes:
                        [(n,)] = cur.execute(
                            "SELECT count(*) FROM read_parquet(?, hive_partitioning = false) "
                            f"WHERE {' OR '.join(probes)}",
                            [file_pattern(p)],
                        ).fetchall()
                    if n:  # residue (rare): which values, for the certificate (a hash join)
                        cells = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c, _ in cols)
                        rows = cur.execute(
                            f"SELECT DISTINCT v FROM (SELECT UNNEST([{cells}]) AS v "
                            "FROM read_parquet(?, hive_partitioning = false)) "
                            "WHERE v IN (SELECT v FROM _tutela_lake_gone)",
                            [file_pattern(p)],
                        ).fetchall()
                        found |= {str(r[0]) for r in rows}
                except SqlError:
                    held = _values_in_bytes(p, searched)  # unreadable: bytes at least
                    n = len(held)
                    found |= held
                if n:
                    hits.append(str(p.relative_to(folder)))
            for p in files:
                rel = str(p.relative_to(folder))
                if p in parquet:
                    in_path = {v for v in searched if v in rel}
                    if in_path:
                        hits.append(rel)  # a partition value in the path
                        found |= in_path
                    continue
                held = _values_in_bytes(p, searched)
                if p.suffix == ".parquet":
                    held |= _parquet_text_values(cur, p, searched)
                if held:
                    in_log[rel] = held
            current = [p for p in parquet if str(p.relative_to(folder)) not in hits]
            inside = _values_inside_text(cur, current, {v for s in in_log.values() for v in s})
            for rel, values in in_log.items():
                if values - inside:
                    hits.append(rel)
                    found |= values - inside
        finally:
            cur.close()
        held_in_text = {v for s in in_log.values() for v in s & inside} - found
        return FileCheck(len(files), len(gone), sorted(set(hits)), len(found), len(held_in_text))


@dataclass(frozen=True)
class FileCheck:
    """What reading every file of a table for the removed values found."""

    files: int
    values: int
    residue: list[str] = field(default_factory=list)
    found: int = 0
    """values found in the residue files (every value, when a data file holds any)"""
    held_in_text: int = 0
    """values found in the log only, still part of longer text in the table's data"""

    def summary(self, rewritten: bool) -> str:
        """Worded like the workspace's byte check (subjects/physical.py)."""
        text = (
            f"{'files rewritten' if rewritten else 'FILES NOT PURGED'}; "
            f"{self.found} of {self.values} values found in {self.files} files"
        )
        if self.held_in_text:
            text += f" ({self.held_in_text} still inside other text of the table, not erased)"
        return text


def _string_columns(cur: Connection, path: Path) -> list[tuple[str, str]]:
    """(column, type) of a Parquet file's string and nested columns (numbers cannot hold
    a removed string value)."""
    described = cur.execute(
        "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [file_pattern(path)]
    ).fetchall()
    return [
        (str(r[0]), str(r[1]))
        for r in described
        if str(r[1]) == "VARCHAR" or _NESTED.search(str(r[1]))
    ]


def _values_inside_text(cur: Connection, files: Sequence[Path], values: set[str]) -> set[str]:
    """Which values are part of a string cell of these Parquet files (any case). Only run
    for the few values found in a log file."""
    out: set[str] = set()
    for p in files:
        rest = sorted(values - out)
        if not rest:
            break
        texts = [quote_ident(c) for c, t in _string_columns(cur, p) if t == "VARCHAR"]
        if not texts:
            continue
        cells = " OR ".join(f"contains(lower({c}), lower(g.v))" for c in texts)
        rows = cur.execute(
            "SELECT DISTINCT g.v FROM read_parquet(?, hive_partitioning = false) AS r, "
            f"(SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS v) AS g WHERE {cells}",
            [file_pattern(p), json_list(rest)],
        ).fetchall()
        out |= {str(r[0]) for r in rows}
    return out


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _values_in_bytes(path: Path, values: Sequence[str]) -> set[str]:
    """The values whose bytes a file holds (any case); an unreadable file holds them all."""
    if not values:
        return set()
    try:
        data = path.read_bytes()
    except OSError:
        return set(values)  # unreadable: cannot be cleared
    low = data.lower()
    return {v for v in values if v.encode() in data or v.lower().encode() in low}


def _parquet_text_values(cur: Connection, path: Path, values: Sequence[str]) -> set[str]:
    """A log checkpoint (Parquet): the values inside any of its rows, as text."""
    try:
        rows = cur.execute(
            "SELECT DISTINCT g.v FROM read_parquet(?) AS r, "
            "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS v) AS g "
            "WHERE contains(CAST(r AS VARCHAR), g.v)",
            [file_pattern(path), json_list(list(values))],
        ).fetchall()
    except SqlError:
        return set()
    return {str(r[0]) for r in rows}


def _comparable(duck_type: str) -> bool:
    return not _NESTED.search(duck_type.strip())


# -- Delta ---------------------------------------------------------------------------------


def _require_deltalake() -> Any:
    try:
        import deltalake
    except ImportError as exc:  # a dependency of Tutela: missing means a broken install
        raise _error(
            "the Delta Lake library (deltalake) is not installed",
            hint="reinstall Tutela with its dependencies: pip install --force-reinstall tutela",
        ) from exc
    return deltalake


def _clean(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sql_ident(name: str) -> str:
    """An identifier for delta-rs's SQL (DataFusion): double-quoted, quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _log_actions(folder: Path, version: int) -> list[dict[str, Any]]:
    path = folder / "_delta_log" / f"{version:020d}.json"
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []


class _Delta(_LakeMixin, Source):
    """A folder of Delta tables (or one), read and written through delta-rs."""

    unique_addresses = False  # identical rows share one address (a hash of the values)

    def connect(self, password: str | None) -> None:
        _require_deltalake()
        self._init_lake()
        self.check_root()
        self.paths = _delta_tables(self.root)
        if not self.paths:
            raise _error(f"{self.att.name}: {self.root} holds no Delta table any more")
        self.versions: dict[str, int] = {}
        for (schema, table), path in self.paths.items():
            self._open(f"{self.att.name}.{schema}.{table}", path)

    def _open(self, name: str, path: Path, version: int | None = None) -> Any:
        """The table at its latest version, with a clear error for what delta-rs cannot
        read (a newer protocol, a damaged log)."""
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError, DeltaProtocolError, TableNotFoundError

        try:
            dt = DeltaTable(str(path), version=version)
            proto = dt.protocol()
        except TableNotFoundError as exc:
            raise _error(f"{name}: {path} is not a readable Delta table: {_clean(exc)}") from exc
        except (DeltaProtocolError, DeltaError) as exc:
            raise _error(
                f"{name}: delta-rs cannot read this table: {_clean(exc)}",
                hint="it may be written with a newer Delta protocol than Tutela's deltalake "
                "supports; upgrade deltalake, or export the table",
            ) from exc
        readable = {"deletionVectors", "columnMapping", "timestampNtz", "v2Checkpoint",
                    "variantType", "variantType-preview", "typeWidening", "vacuumProtocolCheck",
                    "typeWidening-preview"}  # fmt: skip
        unknown = sorted(set(proto.reader_features or []) - readable)
        if proto.min_reader_version > 3 or unknown:
            raise _error(
                f"{name}: written with Delta reader protocol {proto.min_reader_version}"
                + (f" and features {', '.join(unknown)}" if unknown else "")
                + ", newer than Tutela can read",
                hint="upgrade deltalake, or export the table",
            )
        return dt

    def list_tables(self) -> list[tuple[str, str]]:
        return sorted(self.paths)

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        path = self.path_of(live)
        dt = self._open(live.name, path)
        names = [f.name for f in dt.schema().fields]
        _refuse_rowid_column(live.name, names)
        try:
            reader = dt.scan()
        except Exception as exc:  # delta-rs raises its own classes and plain ones
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        self.versions[live.name] = dt.version()
        self.seen.add(live.name)
        _settle(self.con)
        # The row address is a hash of the row's values: the same row gets the same rowid
        # whenever the table is read again in this process (a scan has no stable order),
        # and identical rows share one (they are one row to every rule). Two different rows
        # with one hash are caught before any write (_commit_table).
        cols = ", ".join(quote_ident(n) for n in names)
        return reader, f"SELECT (hash({cols}) >> 1)::BIGINT AS rowid, * FROM {{src}}", _noop

    # -- committing: one MERGE per table
    def commit(self) -> None:
        # Tables whose rows only change first, tables losing rows last: an interruption
        # then most likely leaves the rows that link the person's identifiers (a customer
        # record), so running the erasure again finds the rest.
        order = sorted(self.ops, key=lambda n: (any(o.delete for o in self.ops[n].values()), n))
        try:
            for name in order:
                if not self.ops[name]:
                    continue
                live = self.table(name)
                self.landed.append(self._commit_table(live))
                self.committed.add(name)
        except Exception as exc:
            done = [c.table for c in self.landed]
            if done:
                raise _error(
                    f"{_message(exc)}; {', '.join(done)} had already committed "
                    "its part of the erasure",
                    hint="run the same erasure again: it finds and erases what is left",
                ) from exc
            raise
        finally:
            self.in_transaction = False
            self.ops = {}

    def _commit_table(self, live: LiveTable) -> LakeCommit:
        from deltalake import CommitProperties
        from deltalake.exceptions import CommitFailedError

        path = self.path_of(live)
        if not self.has_copy(live.name):  # read again: the row addresses are the same
            self.relation(live)
        temp = self.copies[live.name]
        _, changed, cols = self._stage_ops(live.name, temp)
        copy = f"temp.main.{quote_ident(temp)}"
        keys = [c for c, t in cols if _comparable(t)]
        if not keys:
            raise _error(f"{live.name}: no column Tutela can match rows on; nothing changed")
        group = ", ".join(f"c.{quote_ident(k)}" for k in keys)
        every = ", ".join(f"c.{quote_ident(c)}" for c, _ in cols)
        [(missing, collided)] = self.con.execute(
            f"""SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE d > 1)
                FROM (SELECT o.rid, count(c.rowid) AS n, count(DISTINCT ({every})) AS d
                      FROM _tutela_lake_ops o LEFT JOIN {copy} c ON c.rowid = o.rid
                      GROUP BY o.rid)"""
        ).fetchall()
        if missing:
            raise _error(
                f"{live.name} changed while the erasure was being prepared ({missing} planned "
                "row(s) no longer there); nothing was changed there",
                hint="run the erasure again",
            )
        if collided:
            raise _error(
                f"{live.name}: two different rows share a row address (a hash collision); "
                "nothing was changed there",
                hint="erase these rows by hand, or load an export of the table",
            )
        # Only the planned rows' key values are grouped, and the table is joined to them
        # (a hash join), not grouped whole: the check costs one pass over the copy.
        opcols = ", ".join(f"o.n{i}, o.t{i}" for i in range(len(changed)))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _tutela_lake_keys AS SELECT DISTINCT {group}, "
            f"o.del{', ' + opcols if opcols else ''} FROM {copy} c "
            "JOIN _tutela_lake_ops o ON c.rowid = o.rid"
        ).fetchall()
        on = " AND ".join(
            f"c.{quote_ident(k)} IS NOT DISTINCT FROM p.{quote_ident(k)}" for k in keys
        )
        [(conflicting,)] = self.con.execute(
            f"SELECT count(*) - count(DISTINCT ({', '.join(f'p.{quote_ident(k)}' for k in keys)}))"
            " FROM _tutela_lake_keys p"
        ).fetchall()
        [(mixed,)] = self.con.execute(
            f"SELECT count(*) FROM (SELECT c.rowid FROM {copy} c SEMI JOIN _tutela_lake_keys p "
            f"ON {on}) AS c ANTI JOIN _tutela_lake_ops o ON c.rowid = o.rid"
        ).fetchall()
        if mixed or conflicting:
            raise _error(
                f"{live.name}: some of the person's rows cannot be told apart from other rows "
                "by their values (they differ only in nested columns); nothing was changed",
                hint="add a distinguishing column, or erase these rows by hand",
            )
        gone = self._gone_values(temp, changed, cols)
        source_cols = [f"c.{quote_ident(k)} AS k{i}" for i, k in enumerate(keys)]
        source_cols += ["o.del AS _del"] + [
            f"o.n{i} AS n{i}, o.t{i} AS t{i}" for i in range(len(changed))
        ]
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _tutela_lake_src AS SELECT DISTINCT "
            f"{', '.join(source_cols)} FROM {copy} c JOIN _tutela_lake_ops o ON c.rowid = o.rid"
        )
        # rows, not addresses: identical rows share one address
        [(planned,)] = self.con.execute(
            f"SELECT count(*) FROM {copy} c JOIN _tutela_lake_ops o ON c.rowid = o.rid"
        ).fetchall()
        _settle(self.con)
        predicate = " AND ".join(
            f"(t.{_sql_ident(k)} IS NOT DISTINCT FROM s.k{i})" for i, k in enumerate(keys)
        )
        updates = {}
        for i, col in enumerate(changed):
            c = f"t.{_sql_ident(col)}"
            updates[col] = (
                f"CASE WHEN s.n{i} THEN NULL WHEN s.t{i} IS NOT NULL THEN s.t{i} ELSE {c} END"
            )
        read_version = self.versions[live.name]
        for attempt in range(COMMIT_ATTEMPTS):
            dt = self._open(live.name, path)
            before = dt.version()
            if before != read_version:
                self._check_still_there(live, dt, keys, planned)
            table_bytes = _table_bytes(dt)
            merger = dt.merge(
                self.con.sql("SELECT * FROM _tutela_lake_src"),
                predicate=predicate,
                source_alias="s",
                target_alias="t",
                commit_properties=CommitProperties(
                    custom_metadata={TUTELA_MARK: "erasure"}, max_commit_retries=0
                ),
            )
            merger = merger.when_matched_delete(predicate="s._del")
            if updates:
                merger = merger.when_matched_update(updates=updates, predicate="NOT s._del")
            try:
                metrics = merger.execute()
            except CommitFailedError as exc:
                if attempt + 1 < COMMIT_ATTEMPTS:
                    continue  # another writer committed first: re-check and run again
                raise _error(
                    f"{live.name}: another writer kept committing to the table "
                    f"({COMMIT_ATTEMPTS} tries): {_clean(exc)}; nothing was changed there",
                    hint="run the erasure again when the table is quieter",
                ) from exc
            except OSError as exc:
                raise _error(f"{live.name}: cannot write the table: {exc}") from exc
            except Exception as exc:
                raise _error(f"{live.name}: delta-rs refused the change: {_clean(exc)}") from exc
            after = dt.version()
            removed = [a["remove"] for a in _log_actions(path, after) if a.get("remove")]
            added = [a["add"] for a in _log_actions(path, after) if a.get("add")]
            return LakeCommit(
                live.name,
                before,
                after,
                [str(r["path"]) for r in removed],
                sum(int(r.get("size") or 0) for r in removed),
                len(added),
                sum(int(a.get("size") or 0) for a in added),
                table_bytes,
                int(metrics.get("num_target_rows_deleted", 0)),
                int(metrics.get("num_target_rows_updated", 0)),
                gone,
            )
        raise AssertionError("unreachable")

    def _check_still_there(self, live: LiveTable, dt: Any, keys: list[str], planned: int) -> None:
        """The table moved since it was read: the planned rows must still be there, each
        exactly once per planned copy, or nothing is changed."""
        try:
            reader = dt.scan(columns=keys)
        except Exception as exc:
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        try:  # the workspace connection: the staged keys are in its temporary schema
            self.con.register("_tutela_lake_now", reader)
            on = " AND ".join(
                f"n.{quote_ident(k)} IS NOT DISTINCT FROM s.k{i}" for i, k in enumerate(keys)
            )
            [(found,)] = self.con.execute(
                f"SELECT count(*) FROM _tutela_lake_now n JOIN temp.main._tutela_lake_src s ON {on}"
            ).fetchall()
        except SqlError as exc:
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        finally:
            with contextlib.suppress(SqlError):
                self.con.unregister("_tutela_lake_now")
        if int(found) != planned:
            raise _error(
                f"{live.name} changed while the erasure was being prepared ({planned} rows "
                f"planned, {found} found now); nothing was changed there",
                hint="run the erasure again",
            )

    # -- after the commits: physical removal
    def owes(self) -> bool:
        return any(self._owed(name) for name in sorted(self.seen - self.committed))

    def _owed(self, name: str) -> list[str]:
        """Files that a Tutela erasure commit removed and that are still on disk (an earlier
        run stopped before its purge, or the purge was refused)."""
        live = self.table(name)
        path = self.path_of(live)
        try:
            dt = self._open(name, path)
            history = dt.history(HISTORY_LOOKBACK)
        except Exception:
            return []
        owed: list[str] = []
        for info in history:
            if info.get(TUTELA_MARK) != "erasure" or info.get("version") is None:
                continue
            for action in _log_actions(path, int(info["version"])):
                rm = action.get("remove")
                if rm and (path / str(rm["path"])).exists():
                    owed.append(str(rm["path"]))
        return owed

    def finish(self, purge: bool) -> list[Any]:
        out = []
        by_table = {c.table: c for c in self.landed}
        for name in sorted(self.committed | {n for n in self.seen if self._owed(n)}):
            out.append(self._purge(name, by_table.get(name)))
        self.landed = []
        self.recorded = 0
        return out

    def _purge(self, name: str, landed: LakeCommit | None) -> Any:
        from deltalake import CommitProperties

        live = self.table(name)
        path = self.path_of(live)
        gone = landed.gone if landed else []
        ours = set(landed.files_removed if landed else []) | set(self._owed(name))
        dt = self._open(name, path)
        props = dict(dt.metadata().configuration or {})
        retention = props.get("delta.deletedFileRetentionDuration", DEFAULT_FILE_RETENTION)
        remaining = [
            "copies of the table made before the erasure (backups, replicas, clones, exports) "
            "until their own retention ends",
            "the disk blocks of deleted files until the file system reuses them",
        ]
        method = (
            f"MERGE committed as version {landed.version_after} (from "
            f"{landed.version_before}), {len(landed.files_removed)} data file(s) rewritten"
            if landed
            else "an earlier erasure's commit, purged now"
        )
        note: str | None = None
        deleted: list[str] = []
        done = False
        try:
            everything = set(
                dt.vacuum(retention_hours=0, enforce_retention_duration=False, full=True)
            )
            expired = set(dt.vacuum(full=True))  # what the table's own retention allows
        except Exception as exc:
            everything, expired = set(), set()
            note = f"VACUUM dry run failed: {_clean(exc)}"
        # the log keeps tombstones of files an earlier purge deleted already: only files
        # still on disk can be read by anyone
        pinned = sorted(f for f in everything - expired - ours if (path / f).is_file())
        if note is None and pinned and not self.force_purge:
            note = (
                f"purge refused: a zero-retention VACUUM would also delete {len(pinned)} "
                f"file(s) that other commits removed, or a writer has not committed yet, "
                f"within the table's retention ({retention}), e.g. {pinned[0]}; readers may "
                "still use them. Erase again with --purge-now to purge anyway"
            )
        elif note is None:
            try:
                on_disk = {f for f in everything if (path / f).is_file()}
                deleted = dt.vacuum(
                    retention_hours=0,
                    enforce_retention_duration=False,
                    dry_run=False,
                    full=True,
                    commit_properties=CommitProperties(custom_metadata={TUTELA_MARK: "purge"}),
                )
                _drop_empty_dirs(path)
                self._drop_history(name, path, props)
                method += (
                    f"; VACUUM with zero retention (set by Tutela for this call) deleted "
                    f"{len(set(deleted) & on_disk)} file(s); the log before the erasure was "
                    "removed after a "
                    "checkpoint"
                )
                done = True
            except Exception as exc:
                note = f"purge failed: {_clean(exc)}"
        travel = self._time_travel(name, path, landed)
        check = self.check_files(path, gone)
        purged = done
        residue = check.residue
        if residue:
            done = False
            note = (note + "; " if note else "") + (
                f"{len(residue)} file(s) still hold removed values: {', '.join(residue[:3])}"
            )
        if not done:
            remaining.insert(
                0,
                "the table's earlier versions: their data files and log entries keep the old "
                "rows, and time travel returns them, until the purge runs",
            )
        return LakeErasure(
            name,
            "delta",
            method,
            done,
            note,
            tuple(remaining),
            landed.version_before if landed else None,
            landed.version_after if landed else None,
            tuple(sorted(ours)),
            check.files,
            tuple(residue),
            travel,
            check.summary(purged),
        )

    def _drop_history(self, name: str, path: Path, props: dict[str, str]) -> None:
        """Checkpoint, then remove the log before it: its statistics hold column minimums
        and maximums of the removed files. `delta.logRetentionDuration` is zero for that
        step only, then restored."""
        from deltalake import DeltaTable

        dt = DeltaTable(str(path))
        old = props.get("delta.logRetentionDuration", DEFAULT_LOG_RETENTION)
        dt.alter.set_table_properties({"delta.logRetentionDuration": "interval 0 seconds"})
        dt = DeltaTable(str(path))
        dt.create_checkpoint()
        dt.cleanup_metadata()
        dt = DeltaTable(str(path))
        dt.alter.set_table_properties({"delta.logRetentionDuration": old})

    def _time_travel(self, name: str, path: Path, landed: LakeCommit | None) -> str | None:
        if landed is None or landed.version_before is None:
            return None
        from deltalake import DeltaTable

        try:
            old = DeltaTable(str(path), version=landed.version_before)
            reader = old.scan()
            cur = self.con.cursor()
            try:
                cur.register("_tutela_lake_old", reader)
                cur.execute("SELECT count(*) FROM _tutela_lake_old").fetchall()
            finally:
                cur.close()
        except Exception:
            return (
                f"reading version {landed.version_before} or any earlier version fails: "
                "its log entries and data files are gone"
            )
        return (
            f"version {landed.version_before} can still be read and returns the erased rows "
            "(time travel) until the purge runs"
        )

    def close(self) -> None:
        self.ops = {}


def _noop() -> None:
    return None


def _settle(con: Connection) -> None:
    """Finish the connection's last result: DuckDB refuses to read an Arrow stream from
    Python while an earlier statement's result is still open."""
    con.execute("SELECT 1").fetchall()


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or _clean(exc))


def _table_bytes(dt: Any) -> int:
    try:
        sizes = dt.get_add_actions().column("size_bytes").to_pylist()
    except Exception:
        return 0
    return int(sum(s or 0 for s in sizes))


def _drop_empty_dirs(folder: Path) -> None:
    """Partition folders emptied by the vacuum (their names may hold partition values)."""
    for p in sorted(folder.rglob("*"), key=lambda x: len(x.parts), reverse=True):
        if p.is_dir() and not p.name.startswith("_") and "_delta_log" not in p.parts:
            with contextlib.suppress(OSError):
                p.rmdir()  # only when empty


# -- plain Parquet folders ---------------------------------------------------------------------


def hive_partitioned(path: Path, files: Sequence[Path]) -> bool:
    """Whether a table's folders under `path` name `key=value` partitions. Refused: some
    files in such folders and others outside any (DuckDB cannot merge them; Spark would
    silently read no row of the others)."""
    inside = [any("=" in part for part in f.relative_to(path).parts[:-1]) for f in files]
    if any(inside) and not all(inside):
        outside = next(f for f, i in zip(files, inside, strict=True) if not i)
        raise _error(
            f"{path}: some files are in key=value partition folders and "
            f"{outside.relative_to(path)} is not",
            hint="move it into a partition folder, or out of the table's folder",
        )
    return any(inside)


def addressed_parquet(listed: str, patterns: str, hive: bool) -> str:
    """SELECT over the Parquet files of one table (`listed`: SQL for the JSON list of their
    names, `patterns`: of the names as DuckDB's reader takes them, `file_pattern`; each a
    literal or `?`), columns merged by name, with `filename`,
    `file_row_number` and the row address `rowid`: the file's place in the sorted listing
    << 32 plus the row's number in it, the same whenever the unchanged folder is read
    again (and the number the Spark view gives the row: `engine/spark.with_addresses`)."""
    files = f"CAST({listed}::JSON AS VARCHAR[])"
    return (
        f"SELECT (list_position({files}, filename)::BIGINT << 32) + file_row_number AS rowid, "
        f"* FROM read_parquet(CAST({patterns}::JSON AS VARCHAR[]), filename = true, "
        "file_row_number = true, "
        f"union_by_name = true, hive_partitioning = {str(hive).lower()})"
    )


class _Parquet(_LakeMixin, Source):
    """A folder of Parquet files as one table, or a folder of such folders. Erasure rewrites
    each affected file into a staged copy and renames it over the original."""

    def connect(self, password: str | None) -> None:
        self._init_lake()
        self.check_root()
        self.paths = _parquet_tables(self.root)
        if not self.paths:
            raise _error(f"{self.att.name}: {self.root} holds no Parquet files any more")
        self.stamps: dict[str, dict[str, tuple[int, int]]] = {}

    def list_tables(self) -> list[tuple[str, str]]:
        return sorted(self.paths)

    def _files(self, path: Path) -> list[Path]:
        return sorted(p for p in path.rglob("*.parquet") if not _hidden(p, path))

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        raise NotImplementedError  # relation() reads the files itself

    def described(self, live: LiveTable) -> tuple[list[Path], list[tuple[str, str]]]:
        """The table's files, and the (name, DuckDB type) of its columns as DuckDB reads
        the files (from their footers: no row is read)."""
        path = self.path_of(live)
        files = self._files(path)
        if not files:
            raise _error(f"{live.name}: no .parquet files in {path}")
        hive = str(hive_partitioned(path, files)).lower()
        try:
            rows = self.con.execute(
                "DESCRIBE SELECT * FROM read_parquet(CAST(?::JSON AS VARCHAR[]), "
                f"union_by_name = true, hive_partitioning = {hive})",
                [json_list(file_pattern(f) for f in files)],
            ).fetchall()
        except SqlError as exc:
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        return files, [(str(r[0]), str(r[1])) for r in rows]

    def columns(self, live: LiveTable) -> list[tuple[str, str]]:
        """(name, DuckDB type) from the Parquet footers, without reading the rows."""
        if self.has_copy(live.name):
            return super().columns(live)
        return self.described(live)[1]

    def row_count(self, live: LiveTable) -> int:
        """From the Parquet footers, without reading the rows."""
        if self.has_copy(live.name):
            return int(
                self.con.execute(f"SELECT count(*) FROM {self.relation(live)}").fetchall()[0][0]
            )
        files = self._files(self.path_of(live))
        try:
            row = self.con.execute(
                "SELECT sum(num_rows) FROM parquet_file_metadata(CAST(?::JSON AS VARCHAR[]))",
                [json_list(file_pattern(f) for f in files)],
            ).fetchall()
        except SqlError as exc:
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        return int(row[0][0] or 0)

    def relation(self, live: LiveTable) -> str:
        if not self.has_copy(live.name):
            # the files' own columns first: DuckDB would rename a column named rowid
            files, own = self.described(live)
            _refuse_rowid_column(live.name, [name for name, _ in own])
            temp = f"_tutela_lake_{uuid.uuid4().hex[:12]}"
            hive = hive_partitioned(self.path_of(live), files)
            patterns = json_list(file_pattern(f) for f in files)
            try:
                self.con.execute(
                    f"CREATE TEMP TABLE {quote_ident(temp + '_addr')} AS "
                    + addressed_parquet("?", "?", hive),
                    [json_list(str(f) for f in files), patterns],
                )
                cols = [
                    str(r[0])
                    for r in self.con.execute(
                        f"DESCRIBE temp.main.{quote_ident(temp + '_addr')}"
                    ).fetchall()
                ]
                data = [c for c in cols if c not in ("rowid", "filename", "file_row_number")]
                self.con.execute(
                    f"CREATE TEMP TABLE {quote_ident(temp)} AS SELECT rowid, "
                    f"{', '.join(quote_ident(c) for c in data)} FROM "
                    f"temp.main.{quote_ident(temp + '_addr')}"
                )
            except SqlError as exc:
                raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
            self.stamps[live.name] = {str(f): _stamp(f) for f in files}
            self.copies[live.name] = temp
            self.seen.add(live.name)
        return f"temp.main.{quote_ident(self.copies[live.name])}"

    def files_relation(self, live: LiveTable) -> str:
        """The table read from its files in place (no copy; each query reads them again),
        with the same row addresses as `relation`'s copy."""
        path = self.path_of(live)
        files = self._files(path)
        listed = sql_literal(json_list(str(f) for f in files))
        patterns = sql_literal(json_list(file_pattern(f) for f in files))
        select = addressed_parquet(listed, patterns, hive_partitioned(path, files))
        return f"(SELECT * EXCLUDE (filename, file_row_number) FROM ({select}))"

    def invalidate(self, name: str) -> None:
        temp = self.copies.get(name)
        super().invalidate(name)
        if temp is not None:
            with contextlib.suppress(SqlError):
                self.con.execute(f"DROP TABLE IF EXISTS temp.main.{quote_ident(temp + '_addr')}")

    def commit(self) -> None:
        try:
            for name in sorted(self.ops):
                if self.ops[name]:
                    self.landed.append(self._rewrite(self.table(name)))
                    self.committed.add(name)
        except Exception as exc:
            done = [c.table for c in self.landed]
            if done:
                raise _error(
                    f"{_message(exc)}; {', '.join(done)} had already been rewritten",
                    hint="run the same erasure again: it finds and erases what is left",
                ) from exc
            raise
        finally:
            self.in_transaction = False
            self.ops = {}

    def _rewrite(self, live: LiveTable) -> LakeCommit:
        path = self.path_of(live)
        if not self.has_copy(live.name):  # read again: the row addresses are the same
            self.relation(live)
        temp = self.copies[live.name]
        _, changed, cols = self._stage_ops(live.name, temp)
        gone = self._gone_values(temp, changed, cols)
        addr = f"temp.main.{quote_ident(temp + '_addr')}"
        affected = [
            str(r[0])
            for r in self.con.execute(
                f"SELECT DISTINCT a.filename FROM {addr} a JOIN _tutela_lake_ops o "
                "ON a.rowid = o.rid ORDER BY 1"
            ).fetchall()
        ]
        [(missing,)] = self.con.execute(
            f"SELECT count(*) FROM _tutela_lake_ops o ANTI JOIN {addr} a ON a.rowid = o.rid"
        ).fetchall()
        stamps = self.stamps.get(live.name, {})
        if missing:
            raise _error(
                f"{live.name} changed while the erasure was being prepared ({missing} planned "
                "row(s) no longer there); nothing was changed there",
                hint="run the erasure again",
            )
        for f in affected:
            if not Path(f).exists() or _stamp(Path(f)) != stamps.get(f):
                raise _error(
                    f"{live.name}: {Path(f).name} changed while the erasure was being "
                    "prepared; nothing was changed",
                    hint="run the erasure again",
                )
        table_bytes = sum(Path(f).stat().st_size for f in stamps if Path(f).exists())
        staged: list[tuple[Path, Path]] = []
        idx = {c: i for i, c in enumerate(changed)}
        deleted = updated = 0
        try:
            for f in affected:
                physical = [
                    str(r[0])
                    for r in self.con.execute(
                        "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)",
                        [file_pattern(f)],
                    ).fetchall()
                ]
                for col in changed:
                    if col not in physical:
                        raise _error(
                            f"{live.name}: {col} is a partition column (in folder names): "
                            "Tutela does not move files between partitions; nothing was changed"
                        )
                exprs = []
                for col in physical:
                    c = f"p.{quote_ident(col)}"
                    if col in idx:
                        i = idx[col]
                        c = (
                            f"CASE WHEN o.n{i} THEN NULL WHEN o.t{i} IS NOT NULL THEN "
                            f"CAST(o.t{i} AS VARCHAR) ELSE {c} END"
                        )
                    exprs.append(f"{c} AS {quote_ident(col)}")
                stage = Path(f).with_name(f".{Path(f).name}.tutela-{uuid.uuid4().hex[:8]}.tmp")
                query = (
                    f"SELECT {', '.join(exprs)} FROM read_parquet(?, file_row_number = true, "
                    f"hive_partitioning = false) p LEFT JOIN (SELECT a.file_row_number, o.* "
                    f"FROM {addr} a JOIN _tutela_lake_ops o ON a.rowid = o.rid "
                    f"WHERE a.filename = ?) o ON p.file_row_number = o.file_row_number "
                    "WHERE NOT coalesce(o.del, false) ORDER BY p.file_row_number"
                )
                self.con.execute(
                    f"COPY ({query}) TO '{_sql_path(stage)}' (FORMAT parquet)",
                    [file_pattern(f), f],
                )
                staged.append((stage, Path(f)))
            [(deleted, updated)] = self.con.execute(
                "SELECT count(*) FILTER (WHERE del), count(*) FILTER (WHERE NOT del) "
                "FROM _tutela_lake_ops"
            ).fetchall()
            removed_bytes = sum(target.stat().st_size for _, target in staged)
            added_bytes = sum(stage.stat().st_size for stage, _ in staged)
            for stage, target in staged:  # the swap: one atomic rename per file
                os.replace(stage, target)
        except SqlError as exc:
            raise _error(f"{live.name}: cannot rewrite its files: {_clean(exc)}") from exc
        except OSError as exc:
            raise _error(f"{live.name}: cannot rewrite its files: {exc}") from exc
        finally:
            for stage, _ in staged:
                with contextlib.suppress(OSError):
                    stage.unlink()
        return LakeCommit(
            live.name,
            None,
            None,
            [str(Path(f).relative_to(path)) for f in affected],
            removed_bytes,
            len(affected),
            added_bytes,
            table_bytes,
            int(deleted),
            int(updated),
            gone,
        )

    def owes(self) -> bool:
        return False

    def finish(self, purge: bool) -> list[Any]:
        out = []
        for c in self.landed:
            path = self.path_of(self.table(c.table))
            check = self.check_files(path, c.gone)
            residue = check.residue
            out.append(
                LakeErasure(
                    c.table,
                    "parquet",
                    f"{len(c.files_removed)} file(s) rewritten into staged copies and renamed "
                    "over the originals",
                    not residue,
                    (f"{len(residue)} file(s) still hold removed values" if residue else None),
                    (
                        "the disk blocks of the replaced files until the file system reuses them",
                        "copies of the folder made before the erasure until their retention ends",
                    ),
                    None,
                    None,
                    tuple(c.files_removed),
                    check.files,
                    tuple(residue),
                    "plain Parquet keeps no earlier versions",
                    check.summary(True),
                )
            )
        self.landed = []
        self.recorded = 0
        return out

    def close(self) -> None:
        self.ops = {}


def _hidden(p: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in p.relative_to(root).parts)


def _stamp(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_size, st.st_mtime_ns


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


# -- Iceberg (read only) -----------------------------------------------------------------------

ICEBERG_NOT_ERASABLE = (
    "no library Tutela can install offline removes an Iceberg table's orphan files (the "
    "data files and manifests that still hold deleted rows, readable through older "
    "snapshots), so an erasure there could not be made physical"
)
ICEBERG_AT_SOURCE = (
    "erase the rows with the engine that owns the table (DELETE, then expire the older "
    "snapshots and remove orphan files)"
)


def iceberg_refusal(name: str) -> LiveSourceError:
    """Why a change to an Iceberg table is refused (raised before anything changes)."""
    return _error(
        f"{name} is an Iceberg table: Tutela reads it but does not change it: "
        f"{ICEBERG_NOT_ERASABLE}; nothing was changed",
        hint=f"{ICEBERG_AT_SOURCE}; `tutela detach` its attachment to act on the other tables",
    )


def _require_pyiceberg() -> None:
    if importlib.util.find_spec("pyiceberg") is None or importlib.util.find_spec("pyarrow") is None:
        raise _error(
            "reading Iceberg tables needs pyiceberg and pyarrow, which are not installed: "
            "pip install 'tutela[iceberg]'",
            hint="or export the table to Parquet or Delta and attach that",
        )


def prime_pyarrow() -> None:
    """pyarrow's pandas shim (Cython) takes the `sys.modules["pandas"] = None` marker the
    workspace sets (workspace.py) for the pandas module itself and fails on it. Let the shim
    look once without the marker (it then remembers pandas is absent), and restore it."""
    if "pandas" not in sys.modules or sys.modules["pandas"] is not None:
        return
    del sys.modules["pandas"]
    try:
        shim = importlib.import_module("pyarrow.lib")._pandas_api
        shim.have_pandas  # noqa: B018 - the property runs the shim's one import attempt
    finally:
        sys.modules.setdefault("pandas", None)


class _Iceberg(Source):
    """Iceberg tables read through pyiceberg from their newest metadata file; never
    written (see ICEBERG_NOT_ERASABLE)."""

    def connect(self, password: str | None) -> None:
        _require_pyiceberg()
        prime_pyarrow()
        root = Path(self.att.target)
        if not root.exists():
            raise _error(
                f"cannot attach {self.att.name} (iceberg {root}): the path does not exist "
                "or cannot be read"
            )
        self.paths = _iceberg_tables(root)
        if not self.paths:
            raise _error(f"{self.att.name}: {root} holds no Iceberg table any more")
        for (schema, table), path in self.paths.items():
            self._open(f"{self.att.name}.{schema}.{table}", path)

    def _open(self, name: str, path: Path) -> Any:
        from pyiceberg.table import StaticTable

        meta = newest_metadata(path)
        if meta is None:
            raise _error(f"{name}: {path} holds no Iceberg metadata file any more")
        try:
            return StaticTable.from_metadata(str(meta))
        except Exception as exc:  # pyiceberg raises validation, IO and plain errors
            raise _error(
                f"{name}: {meta} is not readable Iceberg table metadata: {_clean(exc)}",
                hint="it may be damaged, or written by a newer Iceberg format than "
                "Tutela's pyiceberg reads; upgrade pyiceberg, or export the table",
            ) from exc

    def list_tables(self) -> list[tuple[str, str]]:
        return sorted(self.paths)

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        path = self.paths.get((live.schema, live.table))
        if path is None:
            raise _error(f"{live.name}: no such table in {self.att.name}")
        table = self._open(live.name, path)
        _refuse_rowid_column(live.name, [f.name for f in table.schema().fields])
        try:
            reader = table.scan().to_arrow_batch_reader()
        except Exception as exc:  # a data file or manifest missing or unreadable
            raise _error(f"cannot read {live.name}: {_clean(exc)}") from exc
        _settle(self.con)
        # never written: the row address only tells the copy's rows apart
        return reader, "SELECT (row_number() OVER () - 1)::BIGINT AS rowid, * FROM {src}", _noop

    def begin(self) -> None:
        return None

    def apply(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        columns: list[str],
        texts: dict[int, str],
    ) -> None:
        raise iceberg_refusal(live.name)  # check_writable refuses before this

    def refusal(self) -> str | None:
        return ICEBERG_NOT_ERASABLE

    def refusal_error(self, live: LiveTable) -> LiveSourceError:
        return iceberg_refusal(live.name)

    def commit(self) -> None:
        self.in_transaction = False

    def rollback(self) -> None:
        self.in_transaction = False

    def finish(self, purge: bool) -> list[LiveErasure]:
        return []

    def close(self) -> None:
        return None


# -- new tables in a lake (pseudonymize --out lake.schema.table) -------------------------------


@dataclass(frozen=True)
class OutputTable:
    attachment: Attachment
    name: str
    path: Path


def output_table(attachments: Attachments, name: str) -> OutputTable | None:
    """`lake.main.t` or `lake.t` when `lake` is an attached lake folder: where a new table
    of that name goes (`<folder>/t`, `<folder>/<schema>/t`). None for anything else."""
    parts = name.split(".")
    if len(parts) == 2:
        parts = [parts[0], "main", parts[1]]
    source = attachments.get(parts[0]) if len(parts) == 3 else None
    if not isinstance(source, (_LakeMixin, _Iceberg)):
        return None
    if isinstance(source, _Iceberg):
        raise _error(
            f"{source.att.name} holds Iceberg tables, which Tutela does not write",
            hint="write the output to a Delta or Parquet attachment (attach delta:FOLDER)",
        )
    att, schema, table = source.att, parts[1], parts[2]
    if not re.fullmatch(r"[A-Za-z0-9_]+", schema + table):
        raise UsageError(f"{name}: lake table names use letters, digits and _ only")
    if (source.root / "_delta_log").is_dir() or (
        att.kind == "parquet" and _has_parquet(source.root)
    ):
        raise UsageError(
            f"{att.name} is attached as a single table: new tables cannot go inside it",
            hint="attach the folder that holds it to write new tables beside it",
        )
    if att.read_only:
        raise _error(f"{att.name} is attached read-only: Tutela will not write there")
    return OutputTable(att, f"{att.name}.{schema}.{table}", source.new_table_path(schema, table))


def write_table(
    con: Connection,
    target: OutputTable,
    sql: str,
    params: dict[str, Any],
    *,
    overwrite: bool = False,
) -> None:
    """Write a query's rows as a new lake table: into a hidden staging folder first, then
    renamed into place, so readers never see a half-written table. An existing table is
    replaced only with `overwrite` (the old folder is removed after the swap)."""

    def write(stage: Path) -> None:
        if target.attachment.kind == "delta":
            from deltalake import CommitProperties, write_deltalake

            # materialized first: the query may bind parameters, and a relation read as an
            # Arrow stream by delta-rs must be the connection's only open result
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _tutela_lake_out AS {sql}", params
            ).fetchall()
            write_deltalake(
                str(stage),
                con.sql("SELECT * FROM _tutela_lake_out"),
                commit_properties=CommitProperties(custom_metadata={TUTELA_MARK: "pseudonymize"}),
            )
        else:
            stage.mkdir()
            con.execute(
                f"COPY ({sql}) TO '{_sql_path(stage / 'part-0.parquet')}' (FORMAT parquet)",
                params,
            )
        with contextlib.suppress(SqlError):
            con.execute("DROP TABLE IF EXISTS _tutela_lake_out")

    try:
        staged_swap(target.path, target.name, write, overwrite=overwrite)
    except SqlError as exc:
        raise _error(f"cannot write {target.name}: {_clean(exc)}") from exc
    except (UsageError, LiveSourceError):
        raise
    except Exception as exc:  # delta-rs's own errors
        raise _error(f"cannot write {target.name}: {_clean(exc)}") from exc


def staged_swap(
    path: Path, name: str, write: Callable[[Path], None], *, overwrite: bool = False
) -> None:
    """Make the table folder `path` (the table `name`): `write` fills a hidden staging folder
    beside it, which is then renamed into place, so readers never see a half-written table.
    An existing folder is replaced only with `overwrite` (removed after the swap)."""
    import shutil

    if path.exists() and not overwrite:
        raise UsageError(f"{name} exists", hint="pass --force to replace it")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    if not _writable(parent):
        raise _error(f"{parent} is read-only: cannot write {name}")
    stage = parent / f".tutela-staging-{uuid.uuid4().hex[:12]}"
    old = parent / f".tutela-replaced-{uuid.uuid4().hex[:12]}"
    try:
        write(stage)
        if path.exists():
            os.rename(path, old)
        os.rename(stage, path)
    except OSError as exc:
        raise _error(f"cannot write {name}: {exc}") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


register_kind("delta", lambda att, con: _Delta(att, con))
register_kind("parquet", lambda att, con: _Parquet(att, con))
register_kind("iceberg", lambda att, con: _Iceberg(att, con))
