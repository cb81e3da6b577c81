"""Live sources: PostgreSQL and SQLite databases attached through DuckDB's scanners.

An attachment is a name (`crm`), a kind (postgres or sqlite), a target with any password
removed, and a read-only flag. Only that is stored (`_tutela.attachments`). Passwords come
from the connection string for the `tutela attach` call itself, and afterwards from libpq's
own sources: `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`. A password given on the command line
lives only in a temporary DuckDB secret for that one process, never in a SQL text that an
error message could echo.

Live tables are named `attachment.schema.table` (`crm.public.customers`,
`legacy.main.clients`) and are read in place: nothing is copied into the workspace.
PostgreSQL rows are addressed by their `ctid` (block and offset packed into a BIGINT
`rowid`), SQLite rows by their own rowid, so the subject-rights engine works on them
unchanged. Writes happen only through `tutela erase` (see `subjects/erase.py`).

The scanner extensions are the official, signed DuckDB binaries shipped as Python wheels
(`tutela[live]`); they are loaded from site-packages by path with the signature check on.
Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import duckdb

from tutela.errors import TutelaError, UsageError
from tutela.sql import json_list, quote_ident, sql_literal

ATTACHMENTS = "_tutela.attachments"
KINDS = ("postgres", "sqlite")
_EXTENSIONS = {
    "postgres": ("postgres_scanner", "duckdb_extension_postgres_scanner"),
    "sqlite": ("sqlite_scanner", "duckdb_extension_sqlite_scanner"),
}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED = {"main", "temp", "system", "memory", "_tutela", "information_schema", "pg_catalog"}
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


class LiveSourceError(TutelaError):
    slug = "live-source"


@dataclass(frozen=True)
class Attachment:
    name: str
    kind: str
    target: str
    """Connection string or file path, password removed: safe to store and show."""
    read_only: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "read_only": self.read_only,
        }


# Attachments live in the DuckDB connection; table names must be resolvable without one
# (SQL builders take only a table name), so the open workspace registers them here.
_attached: dict[str, Attachment] = {}


# -- parsing targets ------------------------------------------------------------------


def parse_target(target: str, kind: str | None = None) -> tuple[str, str, str | None]:
    """(kind, target without password, password or None) from what the user typed."""
    text = target.strip()
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


# -- the catalog of attachments -----------------------------------------------------------


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {ATTACHMENTS} (
            name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, target VARCHAR NOT NULL,
            read_only BOOLEAN NOT NULL, attached_at TIMESTAMP NOT NULL)"""
    )


def stored(con: duckdb.DuckDBPyConnection) -> list[Attachment]:
    from tutela.workspace import internal_table_exists

    if not internal_table_exists(con, "attachments"):
        return []
    rows = con.execute(
        f"SELECT name, kind, target, read_only FROM {ATTACHMENTS} ORDER BY name"
    ).fetchall()
    return [Attachment(r[0], r[1], r[2], bool(r[3])) for r in rows]


def validate_name(name: str) -> None:
    if not _NAME_RE.match(name) or name in _RESERVED:
        raise UsageError(
            f"attachment name {name!r}: use lower-case letters, digits and _ "
            "(starting with a letter), not a reserved name like main or temp"
        )


def save(con: duckdb.DuckDBPyConnection, att: Attachment) -> None:
    """Store (or replace) the attachment under its name."""
    _ensure_table(con)
    con.execute(f"DELETE FROM {ATTACHMENTS} WHERE name = ?", [att.name])
    con.execute(
        f"INSERT INTO {ATTACHMENTS} VALUES (?, ?, ?, ?, ?)",
        [att.name, att.kind, att.target, att.read_only, datetime.now(UTC).replace(tzinfo=None)],
    )


