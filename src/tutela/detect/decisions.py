"""Human decisions on columns (`tutela classify`): recorded, audited, and applied to every scan.

A reviewer settles what a column holds (`--as ENTITY`) or that it holds no personal data
(`--not-personal --reason ...`). The decision is stored in `_tutela.column_decisions` with
a fingerprint of the column's values and an audit entry in the same transaction; every
scan result (fresh or stored) is read through `apply_decisions`, so `scan`, `--fail-on`,
`policy init` and SARIF all see it, marked as a human verdict.

When the column's values change afterwards the decision is flagged for re-review. Until
then it is applied in the safe direction only: a stale "this is PERSON" still holds (it
protects more), a stale "not personal" no longer hides what the scanner finds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutela import audit
from tutela.base.errors import EngineError, TableNotFoundError, UsageError
from tutela.detect.model import CATEGORIES, ENTITIES, TableScan
from tutela.detect.store import load_stored_scan
from tutela.engine import Connection, SqlError
from tutela.keyguard import workspace_key
from tutela.workspace import (
    INTERNAL,
    LocalTables,
    TableReader,
    Workspace,
    internal_table_exists,
    quote_ident,
)

TABLE = f"{INTERNAL}.column_decisions"
_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    table_name VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    entity VARCHAR,
    reason VARCHAR NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    values_fingerprint VARCHAR NOT NULL,
    detected_entity VARCHAR,
    PRIMARY KEY (table_name, column_name)
)"""


@dataclass(frozen=True)
class Decision:
    table: str
    column: str
    entity: str | None  # None: not personal data
    reason: str
    decided_at: datetime
    fingerprint: str
    detected: str | None = None  # what the scanner said when the decision was made

    @property
    def not_personal(self) -> bool:
        return self.entity is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "entity": self.entity,
            "not_personal": self.not_personal,
            "reason": self.reason,
            "decided_at": self.decided_at.isoformat(timespec="seconds"),
            "detected_entity": self.detected,
        }


def split_target(ws: Workspace, target: str) -> tuple[str, str]:
    """`TABLE.COLUMN` -> (table, column). Tables (`crm.public.customers`) and flattened
    columns (`customer.name`) may both hold dots: the table is the longest prefix that is
    a table of the workspace whose remainder is one of its columns."""
    parts = target.split(".")
    tables = set(ws.user_tables())
    for cut in range(len(parts) - 1, 0, -1):
        table, column = ".".join(parts[:cut]), ".".join(parts[cut:])
        if table in tables and column in {c.name for c in ws.columns(table)}:
            return table, column
    for cut in range(len(parts) - 1, 0, -1):
        table = ".".join(parts[:cut])
        if table in tables:
            names = ", ".join(c.name for c in ws.columns(table)[:12])
            raise UsageError(
                f"table {table!r} has no column {'.'.join(parts[cut:])!r}",
                hint=f"its columns: {names}",
            )
    raise TableNotFoundError(
        f"no table in {target!r}", hint="write TABLE.COLUMN, e.g. crm_customers.email"
    )


def column_fingerprint(
    con: Connection, table: str, column: str, *, tables: TableReader | None = None
) -> str:
    return fingerprints(con, table, [column], tables=tables)[column]


def fingerprints(
    con: Connection, table: str, columns: list[str], *, tables: TableReader | None = None
) -> dict[str, str]:
    """Order-free fingerprints of some columns' values: one scan of the table."""
    if not columns:
        return {}
    parts = []
    for col in columns:
        ident = quote_ident(col)
        parts.append(f"count({ident}), sum(hash({ident})::HUGEINT)")
    source = (tables or LocalTables(con)).relation(table)
    try:
        row = con.execute(f"SELECT count(*), {', '.join(parts)} FROM {source}").fetchone()
    except SqlError as exc:
        raise EngineError(f"fingerprint failed: {str(exc).splitlines()[0]}") from exc
    assert row is not None
    out = {}
    for i, col in enumerate(columns):
        text = json.dumps([str(row[0]), str(row[1 + 2 * i]), str(row[2 + 2 * i])])
        out[col] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return out


