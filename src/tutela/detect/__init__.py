"""Personal-data detection: the scan engine, its results, and their persistence.

This package's public names, re-exported; modules inside `tutela.detect` import each other
directly (never through this file), so the package has no import cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutela.base.lazy import lazy_exports

if TYPE_CHECKING:
    from tutela.detect.decisions import Decision, apply_decisions, stored_scan_with_decisions
    from tutela.detect.engine import scan_table
    from tutela.detect.model import CATEGORIES, ENTITIES, SUBTYPES, ColumnFinding, TableScan
    from tutela.detect.store import RULE_VERSION, load_stored_scan, store_scan, table_fingerprint

# Imported when first used: a module that needs one part (masking, the model) does not load
# the scan engine with its detectors.
_LAZY = {
    "Decision": "decisions",
    "apply_decisions": "decisions",
    "stored_scan_with_decisions": "decisions",
    "scan_table": "engine",
    "CATEGORIES": "model",
    "ENTITIES": "model",
    "SUBTYPES": "model",
    "ColumnFinding": "model",
    "TableScan": "model",
    "RULE_VERSION": "store",
    "load_stored_scan": "store",
    "store_scan": "store",
    "table_fingerprint": "store",
}


__getattr__ = lazy_exports(__name__, _LAZY)


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
