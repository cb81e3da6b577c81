"""The engine seam: the one place that knows which SQL engine runs Tutela's plans.

Feature modules type their connections as `Connection` and catch `EngineError`; they never
import the engine's package themselves. DuckDB is the embedded default (`tutela.engine.duck`).
"""

from tutela.engine.duck import (
    VERSION,
    Connection,
    Relation,
    SqlError,
    SqlIOError,
    connect,
)

__all__ = ["VERSION", "Connection", "Relation", "SqlError", "SqlIOError", "connect"]
