"""Reading every stored table back: DuckDB checks each block's checksum as it reads it, so
a damaged workspace file is found before `audit verify` vouches for the workspace."""

from __future__ import annotations

from dataclasses import dataclass

from tutela.base.errors import WorkspaceDamagedError, classify
from tutela.base.sql import quote_ident
from tutela.engine import SqlError
from tutela.workspace import DB_FILE, Workspace


@dataclass(frozen=True)
class ReadBack:
    tables: int
    rows: int

    def to_dict(self) -> dict[str, int]:
        return {"tables": self.tables, "rows": self.rows}


def read_back(ws: Workspace) -> ReadBack:
    """Read every column of every table of the workspace file (user tables and Tutela's
    own); a block that fails its checksum raises WorkspaceDamagedError naming the file and
    the table. Live attachments are not read (they are not in this file)."""
    tables = ws.con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' "
        "ORDER BY 1, 2"
    ).fetchall()
    rows = 0
    for schema, table in tables:
        name = f"{quote_ident(str(schema))}.{quote_ident(str(table))}"
        try:
            row = ws.con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {name} AS t").fetchone()
        except SqlError as exc:
            error = classify(exc, database=str(ws.root / DB_FILE))
            if isinstance(error, WorkspaceDamagedError):
                raise WorkspaceDamagedError(
                    f"{ws.root / DB_FILE}: table {schema}.{table} cannot be read back: the "
                    "workspace file is damaged (blocks fail DuckDB's checksums)",
                    hint="restore the workspace directory from a backup",
                ) from exc
            raise
        rows += int(row[0]) if row else 0
    return ReadBack(len(tables), rows)
