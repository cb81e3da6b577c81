"""Plain Parquet folders: read and scan in place; erasure rewrites the affected files into
staged copies and renames them over the originals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
from typer.testing import Result

from tests.conftest import json_out
from tests.lake.conftest import ANNA, CUSTOMERS, ORDERS, POLICY, files_holding


def _folder(root: Path) -> Path:
    con = duckdb.connect()
    (root / "customers").mkdir(parents=True)
    (root / "sales").mkdir()
    con.execute(f"COPY ({CUSTOMERS}) TO '{root}/customers/part-0.parquet' (FORMAT parquet)")
    con.execute(f"COPY ({ORDERS}) TO '{root}/sales/orders' (FORMAT parquet, PARTITION_BY (item))")
    con.close()
    return root


def test_parquet_folder_scan_and_erase(cli: Callable[..., Result], tmp_path: Path) -> None:
    root = _folder(tmp_path / "files")
    (tmp_path / "policy.yaml").write_text(POLICY)
    result = cli("attach", "lake", f"parquet:{root}", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json_out(result)["tables"] == ["lake.main.customers", "lake.sales.orders"]
    scan = json_out(cli("scan", "lake.main.customers", "-f", "json"))
    assert {c["column"]: c["entity"] for c in scan["tables"][0]["columns"]}["email"] == (
        "EMAIL_ADDRESS"
    )
    untouched = root / "sales" / "orders" / "item=pen"
    before = {p: p.read_bytes() for p in untouched.rglob("*.parquet")}
    result = cli("erase", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--request-id", "P1", "--apply")  # fmt: skip
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    customers = con.execute(
        f"SELECT customer_id, note FROM '{root}/customers/*.parquet' ORDER BY 1"
    ).fetchall()
    assert customers == [("C50322", "cousin of [REDACTED]"), ("C50323", None)]
    orders = con.execute(
        "SELECT order_id, customer_id, address FROM "
        f"read_parquet('{root}/sales/orders/**/*.parquet', hive_partitioning = true) ORDER BY 1"
    ).fetchall()
    assert orders == [(10, None, None), (11, "C50322", "Plaça Nova 3, Vic"), (12, None, None),
                      (13, "C50323", "Rambla 8, Reus")]  # fmt: skip
    assert {p: p.read_bytes() for p in untouched.rglob("*.parquet")} == before  # not rewritten
    assert files_holding(root, ANNA) == {}
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]  # no staged leftovers
    cert = json.loads((tmp_path / "certs" / "erasure-P1.json").read_text())
    kinds = {e["table"]: (e["kind"], e["done"]) for e in cert["live_sources"]}
    assert kinds == {
        "lake.main.customers": ("parquet", True),
        "lake.sales.orders": ("parquet", True),
    }


def test_a_file_name_with_a_glob_character_is_that_file_only(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """DuckDB's readers read `part?1.parquet` as a pattern, which also matches
    `partx1.parquet`: Anna's rows would be read twice and Pau's file rewritten by her
    erasure. Each file is read as itself."""
    root = tmp_path / "files"
    (root / "customers").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE c AS {CUSTOMERS}")
    for name, where in [("part?1", "customer_id = 'C50321'"), ("partx1", "customer_id <> 'C50321'"),
                        ("part[x]1", "false")]:  # fmt: skip
        path = root / "customers" / f"{name}.parquet"
        con.execute(f"COPY (SELECT * FROM c WHERE {where}) TO '{path}' (FORMAT parquet)")
    con.close()
    (tmp_path / "policy.yaml").write_text(POLICY.replace("lake.sales.orders", "lake.x.y"))
    assert cli("attach", "lake", f"parquet:{root}").exit_code == 0
    tables = {t["table"]: t["rows"] for t in json_out(cli("tables", "-f", "json"))["tables"]}
    assert tables["lake.main.customers"] == 3
    result = cli("erase", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--request-id", "G1", "--apply")  # fmt: skip
    assert result.exit_code == 0, result.output
    left = duckdb.connect().execute(
        "SELECT parse_filename(filename), customer_id, note FROM "
        f"read_parquet('{root}/customers/*.parquet', filename = true) ORDER BY 2"
    )
    assert left.fetchall() == [
        ("partx1.parquet", "C50322", "cousin of [REDACTED]"),
        ("partx1.parquet", "C50323", None),
    ]


def test_a_csv_file_name_with_a_glob_character_loads_that_file_only(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "a?b.csv").write_text("email\nana@example.com\n")
    (tmp_path / "axb.csv").write_text("email\nsomeone.else@example.com\nthird@example.com\n")
    (tmp_path / "c[1].parquet").write_bytes(b"")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'x@example.com' AS email) TO '{tmp_path / 'c[1].parquet'}'")
    con.execute(f"COPY (SELECT 'y@example.com' AS email) TO '{tmp_path / 'c1.parquet'}'")
    con.close()
    assert cli("load", str(tmp_path / "a?b.csv"), str(tmp_path / "c[1].parquet")).exit_code == 0
    tables = {t["table"]: t["rows"] for t in json_out(cli("tables", "-f", "json"))["tables"]}
    assert tables == {"a_b": 1, "c_1": 1}


def test_tables_lists_a_table_it_cannot_read_and_says_why(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """One odd table in a lake (partition folders beside a file outside them; a column
    named rowid) does not hide the others from `tables`; scanning it is a clear error."""
    root = tmp_path / "files"
    for folder in ("customers", "mixed/country=ES", "own_rowid"):
        (root / folder).mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"COPY ({CUSTOMERS}) TO '{root}/customers/part-0.parquet' (FORMAT parquet)")
    for name in ("mixed/country=ES/a.parquet", "mixed/b.parquet"):
        con.execute(f"COPY (SELECT 'anna@example.com' AS email) TO '{root / name}'")
    con.execute(f"COPY (SELECT 7 AS rowid, 'x' AS v) TO '{root}/own_rowid/p.parquet'")
    con.close()
    assert cli("attach", "lake", f"parquet:{root}").exit_code == 0
    listed = cli("tables", "-f", "json")
    assert listed.exit_code == 0, listed.output
    tables = {t["table"]: t for t in json_out(listed)["tables"]}
    assert tables["lake.main.customers"]["rows"] == 3
    assert tables["lake.main.own_rowid"]["rows"] == 1  # listed; refused when read
    assert tables["lake.main.mixed"]["rows"] is None
    assert "b.parquet is not" in tables["lake.main.mixed"]["problem"]
    for table, says in [("mixed", "b.parquet is not"), ("own_rowid", "column named rowid")]:
        refused = cli("scan", f"lake.main.{table}")
        assert refused.exit_code == 4 and says in refused.output, refused.output
    assert cli("scan", "lake.main.customers").exit_code == 0
