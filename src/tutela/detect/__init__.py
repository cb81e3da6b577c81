"""Personal-data detection: the scan engine, its results, and their persistence."""

from __future__ import annotations

from tutela.detect.engine import scan_table
from tutela.detect.model import CATEGORIES, ENTITIES, SUBTYPES, ColumnFinding, TableScan
from tutela.detect.store import RULE_VERSION, load_stored_scan, store_scan, table_fingerprint

__all__ = [
    "CATEGORIES",
    "ENTITIES",
    "RULE_VERSION",
    "SUBTYPES",
    "ColumnFinding",
    "TableScan",
    "load_stored_scan",
    "scan_table",
    "store_scan",
    "table_fingerprint",
]
