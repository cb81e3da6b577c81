"""The DuckDB workspace: where it lives, opening it safely, transactions, quoting, the catalog."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tutela import purge
from tutela.base.errors import (
    ConfigError,
    EngineError,
    PurgeError,
    TableNotFoundError,
    TutelaError,
    WorkspaceError,
    WorkspaceLockedError,
)
from tutela.base.progress import ProgressCallback, no_progress
from tutela.base.sql import json_list as json_list  # re-exported: SQL helpers of the workspace
from tutela.base.sql import quote_ident as quote_ident
from tutela.engine import VERSION, Connection, SqlError, SqlIOError, connect
from tutela.lock import LockBusy, WorkspaceLock
from tutela.sources import (
    Attachment,
    Attachments,
    LiveSourceError,
    LiveTable,
    Placement,
    Writes,
)

# DuckDB 1.5 tries `import pandas` for every Python value it binds as a parameter (to spot
# pandas' missing-value markers). Without pandas installed, each failed import searches
# sys.path again: ~0.1 ms per value, 5 s for 5,000 executemany rows. Recording the absence
# once makes that instant; `import pandas` still raises ImportError exactly as before.
if importlib.util.find_spec("pandas") is None:
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]

DB_FILE = "tutela.duckdb"
INTERNAL_SCHEMA = "_tutela"
INTERNAL = quote_ident(INTERNAL_SCHEMA)
"""The internal schema's name, quoted for SQL (`"_tutela"`)."""
USER_SCHEMA = "main"
DEFAULT_WORKSPACE = ".tutela"
ENV_WORKSPACE = "TUTELA_WORKSPACE"
ENV_MEMORY_LIMIT = "TUTELA_MEMORY_LIMIT"  # e.g. "2GB"; DuckDB spills to the workspace beyond it
ENV_LOCK_WAIT = "TUTELA_LOCK_WAIT"  # seconds to wait for another command's lock (default 5)
PURGE_TABLE = f"{INTERNAL}.purge_pending"

# Never let DuckDB fetch anything: the tool runs offline. json, parquet and icu are
# statically linked into the Python wheel; anything else must be installed by the package.
_DUCKDB_CONFIG = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
}

_SCHEMA_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {INTERNAL}",
    f"""CREATE TABLE IF NOT EXISTS {INTERNAL}.sources (
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
    # A row here means: a change that must be physically purged was committed, and the
    # file has not been rewritten since (see purge.py). Cleared by the rewrite itself.
    f"""CREATE TABLE IF NOT EXISTS {PURGE_TABLE} (
        command VARCHAR NOT NULL,
        marked_at TIMESTAMP NOT NULL
    )""",
]


def local_ident(table: str, schema: str = USER_SCHEMA) -> str:
    """A table of the workspace database itself (`main."t"`), quoted. Attached tables are
    not looked up: use `Workspace.table_ident`/`Workspace.relation` where they may occur."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def local_columns(con: Connection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a loaded table's columns, in order (empty when there is none)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND table_catalog = current_database() "
        "ORDER BY ordinal_position",
        [USER_SCHEMA, table],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _base_table(con: Connection, table: str) -> bool:
    """Whether a loaded table is a table (its rows have DuckDB's `rowid`), not a view."""
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name = ? AND table_catalog = current_database()",
        [USER_SCHEMA, table],
    ).fetchall()
    return bool(rows) and rows[0][0] == "BASE TABLE"


class TableReader(Protocol):
    """Where to read a table from and which columns it has: `Workspace` (attached tables
    included) or `LocalTables` (a bare connection, loaded tables only)."""

    def relation(self, table: str) -> str: ...

    def table_columns(self, table: str) -> list[tuple[str, str]]: ...

    def unique_addresses(self, table: str) -> bool:
        """Whether the relation's `rowid` tells every row apart (the scan samples by it)."""
        ...


class LocalTables:
    """Where to read tables on a bare connection (no attachments): the loaded tables only.
    `Workspace` answers the same two questions with its attached tables included."""

    def __init__(self, con: Connection) -> None:
        self.con = con

    def relation(self, table: str) -> str:
        return local_ident(table)

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        return local_columns(self.con, table)

    def unique_addresses(self, table: str) -> bool:
        return _base_table(self.con, table)


