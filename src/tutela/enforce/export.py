"""Purpose- and role-bound exports: consent filtering, column minimisation, CSV formula
neutralisation, private (0600) files that never replace an existing one unless forced,
and one audit entry per export.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tutela import audit, fileout
from tutela.base.errors import EngineError, TutelaError, UsageError
from tutela.base.normalize import key_sql
from tutela.enforce import consent
from tutela.enforce.access import get_role, role_select
from tutela.enforce.common import RefusedError, rebind
from tutela.engine import Connection, SqlError
from tutela.keyguard import workspace_key
from tutela.policy.vocab import category_within
from tutela.protect.sqlhmac import Binder
from tutela.workspace import Workspace, quote_ident

FORMATS = {k: v for k, v in fileout.FORMATS.items() if k != ".tsv"}


@dataclass
class ExportResult:
    table: str
    path: str
    purpose: str | None
    role: str | None
    rows: int
    source_rows: int
    dropped_no_consent: int
    columns: list[str]
    excluded_columns: list[str]
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.path,
            "purpose": self.purpose,
            "role": self.role,
            "rows": self.rows,
            "source_rows": self.source_rows,
            "dropped_without_consent": self.dropped_no_consent,
            "columns": self.columns,
            "excluded_columns": self.excluded_columns,
            "audit_seq": self.audit_seq,
        }


def output_format(out: Path) -> str:
    return fileout.output_format(out, tuple(FORMATS))


def neutralise_csv(con: Connection, sql: str, params: dict[str, Any]) -> str:
    """Text values and header names that a spreadsheet would run as a formula get `'`."""
    return fileout.delimited_select(con, sql, params)


def _check_target(out: Path, force: bool) -> str:
    fmt = output_format(out)
    if not out.parent.is_dir():
        raise UsageError(f"directory {out.parent} does not exist")
    if (out.exists() or out.is_symlink()) and not force:
        raise UsageError(f"{out} exists", hint="pass --force to replace it")
    return fmt


def _write(con: Connection, sql: str, params: dict[str, Any], out: Path, force: bool) -> None:
    """COPY into a private temporary directory, 0600, then move into place (no clobber)."""
    _check_target(out, force)
    tmpdir = Path(tempfile.mkdtemp(prefix=".tutela-export-", dir=out.parent))  # mode 0700
    try:
        tmp = tmpdir / "export"
        fileout.copy_query(con, sql, params, tmp, out.suffix)
        if force:
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)  # fails if the name exists: never clobbers
            except FileExistsError:
                raise UsageError(f"{out} exists", hint="pass --force to replace it") from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _finish(
    ws: Workspace,
    sql: str,
    params: dict[str, Any],
    out: Path,
    force: bool,
    audit_args: dict[str, Any],
    table: str,
    extra_counts: dict[str, int],
) -> tuple[int, int]:
    master = workspace_key(ws)
    _check_target(out, force)
    existed = out.exists()
    try:
        with ws.transaction() as con:
            row = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()
            rows = int(row[0]) if row else 0
            _write(con, sql, params, out, force)
            entry = audit.append(
                con,
                master,
                command="export",
                arguments={**audit_args, "table": table, "file": out.name},
                tables=[table],
                counts={"rows": rows, **extra_counts},
                result="written",
            )
    except SqlError as exc:
        if not existed:
            with contextlib.suppress(FileNotFoundError):
                out.unlink()
        raise EngineError(str(exc).splitlines()[0]) from None
    except TutelaError:
        raise
    return rows, entry.seq


def export_for_purpose(
    ws: Workspace,
    policy: Any,
    table: str,
    purpose: str,
    out: Path,
    *,
    force: bool = False,
    as_of: datetime | None = None,
) -> ExportResult:
    """Rows of `table` for `purpose`: refused when the purpose does not cover the table;
    for a consent purpose, only subjects whose consent is current; only the columns of
    the purpose's categories (and columns the policy marks not personal)."""
    spec = policy.purposes.get(purpose)
    if spec is None:
        raise RefusedError(f"the policy has no purpose {purpose!r}")
    ws.require_table(table)
    if table not in spec.tables:
        raise RefusedError(
            f"purpose {purpose} does not cover table {table} (its tables: "
            f"{', '.join(spec.tables)})",
            hint="add the table to the purpose in the policy if this processing is intended",
        )
    columns = [c.name for c in ws.columns(table)]
    keep, excluded = columns, list[str]()
    if spec.categories:
        keep, excluded = [], []
        for name in columns:
            col = policy.column_spec(table, name)
            cat = col.effective_category if col else None
            ok = col is not None and (
                not col.personal or (cat and any(category_within(cat, p) for p in spec.categories))
            )
            (keep if ok else excluded).append(name)
        if not keep:
            raise RefusedError(f"no column of {table} falls under purpose {purpose}'s categories")
    binder = Binder()
    select = ", ".join(quote_ident(c) for c in keep)
    where = "true"
    if spec.needs_consent:
        kind = consent.subject_kind(policy)
        links = [
            link
            for link in policy.identity_links_for(table)
            if link.kind is kind and link.column in columns
        ]
        if not links:
            raise RefusedError(
                f"purpose {purpose} needs consent, but {table} has no {kind.value} identity "
                "link to check it against",
                hint=f"declare the {kind.value} column of {table} under subjects: identifiers",
            )
        cur, cur_params = consent.current_sql(ws, policy, as_of or datetime.now())
        subj = key_sql(quote_ident(links[0].column), consent.normalization(kind))
        granted = (
            f"SELECT subject_key FROM ({cur}) WHERE purpose = ? AND subject_kind = ? "
            "AND status = 'granted'"
        )
        where = f"{subj} IN ({rebind(granted, [*cur_params, purpose, kind.value], binder)})"
    sql = f"SELECT {select} FROM {ws.table_ident(table)} WHERE {where}"
    source_rows = ws.row_count(table)
    rows, seq = _finish(
        ws, sql, binder.params, out, force, {"purpose": purpose}, table,
        {"source_rows": source_rows},
    )  # fmt: skip
    dropped = source_rows - rows if spec.needs_consent else 0
    return ExportResult(
        table, str(out), purpose, None, rows, source_rows, dropped, keep, excluded, seq
    )


def export_for_role(
    ws: Workspace, policy: Any, table: str, role: str, out: Path, *, force: bool = False
) -> ExportResult:
    """Rows of `table` as the role's view shows them (the same SQL as `view create`)."""
    get_role(policy, role)
    ws.require_table(table)
    sel = role_select(ws, policy, role, table, None)
    if sel is None:
        raise RefusedError(f"role {role} may not see table {table}")
    source_rows = ws.row_count(table)
    rows, seq = _finish(
        ws, sel.sql, sel.params, out, force, {"role": role}, table, {"source_rows": source_rows}
    )
    shown = [c for c, v in sel.visibility.items() if v != "hidden"]
    hidden = [c for c, v in sel.visibility.items() if v == "hidden"]
    return ExportResult(table, str(out), None, role, rows, source_rows, 0, shown, hidden, seq)