def remove(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    if not stored(con):
        return False
    row = con.execute(f"DELETE FROM {ATTACHMENTS} WHERE name = ? RETURNING name", [name]).fetchall()
    _attached.pop(name, None)
    return bool(row)


# -- attaching ----------------------------------------------------------------------------


def extension_path(kind: str) -> Path:
    """The signed extension binary shipped by the matching `duckdb-extension-*` wheel."""
    ext, package = _EXTENSIONS[kind]
    spec = importlib.util.find_spec(package)
    hint = "install Tutela with its live-source extra: pip install 'tutela[live]'"
    if spec is None or spec.origin is None:
        raise LiveSourceError(f"the DuckDB {ext} extension is not installed", hint=hint)
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{ext}.duckdb_extension"
    if not path.is_file():
        raise LiveSourceError(
            f"the installed {ext} extension does not match DuckDB {duckdb.__version__}",
            hint=f"{hint} (it pins the DuckDB release the extension was built for)",
        )
    return path


def attach(con: duckdb.DuckDBPyConnection, att: Attachment, password: str | None = None) -> None:
    """ATTACH the database under its name (idempotent). The password, if any, goes into a
    temporary secret; the statement text never holds it."""
    already = con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [att.name]
    ).fetchone()
    if already and already[0]:
        _attached[att.name] = att
        return
    try:
        con.execute(f"LOAD {sql_literal(str(extension_path(att.kind)))}")
    except duckdb.Error as exc:
        raise LiveSourceError(f"cannot load the {att.kind} extension: {_clean(exc)}") from exc
    options = [f"TYPE {att.kind}"]
    if att.read_only:
        options.append("READ_ONLY")
    try:
        if password is not None:
            secret = quote_ident(f"tutela_{att.name}")
            con.execute(
                f"CREATE OR REPLACE TEMPORARY SECRET {secret} "
                f"(TYPE postgres, PASSWORD {sql_literal(password)})"
            )
            options.append(f"SECRET {secret}")
        con.execute(
            f"ATTACH {sql_literal(att.target)} AS {quote_ident(att.name)} ({', '.join(options)})"
        )
    except duckdb.Error as exc:
        raise LiveSourceError(
            f"cannot attach {att.name} ({att.kind} {att.target}): {_clean(exc, password)}",
            hint="check the server, the database name and the credentials "
            "(PGPASSWORD, PGPASSFILE or ~/.pgpass)"
            if att.kind == "postgres"
            else None,
        ) from exc
    _attached[att.name] = att


def attach_stored(con: duckdb.DuckDBPyConnection) -> list[Attachment]:
    """Attach every stored attachment (on first use of live tables in a command)."""
    out = stored(con)
    for att in out:
        attach(con, att)
    return out


def forget_all() -> None:
    _attached.clear()
    _snapshots.clear()


def _clean(exc: BaseException, password: str | None = None) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if password:
        text = text.replace(password, "***")
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


# -- live table names ---------------------------------------------------------------------


@dataclass(frozen=True)
class LiveTable:
    attachment: Attachment
    schema: str
    table: str

    @property
    def name(self) -> str:
        return f"{self.attachment.name}.{self.schema}.{self.table}"


def resolve(name: str) -> LiveTable | None:
    """`crm.public.customers` when `crm` is attached in this process; else None."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] not in _attached:
        return None
    return LiveTable(_attached[parts[0]], parts[1], parts[2])


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The base tables of every attached database (names with dots inside are skipped)."""
    names: list[str] = []
    for att in _attached.values():
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_type = 'BASE TABLE' "
            "AND NOT list_contains(?, table_schema) ORDER BY 1, 2",
            [att.name, list(_SYSTEM_SCHEMAS)],
        ).fetchall()
        names += [f"{att.name}.{s}.{t}" for s, t in rows if "." not in s and "." not in t]
    return names


def columns(con: duckdb.DuckDBPyConnection, live: LiveTable) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [live.attachment.name, live.schema, live.table],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _pg_table(live: LiveTable) -> str:
    return f"{quote_ident(live.schema)}.{quote_ident(live.table)}"


# ctid (block, offset) packed into one BIGINT: offsets are below 2^16.
_PG_ROWID = "((ctid::text::point)[0]::bigint * 65536 + (ctid::text::point)[1]::bigint)"


