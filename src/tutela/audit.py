"""The audit log: append-only, hash-chained, keyed entries in the workspace.

Each entry's hash is an HMAC (key derived from the workspace master key) over its content
and the previous entry's hash. Editing, deleting, reordering or inserting entries breaks
the chain; forging a new entry needs the key. Truncating the newest entries is detectable
only against an anchor kept elsewhere: every erasure certificate records the hash of its
entry, and `tutela audit verify` prints the head hash to keep.

Entries are written in the caller's transaction, so a change and its entry commit together.
No personal data goes in: callers pass identifiers already keyed-hashed.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tutela.base.errors import NoSpaceError, classify
from tutela.base.sql import quote_ident
from tutela.engine import Connection, SqlError
from tutela.sources import Attachment, Commit
from tutela.workspace import INTERNAL_SCHEMA, internal_table_exists

if TYPE_CHECKING:  # only a type here: cryptography is not imported by commands that only read
    from tutela.base.keys import MasterKey

GENESIS = "0" * 64
TABLE = f"{quote_ident(INTERNAL_SCHEMA)}.{quote_ident('audit_log')}"

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    seq BIGINT PRIMARY KEY,
    logged_at VARCHAR NOT NULL,
    command VARCHAR NOT NULL,
    arguments VARCHAR NOT NULL,
    tables VARCHAR NOT NULL,
    counts VARCHAR NOT NULL,
    result VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    entry_hash VARCHAR NOT NULL
)"""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    command: str
    arguments: dict[str, Any]
    tables: list[str]
    counts: dict[str, Any]
    result: str
    prev_hash: str
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "command": self.command,
            "arguments": self.arguments,
            "tables": self.tables,
            "counts": self.counts,
            "result": self.result,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


@dataclass
class VerifyReport:
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)
    earlier_key_through: int = 0
    """Entries up to this seq were keyed by a master key since replaced (`keys init
    --new-key`): their links are checked, their HMACs cannot be."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "problems": self.problems,
            "earlier_key_through": self.earlier_key_through,
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(
    key: bytes,
    seq: int,
    at: str,
    command: str,
    arguments: str,
    tables: str,
    counts: str,
    result: str,
    prev_hash: str,
) -> str:
    body = _canonical([seq, at, command, arguments, tables, counts, result, prev_hash])
    return hmac.new(key, body.encode("utf-8"), "sha256").hexdigest()


def _key(master: MasterKey) -> bytes:
    return master.derive("audit-log-chain")


def ensure_schema(con: Connection) -> None:
    con.execute(_DDL)


def _exists(con: Connection) -> bool:
    return internal_table_exists(con, "audit_log")


def append(
    con: Connection,
    master: MasterKey,
    *,
    command: str,
    arguments: dict[str, Any],
    tables: list[str],
    counts: dict[str, Any],
    result: str,
) -> AuditEntry:
    """Append one entry (inside the caller's transaction when there is one)."""
    ensure_schema(con)
    last = con.execute(f"SELECT seq, entry_hash FROM {TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    args_j, tables_j, counts_j = _canonical(arguments), _canonical(tables), _canonical(counts)
    entry_hash = _digest(_key(master), seq, at, command, args_j, tables_j, counts_j, result, prev)
    try:
        con.execute(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [seq, at, command, args_j, tables_j, counts_j, result, prev, entry_hash],
        )
    except SqlError as exc:
        full = classify(exc)
        if isinstance(full, NoSpaceError):  # say why a read-only command cannot go on
            raise NoSpaceError(
                f"`{command}` needs an audit entry (reads of personal data and all changes "
                f"are audited; nothing is shown or changed without one): {full.message}",
                hint=full.hint,
            ) from exc
        raise
    return AuditEntry(seq, at, command, arguments, tables, counts, result, prev, entry_hash)


def append_commits(
    con: Connection,
    master: MasterKey,
    command: str,
    commits: Sequence[tuple[Attachment, Commit]],
) -> None:
    """One entry per table commit of an attached source without multi-table transactions
    (a lake table: `Writes.commit()` returns them), in the caller's transaction."""
    for att, c in commits:
        append(
            con,
            master,
            command=f"{command} (lake commit)",
            arguments={"attachment": att.name, "kind": att.kind},
            tables=[c.table],
            counts=c.to_dict(),
            result="committed",
        )


def entries(con: Connection, limit: int | None = None) -> list[AuditEntry]:
    if not _exists(con):
        return []
    rows = con.execute(
        f"SELECT seq, logged_at, command, arguments, tables, counts, result, prev_hash, entry_hash "
        f"FROM {TABLE} ORDER BY seq DESC LIMIT ?",
        [limit if limit is not None else 2**62],
    ).fetchall()
    return [
        AuditEntry(
            r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), json.loads(r[5]), r[6], r[7], r[8]
        )
        for r in reversed(rows)
    ]


def verify(con: Connection, master: MasterKey, *, earlier_key_through: int = 0) -> VerifyReport:
    """Recompute the chain in storage order of seq; report every break found.

    Entries up to `earlier_key_through` were keyed by a master key that was replaced: only
    their order and links are checked (the chain still ties them to the later entries)."""
    if not _exists(con):
        return VerifyReport(0, GENESIS)
    key = _key(master)
    rows = con.execute(
        f"SELECT seq, logged_at, command, arguments, tables, counts, result, prev_hash, entry_hash "
        f"FROM {TABLE} ORDER BY seq"
    ).fetchall()
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for seq, at, command, arguments, tables, counts, result, prev_hash, entry_hash in rows:
        if seq != expected_seq:
            problems.append(
                f"entry {seq}: expected sequence number {expected_seq} "
                "(an entry was removed or inserted)"
            )
        if prev_hash != prev:
            problems.append(
                f"entry {seq}: does not follow the entry before it "
                "(removed, reordered or inserted entries)"
            )
        actual = _digest(key, seq, at, command, arguments, tables, counts, result, prev_hash)
        if seq > earlier_key_through and not hmac.compare_digest(
            actual.encode(), str(entry_hash).encode()
        ):  # any text
            problems.append(f"entry {seq}: content does not match its hash (edited or forged)")
        prev = entry_hash
        expected_seq = seq + 1
    return VerifyReport(len(rows), prev, problems, earlier_key_through)
