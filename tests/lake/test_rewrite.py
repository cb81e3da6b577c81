"""Retention and pseudonymization on Delta tables: rows past their period deleted or
blanked in one commit per table (then purged), and a protected copy written as a new Delta
table through a staging folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
from deltalake import DeltaTable, write_deltalake
from typer.testing import Result

from tests.conftest import json_out
from tests.lake.conftest import files_holding, parquet_holding, read_table

POLICY = """\
version: 1
organisation: {name: Test Org, country: ES, contact: dpo@example.com}
tables:
  lake.main.visits:
    columns:
      email: EMAIL_ADDRESS
      ip: IP_ADDRESS
      seen: not_personal
retention:
  - table: lake.main.visits
    period: 1 year
    after: seen
    reason: Analytics are kept one year.
"""

VISITS = """SELECT * FROM (VALUES
    ('old.visitor@example.com', '10.0.0.1', DATE '2020-01-05'),
    ('new.visitor@example.com', '10.0.0.2', DATE '2026-11-20'),
    ('older.visitor@example.com', '10.0.0.3', DATE '2019-03-01')
) t(email, ip, seen)"""


def test_retention_apply_on_a_delta_table(cli: Callable[..., Result], tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    write_deltalake(str(lake / "visits"), duckdb.connect().sql(VISITS))
    (tmp_path / "policy.yaml").write_text(POLICY)
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    args = ["retention", "apply", "-p", str(tmp_path / "policy.yaml"), "--as-of", "2026-12-01"]
    planned = json_out(cli(*args, "-f", "json"))
    assert planned["expired_rows"] == 2 and planned["applied"] is False
    result = cli(*args, "--apply", "-f", "json")
    assert result.exit_code == 0, result.output
    done = json_out(result)
    assert done["applied"] is True and done["items"][0]["applied"] == 2
    assert [r[0] for r in read_table(lake / "visits")] == ["new.visitor@example.com"]
    [entry] = done["live_sources"]
    assert entry["done"] is True and entry["version_after"] == 1
    assert files_holding(lake, ["old.visitor@", "older.visitor@"]) == {}


def test_pseudonymize_into_a_new_delta_table(
    cli: Callable[..., Result], lake: Path, tmp_path: Path
) -> None:
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    assert cli("keys", "init").exit_code == 0
    result = cli("pseudonymize", "lake.main.customers", "--columns", "email=hmac,name=hmac",
                 "--out", "lake.main.customers_pseudo")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = lake / "customers_pseudo"
    rows = read_table(out)
    assert len(rows) == 3 and all(r[2].startswith("tok_") for r in rows)
    assert not any("@" in r[2] for r in rows)
    assert not [p for p in lake.iterdir() if p.name.startswith(".tutela")]  # staging gone
    assert "lake.main.customers_pseudo" in cli("tables").stdout
    assert DeltaTable(str(lake / "customers")).version() == 0  # the source is not changed
    again = cli("pseudonymize", "lake.main.customers", "--columns", "email=hmac",
                "--out", "lake.main.customers_pseudo")  # fmt: skip
    assert again.exit_code == 2 and "exists" in again.output
    # the same tokens as a pseudonymized export of the same values (one key, one algorithm)
    assert cli("pseudonymize", "lake.main.customers", "--columns", "email=hmac", "--out",
               str(tmp_path / "c.csv")).exit_code == 0  # fmt: skip
    csv = (tmp_path / "c.csv").read_text()
    assert all(r[2] in csv for r in rows)


def test_shredded_copy_into_a_new_delta_table(cli: Callable[..., Result], lake: Path) -> None:
    """Shred goes through the same pipeline as every method: a lake table is an output too,
    and the subject keys commit with its audit entry."""
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    assert cli("keys", "init").exit_code == 0
    result = cli("pseudonymize", "lake.main.customers", "-c", "name,phone", "--method", "shred",
                 "--subject-column", "customer_id", "--out", "lake.main.customers_shred",
                 "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    done = json_out(result)
    assert done["applied"] is True and done["subject_keys_created"] == 3
    rows = read_table(lake / "customers_shred")
    assert [r[0] for r in rows] == ["C50321", "C50322", "C50323"]
    assert all(str(r[1]).startswith("shred:v1:") for r in rows)
    assert [r[3] is None for r in rows] == [False, False, True]  # no phone stays no phone
    assert files_holding(lake / "customers_shred", ["Anna Puig", "612 345"]) == {}
    assert DeltaTable(str(lake / "customers")).version() == 0  # the source is not changed


def test_a_removed_value_still_inside_kept_text_is_held_not_residue(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """The log's column statistics copy a kept row's text; a removed value inside that
    text is still in the table (not erased, not residue), and the certificate says so."""
    lake = tmp_path / "lake"
    rows = """SELECT * FROM (VALUES
        ('old.visitor@example.com', NULL, '10.0.0.1', DATE '2020-01-05'),
        ('new.visitor@example.com', 'was old.visitor@example.com', '10.0.0.2', DATE '2026-11-20')
    ) t(email, note, ip, seen)"""
    write_deltalake(str(lake / "visits"), duckdb.connect().sql(rows))
    policy = POLICY.replace(
        "      ip: IP_ADDRESS\n", "      ip: IP_ADDRESS\n      note: EMAIL_ADDRESS\n"
    )
    (tmp_path / "policy.yaml").write_text(policy)
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    result = cli("retention", "apply", "-p", str(tmp_path / "policy.yaml"), "--as-of",
                 "2026-12-01", "--apply", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    [entry] = json_out(result)["live_sources"]
    assert [r[0] for r in read_table(lake / "visits")] == ["new.visitor@example.com"]
    assert entry["done"] is True and entry["residue_files"] == []
    assert entry["file_check"].startswith("files rewritten; 0 of ")
    assert "(1 still inside other text of the table, not erased)" in entry["file_check"]
    held = parquet_holding(lake, ["old.visitor@example.com"])
    assert any("_delta_log" in f for f in held)  # the statistics of the kept note
    # the removed IP is in no file at all
    assert files_holding(lake, ["10.0.0.1"]) == {}


def test_retention_exits_1_while_the_purge_waits_for_readers(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Another writer removed a file within the table's retention window (readers may still
    use it): the rows are changed, the purge is refused, and the exit code says so."""
    lake = tmp_path / "lake"
    write_deltalake(str(lake / "visits"), duckdb.connect().sql(VISITS))
    DeltaTable(str(lake / "visits")).update(
        updates={"ip": "'10.9.9.9'"}, predicate="ip = '10.0.0.2'"
    )
    (tmp_path / "policy.yaml").write_text(POLICY)
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    result = cli("retention", "apply", "-p", str(tmp_path / "policy.yaml"), "--as-of",
                 "2026-12-01", "--apply")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "not yet physically removed in: lake.main.visits" in result.output
    assert [r[0] for r in read_table(lake / "visits")] == ["new.visitor@example.com"]
