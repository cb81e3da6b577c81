"""Persisted scans and table fingerprints."""

from __future__ import annotations

from datetime import datetime

import duckdb

from tests.detect import synth
from tests.detect.conftest import MakeTable
from tutela.detect import (
    RULE_VERSION,
    load_stored_scan,
    scan_table,
    store_scan,
    table_fingerprint,
)


def test_store_and_load_round_trip(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    make_table("crm", {"dni": synth.dni(30), "notes": ["Llamar al 612 345 678 mañana"] * 30})
    scan = scan_table(con, "crm")
    fp = table_fingerprint(con, "crm")
    assert load_stored_scan(con, "crm") is None
    store_scan(con, scan, fingerprint=fp)
    loaded = load_stored_scan(con, "crm")
    assert loaded is not None
    stored, stored_fp, version, scanned_at = loaded
    assert stored.to_dict() == scan.to_dict()
    assert (stored_fp, version) == (fp, RULE_VERSION)
    assert isinstance(scanned_at, datetime) and scanned_at.tzinfo is not None


def test_store_replaces_previous_results(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"a": ["x"] * 5, "b": ["y"] * 5})
    store_scan(con, scan_table(con, "t"), fingerprint="one")
    make_table("t", {"email": ["a@example.com"] * 5})
    store_scan(con, scan_table(con, "t"), fingerprint="two")
    loaded = load_stored_scan(con, "t")
    assert loaded is not None
    assert [c.column for c in loaded[0].columns] == ["email"]
    assert loaded[1] == "two"
    assert con.execute("SELECT count(*) FROM _tutela.scans").fetchone() == (1,)


def test_store_inside_a_caller_transaction(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"a": ["x"] * 5})
    scan = scan_table(con, "t")
    con.execute("BEGIN TRANSACTION")
    store_scan(con, scan, fingerprint="f")
    con.execute("ROLLBACK")
    assert load_stored_scan(con, "t") is None


def test_fingerprint_tracks_content(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    make_table("t", {"a": ["x", "y", "y"]})
    first = table_fingerprint(con, "t")
    assert table_fingerprint(con, "t") == first
    con.execute("UPDATE t SET a = 'z' WHERE a = 'x'")
    assert table_fingerprint(con, "t") != first
    make_table("t", {"a": ["y", "x", "y"]})  # same rows, another order
    assert table_fingerprint(con, "t") == first
    make_table("t", {"a": ["x", "y", "y", "y", "y"]})  # duplicates do not cancel out
    assert table_fingerprint(con, "t") != first
