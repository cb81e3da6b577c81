"""The registry of protected columns: which columns of which tables hold tokens, by which
method and key version (written by pseudonymize and shred, read by re-identify and by the
subject search, which must not compare identifiers with tokens)."""

from __future__ import annotations

from typing import Any

from tutela.engine import Connection
from tutela.workspace import INTERNAL, internal_table_exists

REGISTRY = f"{INTERNAL}.protected_columns"
_REGISTRY_DDL = f"""CREATE TABLE IF NOT EXISTS {REGISTRY} (
    table_name VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    arg VARCHAR,
    normalize VARCHAR,
    purpose VARCHAR NOT NULL,
    key_version INTEGER NOT NULL,
    key_id VARCHAR NOT NULL,
    applied_at VARCHAR NOT NULL,
    key_rules VARCHAR,
    PRIMARY KEY (table_name, column_name)
)"""
# key_rules: the identifier rules (`base.normalize.KEY_RULES`) the tokens were made under
# (NULL: before they were recorded)


def ensure_registry(con: Connection) -> None:
    con.execute(_REGISTRY_DDL)
    con.execute(f"ALTER TABLE {REGISTRY} ADD COLUMN IF NOT EXISTS key_rules VARCHAR")


def registry_entries(con: Connection, table: str | None = None) -> list[dict[str, Any]]:
    if not internal_table_exists(con, "protected_columns"):
        return []
    cur = con.execute(
        f"SELECT * FROM {REGISTRY} WHERE ? IS NULL OR table_name = ? "
        "ORDER BY table_name, column_name",
        [table, table],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