class LocalWriter:
    """The erasure actions (`sources.Writer`) on loaded tables. They run on the connection
    of the open workspace transaction: that transaction is this writer's own, begun and
    committed by `Workspace.transaction` after every attached source has committed (so
    `begin`, `commit` and `rollback` have nothing left to do here)."""

    def __init__(self, ws: Workspace, con: Connection) -> None:
        self.ws = ws
        self.con = con

    def check_writable(self, table: str) -> None:
        self.ws.table_ident(table)  # refuses what is not a loaded table

    def begin(self) -> None:
        return None

    def delete_rows(self, table: str, rowids: Sequence[int]) -> None:
        self.con.execute(
            f"DELETE FROM {local_ident(table)} "
            "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(sorted(rowids))],
        )

    def set_null(self, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
        sets = ", ".join(f"{quote_ident(col)} = NULL" for col in columns)
        self.con.execute(
            f"UPDATE {local_ident(table)} SET {sets} "
            "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(sorted(rowids))],
        )

    def set_text(self, table: str, column: str, values: Mapping[int, str]) -> None:
        """One joined UPDATE, however many rows."""
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _redacted AS SELECT "
            "UNNEST(CAST(?::JSON AS BIGINT[])) AS rid, UNNEST(CAST(?::JSON AS VARCHAR[])) AS txt",
            [json_list(values), json_list(values.values())],
        )
        ident = local_ident(table)
        self.con.execute(
            f"UPDATE {ident} SET {quote_ident(column)} = _redacted.txt "
            f"FROM _redacted WHERE {ident}.rowid = _redacted.rid"
        )

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


def internal_table_exists(con: Connection, name: str) -> bool:
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


def _lock_wait() -> float:
    """How long to wait for another command's lock: $TUTELA_LOCK_WAIT seconds, else 5."""
    raw = os.environ.get(ENV_LOCK_WAIT, "").strip()
    try:
        return max(0.0, float(raw)) if raw else 5.0
    except ValueError:
        raise ConfigError(f"{ENV_LOCK_WAIT}={raw!r} is not a number of seconds") from None


def _purge_error(exc: BaseException) -> PurgeError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return PurgeError(
        "the change was committed and audited, but the workspace file could not be "
        f"rewritten ({reason}): its free blocks may still hold the old values",
        hint="the purge is recorded as pending: the next command that writes to the "
        "workspace retries it (free disk space first if it was full)",
    )


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str


@dataclass(frozen=True)
class PurgeReport:
    """A rewrite of the workspace file (see purge.py) and which changes it made physical."""

    commands: list[str]
    rewrite: purge.RewriteResult
    resumed: bool
    """True when it completed the purge of an earlier command that was interrupted."""

    def to_dict(self) -> dict[str, Any]:
        return {"commands": self.commands, "resumed": self.resumed, **self.rewrite.to_dict()}


def _locked_error(root: Path, holder: Any, read_only: bool) -> WorkspaceLockedError:
    who = f": {holder.describe()}" if holder is not None else ""
    return WorkspaceLockedError(
        f"workspace {root} is in use by another tutela process{who}",
        hint="it is writing; retry when it has finished"
        if read_only
        else "wait for the other command to finish, then retry",
    )


