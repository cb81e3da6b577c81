"""A small Delta lake for the lake tests: customers (one table at the root of the folder)
and sales.orders (partitioned, one folder down), written with delta-rs from DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from deltalake import write_deltalake

POLICY = """\
version: 1
organisation: {name: Test Org, country: ES, contact: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: lake.main.customers, column: email, kind: email}
      - {table: lake.main.customers, column: customer_id, kind: customer_id}
      - {table: lake.main.customers, column: name, kind: name}
      - {table: lake.sales.orders, column: customer_id, kind: customer_id}
tables:
  lake.main.customers:
    columns:
      customer_id: {category: user.unique_id}
      name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      note: {entity: PERSON, free_text: true}
  lake.sales.orders:
    columns:
      customer_id: {category: user.unique_id}
      address: {category: user.contact.address}
      item: not_personal
erasure:
  default: delete
  tables:
    lake.sales.orders:
      action: anonymize
      columns: [customer_id, address]
      legal_basis: legal_obligation
      reason: Invoices are kept for tax law.
"""

CUSTOMERS = """SELECT * FROM (VALUES
    ('C50321', 'Anna Puig', 'anna.puig@example.com', '+34 612 345 678', 'VIP client'),
    ('C50322', 'Pau Vidal', 'pau.vidal@example.com', '+34 622 111 222',
     'cousin of anna.puig@example.com'),
    ('C50323', 'Marta Soler', 'marta.soler@example.com', NULL, NULL)
) t(customer_id, name, email, phone, note)"""

ORDERS = """SELECT * FROM (VALUES
    (10, 'C50321', 'Carrer Major 12, Girona', 'book', 12.5),
    (11, 'C50322', 'Plaça Nova 3, Vic', 'pen', 1.5),
    (12, 'C50321', 'Carrer Major 12, Girona', 'lamp', 30.0),
    (13, 'C50323', 'Rambla 8, Reus', 'book', 9.0)
) t(order_id, customer_id, address, item, amount)"""

# what identifies Anna in the lake's files, and must be in none of them after the erasure
ANNA = ["anna.puig@example.com", "Anna Puig", "612 345 678", "Carrer Major 12", "C50321"]


def write_lake(root: Path) -> Path:
    con = duckdb.connect()
    write_deltalake(str(root / "customers"), con.sql(CUSTOMERS))
    write_deltalake(str(root / "sales" / "orders"), con.sql(ORDERS), partition_by=["item"])
    con.close()
    return root


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    return write_lake(tmp_path / "lake")


def files_holding(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """`grep -a` over every file under root: which needles each file holds."""
    out: dict[str, list[str]] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            hit = [n for n in needles if n.encode() in data]
            if hit:
                out[str(p.relative_to(root))] = hit
    return out


def read_table(path: Path, version: int | None = None) -> list[tuple[object, ...]]:
    from deltalake import DeltaTable

    con = duckdb.connect()
    con.register("t", DeltaTable(str(path), version=version).scan())
    rows = con.execute("SELECT * FROM t ORDER BY ALL").fetchall()
    con.close()
    return rows


def parquet_holding(root: Path, needles: list[str]) -> list[str]:
    """Every Parquet file under root (data and log checkpoints) decoded: which hold any
    needle in any column (compression hides strings from a byte search)."""
    con = duckdb.connect()
    hits = []
    for p in sorted(root.rglob("*.parquet")):
        row = con.execute(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = false) AS r, "
            "(SELECT UNNEST(?::VARCHAR[]) AS v) AS n WHERE contains(CAST(r AS VARCHAR), n.v)",
            [str(p), needles],
        ).fetchone()
        if row and row[0]:
            hits.append(str(p.relative_to(root)))
    con.close()
    return hits
