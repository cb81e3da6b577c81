"""The engine seam: the one place that knows which SQL engine runs Tutela's plans.

Feature modules type their connections as `Connection` and catch `EngineError`; they never
import the engine's package themselves. DuckDB is the embedded default (`tutela.engine.duck`).
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class Distributed(Protocol):
    """A query runner that also runs Python where the data is: `work` over `texts` on the
    engine's workers, results in the order of `texts` (`engine.spark.SparkQueries`)."""

    def map_texts(
        self, work: Callable[[list[str]], list[str]], texts: Sequence[str]
    ) -> list[str]: ...


__all__ = [
    "VERSION",
    "Connection",
    "Cursor",
    "Distributed",
    "Queries",
    "Relation",
    "SqlError",
    "SqlIOError",
    "connect",
]