class Workspace:
    """An open workspace. Use as a context manager. One writer or many readers at a time:
    `tutela.lock` (see lock.py) names the holder; DuckDB's file lock backs it up."""

    def __init__(
        self,
        root: Path,
        con: Connection,
        read_only: bool,
        lock: WorkspaceLock | None = None,
        command: str = "tutela",
    ) -> None:
        self.root = root
        self.con = con
        self.read_only = read_only
        self.command = command
        self._lock = lock
        self.attachments = Attachments(con)
        """The sources attached in this process (sources.py): attached on first need."""
        self._live_attached = False
        self.resumed_purge: PurgeReport | None = None
        """Set when opening completed the physical purge of an interrupted earlier command."""
        self.pending_purge: list[str] = []
        """Commands whose purge is still owed (the next writer does it)."""
        self.purge_error: str | None = None

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        read_only: bool = False,
        wait_seconds: float | None = None,
        command: str | None = None,
    ) -> Workspace:
        root = resolve_workspace(path)
        wait_seconds = _lock_wait() if wait_seconds is None else wait_seconds
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
        command = command or "tutela"
        try:
            lock = WorkspaceLock.acquire(
                root, exclusive=not read_only, command=command, wait_seconds=wait_seconds
            )
        except LockBusy as busy:
            raise _locked_error(root, busy.holder, read_only) from None
        except OSError as exc:
            raise WorkspaceError(
                f"cannot create the lock file in workspace {root}: {exc.strerror}"
            ) from exc
        try:
            if not read_only:  # nobody else is in: what a killed command left can go
                purge.remove_leftovers(db)
                purge.clear_spill(root)
            con = cls._connect(db, read_only=read_only, wait_seconds=wait_seconds)
        except BaseException:
            lock.release()
            raise
        ws = cls(root, con, read_only, lock, command)
        try:
            ws._configure()
            if not read_only:
                for ddl in _SCHEMA_DDL:
                    con.execute(ddl)
                if ws._pending():
                    try:
                        ws.resumed_purge = ws.purge(resumed=True)
                    except PurgeError as exc:  # still pending; the command itself may go on
                        ws.pending_purge = ws._pending()
                        ws.purge_error = exc.message
            elif ws._pending():
                ws = cls._finish_purge_then_read(ws, wait_seconds)
        except BaseException:
            ws.close()
            raise
        return ws

    @classmethod
    def _finish_purge_then_read(cls, ws: Workspace, wait_seconds: float) -> Workspace:
        """A reader found a purge still owed: complete it if the workspace can be written
        now (reopening for writing does it), then read; otherwise read and report it."""
        pending = ws._pending()
        ws.close()
        resumed: PurgeReport | None = None
        with contextlib.suppress(WorkspaceError, EngineError, OSError):
            writer = cls.open(ws.root, create=False, wait_seconds=0.5, command=ws.command)
            resumed = writer.resumed_purge
            writer.close()
        ws = cls.open(ws.root, read_only=True, wait_seconds=wait_seconds, command=ws.command)
        ws.resumed_purge = ws.resumed_purge or resumed
        if resumed is None:
            ws.pending_purge = ws.pending_purge or pending
        return ws

    def _configure(self) -> None:
        if not self.read_only:
            spill = self.root / purge.SPILL_DIR
            spill.mkdir(exist_ok=True)
            self.con.execute("SET temp_directory = ?", [str(spill)])
        limit = os.environ.get(ENV_MEMORY_LIMIT)
        if limit:
            try:
                self.con.execute("SET memory_limit = ?", [limit])
            except SqlError as exc:
                raise ConfigError(f"{ENV_MEMORY_LIMIT}={limit!r} is not a memory size") from exc

    def _pending(self) -> list[str]:
        if not internal_table_exists(self.con, "purge_pending"):
            return []
        rows = self.con.execute(f"SELECT command FROM {PURGE_TABLE} ORDER BY marked_at")
        return [str(r[0]) for r in rows.fetchall()]

    @staticmethod
    def _connect(db: Path, *, read_only: bool, wait_seconds: float) -> Connection:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return connect(str(db), read_only=read_only, config=dict(_DUCKDB_CONFIG))
            except SqlIOError as exc:
                text = str(exc)
                if "version number" in text and "newer version" in text:
                    raise WorkspaceError(
                        f"workspace {db.parent} was written by a newer DuckDB release than "
                        f"this installation's ({VERSION})",
                        hint="use the Tutela installation that created it, "
                        "or give this one its own workspace",
                    ) from exc
                if "Could not set lock" not in text and "Conflicting lock" not in text:
                    raise WorkspaceError(
                        f"cannot open workspace database {db}: {text.splitlines()[0]}"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise WorkspaceLockedError(
                        f"workspace {db.parent} is in use by another process "
                        "(it holds the database file's lock)",
                        hint="wait for the other command to finish, then retry",
                    ) from exc
                time.sleep(0.2)
            except SqlError as exc:
                raise WorkspaceError(f"cannot open workspace database {db}: {exc}") from exc

    def close(self) -> None:
        self.attachments.close_all()  # the attachments lived in this connection
        try:
            self.con.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------
    @contextmanager
    def transaction(self, *, purge_after: str | None = None) -> Iterator[Connection]:
        """All-or-nothing: any exception rolls every statement back.

        `purge_after="erase"`: the change must leave no bytes behind. A pending-purge marker
        commits with it; call `purge()` once the transaction is over (or the next command
        that opens the workspace for writing does)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
            if purge_after:
                self.con.execute(
                    f"INSERT INTO {PURGE_TABLE} VALUES (?, ?)",
                    [purge_after, datetime.now(UTC).replace(tzinfo=None)],
                )
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            try:
                self.con.execute("COMMIT")
            except SqlError as exc:  # e.g. an attached database refused at commit time
                with contextlib.suppress(SqlError):
                    self.con.execute("ROLLBACK")
                reason = str(exc)
                reason = reason[reason.find("ERROR:") :] if "ERROR:" in reason else reason
                raise EngineError(
                    f"the commit failed and the workspace was rolled back: {reason.splitlines()[0]}"
                ) from exc

    # -- physical erasure ------------------------------------------------------------
    def purge(self, *, resumed: bool = False) -> PurgeReport:
        """Rewrite the database into a fresh file and swap it in (purge.py): afterwards no
        deleted or overwritten value is left in the file, its WAL or DuckDB's temporary
        files. Clears the pending-purge marker atomically with the swap."""
        if self.read_only:
            raise WorkspaceError("cannot rewrite a workspace opened read-only")
        started = time.monotonic()
        commands = self._pending()
        purge.fault_point("committed")
        db = self.root / DB_FILE
        live_was_attached = self._live_attached
        try:
            purge.copy_database(self.con, db, [PURGE_TABLE])
        except (SqlError, OSError, purge.PurgeFailed) as exc:
            purge.remove_leftovers(db)
            raise _purge_error(exc) from exc
        self.attachments.close_all()
        self._live_attached = False
        self.con.close()
        try:
            result = purge.swap(db)
        except (OSError, purge.PurgeFailed) as exc:
            purge.remove_leftovers(db)
            self._reopen()
            raise _purge_error(exc) from exc
        self._reopen()
        if live_was_attached:
            self.attach_live()
        result = dataclasses.replace(result, seconds=time.monotonic() - started)
        return PurgeReport(commands, result, resumed)

    def _reopen(self) -> None:
        self.con = self._connect(self.root / DB_FILE, read_only=False, wait_seconds=_lock_wait())
        self.attachments = Attachments(self.con)
        self._configure()

    # -- queries -----------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except SqlError as exc:
            raise EngineError(str(exc).splitlines()[0]) from exc

    # -- catalog -----------------------------------------------------------------
    def attach_live(self) -> list[Attachment]:
        """Attach the stored live databases (once per command, on first need)."""
        if not self._live_attached:
            self.attachments.attach_stored()
            self._live_attached = True
        return [s.att for s in self.attachments]

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
            names += self.attachments.tables()
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
            return [ColumnInfo(n, t) for n, t in self.table_columns(table)]
        except SqlError as exc:
            raise EngineError(str(exc).splitlines()[0]) from exc

    def row_count(self, table: str) -> int:
        found = self.attachments.resolve(table)
        counted = None if found is None else self.attachments.source(found).row_count(found)
        if counted is not None:  # from the source's own metadata (a lake's file footers)
            return counted
        return int(self.query(f"SELECT count(*) FROM {self.relation(table)}")[0][0])

    # -- table names in SQL ----------------------------------------------------------
    def live_table(self, table: str) -> LiveTable | None:
        """The attached table of that name (`crm.public.customers`), None for a loaded one."""
        return self.attachments.resolve(table)

    def table_ident(self, table: str, schema: str = USER_SCHEMA) -> str:
        """A loaded table, for reading or writing. Attached tables are refused: only
        erasure and retention write to them (through `writes()`); readers use `relation()`."""
        if schema == USER_SCHEMA and self.attachments.resolve(table) is not None:
            raise LiveSourceError(
                f"{table} is a live table: this command works on loaded tables only",
                hint="scan, find, sar and erase work on live tables; "
                "to use other commands, load an export of it",
            )
        return local_ident(table, schema)

    def relation(self, table: str) -> str:
        """Where to read a table from: a loaded table, or an attached one in place (its
        copy for this command, with the row address as `rowid`)."""
        found = self.attachments.resolve(table)
        return self.attachments.relation(found) if found is not None else self.table_ident(table)

    def star(self, table: str) -> str:
        """`*` for a table's own columns (an attached table's copy adds a `rowid` column)."""
        return "* EXCLUDE (rowid)" if self.attachments.resolve(table) is not None else "*"

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        """(name, type) of a loaded or attached table's columns, in order."""
        found = self.attachments.resolve(table)
        if found is not None:
            return self.attachments.columns(found)
        return local_columns(self.con, table)

    def unique_addresses(self, table: str) -> bool:
        """Whether the table's `rowid` tells every row apart (a Delta table's identical
        rows share one)."""
        found = self.attachments.resolve(table)
        if found is None:
            return _base_table(self.con, table)
        return self.attachments.source(found).unique_addresses

    def placement(self, table: str, progress: ProgressCallback = no_progress) -> Placement:
        """Where the read plans of a table run (a scan): its attached source's engine when
        that has one (Spark), else this workspace's DuckDB (attached tables read once into
        a copy, see `snapshots`)."""
        found = self.attachments.resolve(table)
        if found is not None:
            place = self.attachments.source(found).placement(found, progress)
            if place is not None:
                return place
        return Placement("duckdb", self.con, self)

    def source_fingerprint(self, table: str) -> str | None:
        """The fingerprint an attached source keeps of this table itself (its files), or
        None: hash the rows."""
        found = self.attachments.resolve(table)
        return None if found is None else self.attachments.source(found).fingerprint(found)

    # -- the subject search over lakes behind Spark (subjects/narrow.py) ----------------
    @property
    def narrowing(self) -> bool:
        return self.attachments.narrowing

    @narrowing.setter
    def narrowing(self, on: bool) -> None:
        self.attachments.narrowing = on

    def can_narrow(self, table: str) -> bool:
        """Whether Spark can pick this table's rows for a subject search."""
        found = self.attachments.resolve(table)
        return found is not None and self.attachments.can_narrow(found)

    def narrow(
        self, tests: Mapping[str, Mapping[str, Sequence[Sequence[str]]]]
    ) -> dict[str, int | TutelaError]:
        """Read each table as the rows Spark picks by its tests (`SparkLake.narrow_many`):
        table -> rows picked, or the error that kept Spark from picking them."""
        by_source: dict[int, tuple[Any, list[tuple[Any, Any]]]] = {}
        for table, table_tests in tests.items():
            found = self.attachments.resolve(table)
            assert found is not None
            source = self.attachments.source(found)
            by_source.setdefault(id(source), (source, []))[1].append((found, table_tests))
        out: dict[str, int | TutelaError] = {}
        for source, items in by_source.values():
            out |= source.narrow_many(items)
        return out

    def drop_copy(self, table: str) -> None:
        found = self.attachments.resolve(table)
        if found is not None:
            self.attachments.source(found).invalidate(found.name)

    def drop_narrowed(self) -> None:
        self.attachments.drop_narrowed()

    def column_unique(self, table: str, column: str) -> bool:
        """Whether a column has values and no value twice over the whole table (asked of
        Spark when the table is read as picked rows)."""
        found = self.attachments.resolve(table)
        if found is not None and self.attachments.narrowed(found):
            source = self.attachments.source(found)
            return bool(source.column_unique(found, column))  # type: ignore[attr-defined]
        col = quote_ident(column)
        row = self.con.execute(
            f"SELECT count({col}) = count(DISTINCT {col}) AND count({col}) > 0 "
            f"FROM {self.relation(table)}"
        ).fetchone()
        return bool(row and row[0])

    def whole_relation(self, table: str) -> str:
        """`relation`, but a table read as picked rows is read from its files whole."""
        found = self.attachments.resolve(table)
        if found is not None and self.attachments.narrowed(found):
            return str(self.attachments.source(found).files_relation(found))  # type: ignore[attr-defined]
        return self.relation(table)

    def include_rows(self, table: str, rowids: Sequence[int]) -> None:
        """A table read as picked rows gets these rows too (read from its files)."""
        found = self.attachments.resolve(table)
        if not rowids or found is None or not self.attachments.narrowed(found):
            return
        copy = self.relation(table)
        self.con.execute(
            f"INSERT INTO {copy} SELECT * FROM {self.whole_relation(table)} "
            "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[]))) "
            f"AND rowid NOT IN (SELECT rowid FROM {copy})",
            [json_list(sorted(rowids))],
        )

    def snapshots(self, tables: Sequence[str]) -> contextlib.AbstractContextManager[None]:
        """For the block, read each attached table among these once (see sources.py)."""
        return self.attachments.snapshots(tables)

    # -- erasure ---------------------------------------------------------------------
    def writes(self, con: Connection) -> Writes:
        """The erasure interface for every table (sources.Writer): loaded tables change on
        `con`, the connection of the open workspace transaction; attached ones in their own
        transactions, committed by `Writes.commit()` just before the workspace."""
        return Writes(LocalWriter(self, con), self.attachments)
