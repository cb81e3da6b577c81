"""The engine seam: the one place that knows which SQL engine runs Tutela's plans.

Feature modules type their connections as `Connection` and catch `EngineError`; they never
import the engine's package themselves. DuckDB is the embedded default (`tutela.engine.duck`).
"""

from typing import Any, Protocol

from tutela.engine.duck import (
    VERSION,
    Connection,
    Relation,
    SqlError,
    SqlIOError,
    connect,
)


class Cursor(Protocol):
    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class Queries(Protocol):
    """What runs a table's read plans: DuckDB-dialect SELECTs, results fetched as tuples.
    A DuckDB `Connection` is one; `engine.spark.SparkQueries` translates them for Spark."""

    def execute(self, sql: str, parameters: Any = None, /) -> Cursor: ...


__all__ = [
    "VERSION",
    "Connection",
    "Cursor",
    "Queries",
    "Relation",
    "SqlError",
    "SqlIOError",
    "connect",
]
