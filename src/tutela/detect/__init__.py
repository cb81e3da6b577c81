"""Personal-data detection: the scan engine, its results, and their persistence."""

from __future__ import annotations

from tutela.detect.decisions import Decision, apply_decisions
from tutela.detect.engine import scan_table
from tutela.detect.model import CATEGORIES, ENTITIES, SUBTYPES, ColumnFinding, TableScan
from tutela.detect.store import RULE_VERSION, load_stored_scan, store_scan, table_fingerprint
from tutela.engine import Connection
from tutela.workspace import TableReader


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


__all__ = [
    "CATEGORIES",
    "ENTITIES",
    "RULE_VERSION",
    "SUBTYPES",
    "ColumnFinding",
    "Decision",
    "TableScan",
    "apply_decisions",
    "load_stored_scan",
    "scan_table",
    "store_scan",
    "stored_scan_with_decisions",
    "table_fingerprint",
]
