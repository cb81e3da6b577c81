"""DuckDB, the embedded engine: the only module of Tutela that imports `duckdb`."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

Connection = duckdb.DuckDBPyConnection
Relation = duckdb.DuckDBPyRelation
SqlError = duckdb.Error
SqlIOError = duckdb.IOException
VERSION: str = duckdb.__version__


def connect(
    database: str, *, read_only: bool = False, config: Mapping[str, str] | None = None
) -> Connection:
    """Open a DuckDB database file (or `:memory:`)."""
    return duckdb.connect(database, read_only=read_only, config=dict(config or {}))