# PostgreSQL tables read many times by one command (the subject resolver, the scanner)
# are read once into a temporary table for its duration: `postgres_query` cannot push
# filters down, so every read would otherwise transfer the whole table.
_snapshots: dict[str, str] = {}


@contextmanager
def snapshots(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> Iterator[None]:
    """For the block, read these PostgreSQL tables from one consistent temporary copy."""
    made: list[str] = []
    try:
        for name in dict.fromkeys(names):
            found = resolve(name)
            if found is None or found.attachment.kind != "postgres" or name in _snapshots:
                continue
            temp = f"_tutela_live_{len(_snapshots)}_{abs(hash(name)) % 10**8}"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_ident(temp)} AS "
                f"SELECT * FROM {relation(found)}"
            )
            _snapshots[name] = temp
            made.append(name)
        yield
    finally:
        for name in made:
            temp = _snapshots.pop(name)
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP TABLE IF EXISTS temp.main.{quote_ident(temp)}")


def _pg_query(live: LiveTable, query: str) -> str:
    """`postgres_query(...)`: a query PostgreSQL runs itself, read as a DuckDB relation."""
    return f"postgres_query({sql_literal(live.attachment.name)}, {sql_literal(query)})"


def relation(live: LiveTable) -> str:
    """A DuckDB relation reading the live table in place, with a usable `rowid`."""
    if live.name in _snapshots:
        return f"temp.main.{quote_ident(_snapshots[live.name])}"
    if live.attachment.kind == "sqlite":
        return ".".join(quote_ident(p) for p in (live.attachment.name, live.schema, live.table))
    query = f"SELECT {_PG_ROWID} AS rowid, * FROM {_pg_table(live)}"
    return (
        f"(SELECT * FROM postgres_query({sql_literal(live.attachment.name)}, {sql_literal(query)}))"
    )


def has_synthetic_rowid(live: LiveTable | None) -> bool:
    """PostgreSQL relations carry `rowid` as a real column (to leave out of `SELECT *`)."""
    return live is not None and live.attachment.kind == "postgres"


def _tids(rowids: list[int]) -> str:
    return "ARRAY[" + ",".join(f"'({r // 65536},{r % 65536})'" for r in rowids) + "]::tid[]"


def require_writable(live: LiveTable) -> None:
    if live.attachment.read_only:
        raise LiveSourceError(
            f"{live.name} is attached read-only: Tutela will not change it",
            hint=f"re-attach with `tutela attach {live.attachment.name} ... --replace` "
            "(without --read-only) to erase there",
        )


def _check_rows_present(con: Any, live: LiveTable, rowids: list[int]) -> None:
    """The rows planned are still there, unchanged since they were found (same ctid)."""
    if live.attachment.kind == "postgres":
        query = f"SELECT count(*) AS n FROM {_pg_table(live)} WHERE ctid = ANY({_tids(rowids)})"
        row = con.execute(f"SELECT n FROM {_pg_query(live, query)}").fetchone()
    else:
        row = con.execute(
            f"SELECT count(*) FROM {relation(live)} WHERE rowid IN "
            "(SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(rowids)],
        ).fetchone()
    found = int(row[0]) if row else 0
    if found != len(rowids):
        raise LiveSourceError(
            f"{live.name} changed while the erasure was being prepared "
            f"({len(rowids) - found} of {len(rowids)} rows moved or vanished); nothing was changed",
            hint="run the erasure again",
        )


def delete_rows(con: Any, live: LiveTable, rowids: list[int]) -> None:
    require_writable(live)
    if not rowids:
        return
    _check_rows_present(con, live, rowids)
    if live.attachment.kind == "postgres":
        _pg_execute(con, live, f"DELETE FROM {_pg_table(live)} WHERE ctid = ANY({_tids(rowids)})")
    else:
        con.execute(
            f"DELETE FROM {relation(live)} WHERE rowid IN "
            "(SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(rowids)],
        )


