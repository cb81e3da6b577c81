"""Iceberg tables read in place through pyiceberg (the `iceberg` extra): attach, list, scan,
SAR; erasure and retention refused before anything changes, with the reason; a clear error
without pyiceberg. The tables are written here with pyiceberg's SQLite catalog, offline."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from deltalake import write_deltalake
from typer.testing import Result

from tests.conftest import json_out
from tests.lake.conftest import read_table
from tutela import lake as lake_mod

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyiceberg")

POLICY = """\
version: 1
organisation: {name: Test Org, country: ES, contact: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: ice.crm.customers, column: email, kind: email}
      - {table: ice.crm.customers, column: customer_id, kind: customer_id}
tables:
  ice.crm.customers:
    columns:
      customer_id: {category: user.unique_id}
      name: PERSON
      email: EMAIL_ADDRESS
      seen: not_personal
retention:
  - table: ice.crm.customers
    period: 1 year
    after: seen
    reason: Contacts are kept one year.
"""

FIRST = {
    "customer_id": ["C50321", "C50322"],
    "name": ["Anna Puig", "Pau Vidal"],
    "email": ["anna.puig@example.com", "pau.vidal@example.com"],
    "seen": ["2020-01-05", "2026-11-20"],
}
SECOND = {  # a second snapshot: only the newest metadata file holds it
    "customer_id": ["C50323"],
    "name": ["Marta Soler"],
    "email": ["marta.soler@example.com"],
    "seen": ["2026-11-21"],
}


def write_iceberg(warehouse: Path) -> Path:
    """warehouse/crm/customers, two appends (three metadata files)."""
    from pyiceberg.catalog.sql import SqlCatalog

    lake_mod.prime_pyarrow()  # the test process imported the workspace (its pandas marker)
    warehouse.mkdir(parents=True)
    catalog = SqlCatalog(
        "test", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=warehouse.as_uri()
    )
    catalog.create_namespace("crm")

    def arrow(cols: dict[str, list[str]]) -> Any:
        table = pa.table(cols)
        return table.set_column(3, "seen", table.column("seen").cast(pa.date32()))

    table = catalog.create_table("crm.customers", schema=arrow(FIRST).schema)
    table.append(arrow(FIRST))
    table.append(arrow(SECOND))
    (warehouse / "catalog.db").unlink()  # the table is read from its files alone
    return warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    return write_iceberg(tmp_path / "ice")


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_attach_lists_scans_and_answers_access(
    cli: Callable[..., Result], warehouse: Path, tmp_path: Path
) -> None:
    result = cli("attach", "ice", str(warehouse), "-f", "json")  # detected as Iceberg
    assert result.exit_code == 0, result.output
    assert json_out(result)["tables"] == ["ice.crm.customers"]
    [att] = json_out(cli("attachments", "-f", "json"))["attachments"]
    assert att["kind"] == "iceberg" and att["read_only"] is True
    listed = {t["table"]: t["rows"] for t in json_out(cli("tables", "-f", "json"))["tables"]}
    assert listed == {"ice.crm.customers": 3}  # the newest snapshot: both appends
    scan = json_out(cli("scan", "ice.crm.customers", "-f", "json"))
    entities = {c["column"]: c["entity"] for c in scan["tables"][0]["columns"]}
    assert entities["email"] == "EMAIL_ADDRESS"
    sar = cli("sar", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
              "--out", str(tmp_path / "sar"), "--request-id", "S1")  # fmt: skip
    assert sar.exit_code == 0, sar.output
    report = json.loads((tmp_path / "sar" / "sar-S1.json").read_text())
    [table] = report["tables"]
    assert table["table"] == "ice.crm.customers"
    assert [r["customer_id"] for r in table["rows"]] == ["C50321"]  # Anna's row, no other


def test_erasure_and_retention_refused_before_anything_changes(
    cli: Callable[..., Result], warehouse: Path, tmp_path: Path
) -> None:
    assert cli("attach", "ice", f"iceberg:{warehouse}").exit_code == 0
    before = digests(warehouse)
    args = ["erase", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
            "-o", str(tmp_path / "certs"), "--request-id", "E1"]  # fmt: skip
    plan = json_out(cli(*args, "-f", "json"))["plan"]
    [refused] = plan["not_erasable"]
    assert refused["table"] == "ice.crm.customers" and "orphan files" in refused["reason"]
    assert refused["owed_at_source"] == "delete 1 row(s)"
    result = cli(*args, "--apply")
    assert result.exit_code == 4, result.output
    assert "ice.crm.customers is an Iceberg table" in result.stderr
    assert "orphan files" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "certs").exists() or not any((tmp_path / "certs").iterdir())
    retention = cli("retention", "apply", "-p", str(tmp_path / "policy.yaml"),
                    "--as-of", "2026-12-01", "--apply")  # fmt: skip
    assert retention.exit_code == 4 and "Iceberg table" in retention.stderr
    assert cli("keys", "init").exit_code == 0
    pseudo = cli("pseudonymize", "ice.crm.customers", "--columns", "email=hmac", "--apply")
    assert pseudo.exit_code == 4 and "Iceberg table" in pseudo.stderr
    assert digests(warehouse) == before  # not a byte changed, nothing added
    audited = json.dumps(json_out(cli("audit", "show", "-f", "json")))
    assert '"applied"' not in audited and '"started"' not in audited
    assert '"attached"' in audited  # the log is read: the attach is in it


def test_a_metadata_file_and_the_newest_version(
    cli: Callable[..., Result], warehouse: Path, tmp_path: Path
) -> None:
    meta = warehouse / "crm" / "customers" / "metadata"
    files = sorted(meta.glob("*.metadata.json"))
    assert len(files) == 3
    assert lake_mod.newest_metadata(meta.parent) == files[-1]
    result = cli("attach", "old", str(files[1]), "-f", "json")  # pinned to the first append
    assert result.exit_code == 0, result.output
    assert json_out(result)["tables"] == ["old.main.customers"]
    shown = cli("show", "old.main.customers")
    assert "Pau Vidal" in shown.stdout and "Marta Soler" not in shown.stdout
    hadoop = tmp_path / "hadoop" / "metadata"
    hadoop.mkdir(parents=True)
    for n in (1, 2, 10):
        (hadoop / f"v{n}.metadata.json").write_text("{}")
    assert lake_mod.newest_metadata(hadoop.parent) == hadoop / "v10.metadata.json"
    (hadoop / "version-hint.text").write_text("2\n")
    assert lake_mod.newest_metadata(hadoop.parent) == hadoop / "v2.metadata.json"


def test_without_pyiceberg_a_clear_error(
    cli: Callable[..., Result], warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "pyiceberg" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = cli("attach", "ice", f"iceberg:{warehouse}")
    assert result.exit_code == 4
    assert "pip install 'tutela[iceberg]'" in result.stderr
    assert result.stderr.startswith("error[live-source]") and "Traceback" not in result.output
    assert json_out(cli("attachments", "-f", "json"))["attachments"] == []


def test_a_pseudonymized_copy_goes_to_a_delta_table(
    cli: Callable[..., Result], warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    write_deltalake(str(out / "seed"), duckdb.connect().sql("SELECT 1 AS x"))
    assert cli("attach", "ice", f"iceberg:{warehouse}").exit_code == 0
    assert cli("attach", "out", f"delta:{out}").exit_code == 0
    assert cli("keys", "init").exit_code == 0
    result = cli("pseudonymize", "ice.crm.customers", "--columns", "email=hmac",
                 "--out", "out.main.customers")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_table(out / "customers")
    assert [r[0] for r in rows] == ["C50321", "C50322", "C50323"]
    assert all(str(r[2]).startswith("tok_") for r in rows)
    refused = cli("pseudonymize", "out.main.seed", "--columns", "x=hmac", "--out", "ice.main.x")
    assert refused.exit_code == 4 and "does not write" in refused.stderr