def record(
    ws: Workspace,
    target: str,
    *,
    entity: str | None,
    reason: str,
    detected: str | None = None,
) -> Decision:
    """Record (or replace) the decision on one column, audited in the same transaction."""
    if entity is not None and entity not in ENTITIES:
        raise UsageError(
            f"--as: unknown entity {entity!r}", hint=f"use one of {', '.join(sorted(ENTITIES))}"
        )
    if not reason.strip():
        raise UsageError("--reason must say why (it is shown to the next reviewer)")
    table, column = split_target(ws, target)
    master = workspace_key(ws)
    fingerprint = column_fingerprint(ws.con, table, column, tables=ws)
    decision = Decision(
        table, column, entity, reason.strip(), datetime.now(UTC), fingerprint, detected
    )
    with ws.transaction() as con:
        con.execute(_DDL)
        con.execute(
            f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [table, column, entity, decision.reason, decision.decided_at, fingerprint, detected],
        )
        audit.append(
            con,
            master,
            command="classify",
            arguments={
                "column": f"{table}.{column}",
                "entity": entity,
                "not_personal": entity is None,
                "reason": decision.reason,
            },
            tables=[table],
            counts={},
            result="recorded",
        )
    return decision


def forget(ws: Workspace, target: str) -> bool:
    """Remove the decision on one column (audited); False when there was none."""
    table, column = split_target(ws, target)
    if not internal_table_exists(ws.con, "column_decisions"):
        return False
    master = workspace_key(ws)
    with ws.transaction() as con:
        gone = con.execute(
            f"DELETE FROM {TABLE} WHERE table_name = ? AND column_name = ? RETURNING 1",
            [table, column],
        ).fetchall()
        if gone:
            audit.append(
                con,
                master,
                command="classify",
                arguments={"column": f"{table}.{column}", "forget": True},
                tables=[table],
                counts={},
                result="forgotten",
            )
    return bool(gone)


def load_decisions(con: Connection, table: str | None = None) -> dict[tuple[str, str], Decision]:
    if not internal_table_exists(con, "column_decisions"):
        return {}
    sql = (
        "SELECT table_name, column_name, entity, reason, decided_at, values_fingerprint, "
        f"detected_entity FROM {TABLE}"
    )
    rows = (
        con.execute(sql + " WHERE table_name = ?", [table]).fetchall()
        if table is not None
        else con.execute(sql + " ORDER BY table_name, column_name").fetchall()
    )
    out = {}
    for r in rows:
        at = r[4]
        if isinstance(at, datetime) and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        out[(r[0], r[1])] = Decision(r[0], r[1], r[2], r[3], at, r[5], r[6])
    return out


def apply_decisions(con: Connection, scan: TableScan, *, tables: TableReader | None = None) -> None:
    """Overlay the human decisions on a scan of one table (in place). `tables`: where to
    read it (a workspace, for attached tables); the connection's loaded tables by default."""
    decided = load_decisions(con, scan.table)
    if not decided:
        return
    present = {c.column for c in scan.columns}
    live = [col for (_t, col) in decided if col in present]
    tables = tables or LocalTables(con)
    present_now = tables.table_columns(scan.table)
    current = fingerprints(con, scan.table, live, tables=tables) if present_now else {}
    for finding in scan.columns:
        decision = decided.get((scan.table, finding.column))
        if decision is None:
            continue
        stale = current.get(finding.column) != decision.fingerprint
        finding.evidence["decision"] = {
            **decision.to_dict(),
            "by": "human",
            "stale": stale,
            "scanner_entity": finding.entity,
        }
        if stale:
            finding.evidence["decision"]["review"] = (
                "the column's values changed since this decision: review it again "
                "(`tutela classify`)"
            )
            if decision.not_personal:
                continue  # never let an outdated "not personal" hide a finding
        if decision.entity != finding.entity:
            finding.subtype = None
        finding.entity = decision.entity
        finding.category = CATEGORIES[decision.entity] if decision.entity else None
        finding.confidence = 1.0 if decision.entity else 0.0
        if decision.entity is None:
            finding.free_text = False
            finding.quasi_identifier = False


def stored_scan_with_decisions(
    con: Connection, table: str, *, tables: TableReader | None = None
) -> TableScan | None:
    """The stored scan of `table` with the human decisions applied, or None. `tables`:
    where to read it (a workspace, for attached tables)."""
    stored = load_stored_scan(con, table)
    if stored is None:
        return None
    apply_decisions(con, stored[0], tables=tables)
    return stored[0]