def set_null(con: Any, live: LiveTable, columns: list[str], rowids: list[int]) -> None:
    require_writable(live)
    if not rowids:
        return
    _check_rows_present(con, live, rowids)
    if live.attachment.kind == "postgres":
        sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
        _pg_execute(
            con,
            live,
            f"UPDATE {_pg_table(live)} SET {sets} WHERE ctid = ANY({_tids(rowids)})",
        )
    else:
        sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
        con.execute(
            f"UPDATE {relation(live)} SET {sets} WHERE rowid IN "
            "(SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(rowids)],
        )


def set_text(con: Any, live: LiveTable, column: str, values: dict[int, str]) -> None:
    """Replace one text column's value on the given rows (free-text redaction)."""
    require_writable(live)
    if not values:
        return
    rowids = sorted(values)
    _check_rows_present(con, live, rowids)
    if live.attachment.kind == "postgres":
        rows = ", ".join(
            f"('({r // 65536},{r % 65536})'::tid, {_pg_text(values[r])})" for r in rowids
        )
        col = quote_ident(column)
        _pg_execute(
            con,
            live,
            f"UPDATE {_pg_table(live)} AS t SET {col} = v.txt FROM (VALUES {rows}) "
            "AS v(tid, txt) WHERE t.ctid = v.tid",
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _live_text AS SELECT "
            "UNNEST(CAST(?::JSON AS BIGINT[])) AS rid, UNNEST(CAST(?::JSON AS VARCHAR[])) AS txt",
            [json_list(rowids), json_list(values[r] for r in rowids)],
        )
        target = relation(live)
        con.execute(
            f"UPDATE {target} SET {quote_ident(column)} = _live_text.txt FROM _live_text "
            f"WHERE {target}.rowid = _live_text.rid"
        )


def _pg_text(value: str) -> str:
    """A PostgreSQL literal for any text: dollar-quoted with a tag the text does not hold."""
    n = 0
    while f"$t{n}$" in value:
        n += 1
    return f"$t{n}${value}$t{n}$"


def _pg_execute(con: Any, live: LiveTable, statement: str) -> None:
    try:
        con.execute(
            f"CALL postgres_execute({sql_literal(live.attachment.name)}, {sql_literal(statement)})"
        )
    except duckdb.Error as exc:
        # the statement may hold text being redacted: report only the database's reason
        reason = str(exc)
        reason = reason[reason.find("ERROR:") :] if "ERROR:" in reason else _clean(exc)
        raise LiveSourceError(
            f"{live.name}: the database refused the change: {reason.splitlines()[0]}"
        ) from exc


# -- commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachResult:
    attachment: Attachment
    tables: list[str]
    password_given: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.attachment.to_dict(), "tables": self.tables}


def add(
    ws: Any,
    master: Any,
    name: str,
    target: str,
    *,
    kind: str | None = None,
    read_only: bool = False,
    replace: bool = False,
) -> AttachResult:
    """Check the connection, then store the attachment (password removed) and audit it."""
    from tutela import audit

    validate_name(name)
    kind, safe, password = parse_target(target, kind)
    att = Attachment(name, kind, safe, read_only)
    if not replace and name in {a.name for a in stored(ws.con)}:
        raise UsageError(
            f"an attachment named {name!r} exists",
            hint="pass --replace to point it elsewhere, or `tutela detach` it first",
        )
    ws.con.execute("DETACH DATABASE IF EXISTS " + quote_ident(name))
    _attached.pop(name, None)
    attach(ws.con, att, password)
    names = [t for t in tables(ws.con) if t.startswith(name + ".")]
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


def drop(ws: Any, master: Any, name: str) -> None:
    from tutela import audit

    with ws.transaction() as con:
        if not remove(con, name):
            raise UsageError(f"no attachment named {name!r}")
        audit.append(
            con,
            master,
            command="detach",
            arguments={"name": name},
            tables=[],
            counts={},
            result="detached",
        )
