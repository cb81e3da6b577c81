"""Attached sources: what every kind shares, the registry of kinds, and the set of sources
one workspace has attached (`Workspace.attachments`).

A kind (PostgreSQL and SQLite in `live.py`; Delta, Parquet and Iceberg in `lake.py`) is a
subclass of `Source` registered with `register_kind`. This module imports nothing of those:
the modules that implement a kind register it, so the workspace (which owns an
`Attachments`) sits below them. Each attached table is read once per command into a
temporary DuckDB copy with its row address as `rowid` (`Source.relation`).

Erasure actions go through one interface, `Writer`: delete rows, set columns to NULL,
rewrite one text value per row, inside a transaction (`begin`, `commit`, `rollback`). Every
`Source` implements it for its own tables; the workspace implements it for loaded tables
(`workspace.LocalWriter`). `Writes` hands each table to the writer that holds it and commits
the attached sources in order, just before the workspace itself commits.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tutela.base.errors import TutelaError, UsageError
from tutela.base.sql import quote_ident
from tutela.engine import Connection, SqlError

ATTACHMENTS = "_tutela.attachments"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED = {"main", "temp", "system", "memory", "_tutela", "information_schema", "pg_catalog"}


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


@dataclass(frozen=True)
class LiveTable:
    attachment: Attachment
    schema: str
    table: str

    @property
    def name(self) -> str:
        return f"{self.attachment.name}.{self.schema}.{self.table}"


@dataclass(frozen=True)
class LiveErasure:
    """What an erasure did to one live table's storage, and what may still hold the old
    values: for the certificate."""

    table: str
    kind: str
    method: str
    """What was done so the deleted content is gone from the table's files."""
    done: bool
    """True when the table's files no longer hold the deleted content."""
    note: str | None
    """Why it was not done (not requested, permissions, a busy table...)."""
    remaining: tuple[str, ...]
    """Where copies of the old values may remain, and until when."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "kind": self.kind,
            "method": self.method,
            "done": self.done,
            "note": self.note,
            "remaining": list(self.remaining),
        }


class Commit(Protocol):
    """One table's commit in a source without multi-table transactions (a lake table):
    audited on its own (`Attachments.unrecorded_commits`)."""

    table: str

    def to_dict(self) -> dict[str, Any]: ...


# -- the erasure interface ------------------------------------------------------------------


class Writer(Protocol):
    """The erasure actions on the tables one store holds, in that store's transaction.
    Rows are addressed by the `rowid` the store's relation gives them (the workspace's own
    rowid, a PostgreSQL ctid, an SQLite rowid, a lake row address)."""

    def check_writable(self, table: str) -> None:
        """Raise, before anything changes, if this table may not be changed."""

    def begin(self) -> None: ...

    def delete_rows(self, table: str, rowids: Sequence[int]) -> None: ...

    def set_null(self, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None: ...

    def set_text(self, table: str, column: str, values: Mapping[int, str]) -> None:
        """Replace one text column's value on the given rows (free-text redaction)."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


# -- the catalog of attachments (stored in the workspace) ------------------------------------


def _ensure_table(con: Connection) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {ATTACHMENTS} (
            name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, target VARCHAR NOT NULL,
            read_only BOOLEAN NOT NULL, attached_at TIMESTAMP NOT NULL)"""
    )


def stored(con: Connection) -> list[Attachment]:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = '_tutela' "
        "AND table_name = 'attachments' AND table_catalog = current_database()"
    ).fetchone()
    if not (row and row[0]):
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


def save(con: Connection, att: Attachment) -> None:
    """Store (or replace) the attachment under its name."""
    _ensure_table(con)
    con.execute(f"DELETE FROM {ATTACHMENTS} WHERE name = ?", [att.name])
    con.execute(
        f"INSERT INTO {ATTACHMENTS} VALUES (?, ?, ?, ?, ?)",
        [att.name, att.kind, att.target, att.read_only, datetime.now(UTC).replace(tzinfo=None)],
    )


def unsave(con: Connection, name: str) -> bool:
    """Remove the stored attachment; False when there was none of that name."""
    if not stored(con):
        return False
    row = con.execute(f"DELETE FROM {ATTACHMENTS} WHERE name = ? RETURNING name", [name]).fetchall()
    return bool(row)


_ADBC_PREFIX = re.compile(r"^[A-Z_]+: (\[[A-Za-z]+\] )?")


def clean_message(exc: BaseException, password: str | None = None) -> str:
    """The first line of a driver's message, without the password or the SQL text."""
    text = str(exc).strip()
    if "ERROR:" in text:  # a server error: its own line, not the statement it quotes
        text = text[text.find("ERROR:") :]
    text = text.splitlines()[0] if text else type(exc).__name__
    text = _ADBC_PREFIX.sub("", text)
    if password:
        text = text.replace(password, "***")
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


