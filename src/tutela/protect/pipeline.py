"""One pipeline for every column-protection method: rewrite in place, or write a file or a
lake table; the registry of protected columns, the audit entry, the manifest, the purge.

A method family plugs in as a `Plan` subclass: `pseudonymize.ProtectPlan` (keyed tokens,
AES-SIV, shaped tokens, masks, generalisations) and `shred.ShredPlan` (per-subject keys).
It says how its protected SELECT is built and what the registry, the audit entry and the
manifest record about its columns; the rest is here, once:

* in place: one transaction holds the rewrite, the `_tutela.protected_columns` rows (read
  later by re-identification, re-keying and key retirement), the audit entry and the
  pending-purge marker; then the workspace file is rewritten so no clear value stays in
  its free blocks;
* a file: written atomically (owner-only), with a sidecar manifest `<out>.tutela.json`
  naming the key version, purpose and method of every column; both are removed again if
  anything fails before the audit entry commits;
* a lake table: staged and renamed into place (lake.py), audited.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela import __version__, audit, fileout
from tutela.base.errors import EngineError, TutelaError, UsageError
from tutela.base.keys import KeySet, KeyVersion, MasterKey
from tutela.base.normalize import KEY_RULES
from tutela.base.progress import ProgressCallback, no_progress
from tutela.engine import Connection, SqlError
from tutela.protect.mapping import drop_temp
from tutela.protect.registry import REGISTRY, ensure_registry
from tutela.workspace import (
    Workspace,
    quote_ident,
)

if TYPE_CHECKING:
    from tutela.lake import OutputTable

DEFAULT_PURPOSE = "pseudonymization"
IN_PLACE = "in-place"
MANIFEST_SUFFIX = ".tutela.json"
OUTPUT_FORMATS = fileout.FORMATS
AUDIT_COMMAND = "pseudonymize"


# -- the registry of protected columns (kept in tutela.protect.registry) -----------------


@dataclass(frozen=True)
class Registered:
    """What the registry records of one column a plan rewrites (method None: dropped)."""

    column: str
    method: str | None
    arg: str | None = None
    normalize: str | None = None


def _register(con: Connection, p: Plan) -> None:
    ensure_registry(con)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for r in p.registered():
        con.execute(
            f"DELETE FROM {REGISTRY} WHERE table_name = ? AND column_name = ?", [p.table, r.column]
        )
        if r.method is not None:
            con.execute(
                f"INSERT INTO {REGISTRY} (table_name, column_name, method, arg, normalize, "
                "purpose, key_version, key_id, applied_at, key_rules) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [p.table, r.column, r.method, r.arg, r.normalize, p.purpose, p.key_version,
                 p.key_id, now, KEY_RULES],
            )  # fmt: skip


# -- planning: what every method checks the same way -----------------------------------


def basis(ws: Workspace, table: str, purpose: str) -> dict[str, str]:
    """The columns (name -> type, in table order) of a table a plan may protect, or a usage
    error saying why not."""
    ws.require_table(table)
    if not purpose.strip():
        raise UsageError("--purpose must not be empty")
    return {c.name: c.type for c in ws.columns(table)}


def key_record(keyset: KeySet, key_version: int | None) -> KeyVersion:
    """The key version a plan uses (the active one by default); retired ones are refused."""
    rec = keyset.active if key_version is None else keyset.record(key_version)
    keyset.key(rec.version)  # refuses retired versions
    return rec


def require_columns(table: str, types: dict[str, str], names: list[str]) -> None:
    unknown = [n for n in names if n not in types]
    if unknown:
        raise UsageError(
            f"no column {', '.join(map(repr, unknown))} in table {table!r}",
            hint="columns: " + ", ".join(types),
        )


# -- the plan and its result ------------------------------------------------------------


@dataclass
class Selection:
    """A plan's protected SELECT: SQL and bound parameters, the temp tables it joins
    (dropped once the rows are written), and how many subject keys building it created."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    temps: list[str] = field(default_factory=list)
    keys_created: int = 0


