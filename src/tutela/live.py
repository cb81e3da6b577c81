"""Live sources: PostgreSQL and SQLite databases scanned, searched and erased in place.

An attachment is a name (`crm`), a kind (postgres or sqlite), a target with any password
removed, and a read-only flag. Only that is stored (`_tutela.attachments`). Passwords come
from the connection string for the `tutela attach` call itself, and afterwards from libpq's
own sources: `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`. A password given on the command line
lives only in the driver's memory for that one process, never in a stored or printed text.

Live tables are named `attachment.schema.table` (`crm.public.customers`,
`legacy.main.clients`). Reading goes through the Arrow ADBC drivers (`adbc-driver-postgresql`,
`adbc-driver-sqlite`, C libraries bundled in their wheels): a table is streamed once, as
Arrow, into a temporary DuckDB table for the command (PostgreSQL sends it with binary COPY),
with its row address as `rowid`: the PostgreSQL `ctid` (block and offset packed into a
BIGINT), the SQLite rowid. The subject-rights engine works on that copy unchanged; nothing
is stored in the workspace.

Writes happen only through `tutela erase` (see `subjects/erase.py`), as statements in the
source database's own transaction: PostgreSQL through the same driver (rows locked `FOR
UPDATE` and checked unchanged first), SQLite through Python's `sqlite3` with
`secure_delete` on. The sources commit just before the workspace; a refused commit rolls the
workspace back. After the commit `Attachments.finish_erasure` (sources.py) makes the deleted
content unreadable where the database allows it (SQLite: WAL checkpoint, optional VACUUM;
PostgreSQL: `VACUUM (FULL)` with `--purge`) and says what may remain (`LiveErasure`, shown
in the certificate).

Nothing is downloaded and no DuckDB extension is loaded. What every kind shares (the copies,
the erasure interface, the attachments a workspace owns) is in `sources.py`; this module
registers the two database kinds there and, by importing `lake.py` and `lake_spark.py`, the
lake kinds.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from tutela import audit, lake, lake_spark
from tutela.base.errors import UsageError
from tutela.base.keys import MasterKey
from tutela.base.sql import quote_ident
from tutela.engine import Connection, SqlError
from tutela.sources import (
    Attachment,
    LiveErasure,
    LiveSourceError,
    LiveTable,
    Source,
    clean_message,
    register_kind,
    save,
    stored,
    unsave,
    validate_name,
)
from tutela.workspace import Workspace

__all__ = [
    "AttachResult",
    "Attachment",
    "LiveErasure",
    "LiveSourceError",
    "LiveTable",
    "add",
    "drop",
    "parse_target",
    "require_writable",
    "stored",
]

KINDS = ("postgres", "sqlite", *lake.KINDS, lake_spark.KIND)
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")
_clean = clean_message


# -- parsing targets ------------------------------------------------------------------


def parse_target(
    target: str,
    kind: str | None = None,
    *,
    warehouse: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
) -> tuple[str, str, str | None]:
    """(kind, target without password, password or None) from what the user typed.
    `warehouse`, `spark_conf`: a Spark master's lake folder and extra settings."""
    text = target.strip()
    if kind == lake_spark.KIND or (kind is None and lake_spark.claims(text)):
        return lake_spark.parse_target(text, warehouse, spark_conf)
    if warehouse or spark_conf:
        raise UsageError("--warehouse and --spark-conf go with a Spark master (spark://host:port)")
    if lake.claims(text, kind):  # delta:/path, parquet:/path, a folder
        return lake.parse_target(text, kind)
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--type must be one of {', '.join(KINDS)}, not {kind!r}")
    if not text:
        if kind == "postgres":  # libpq takes everything from PGHOST, PGDATABASE...
            return "postgres", "", None
        raise UsageError(
            "give a connection string or an SQLite file "
            "(or --type postgres to connect with the PG* environment variables)"
        )
    if text.startswith(("postgres://", "postgresql://")):
        if kind == "sqlite":
            raise UsageError("a postgresql:// URL cannot be attached as --type sqlite")
        safe, password = _strip_url_password(text)
        return "postgres", safe, password
    if kind == "postgres" or (kind is None and _looks_like_conninfo(text)):
        safe, password = _strip_conninfo_password(text)
        return "postgres", safe, password
    path = Path(text).expanduser()
    if not path.is_file():
        raise UsageError(
            f"{text}: not a file, a postgresql:// URL or a key=value connection string"
        )
    try:
        with path.open("rb") as fh:
            magic = fh.read(16)
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from exc
    if magic != b"SQLite format 3\x00":
        raise UsageError(f"{text}: not an SQLite database (no SQLite header)")
    return "sqlite", str(path.resolve()), None


