"""Fixtures for detection tests: an in-memory DuckDB and a helper to build tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import pytest

from tutela.detect import TableScan, scan_table
from tutela.workspace import quote_ident

MakeTable = Callable[..., None]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def build_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: dict[str, Sequence[Any]],
    types: dict[str, str] | None = None,
) -> None:
    """CREATE TABLE name from equal-length columns (VARCHAR unless typed)."""
    types = types or {}
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    ddl = ", ".join(f"{quote_ident(c)} {types.get(c, 'VARCHAR')}" for c in names)
    con.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} ({ddl})")
    if n:
        placeholders = ", ".join("?" for _ in names)
        con.executemany(
            f"INSERT INTO {quote_ident(name)} VALUES ({placeholders})",
            [[columns[c][i] for c in names] for i in range(n)],
        )


@pytest.fixture
def make_table(con: duckdb.DuckDBPyConnection) -> MakeTable:
    def make(
        name: str, columns: dict[str, Sequence[Any]], types: dict[str, str] | None = None
    ) -> None:
        build_table(con, name, columns, types)

    return make


def by_column(scan: TableScan) -> dict[str, Any]:
    return {c.column: c for c in scan.columns}


def scan_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    return by_column(scan_table(con, name))
