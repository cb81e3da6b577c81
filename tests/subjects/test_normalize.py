"""Identifier normalisation in SQL: the one rule used for matching people and for consent."""

from __future__ import annotations

import duckdb
import pytest

from tutela.base.normalize import country_sql, key_sql
from tutela.subjects.find import LinkSpec


@pytest.mark.parametrize(
    ("method", "raw", "expected"),
    [
        ("email", " A@B.example ", "a@b.example"),
        ("compact", "12.345.678-z", "12345678Z"),
        ("name", "  Núria   PUIG ", "nuria puig"),
        ("trim", "  C1 ", "C1"),
        ("e164", "+34 600 000 001", "600000001"),
        ("e164", "0034 600-000-001", "600000001"),
        ("e164", "07700 900123", "7700900123"),
        ("email", "   ", None),
    ],
)
def test_keys(method: str, raw: str, expected: str | None) -> None:
    got = (
        duckdb.connect()
        .execute(f"SELECT {key_sql('x', method)} FROM (SELECT ?::VARCHAR AS x)", [raw])
        .fetchone()
    )
    assert got == (expected,)


def test_country_codes_and_prefixes() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR, r VARCHAR)")
    con.execute(
        "INSERT INTO t VALUES ('+48 601 234 567', 'ES'), ('601 234 567', 'PL'), "
        "('2101234567', NULL)"
    )
    rows = con.execute(f"SELECT {country_sql('v', 'GR', 'r')} FROM t").fetchall()
    assert [r[0] for r in rows] == ["48", "48", "30"]
    con.execute("INSERT INTO t VALUES ('CUST-C001', NULL)")
    ref = LinkSpec("t", "v", "customer_id", "trim", strip_prefix="CUST-")
    got = con.execute(f"SELECT {key_sql(ref.value_sql(), 'trim')} FROM t WHERE v LIKE 'CUST%'")
    assert got.fetchall() == [("C001",)]
