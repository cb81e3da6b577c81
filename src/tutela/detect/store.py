"""Persisted scans: `_tutela.scans` headers and `_tutela.scan_results` rows, plus fingerprints."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tutela.base.errors import EngineError, TableNotFoundError
from tutela.detect.model import ColumnFinding, TableScan
from tutela.engine import Connection, SqlError
from tutela.workspace import (
    INTERNAL,
    LocalTables,
    TableReader,
    internal_table_exists,
    quote_ident,
)

# 2026.2: samples in a stable order (the same on every engine); 2026.3: so are the free-text
# values analysed when a column has more than the cap; 2026.4: and the sampled rows (by a
# hash of the row address, not each engine's random generator)
RULE_VERSION = "2026.4"

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {INTERNAL}",
    f"""CREATE TABLE IF NOT EXISTS {INTERNAL}.scans (
        table_name VARCHAR PRIMARY KEY,
        rows BIGINT NOT NULL,
        fingerprint VARCHAR NOT NULL,
        rule_version VARCHAR NOT NULL,
        scanned_at TIMESTAMPTZ NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {INTERNAL}.scan_results (
        table_name VARCHAR NOT NULL,
        ordinal INTEGER NOT NULL,
        column_name VARCHAR NOT NULL,
        data_type VARCHAR NOT NULL,
        entity VARCHAR,
        subtype VARCHAR,
        category VARCHAR,
        confidence DOUBLE NOT NULL,
        free_text BOOLEAN NOT NULL,
        quasi_identifier BOOLEAN NOT NULL,
        matched BIGINT NOT NULL,
        non_empty BIGINT NOT NULL,
        evidence JSON NOT NULL,
        skipped VARCHAR,
        PRIMARY KEY (table_name, ordinal)
    )""",
)


def _ensure(con: Connection) -> None:
    for ddl in _DDL:
        con.execute(ddl)


def table_fingerprint(con: Connection, table: str, *, tables: TableReader | None = None) -> str:
    """A cheap content fingerprint: row count, column names/types and order-free row hashes.

    `sum(hash(row))` does not depend on row order and, unlike `bit_xor`, duplicate rows do
    not cancel out. One scan of the table; no data leaves DuckDB.
    """
    tables = tables or LocalTables(con)  # a workspace knows its attached tables too
    cols = tables.table_columns(table)
    if not cols:
        raise TableNotFoundError(f"no table named {table!r}")
    idents = ", ".join(quote_ident(str(c[0])) for c in cols)
    try:
        row = con.execute(
            f"SELECT count(*), sum(hash({idents})::HUGEINT), bit_xor(hash({idents})) "
            f"FROM {tables.relation(table)}"
        ).fetchone()
    except SqlError as exc:
        raise EngineError(f"fingerprint failed: {str(exc).splitlines()[0]}") from exc
    assert row is not None
    text = json.dumps([[list(map(str, c)) for c in cols], [str(x) for x in row]])
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def store_scan(
    con: Connection,
    scan: TableScan,
    *,
    fingerprint: str,
    rule_version: str = RULE_VERSION,
) -> None:
    """Persist `scan`, replacing the previous results for the same table."""
    _ensure(con)
    # No BEGIN here: inside a caller's transaction it would abort it. Instead the header
    # row goes last, so a scan interrupted half-way has no header and counts as absent.
    con.execute(f"DELETE FROM {INTERNAL}.scans WHERE table_name = ?", [scan.table])
    con.execute(f"DELETE FROM {INTERNAL}.scan_results WHERE table_name = ?", [scan.table])
    if scan.columns:
        con.executemany(
            f"INSERT INTO {INTERNAL}.scan_results VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    scan.table,
                    i,
                    c.column,
                    c.data_type,
                    c.entity,
                    c.subtype,
                    c.category,
                    c.confidence,
                    c.free_text,
                    c.quasi_identifier,
                    c.matched,
                    c.non_empty,
                    json.dumps(c.evidence, ensure_ascii=False, default=str),
                    c.skipped,
                ]
                for i, c in enumerate(scan.columns)
            ],
        )
    con.execute(
        f"INSERT INTO {INTERNAL}.scans VALUES (?, ?, ?, ?, ?)",
        [scan.table, scan.rows, fingerprint, rule_version, datetime.now(UTC)],
    )


def load_stored_scan(con: Connection, table: str) -> tuple[TableScan, str, str, datetime] | None:
    """The stored scan of `table` with its fingerprint, rule version and time, or None."""
    if not (internal_table_exists(con, "scans") and internal_table_exists(con, "scan_results")):
        return None
    head = con.execute(
        f"SELECT rows, fingerprint, rule_version, scanned_at FROM {INTERNAL}.scans "
        "WHERE table_name = ?",
        [table],
    ).fetchone()
    if head is None:
        return None
    rows = con.execute(
        "SELECT column_name, data_type, entity, subtype, category, confidence, free_text, "
        "quasi_identifier, matched, non_empty, evidence, skipped "
        f"FROM {INTERNAL}.scan_results WHERE table_name = ? ORDER BY ordinal",
        [table],
    ).fetchall()
    columns = [
        ColumnFinding(
            column=r[0],
            data_type=r[1],
            entity=r[2],
            subtype=r[3],
            category=r[4],
            confidence=float(r[5]),
            free_text=bool(r[6]),
            quasi_identifier=bool(r[7]),
            matched=int(r[8]),
            non_empty=int(r[9]),
            evidence=_json(r[10]),
            skipped=r[11],
        )
        for r in rows
    ]
    scanned_at = head[3]
    if isinstance(scanned_at, datetime) and scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=UTC)
    return TableScan(table, int(head[0]), columns), str(head[1]), str(head[2]), scanned_at


def _json(text: Any) -> dict[str, Any]:
    value = json.loads(text) if isinstance(text, str) else text
    return value if isinstance(value, dict) else {}