def _looks_like_conninfo(text: str) -> bool:
    return bool(re.match(r"^\s*[A-Za-z_]+\s*=", text))


def _strip_url_password(url: str) -> tuple[str, str | None]:
    """A postgresql:// URL as a libpq key=value string without the password (DuckDB adds a
    secret's password to key=value strings only)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"connection URL: {exc}") from exc
    pairs: list[tuple[str, str]] = []
    if parts.hostname:
        pairs.append(("host", unquote(parts.hostname)))
    if port:
        pairs.append(("port", str(port)))
    if parts.username:
        pairs.append(("user", unquote(parts.username)))
    if parts.path.strip("/"):
        pairs.append(("dbname", unquote(parts.path.lstrip("/"))))
    password = unquote(parts.password) if parts.password is not None else None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password":
            password = value
        elif re.fullmatch(r"[A-Za-z_]+", key):
            pairs.append((key, value))
        else:
            raise UsageError(f"connection URL: bad parameter name {key!r}")
    return " ".join(f"{k}={_conninfo_value(v)}" for k, v in pairs), password


def _conninfo_value(value: str) -> str:
    if value and re.fullmatch(r"[^\s'\\]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_CONNINFO_TOKEN = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")


def _strip_conninfo_password(text: str) -> tuple[str, str | None]:
    pos, kept, password = 0, [], None
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _CONNINFO_TOKEN.match(text, pos)
        if not m:
            raise UsageError("connection string: expected key=value pairs (libpq syntax)")
        key, value = m.group(1), m.group(2)
        if key == "password":
            raw = value[1:-1] if value.startswith("'") else value
            password = re.sub(r"\\(.)", r"\1", raw)
        else:
            kept.append(f"{key}={value}")
        pos = m.end()
    return " ".join(kept), password


# -- PostgreSQL -----------------------------------------------------------------------------


# ctid (block, offset) packed into one BIGINT: offsets are below 2^16.
def _pg_rowid(tid: str) -> str:
    return f"(({tid})::text::point)[0]::bigint * 65536 + (({tid})::text::point)[1]::bigint"


def _tid_array(rowids: Iterable[int]) -> str:
    """A tid[] literal (bound as text): built from integers only."""
    return "{" + ",".join(f'"({r // 65536},{r % 65536})"' for r in rowids) + "}"


# Types the driver hands over faithfully; anything else is read as its text form.
_PG_PLAIN = {
    "bool", "int2", "int4", "int8", "float4", "float8", "text", "varchar", "bpchar", "name",
    "date", "time", "timestamp", "timestamptz", "interval", "bytea", "uuid", "json", "jsonb",
}  # fmt: skip
_PG_PLAIN_ITEMS = _PG_PLAIN - {"interval", "bytea", "json", "jsonb", "time"}
PURGE_LOCK_TIMEOUT = "30s"


def _require_driver(kind: str) -> None:
    """The ADBC driver is a dependency of Tutela: missing means a broken installation."""
    package = f"adbc_driver_{'postgresql' if kind == 'postgres' else 'sqlite'}"
    try:
        __import__(package)
    except ImportError as exc:
        raise LiveSourceError(
            f"the {kind} driver ({package.replace('_', '-')}) is not installed",
            hint="reinstall Tutela with its dependencies: pip install --force-reinstall tutela",
        ) from exc


class _Postgres(Source):
    commit_rank = 0  # first: its deferred checks can still refuse at commit

    def connect(self, password: str | None) -> None:
        _require_driver("postgres")
        from adbc_driver_manager import AdbcConnection, Error
        from adbc_driver_postgresql import connect

        # stored targets are libpq key=value strings; empty means libpq's PG* variables
        target = self.att.target or "postgresql://"
        if password is not None:
            target = f"{self.att.target} password={_conninfo_value(password)}".strip()
        hint = (
            "check the server, the database name and the credentials "
            "(PGPASSWORD, PGPASSFILE or ~/.pgpass)"
        )
        try:
            self._db = connect(target)
            self._reader = AdbcConnection(self._db)
            # readers never write, whatever the attachment allows
            self._run(self._reader, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except (Error, LiveSourceError) as exc:
            raise LiveSourceError(
                f"cannot attach {self.att.name} (postgres {self.att.target}): "
                f"{_clean(exc, password)}",
                hint=hint,
            ) from exc
        self._writer: Any = None

    def _run(
        self, conn: Any, sql: str, params: Sequence[str] | None = None, *, fetch: bool = False
    ) -> list[tuple[Any, ...]]:
        """One statement; values are bound (as text: the SQL casts them)."""
        from adbc_driver_manager import AdbcStatement, Error

        st = AdbcStatement(conn)
        cursors: list[Connection] = []
        try:
            st.set_sql_query(sql)
            if params is not None:
                # the parameter batch as Arrow, made by DuckDB (no pyarrow needed)
                cur = self.con.cursor()
                cursors.append(cur)
                cols = ", ".join(f"?::VARCHAR AS p{i}" for i in range(len(params)))
                st.bind_stream(cur.sql(f"SELECT {cols}", params=list(params)))
            if not fetch:
                st.execute_update()
                return []
            stream, _ = st.execute_query()
            cur = self.con.cursor()
            cursors.append(cur)
            cur.register("_tutela_result", stream)
            return cur.execute("SELECT * FROM _tutela_result").fetchall()
        except Error as exc:
            raise LiveSourceError(f"{self.att.name}: {_clean(exc)}") from exc
        except SqlError as exc:  # reading the result stream failed
            raise LiveSourceError(f"{self.att.name}: {_clean(exc)}") from exc
        finally:
            st.close()
            for cur in cursors:
                cur.close()

    def list_tables(self) -> list[tuple[str, str]]:
        # ordinary tables and leaf partitions only: a partitioned parent's ctids are not
        # unique (two partitions can both hold a row at (0,1))
        rows = self._run(
            self._reader,
            "SELECT n.nspname::text, c.relname::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' "
            "ORDER BY 1, 2",
            fetch=True,
        )
        return [(str(s), str(t)) for s, t in rows]

    def _table(self, live: LiveTable) -> str:
        return f"{quote_ident(live.schema)}.{quote_ident(live.table)}"

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        from adbc_driver_manager import AdbcStatement, Error

        cols = self._run(
            self._reader,
            "SELECT a.attname::text, t.typname::text, t.typcategory::text, a.atttypmod, "
            "e.typname::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' "
            "WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [live.schema, live.table],
            fetch=True,
        )
        if any(str(c[0]).casefold() == "rowid" for c in cols):
            raise LiveSourceError(
                f"{live.name} has a column named rowid: Tutela uses that name for the row "
                "address (ctid) and cannot read this table in place",
                hint="load an export of it instead",
            )
        pg_list, duck_list = [f"{_pg_rowid('ctid')} AS rowid"], ["rowid"]
        for name, typ, category, typmod, item in cols:
            col = quote_ident(str(name))
            plain = typ in _PG_PLAIN or typ == "numeric"
            if category == "A":
                plain = item in _PG_PLAIN_ITEMS
            pg_list.append(col if plain else f"{col}::text AS {col}")
            if typ == "numeric":  # the driver sends numeric as text
                precision, scale = ((int(typmod) - 4) >> 16) & 0xFFFF, (int(typmod) - 4) & 0xFFFF
                exact = int(typmod) >= 4 and 0 < precision <= 38 and scale <= precision
                target = f"DECIMAL({precision},{scale})" if exact else "DOUBLE"
                duck_list.append(f"TRY_CAST({col} AS {target}) AS {col}")
            else:
                duck_list.append(col)
        st = AdbcStatement(self._reader)
        try:
            st.set_sql_query(f"SELECT {', '.join(pg_list)} FROM {self._table(live)}")
            stream, _ = st.execute_query()
        except Error as exc:
            st.close()
            raise LiveSourceError(f"cannot read {live.name}: {_clean(exc)}") from exc
        return stream, f"SELECT {', '.join(duck_list)} FROM {{src}}", st.close

    # -- writing
    def begin(self) -> None:
        from adbc_driver_manager import AdbcConnection, Error

        try:
            if self._writer is None:
                self._writer = AdbcConnection(self._db)
            self._writer.set_autocommit(False)
        except Error as exc:
            raise LiveSourceError(f"{self.att.name}: {_clean(exc)}") from exc
        self._moves: dict[str, dict[int, int]] = {}

    def apply(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        columns: list[str],
        texts: dict[int, str],
    ) -> None:
        moves = self._moves.setdefault(live.name, {})
        current = [moves.get(r, r) for r in rowids]  # rows this transaction moved itself
        table = self._table(live)
        # lock the rows and check they are the ones planned (an UPDATE by anyone else
        # gives a row a new ctid)
        [(found,)] = self._run(
            self._writer,
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE ctid = ANY($1::text::tid[]) "
            "FOR UPDATE) AS s",
            [_tid_array(current)],
            fetch=True,
        )
        if int(found) != len(current):
            raise self._moved(live, int(found), len(current))
        returning = f"RETURNING {_pg_rowid('_v.tid')}, {_pg_rowid('_t.ctid')}"
        if action == "delete":
            self._run(
                self._writer,
                f"DELETE FROM {table} WHERE ctid = ANY($1::text::tid[])",
                [_tid_array(current)],
            )
            return
        if action == "null":
            sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
            rows = self._run(
                self._writer,
                f"UPDATE {table} AS _t SET {sets} FROM unnest($1::text::tid[]) AS _v(tid) "
                f"WHERE _t.ctid = _v.tid {returning}",
                [_tid_array(current)],
                fetch=True,
            )
        else:
            by_current = {moves.get(r, r): texts[r] for r in rowids}
            payload = json.dumps(
                [{"tid": f"({r // 65536},{r % 65536})", "txt": t} for r, t in by_current.items()]
            )
            rows = self._run(
                self._writer,
                f"UPDATE {table} AS _t SET {quote_ident(columns[0])} = _v.txt "
                "FROM json_to_recordset($1::text::json) AS _v(tid tid, txt text) "
                f"WHERE _t.ctid = _v.tid {returning}",
                [payload],
                fetch=True,
            )
        original = {moves.get(r, r): r for r in rowids}
        for old, new in rows:
            moves[original[int(old)]] = int(new)

    def commit(self) -> None:
        from adbc_driver_manager import Error

        try:
            self._writer.commit()
        except Error as exc:
            with contextlib.suppress(Error):
                self._writer.rollback()
            raise LiveSourceError(
                f"{self.att.name} refused to commit the erasure, so nothing was changed "
                f"there or in the workspace: {_clean(exc)}"
            ) from exc
        finally:
            self.in_transaction = False
        self.committed |= self.written
        with contextlib.suppress(Error):  # no transaction left idle on the connection
            self._writer.set_autocommit(True)

    def rollback(self) -> None:
        from adbc_driver_manager import Error

        if self.in_transaction and self._writer is not None:
            with contextlib.suppress(Error):
                self._writer.rollback()
        self.in_transaction = False

    def finish(self, purge: bool) -> list[LiveErasure]:
        from adbc_driver_manager import Error

        at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            [(ckpt, max_wal, keep, archive, user)] = self._run(
                self._reader,
                "SELECT current_setting('checkpoint_timeout'), current_setting('max_wal_size'), "
                "coalesce(current_setting('wal_keep_size', true), 'n/a'), "
                "current_setting('archive_mode'), current_user::text",
                fetch=True,
            )
        except LiveSourceError:
            ckpt = max_wal = keep = archive = user = "unknown"
        wal = (
            f"PostgreSQL's write-ahead log written before {at} holds the old values until "
            f"its segments are recycled after later checkpoints (checkpoint_timeout={ckpt}, "
            f"max_wal_size={max_wal}, wal_keep_size={keep})"
        )
        backups = (
            f"base backups, standby servers and other copies of the database made before {at} "
            "keep the old values until their own retention ends (standbys replay this erasure)"
        )
        out = []
        for name in sorted(self.committed):
            live = self.table(name)
            remaining = [wal]
            if archive not in ("off", "unknown"):
                remaining.append(
                    f"archived WAL (archive_mode={archive}) until the archive's retention ends"
                )
            remaining.append(backups)
            note: str | None = "not requested: erase with --purge to run VACUUM (FULL)"
            done = False
            if purge:
                try:
                    done, note = self._vacuum_full(live, str(user))
                except (Error, LiveSourceError) as exc:  # reported, never raised
                    done, note = False, f"VACUUM (FULL) failed: {_clean(exc)}"
            if done:
                remaining.insert(
                    0,
                    "the table's previous data files were unlinked by VACUUM (FULL): their "
                    "disk blocks keep the old bytes until the file system reuses them",
                )
            else:
                remaining.insert(
                    0,
                    "the deleted and updated row versions (with their TOAST values and index "
                    "entries) stay in the table's data files until VACUUM reclaims them and "
                    "new rows overwrite that space; autovacuum sets no date",
                )
            out.append(
                LiveErasure(
                    name,
                    "postgres",
                    "DELETE/UPDATE committed, then VACUUM (FULL)"
                    if done
                    else "DELETE/UPDATE committed",
                    done,
                    note,
                    tuple(remaining),
                )
            )
        return out

    def _vacuum_full(self, live: LiveTable, user: str) -> tuple[bool, str | None]:
        """VACUUM (FULL) rewrites the table, its TOAST table and indexes into new files: a
        new file node is the proof it ran (PostgreSQL skips tables it may not vacuum with
        only a warning)."""
        from adbc_driver_manager import AdbcConnection

        table = self._table(live)
        node_sql = (
            "SELECT pg_relation_filenode(c.oid)::bigint, pg_get_userbyid(c.relowner)::text "
            "FROM pg_class c WHERE c.oid = to_regclass($1::text)"
        )
        conn = AdbcConnection(self._db)  # autocommit: VACUUM runs outside a transaction
        try:
            [(before, owner)] = self._run(conn, node_sql, [table], fetch=True)
            self._run(conn, f"SET lock_timeout = '{PURGE_LOCK_TIMEOUT}'")
            try:
                self._run(conn, f"VACUUM (FULL) {table}")
            except LiveSourceError as exc:
                if "lock timeout" in exc.message:
                    return False, (
                        f"{live.table} was busy: the exclusive lock VACUUM (FULL) needs was not "
                        f"granted within {PURGE_LOCK_TIMEOUT}; run it again when it is quiet"
                    )
                return False, f"VACUUM (FULL) failed: {exc.message}"
            [(after, _)] = self._run(conn, node_sql, [table], fetch=True)
        finally:
            conn.close()
        if after == before:
            return False, (
                f"PostgreSQL skipped VACUUM (FULL): only the table's owner ({owner}) or a "
                f"superuser may run it, and Tutela connects as {user}"
            )
        return True, None

    def close(self) -> None:
        from adbc_driver_manager import Error

        self.rollback()
        for handle in (getattr(self, "_writer", None), getattr(self, "_reader", None)):
            if handle is not None:
                with contextlib.suppress(Error):
                    handle.close()
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(Error):
                db.close()


# -- SQLite ---------------------------------------------------------------------------------


class _SQLite(Source):
    @property
    def _path(self) -> str:
        return self.att.target

    def _uri(self, mode: str) -> str:
        return f"file:{quote(self._path)}?mode={mode}"

    def connect(self, password: str | None) -> None:
        _require_driver("sqlite")
        try:
            # catalog questions go through Python's sqlite3, bulk reads through ADBC
            self._meta = sqlite3.connect(self._uri("ro"), uri=True, timeout=10)
            # fetchall everywhere: a statement not run to its end keeps a read lock that
            # would stop the erasure's commit
            self._meta.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        except sqlite3.Error as exc:
            raise LiveSourceError(
                f"cannot attach {self.att.name} (sqlite {self._path}): {exc}"
            ) from exc
        self._reader: Any = None
        self._writer: sqlite3.Connection | None = None

    def list_tables(self) -> list[tuple[str, str]]:
        rows = self._meta.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).fetchall()
        return [("main", str(r[0])) for r in rows]

    def _table(self, live: LiveTable) -> str:
        return f"main.{quote_ident(live.table)}"

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        from adbc_driver_manager import AdbcConnection, AdbcStatement, Error
        from adbc_driver_sqlite import connect

        table = self._table(live)
        try:
            info = self._meta.execute(f"PRAGMA main.table_info({quote_ident(live.table)})")
            names = [str(r[1]) for r in info.fetchall()]
            ddl = self._meta.execute(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", [live.table]
            ).fetchall()
            if ddl and re.search(r"without\s+rowid", str(ddl[0][0] or ""), re.IGNORECASE):
                raise LiveSourceError(
                    f"{live.name} is a WITHOUT ROWID table: Tutela addresses rows by rowid",
                    hint="load an export of it instead",
                )
            if any(n.casefold() == "rowid" for n in names):
                raise LiveSourceError(
                    f"{live.name} has a column named rowid: Tutela uses that name for the "
                    "row address and cannot read this table in place",
                    hint="load an export of it instead",
                )
            # SQLite types values, not columns: find each column's storage classes in one
            # pass, and read mixed columns as text (an integer column with one 'n/a' in it)
            classes = ("integer", "real", "text", "blob")
            probes = [f"max(typeof({quote_ident(n)}) = '{c}')" for n in names for c in classes]
            [row] = self._meta.execute(f"SELECT {', '.join(probes) or '1'} FROM {table}").fetchall()
        except sqlite3.Error as exc:
            raise LiveSourceError(f"cannot read {live.name}: {exc}") from exc
        # The driver infers each column's Arrow type from its first batch: a first row of
        # the right types (dropped in DuckDB) keeps a column that starts with NULLs typed.
        first, rest = ["0 AS _tutela_k", "0 AS rowid"], ["1", "rowid"]
        for i, name in enumerate(names):
            col = quote_ident(name)
            has = {c for j, c in enumerate(classes) if row[i * 4 + j]}
            if has <= {"integer"} and has:
                first.append(f"0 AS {col}")
                rest.append(col)
            elif has <= {"integer", "real"} and has:
                first.append(f"0.0 AS {col}")
                rest.append(f"CAST({col} AS REAL)")
            elif has == {"blob"}:
                first.append(f"x'' AS {col}")
                rest.append(col)
            else:
                first.append(f"'' AS {col}")
                rest.append(
                    f"CASE typeof({col}) WHEN 'blob' THEN hex({col}) ELSE CAST({col} AS TEXT) END"
                )
        query = f"SELECT {', '.join(first)} UNION ALL SELECT {', '.join(rest)} FROM {table}"
        try:
            if self._reader is None:
                self._reader_db = connect(self._uri("ro"))
                self._reader = AdbcConnection(self._reader_db)
            st = AdbcStatement(self._reader)
        except Error as exc:
            raise LiveSourceError(f"cannot read {live.name}: {_clean(exc)}") from exc
        try:
            st.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            st.set_sql_query(query)
            stream, _ = st.execute_query()
        except Error as exc:
            st.close()
            raise LiveSourceError(f"cannot read {live.name}: {_clean(exc)}") from exc
        return stream, "SELECT * EXCLUDE (_tutela_k) FROM {src} WHERE _tutela_k = 1", st.close

    # -- writing
    def begin(self) -> None:
        try:
            if self._writer is None:
                w = sqlite3.connect(self._uri("rw"), uri=True, timeout=10, isolation_level=None)
                # deleted content is overwritten with zeros, not just unlinked from the b-tree
                w.execute("PRAGMA secure_delete = ON")
                w.execute("PRAGMA temp_store = MEMORY")  # row ids, redacted texts
                self._writer = w
            self._writer.execute("BEGIN IMMEDIATE")  # the write lock now, not at commit
        except sqlite3.Error as exc:
            raise LiveSourceError(f"{self.att.name}: cannot start the erasure: {exc}") from exc

    def apply(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        columns: list[str],
        texts: dict[int, str],
    ) -> None:
        w = self._writer
        assert w is not None
        table = self._table(live)
        try:
            w.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _tutela_rows (rid INTEGER PRIMARY KEY, txt TEXT)"
            )
            w.execute("DELETE FROM temp._tutela_rows")
            w.executemany(
                "INSERT INTO temp._tutela_rows VALUES (?, ?)",
                ((r, texts.get(r)) for r in rowids),
            )
            picked = "rowid IN (SELECT rid FROM temp._tutela_rows)"
            [(found,)] = w.execute(f"SELECT count(*) FROM {table} WHERE {picked}").fetchall()
            if int(found) != len(rowids):
                raise self._moved(live, int(found), len(rowids))
            if action == "delete":
                w.execute(f"DELETE FROM {table} WHERE {picked}")
            elif action == "null":
                sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
                w.execute(f"UPDATE {table} SET {sets} WHERE {picked}")
            else:
                w.execute(
                    f"UPDATE {table} SET {quote_ident(columns[0])} = (SELECT txt FROM "
                    f"temp._tutela_rows WHERE rid = {quote_ident(live.table)}.rowid) "
                    f"WHERE {picked}"
                )
            w.execute("DELETE FROM temp._tutela_rows")
        except sqlite3.Error as exc:
            raise LiveSourceError(f"{live.name}: SQLite refused the change: {exc}") from exc

    def commit(self) -> None:
        assert self._writer is not None
        try:
            self._writer.execute("COMMIT")
        except sqlite3.Error as exc:
            self.rollback()
            raise LiveSourceError(
                f"{self.att.name} refused to commit the erasure, so nothing was changed "
                f"there or in the workspace: {exc}"
            ) from exc
        self.in_transaction = False
        self.committed |= self.written

    def rollback(self) -> None:
        if self._writer is not None and self._writer.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("ROLLBACK")
        self.in_transaction = False

    def finish(self, purge: bool) -> list[LiveErasure]:
        w = self._writer
        assert w is not None
        steps, notes, done = [], [], True
        remaining: list[str] = []
        try:
            [(secure,)] = w.execute("PRAGMA secure_delete").fetchall()
            if int(secure) == 1:
                steps.append("changed with secure_delete on (deleted content zeroed)")
            else:
                done = False
                notes.append("this SQLite library ignored secure_delete")
            mode = str(w.execute("PRAGMA journal_mode").fetchall()[0][0]).lower()
            if purge:
                w.execute("VACUUM")
                steps.append("VACUUM (file rewritten)")
            if mode == "wal":
                [(busy, frames, moved)] = w.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                if busy:
                    done = False
                    notes.append(
                        f"another connection kept the write-ahead log busy: {frames - moved} "
                        "of its frames could not be checkpointed"
                    )
                    remaining.append(
                        f"{Path(self._path).name}-wal: old page versions until the next "
                        "complete checkpoint"
                    )
                else:
                    steps.append("WAL checkpointed and truncated to zero bytes")
            elif mode == "persist":
                remaining.append(
                    f"{Path(self._path).name}-journal (journal_mode=persist): the pages as they "
                    "were before the erasure, until the next write transaction overwrites them"
                )
        except sqlite3.Error as exc:
            done = False
            notes.append(f"SQLite refused: {exc}")
        remaining.append(
            "the disk blocks of the transaction's journal (deleted or truncated by SQLite) "
            "until the file system reuses them"
        )
        if not purge:
            remaining.append(
                "content that other programs deleted earlier without secure_delete, in free "
                "pages of the file, until VACUUM (erase with --purge)"
            )
        remaining.append(
            "copies and backups of the file made before the erasure, until their retention ends"
        )
        note = "; ".join(notes) or None
        return [
            LiveErasure(name, "sqlite", "; ".join(steps), done, note, tuple(remaining))
            for name in sorted(self.committed)
        ]

    def close(self) -> None:
        from adbc_driver_manager import Error

        self.rollback()
        for conn in (getattr(self, "_writer", None), getattr(self, "_meta", None)):
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
        for handle in (getattr(self, "_reader", None), getattr(self, "_reader_db", None)):
            if handle is not None:
                with contextlib.suppress(Error):
                    handle.close()


# -- commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachResult:
    attachment: Attachment
    tables: list[str]
    password_given: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.attachment.to_dict(), "tables": self.tables}


def add(
    ws: Workspace,
    master: MasterKey,
    name: str,
    target: str,
    *,
    kind: str | None = None,
    read_only: bool = False,
    replace: bool = False,
    warehouse: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
) -> AttachResult:
    """Check the connection, then store the attachment (password removed) and audit it."""
    validate_name(name)
    kind, safe, password = parse_target(target, kind, warehouse=warehouse, spark_conf=spark_conf)
    att = Attachment(name, kind, safe, read_only or kind == "iceberg")  # never written
    if not replace and name in {a.name for a in stored(ws.con)}:
        raise UsageError(
            f"an attachment named {name!r} exists",
            hint="pass --replace to point it elsewhere, or `tutela detach` it first",
        )
    ws.attachments.close(name)
    ws.attachments.attach(att, password)
    names = [t for t in ws.attachments.tables() if t.startswith(name + ".")]
    with ws.transaction() as con:
        save(con, att)
        audit.append(
            con,
            master,
            command="attach",
            arguments=att.to_dict(),
            tables=names,
            counts={"tables": len(names)},
            result="attached",
        )
    return AttachResult(att, names, password is not None)


def drop(ws: Workspace, master: MasterKey, name: str) -> None:
    with ws.transaction() as con:
        if not unsave(con, name):
            raise UsageError(f"no attachment named {name!r}")
        ws.attachments.close(name)
        audit.append(
            con,
            master,
            command="detach",
            arguments={"name": name},
            tables=[],
            counts={},
            result="detached",
        )


def require_writable(live: LiveTable) -> None:
    """Refuse a change to this table before anything changes (an Iceberg table, or an
    attachment made --read-only)."""
    if live.attachment.kind == "iceberg":  # read only, whatever the attachment says
        raise lake.iceberg_refusal(live.name)
    if live.attachment.read_only:
        raise LiveSourceError(
            f"{live.name} is attached read-only: Tutela will not change it",
            hint=f"re-attach with `tutela attach {live.attachment.name} ... --replace` "
            "(without --read-only) to erase there",
        )


register_kind("postgres", lambda att, con: _Postgres(att, con))
register_kind("sqlite", lambda att, con: _SQLite(att, con))
