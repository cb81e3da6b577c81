"""The DuckDB workspace: where it lives, opening it safely, transactions, quoting, the catalog."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tutela import live
from tutela.errors import (
    ConfigError,
    EngineError,
    TableNotFoundError,
    WorkspaceError,
    WorkspaceLockedError,
)
from tutela.sql import json_list as json_list  # re-exported: SQL helpers of the workspace
from tutela.sql import quote_ident as quote_ident

# DuckDB 1.5 tries `import pandas` for every Python value it binds as a parameter (to spot
# pandas' missing-value markers). Without pandas installed, each failed import searches
# sys.path again: ~0.1 ms per value, 5 s for 5,000 executemany rows. Recording the absence
# once makes that instant; `import pandas` still raises ImportError exactly as before.
if importlib.util.find_spec("pandas") is None:
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]

DB_FILE = "tutela.duckdb"
INTERNAL_SCHEMA = "_tutela"
USER_SCHEMA = "main"
DEFAULT_WORKSPACE = ".tutela"
ENV_WORKSPACE = "TUTELA_WORKSPACE"
ENV_MEMORY_LIMIT = "TUTELA_MEMORY_LIMIT"  # e.g. "2GB"; DuckDB spills to the workspace beyond it

# Never let DuckDB fetch anything: the tool runs offline. json, parquet and icu are
# statically linked into the Python wheel; anything else must be installed by the package.
_DUCKDB_CONFIG = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
}

_SCHEMA_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.sources (
        table_name VARCHAR PRIMARY KEY,
        source_system VARCHAR,
        path VARCHAR NOT NULL,
        sheet VARCHAR,
        format VARCHAR NOT NULL,
        encoding VARCHAR,
        delimiter VARCHAR,
        sha256 VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL,
        row_count BIGINT NOT NULL,
        columns JSON NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        tool_version VARCHAR NOT NULL
    )""",
]


def table_ident(table: str, schema: str = USER_SCHEMA) -> str:
    """A loaded table, for reading or writing. Live tables are refused: only `tutela erase`
    writes to a live database (through `live.py`), and readers use `relation()`."""
    if schema == USER_SCHEMA and live.resolve(table) is not None:
        raise live.LiveSourceError(
            f"{table} is a live table: this command works on loaded tables only",
            hint="scan, find, sar and erase work on live tables; "
            "to use other commands, load an export of it",
        )
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def relation(table: str) -> str:
    """Where to read a table from: a loaded table, or a live one in place (with `rowid`)."""
    found = live.resolve(table)
    return live.relation(found) if found is not None else table_ident(table)


def star(table: str) -> str:
    """`*` for a table's own columns (PostgreSQL relations add a `rowid` column)."""
    return "* EXCLUDE (rowid)" if live.has_synthetic_rowid(live.resolve(table)) else "*"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a loaded or live table's columns, in order."""
    found = live.resolve(table)
    if found is not None:
        return live.columns(con, found)
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND table_catalog = current_database() "
        "ORDER BY ordinal_position",
        [USER_SCHEMA, table],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def internal_table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether Tutela's own table `_tutela.<name>` exists yet (tables are made on first use).

    This reads the catalog of every attached database too, which opens a read transaction
    on an attached SQLite file: do not call it inside a transaction that an SQLite write
    must commit beside (see subjects/erase.py)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name = ? AND table_catalog = current_database()",
        [INTERNAL_SCHEMA, name],
    ).fetchone()
    return bool(row and row[0])