class SelectBuilder:
    """The SELECT over every column of a table (alias `t`), in table order: each kept,
    replaced by an expression, dropped, or joined through a mapping table (raw -> token)."""

    def __init__(self, source: str) -> None:
        self.source = source  # `Workspace.relation`: a live or lake table is read in place
        self.exprs: list[str] = []
        self.joins: list[str] = []
        self.temps: list[str] = []

    def keep(self, name: str) -> None:
        self.exprs.append(f"t.{quote_ident(name)}")

    def expr(self, name: str, sql: str) -> None:
        self.exprs.append(f"{sql} AS {quote_ident(name)}")

    def join(self, name: str, mapping: str, *, subject: str | None = None) -> None:
        """Replace the column by its mapping's token; `subject`: the mapping is per subject
        too (its `s` column matched against this expression of `t`)."""
        q = quote_ident(name)
        alias = f"m{len(self.joins)}"
        on = f"{alias}.s = {subject} AND " if subject else ""
        self.temps.append(mapping)
        self.joins.append(
            f"LEFT JOIN {mapping} AS {alias} ON {on}{alias}.raw = CAST(t.{q} AS VARCHAR)"
        )
        self.exprs.append(f"{alias}.token AS {q}")

    def build(self, params: dict[str, Any] | None = None, keys_created: int = 0) -> Selection:
        if not self.exprs:
            raise UsageError("every column would be dropped; nothing would be left")
        sql = f"SELECT {', '.join(self.exprs)} FROM {self.source} AS t {' '.join(self.joins)}"
        if self.joins:  # a join may reorder rows: keep the table's order
            sql += " ORDER BY t.rowid"
        return Selection(sql, params or {}, self.temps, keys_created)