# -- sources --------------------------------------------------------------------------------

_COPY_IDS = itertools.count(1)


class Source:
    """One attached database or folder in this process: its connections, the copies read
    from it, and its write transaction during an erasure. Implements `Writer` for its own
    tables."""

    commit_rank = 1
    """Sources commit in (rank, name) order: PostgreSQL (0) first, its deferred checks can
    still refuse at commit."""
    unique_addresses = True
    """Whether each row of a copy has a `rowid` of its own (the scan samples rows by it)."""

    def __init__(self, att: Attachment, con: Connection) -> None:
        self.att = att
        self.con = con  # the workspace's: copies live in its temporary schema
        self.copies: dict[str, str] = {}
        self.in_transaction = False
        self.written: set[str] = set()
        self.committed: set[str] = set()
        self._tables: list[tuple[str, str]] | None = None
        self.force_purge = False  # lake tables: purge even where old versions may be read

    # -- to implement per kind
    def connect(self, password: str | None) -> None:
        raise NotImplementedError

    def list_tables(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def read(self, live: LiveTable) -> tuple[Any, str, Any]:
        """(Arrow stream of `rowid` and the columns, DuckDB query text over `{src}`, closer)."""
        raise NotImplementedError

    def begin(self) -> None:
        raise NotImplementedError

    def apply(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        columns: list[str],
        texts: dict[int, str],
    ) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def finish(self, purge: bool) -> list[LiveErasure]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def owes(self) -> bool:
        """Whether an earlier erasure left physical work here (lake tables)."""
        return False

    def refusal(self) -> str | None:
        """Why Tutela never changes this source's tables whatever the attachment says
        (Iceberg), for plans; None when it may change them."""
        return None

    def refusal_error(self, live: LiveTable) -> LiveSourceError:
        """The error a change to one of its tables raises when `refusal()` says why not."""
        return LiveSourceError(f"{live.name}: {self.refusal()}; nothing was changed")

    def unrecorded(self) -> Sequence[Commit]:
        """Commits of this run not audited yet (sources without multi-table transactions)."""
        return []

    def placement(
        self, live: LiveTable, progress: Callable[[str, float], None]
    ) -> Placement | None:
        """Where the scan's plans for this table run when not on the workspace's DuckDB
        copy of it (a Spark cluster); None: on the copy (`relation`)."""
        return None

    def row_count(self, live: LiveTable) -> int | None:
        """The table's row count from the source's own metadata, or None: count the copy."""
        return None

    def fingerprint(self, live: LiveTable) -> str | None:
        """A cheap fingerprint of the table's content the source keeps itself (its files),
        or None: the workspace hashes the rows."""
        return None

    # -- shared
    def table(self, name: str) -> LiveTable:
        """`crm.public.t` as one of this source's tables."""
        _, schema, table = name.split(".", 2)
        return LiveTable(self.att, schema, table)

    def tables(self) -> list[tuple[str, str]]:
        if self._tables is None:
            self._tables = self.list_tables()
        return self._tables

    def has_copy(self, name: str) -> bool:
        temp = self.copies.get(name)
        if temp is None:
            return False
        # a copy made inside a transaction that rolled back is gone
        row = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [temp]
        ).fetchone()
        if row and row[0]:
            return True
        del self.copies[name]
        return False

    def relation(self, live: LiveTable) -> str:
        if not self.has_copy(live.name):
            if (live.schema, live.table) not in set(self.tables()):
                raise LiveSourceError(f"{live.name}: no such table in {self.att.name}")
            temp = f"_tutela_live_{next(_COPY_IDS)}"
            stream, select, closer = self.read(live)
            src = f"{temp}_stream"
            try:
                self.con.register(src, stream)
                self.con.execute(
                    f"CREATE TEMP TABLE {quote_ident(temp)} AS "
                    + select.format(src=quote_ident(src))
                )
            except SqlError as exc:
                raise LiveSourceError(f"cannot read {live.name}: {clean_message(exc)}") from exc
            finally:
                with contextlib.suppress(SqlError):
                    self.con.unregister(src)
                closer()
            self.copies[live.name] = temp
        return f"temp.main.{quote_ident(self.copies[live.name])}"

    def columns(self, live: LiveTable) -> list[tuple[str, str]]:
        """(name, DuckDB type) of the table's columns, as its copy holds them."""
        self.relation(live)
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = 'temp' AND table_name = ? AND column_name <> 'rowid' "
            "ORDER BY ordinal_position",
            [self.copies[live.name]],
        ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def invalidate(self, name: str) -> None:
        temp = self.copies.pop(name, None)
        if temp is not None:
            with contextlib.suppress(SqlError):
                self.con.execute(f"DROP TABLE IF EXISTS temp.main.{quote_ident(temp)}")

    def drop_copies(self) -> None:
        for name in list(self.copies):
            self.invalidate(name)
        self._tables = None  # tables made since are seen too

    # -- Writer
    def check_writable(self, table: str) -> None:
        live = self.table(table)
        if self.refusal() is not None:
            raise self.refusal_error(live)
        if self.att.read_only:
            raise LiveSourceError(
                f"{live.name} is attached read-only: Tutela will not change it",
                hint=f"re-attach with `tutela attach {self.att.name} ... --replace` "
                "(without --read-only) to erase there",
            )

    def delete_rows(self, table: str, rowids: Sequence[int]) -> None:
        """Delete these rows in this source's own write transaction (begun on first use,
        committed by `Attachments.commit_writes`)."""
        self.check_writable(table)
        if rowids:
            self.write(self.table(table), "delete", list(rowids))

    def set_null(self, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
        self.check_writable(table)
        if rowids:
            self.write(self.table(table), "null", list(rowids), columns=columns)

    def set_text(self, table: str, column: str, values: Mapping[int, str]) -> None:
        self.check_writable(table)
        if values:
            self.write(self.table(table), "text", sorted(values), columns=[column], texts=values)

    def write(
        self,
        live: LiveTable,
        action: str,
        rowids: list[int],
        *,
        columns: Sequence[str] = (),
        texts: Mapping[int, str] | None = None,
    ) -> None:
        if not self.in_transaction:
            self.begin()
            self.in_transaction = True
            self.written = set()
        self.apply(live, action, rowids, list(columns), dict(texts or {}))
        self.written.add(live.name)

    def drop_written(self) -> None:
        """After the commit or rollback: the next read of a changed table (verification)
        reads it again. Until then every step reads the copy the plan was made from."""
        for name in self.written:
            self.invalidate(name)

    def _moved(self, live: LiveTable, found: int, wanted: int) -> LiveSourceError:
        return LiveSourceError(
            f"{live.name} changed while the erasure was being prepared "
            f"({wanted - found} of {wanted} rows moved or vanished); nothing was changed",
            hint="run the erasure again",
        )


@dataclass(frozen=True)
class Placement:
    """Where one table's read plans run (`Workspace.placement`): the engine's name, what
    runs the plans' DuckDB-dialect statements (`engine.Queries`: the workspace connection,
    or an engine translating them), and the table's relation and columns as those
    statements name them (a `TableReader`)."""

    engine: str
    queries: Any
    tables: Any


SourceFactory = Callable[[Attachment, Connection], Source]
_KINDS: dict[str, SourceFactory] = {}


def register_kind(kind: str, factory: SourceFactory) -> None:
    """Make a kind of attachment available (done by the module implementing it)."""
    _KINDS[kind] = factory


# -- one workspace's attached sources ---------------------------------------------------------


class Attachments:
    """The sources one workspace has attached in this process, by attachment name."""

    def __init__(self, con: Connection) -> None:
        self.con = con
        self._sources: dict[str, Source] = {}
        self.narrowing = False
        """Subject searches read lake tables behind Spark as the rows Spark picks
        (`subjects/narrow.py`); `snapshots` leaves those tables to them."""

    def __iter__(self) -> Iterator[Source]:
        return iter(list(self._sources.values()))

    def get(self, name: str) -> Source | None:
        return self._sources.get(name)

    def attach(self, att: Attachment, password: str | None = None) -> Source:
        """Connect to the source under its name (idempotent) and check it answers. The
        password, if any, goes to the driver for this process only."""
        current = self._sources.get(att.name)
        if current is not None and current.att == att and current.con is self.con:
            return current
        self.close(att.name)
        factory = _KINDS.get(att.kind)
        if factory is None:
            raise LiveSourceError(
                f"attachment {att.name} is of kind {att.kind}, which this process cannot "
                "open (its module, tutela.live or tutela.lake, was not imported)"
            )
        source = factory(att, self.con)
        source.connect(password)
        self._sources[att.name] = source
        return source

    def attach_stored(self) -> list[Attachment]:
        """Attach every stored attachment (on first use of live tables in a command)."""
        out = stored(self.con)
        for att in out:
            self.attach(att)
        return out

    def close(self, name: str) -> None:
        source = self._sources.pop(name, None)
        if source is not None:
            source.close()

    def close_all(self) -> None:
        """Close every source (open write transactions roll back); their copies die with
        the workspace connection."""
        for name in list(self._sources):
            self.close(name)

    def drop_copies(self) -> None:
        """Forget the copies read so far: the next read of a live table reads it again."""
        for source in self:
            source.drop_copies()

    # -- names
    def resolve(self, name: str) -> LiveTable | None:
        """`crm.public.customers` when `crm` is attached here; else None."""
        parts = name.split(".")
        if len(parts) != 3 or parts[0] not in self._sources:
            return None
        return LiveTable(self._sources[parts[0]].att, parts[1], parts[2])

    def source(self, live: LiveTable) -> Source:
        found = self._sources.get(live.attachment.name)
        if found is None:
            raise LiveSourceError(f"{live.attachment.name} is not attached in this command")
        return found

    def tables(self) -> list[str]:
        """The tables of every attached source (names with dots inside are skipped)."""
        names: list[str] = []
        for source in self:
            names += [f"{source.att.name}.{s}.{t}" for s, t in source.tables() if "." not in s + t]
        return names

    def relation(self, live: LiveTable) -> str:
        """A DuckDB relation holding the table's rows, with its row address as `rowid`."""
        return self.source(live).relation(live)

    def columns(self, live: LiveTable) -> list[tuple[str, str]]:
        return self.source(live).columns(live)

    @contextmanager
    def snapshots(self, names: Iterable[str]) -> Iterator[None]:
        """For the block, read each of these attached tables once (one consistent copy
        each), however many queries the block runs; the copies made here are dropped
        after it."""
        made: list[tuple[Source, str]] = []
        try:
            for name in dict.fromkeys(names):
                found = self.resolve(name)
                if found is None:
                    continue
                source = self.source(found)
                if source.has_copy(found.name) or (self.narrowing and _narrows(source)):
                    continue
                source.relation(found)
                made.append((source, found.name))
            yield
        finally:
            for source, name in made:
                source.invalidate(name)

    # -- the subject search over lakes behind Spark (subjects/narrow.py)
    def can_narrow(self, live: LiveTable) -> bool:
        source = self.source(live)
        return _narrows(source) and (
            not source.has_copy(live.name) or live.name in source.narrowed  # type: ignore[attr-defined]
        )

    def narrowed(self, live: LiveTable) -> bool:
        """Whether the table is read as rows Spark picked (not whole)."""
        source = self.source(live)
        return _narrows(source) and live.name in source.narrowed  # type: ignore[attr-defined]

    def drop_narrowed(self) -> None:
        """Drop every copy of the tables of sources that pick rows (picked or whole)."""
        for source in self:
            if _narrows(source):
                source.drop_copies()

    # -- erasure
    def write_refusal(self, name: str) -> str | None:
        """Why Tutela will not change this table whatever the attachment says (an Iceberg
        table), for plans; None for every other table."""
        found = self.resolve(name)
        return None if found is None else self.source(found).refusal()

    def commit_writes(self) -> None:
        """Commit every source's open write transaction, in `commit_rank` order. Called
        just before the workspace commits: an error here rolls the workspace back."""
        pending = sorted(
            (s for s in self if s.in_transaction),
            key=lambda s: (s.commit_rank, s.att.name),
        )
        committed: list[str] = []
        for source in pending:
            try:
                source.commit()
                source.drop_written()
            except LiveSourceError as exc:
                if not committed:
                    raise
                raise LiveSourceError(
                    f"{exc.message}; {', '.join(committed)} had already committed its part "
                    "of the erasure",
                    hint="run the same erasure again: it finds and erases what is left",
                ) from exc
            committed.append(source.att.name)

    def rollback_writes(self) -> None:
        """Roll back every source's open write transaction (a no-op after the commit)."""
        for source in self:
            if source.in_transaction:
                source.rollback()
                source.drop_written()

    def unrecorded_commits(self) -> list[tuple[Attachment, Commit]]:
        """Each table commit of this run not audited yet (lake tables: one commit each)."""
        return [(s.att, c) for s in self for c in s.unrecorded()]

    def finish_erasure(self, *, purge: bool = False, purge_now: bool = False) -> list[LiveErasure]:
        """After the commit: make the erased content unreadable where the source allows it
        and report it, per table written by the last erasure (and lake tables an earlier,
        interrupted erasure still owes a purge). Never raises: the erasure is committed,
        and a step that could not run is reported as not done, with the reason.
        `purge_now`: purge lake tables even where readers may still use old versions."""
        out: list[LiveErasure] = []
        for source in self:
            source.force_purge = purge_now
            if source.committed or source.owes():
                out += source.finish(purge)
                source.committed = set()
        return out


class Writes:
    """An erasure's writes: each table goes to the `Writer` that holds it (the workspace's
    own for loaded tables, the attached source's for the others). The attached sources
    commit in their own transactions just before the workspace (`commit`); anything else
    rolls them back (`rollback`, a no-op after a commit)."""

    def __init__(self, local: Writer, attachments: Attachments) -> None:
        self.local = local
        self.attachments = attachments

    def writer(self, table: str) -> Writer:
        found = self.attachments.resolve(table)
        return self.local if found is None else self.attachments.source(found)

    def external(self, tables: Iterable[str]) -> list[str]:
        """The tables among these that commit outside the workspace transaction."""
        return [t for t in tables if self.attachments.resolve(t) is not None]

    def check_writable(self, tables: Iterable[str]) -> None:
        for table in tables:
            self.writer(table).check_writable(table)

    def delete_rows(self, table: str, rowids: Sequence[int]) -> None:
        self.writer(table).delete_rows(table, rowids)

    def set_null(self, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
        self.writer(table).set_null(table, columns, rowids)

    def set_text(self, table: str, column: str, values: Mapping[int, str]) -> None:
        self.writer(table).set_text(table, column, values)

    def commit(self) -> list[tuple[Attachment, Commit]]:
        """Commit the attached sources (the workspace commits after, when its transaction
        block ends); returns the table commits to audit in the workspace transaction."""
        self.attachments.commit_writes()
        return self.attachments.unrecorded_commits()

    def rollback(self) -> None:
        self.attachments.rollback_writes()


def _narrows(source: Source) -> bool:
    """Whether the source can pick a table's rows for a subject search (Spark lakes)."""
    return callable(getattr(source, "narrow_many", None))