def resolve_workspace(path: str | os.PathLike[str] | None) -> Path:
    """The workspace directory: explicit path, then $TUTELA_WORKSPACE, then ./.tutela."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_WORKSPACE)
    return Path(env) if env else Path(DEFAULT_WORKSPACE)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str


class Workspace:
    """An open workspace. Use as a context manager; one writer at a time (DuckDB file lock)."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.root = root
        self.con = con
        self.read_only = read_only
        self._live_attached = False

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        read_only: bool = False,
        wait_seconds: float = 5.0,
    ) -> Workspace:
        root = resolve_workspace(path)
        db = root / DB_FILE
        if not db.exists():
            if not create or read_only:
                raise WorkspaceError(
                    f"no workspace at {root} (nothing loaded yet)",
                    hint="run `tutela load FILE...` first, or pass --workspace",
                )
            try:
                if not root.exists():  # only a directory we create is made private
                    root.mkdir(parents=True, mode=0o700)
            except OSError as exc:
                raise WorkspaceError(f"cannot create workspace {root}: {exc.strerror}") from exc
        elif not root.is_dir():
            raise WorkspaceError(f"workspace path {root} is not a directory")
        con = cls._connect(db, read_only=read_only, wait_seconds=wait_seconds)
        ws = cls(root, con, read_only)
        if not read_only:
            spill = root / "spill"
            spill.mkdir(exist_ok=True)
            con.execute("SET temp_directory = ?", [str(spill)])
        limit = os.environ.get(ENV_MEMORY_LIMIT)
        if limit:
            try:
                con.execute("SET memory_limit = ?", [limit])
            except duckdb.Error as exc:
                raise ConfigError(f"{ENV_MEMORY_LIMIT}={limit!r} is not a memory size") from exc
        if not read_only:
            for ddl in _SCHEMA_DDL:
                con.execute(ddl)
        return ws

    @staticmethod
    def _connect(db: Path, *, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return duckdb.connect(str(db), read_only=read_only, config=dict(_DUCKDB_CONFIG))
            except duckdb.IOException as exc:
                text = str(exc)
                if "version number" in text and "newer version" in text:
                    raise WorkspaceError(
                        f"workspace {db.parent} was written by a newer DuckDB release than "
                        f"this installation's ({duckdb.__version__})",
                        hint="use the Tutela installation that created it, "
                        "or give this one its own workspace",
                    ) from exc
                if "Could not set lock" not in text and "Conflicting lock" not in text:
                    raise WorkspaceError(
                        f"cannot open workspace database {db}: {text.splitlines()[0]}"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise WorkspaceLockedError(
                        f"workspace {db.parent} is in use by another tutela process",
                        hint="wait for the other command to finish, then retry",
                    ) from exc
                time.sleep(0.2)
            except duckdb.Error as exc:
                raise WorkspaceError(f"cannot open workspace database {db}: {exc}") from exc

    def close(self) -> None:
        live.forget_all()  # the attachments lived in this connection
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: any exception rolls every statement back."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            try:
                self.con.execute("COMMIT")
            except duckdb.Error as exc:  # e.g. an attached database refused at commit time
                with contextlib.suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                reason = str(exc)
                reason = reason[reason.find("ERROR:") :] if "ERROR:" in reason else reason
                raise EngineError(
                    f"the commit failed and the workspace was rolled back: {reason.splitlines()[0]}"
                ) from exc

    # -- queries -----------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise EngineError(str(exc).splitlines()[0]) from exc

    # -- catalog -----------------------------------------------------------------
    def attach_live(self) -> list[live.Attachment]:
        """Attach the stored live databases (once per command, on first need)."""
        if not self._live_attached:
            live.attach_stored(self.con)
            self._live_attached = True
        return list(live.stored(self.con))

    def user_tables(self, *, include_live: bool = True) -> list[str]:
        """Loaded tables, then the tables of attached live databases (`crm.public.t`)."""
        rows = self.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = ? AND table_catalog = current_database() ORDER BY table_name",
            [USER_SCHEMA],
        )
        names = [r[0] for r in rows]
        if include_live:
            self.attach_live()
            names += live.tables(self.con)
        return names

    def has_table(self, table: str) -> bool:
        """DuckDB names are case-insensitive: `Crm` and `crm` are one table. Live sources
        are attached only for names that can be live (`attachment.schema.table`)."""
        names = self.user_tables(include_live=table.count(".") == 2)
        return table.casefold() in {t.casefold() for t in names}

    def require_table(self, table: str) -> None:
        if not self.has_table(table):
            known = ", ".join(self.user_tables()) or "none loaded"
            raise TableNotFoundError(f"no table named {table!r} (tables: {known})")

    def columns(self, table: str) -> list[ColumnInfo]:
        try:
            return [ColumnInfo(n, t) for n, t in table_columns(self.con, table)]
        except duckdb.Error as exc:
            raise EngineError(str(exc).splitlines()[0]) from exc

    def row_count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {relation(table)}")[0][0])