@dataclass(kw_only=True)
class Plan(ABC):
    """What would happen to one table; subclasses are the method families (the strategy)."""

    table: str
    rows: int
    purpose: str
    key_version: int
    key_id: str
    target: str  # IN_PLACE, an output file, or a lake table `lake.schema.table`
    kept: list[str]
    layout: list[str] = field(default_factory=list)  # every column, in table order
    warnings: list[str] = field(default_factory=list)

    @property
    def in_place(self) -> bool:
        return self.target == IN_PLACE

    def _header(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "purpose": self.purpose,
            "key_version": self.key_version,
            "key_id": self.key_id,
            "target": self.target,
        }

    def _key_fields(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "key_version": self.key_version, "key_id": self.key_id}

    @abstractmethod
    def check(self, *, force: bool) -> None:
        """Refuse, before anything changes, what the method cannot do."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]: ...

    @abstractmethod
    def select(
        self, ws: Workspace, con: Connection, keyset: KeySet, master: MasterKey
    ) -> Selection:
        """The protected SELECT (inside the pipeline's transaction)."""

    def spark_select(self, relation: str, keyset: KeySet) -> tuple[str, dict[str, Any]]:
        """The SELECT and keyed columns for an engine computing tokens itself (Spark)."""
        raise UsageError(f"{self.table}: this protection does not run on Spark")

    @abstractmethod
    def registered(self) -> list[Registered]:
        """The registry rows of the rewritten columns (in place only)."""

    @abstractmethod
    def audit_arguments(self) -> dict[str, Any]: ...

    @abstractmethod
    def audit_counts(self, keys_created: int) -> dict[str, Any]: ...

    @abstractmethod
    def manifest_fields(self) -> dict[str, Any]:
        """The manifest after the key: its `columns` and whatever else the method records."""

    @abstractmethod
    def result_fields(self, result: Result) -> dict[str, Any]:
        """The method's own fields at the end of the result's dictionary."""


@dataclass
class Result:
    plan: Plan
    applied: bool
    audit_seq: int | None = None
    out: str | None = None
    manifest: str | None = None
    rewrite: dict[str, Any] | None = None
    """In place: the workspace-file rewrite that removed the clear values (purge.py)."""
    keys_created: int = 0
    """Subject keys created (shred)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "applied": self.applied,
            "audit_entry": self.audit_seq,
            "out": self.out,
            "manifest": self.manifest,
            **self.plan.result_fields(self),
        }


# -- carrying a plan out ------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _transact(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    write: Callable[[Connection, Selection], str],
    *,
    step: str,
    purge_after: str | None = None,
    progress: ProgressCallback = no_progress,
) -> tuple[int, Selection]:
    """One transaction: the protected SELECT, `write` (which returns what the audit entry
    says was done), the temp tables dropped, the audit entry. (audit seq, selection)."""
    try:
        with ws.transaction(purge_after=purge_after) as con:
            progress(step, 0.0)
            sel = p.select(ws, con, keyset, master)
            done = write(con, sel)
            drop_temp(con, sel.temps)
            entry = audit.append(
                con,
                master,
                command=AUDIT_COMMAND,
                arguments=p.audit_arguments(),
                tables=[p.table],
                counts=p.audit_counts(sel.keys_created),
                result=done,
            )
            progress(step, 1.0)
    except SqlError as exc:
        raise EngineError(_first_line(exc)) from None
    return entry.seq, sel


def carry_out(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
) -> Result:
    """Apply a plan where its target says: in place, a lake table, or a file."""
    if p.in_place:
        return apply_in_place(ws, p, keyset, master, progress, force=force)
    from tutela import lake

    target = lake.output_table(ws.attachments, p.target)
    found = ws.live_table(p.table)
    if (
        target is not None
        and found is not None
        and found.attachment.name == target.attachment.name  # its own engine writes it
        and hasattr(ws.attachments.source(found), "write_protected")
    ):
        return write_on_engine(ws, p, keyset, master, target, overwrite=force)
    if target is not None:
        return write_table(ws, p, keyset, master, target, overwrite=force)
    return write_file(ws, p, keyset, master, overwrite=force, progress=progress)


def apply_in_place(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    progress: ProgressCallback = no_progress,
    *,
    force: bool = False,
) -> Result:
    """Rewrite the table with its columns protected, registered and audited in one
    transaction; then rewrite the workspace file (the clear values must not stay in its
    free blocks)."""
    if not p.in_place:
        raise UsageError("this plan writes a file; use write_file")
    found = ws.live_table(p.table)
    if found is not None:
        from tutela import live  # lakes and live sources: ~25 ms of imports

        live.require_writable(found)  # an Iceberg table: refused with the reason
    p.check(force=force)

    def rewrite(con: Connection, sel: Selection) -> str:
        con.execute(f"CREATE OR REPLACE TABLE {ws.table_ident(p.table)} AS {sel.sql}", sel.params)
        _register(con, p)
        return "applied"

    seq, sel = _transact(
        ws, p, keyset, master, rewrite, step=f"protecting {p.table}", purge_after=AUDIT_COMMAND,
        progress=progress,
    )  # fmt: skip
    purged = ws.purge()
    return Result(p, True, seq, rewrite=purged.to_dict(), keys_created=sel.keys_created)


def write_table(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    target: OutputTable,
    *,
    overwrite: bool = False,
) -> Result:
    """Write the protected table as a new table in an attached lake folder (lake.py):
    staged, then renamed into place; audited. The source table is not changed."""
    from tutela import lake

    p.check(force=overwrite)

    def write(con: Connection, sel: Selection) -> str:
        lake.write_table(con, target, sel.sql, sel.params, overwrite=overwrite)
        return f"written lake table {target.name}"

    seq, sel = _transact(ws, p, keyset, master, write, step=f"writing {target.name}")
    return Result(p, True, seq, target.name, None, keys_created=sel.keys_created)


def write_on_engine(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    target: OutputTable,
    *,
    overwrite: bool = False,
) -> Result:
    """A table behind an engine of its own (Spark), written as a new table beside it by
    that engine: the keyed tokens bit-for-bit those DuckDB would write. Staged and renamed
    into place by the source; audited once written (the new table is removed again if the
    audit entry cannot be written). The source table is not changed."""
    import shutil

    from tutela import lake_spark

    p.check(force=overwrite)
    found = ws.live_table(p.table)
    assert found is not None
    source: Any = ws.attachments.source(found)
    select, keyed = p.spark_select(lake_spark.spark_relation(found), keyset)
    existed = target.path.exists()
    rows = source.write_protected(
        found, select, keyed, target.path, target.name, overwrite=overwrite
    )
    try:
        with ws.transaction() as con:
            entry = audit.append(
                con,
                master,
                command=AUDIT_COMMAND,
                arguments=p.audit_arguments(),
                tables=[p.table],
                counts={**p.audit_counts(0), "rows_written": rows},
                result=f"written lake table {target.name} on Spark",
            )
    except BaseException:
        if not existed:
            shutil.rmtree(target.path, ignore_errors=True)
        raise
    return Result(p, True, entry.seq, target.name, None)


def write_file(
    ws: Workspace,
    p: Plan,
    keyset: KeySet,
    master: MasterKey,
    *,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> Result:
    """Write the protected table to a file plus its manifest; the table is not changed.
    Anything a method creates (subject keys) commits with the audit entry; the file and
    the manifest are removed again if anything fails before."""
    out = Path(p.target)
    manifest_path = out.with_name(out.name + MANIFEST_SUFFIX)
    output_format(out)
    if not out.parent.is_dir():
        raise UsageError(f"directory {out.parent} does not exist")
    if out.exists() and not overwrite:
        raise UsageError(f"{out} exists", hint="pass --force to replace it")
    p.check(force=overwrite)

    def write(con: Connection, sel: Selection) -> str:
        copy_to(con, sel.sql, sel.params, out)
        manifest = build_manifest(p, out)
        _write_json(manifest_path, manifest)  # before the commit: no manifest, no entry
        return f"written {out.name} sha256:{manifest['sha256']}"

    try:
        seq, sel = _transact(ws, p, keyset, master, write, step=f"writing {out.name}",
                             progress=progress)  # fmt: skip
    except (TutelaError, OSError):
        for path in (out, manifest_path):
            if path.exists():
                path.unlink()
        raise
    return Result(p, True, seq, str(out), str(manifest_path), keys_created=sel.keys_created)


# -- files and manifests --------------------------------------------------------------------


def output_format(path: Path) -> str:
    return fileout.output_format(path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_to(con: Connection, sql: str, params: dict[str, Any], out: Path) -> None:
    """COPY a query to `out` atomically (temp file, then rename), readable by the owner only."""
    output_format(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fileout.copy_query(con, sql, params, tmp, out.suffix)  # the one CSV writer
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def build_manifest(p: Plan, out: Path) -> dict[str, Any]:
    """What made the file: the source, the key version, and each column's method."""
    return {
        "tool": "tutela",
        "tool_version": __version__,
        "manifest_version": 1,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": out.name,
        "sha256": sha256_file(out),
        "source_table": p.table,
        "rows": p.rows,
        "purpose": p.purpose,
        "key": {"version": p.key_version, "key_id": p.key_id},
        **p.manifest_fields(),
        "unchanged_columns": p.kept,
    }


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest_path.exists():
        raise UsageError(
            f"{path} has no manifest ({manifest_path.name})",
            hint="only files written by `tutela pseudonymize --out` can be re-identified",
        )
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"manifest {manifest_path} cannot be read: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("tool") != "tutela" or "columns" not in data:
        raise UsageError(f"{manifest_path} is not a Tutela manifest")
    return data
