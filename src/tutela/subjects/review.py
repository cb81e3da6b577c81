"""The review queue: possible matches of a request, and the reviewer's decision on each.

Every `sar`, `erase` and `requests run` records the possible matches of its request here
(one item per row, identified by the row's content fingerprint, so an item survives rowid
changes). `tutela review` lists the open items and records a reviewer's decision, audited.
The next run of the same request uses the decisions: a confirmed row is then the person's
(reported and erased), a rejected one is never listed again for that request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tutela import audit
from tutela.base.errors import UsageError
from tutela.base.keys import MasterKey
from tutela.engine import Connection
from tutela.subjects.find import (
    Decisions,
    SubjectMatch,
    fingerprints_present,
    row_fingerprints,
)
from tutela.workspace import INTERNAL, Workspace, internal_table_exists, json_list

TABLE = f"{INTERNAL}.review_queue"
CONFIRMED, REJECTED = "confirmed", "rejected"

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    request_id VARCHAR NOT NULL,
    item INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    row_ref VARCHAR,
    fingerprint VARCHAR NOT NULL,
    reason VARCHAR,
    score DOUBLE,
    evidence VARCHAR,
    masked VARCHAR,
    decision VARCHAR,
    note VARCHAR,
    decided_at TIMESTAMP,
    found_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, table_name, fingerprint)
)"""


SUBJECTS = f"{INTERNAL}.review_subjects"
"""Whose identifiers each reviewed request id was searched with (a keyed hash): a reviewer's
decisions hold for that person only."""


def check_subjects(con: Connection, subjects: Mapping[str, str]) -> None:
    """Refuse a request id whose possible matches were recorded for other identifiers: its
    decisions (rows confirmed as that person's) must never be applied to someone else."""
    if not subjects or not internal_table_exists(con, "review_subjects"):
        return
    other = sorted(
        str(r[0])
        for r in con.execute(
            f"SELECT s.request_id FROM {SUBJECTS} s JOIN (SELECT UNNEST(?::VARCHAR[]) AS r, "
            "UNNEST(?::VARCHAR[]) AS h) x ON x.r = s.request_id WHERE s.subject_hash <> x.h",
            [list(subjects), list(subjects.values())],
        ).fetchall()
    )
    if other:
        raise UsageError(
            f"request id {', '.join(map(repr, other))} was reviewed for a search with other "
            "identifiers; a reviewer's decisions hold for those identifiers only",
            hint="give this search a new --request-id (or the identifiers the request was "
            "reviewed with)",
        )


def _bind_subjects(con: Connection, subjects: Mapping[str, str]) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SUBJECTS} "
        "(request_id VARCHAR PRIMARY KEY, subject_hash VARCHAR NOT NULL)"
    )
    con.execute(
        f"INSERT OR IGNORE INTO {SUBJECTS} SELECT UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[])",
        [list(subjects), list(subjects.values())],
    )


@dataclass(frozen=True)
class ReviewItem:
    request_id: str
    item: int
    table: str
    row_ref: str | None
    reason: str | None
    score: float | None
    evidence: list[str]
    masked: dict[str, str]
    decision: str | None
    note: str | None
    decided_at: str | None
    fingerprint: str = ""
    unchanged: bool | None = None
    """Whether the workspace still holds the row as it was found (None: not looked up, an
    attached table). A decision holds for the row as found: on a row erased or changed
    since, it applies to nothing (a changed row is judged afresh by the next run)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "item": self.item,
            "table": self.table,
            "row": self.row_ref,
            "reason": self.reason,
            "score": self.score,
            "evidence": self.evidence,
            "values": self.masked,
            "decision": self.decision,
            "note": self.note,
            "decided_at": self.decided_at,
            **({} if self.unchanged is None else {"row_unchanged": self.unchanged}),
        }


def with_presence(ws: Workspace, found: Sequence[ReviewItem]) -> list[ReviewItem]:
    """The items, each saying whether its row is still held as it was found (one pass per
    loaded table; an attached table, which may be large or out of reach, is not read, nor
    is one no longer loaded: its items say nothing)."""
    loaded = {t.casefold() for t in ws.user_tables(include_live=False)}
    by_table: dict[str, set[str]] = {}
    for i in found:
        if i.table.casefold() in loaded:  # not an attached table, nor one no longer loaded
            by_table.setdefault(i.table, set()).add(i.fingerprint)
    present = {
        (t, fp) for t, fps in by_table.items() for fp in fingerprints_present(ws, t, sorted(fps))
    }
    return [
        replace(i, unchanged=(i.table, i.fingerprint) in present) if i.table in by_table else i
        for i in found
    ]


def decisions(con: Connection, request_ids: Iterable[str]) -> Decisions:
    """The decided items of these requests: {request: {(table, fingerprint): decision}}."""
    ids = sorted(set(request_ids))
    if not ids or not internal_table_exists(con, "review_queue"):
        return {}
    rows = con.execute(
        f"SELECT request_id, table_name, fingerprint, decision FROM {TABLE} "
        "WHERE decision IS NOT NULL AND request_id IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
        [json_list(ids)],
    ).fetchall()
    out: dict[str, dict[tuple[str, str], str]] = {}
    for req, table, fp, decision in rows:
        out.setdefault(req, {})[(table, fp)] = decision
    return out


def ensure_table(con: Connection) -> None:
    con.execute(_DDL)


def _stale_items(
    ws: Workspace, con: Connection, matches: Mapping[str, SubjectMatch]
) -> dict[str, list[tuple[str, str]]]:
    """Per request, the open items the search no longer lists whose row is gone, changed or
    now certain for the request (one pass per table over all requests' items)."""
    if not matches:
        return {}
    rows = con.execute(
        f"SELECT request_id, table_name, fingerprint FROM {TABLE} WHERE decision IS NULL "
        "AND request_id IN (SELECT UNNEST(?::VARCHAR[]))",
        [sorted(matches)],
    ).fetchall()
    listed = {
        req: {(p.table, p.fingerprint) for p in m.possible if p.fingerprint}
        for req, m in matches.items()
    }
    unlisted = [(r, t, fp) for r, t, fp in rows if (t, fp) not in listed[r]]
    by_table: dict[str, set[str]] = {}
    for _, table, fp in unlisted:
        by_table.setdefault(table, set()).add(fp)
    present = {
        (t, fp) for t, fps in by_table.items() for fp in fingerprints_present(ws, t, sorted(fps))
    }
    certain: dict[str, set[tuple[str, str]]] = {}
    for req, m in matches.items():
        for table, rowids in m.rows.items():
            if table in by_table:
                fps = row_fingerprints(ws, table, rowids).values()
                certain.setdefault(req, set()).update((table, fp) for fp in fps)
    out: dict[str, list[tuple[str, str]]] = {}
    for req, table, fp in unlisted:
        if (table, fp) not in present or (table, fp) in certain.get(req, set()):
            out.setdefault(req, []).append((table, fp))
    return out


def record(
    ws: Workspace,
    con: Connection,
    matches: Mapping[str, SubjectMatch],
    subjects: Mapping[str, str],
) -> int:
    """Store the open possible matches of each request (call inside a transaction).

    New rows get the next item number; an open item no longer found is dropped only when its
    row is gone or changed (erased, or now certain). One still there stays open although the
    search no longer reaches it (say, the person's own rows that led to it were erased since):
    only a reviewer closes it. Decided items are kept as they are."""
    ensure_table(con)
    _bind_subjects(con, {r: subjects[r] for r, m in matches.items() if m.possible})
    now = datetime.now(UTC).replace(tzinfo=None)
    stale = _stale_items(ws, con, matches)
    # the whole batch in a few statements: one read, one delete, one update, one insert
    existing: dict[str, dict[tuple[str, str], str | None]] = {}
    last_item: dict[str, int] = {}
    for req, table, fp, decision, item in con.execute(
        f"SELECT request_id, table_name, fingerprint, decision, item FROM {TABLE} "
        "WHERE request_id IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
        [json_list(sorted(matches))],
    ).fetchall():
        existing.setdefault(req, {})[(table, fp)] = decision
        if (table, fp) not in stale.get(req, ()):
            last_item[req] = max(last_item.get(req, 0), int(item))
    gone = [(req, table, fp) for req, items in stale.items() for table, fp in items]
    updates: list[list[Any]] = []
    inserts: list[list[Any]] = []
    for req, match in matches.items():
        current = {(p.table, p.fingerprint): p for p in match.possible if p.fingerprint}
        known = existing.get(req, {})
        item = last_item.get(req, 0)
        for (table, fp), p in sorted(current.items(), key=lambda kv: (kv[1].table, kv[1].rowid)):
            values = [
                p.row_ref,
                p.reason,
                round(p.similarity, 3),
                json.dumps(p.evidence, ensure_ascii=False),
                json.dumps(p.masked, ensure_ascii=False),
            ]
            if (table, fp) in known:
                if known[(table, fp)] is None:
                    updates.append([req, table, fp, *values])
                continue
            item += 1
            inserts.append([req, item, table, fp, *values])
    if gone:
        con.execute(
            f"DELETE FROM {TABLE} WHERE EXISTS (SELECT 1 FROM (SELECT "
            f"{_unnest(3)}) d WHERE d.c0 = request_id AND d.c1 = table_name "
            "AND d.c2 = fingerprint)",
            _columns(gone, 3),
        )
    if updates:
        con.execute(
            f"UPDATE {TABLE} SET row_ref = u.c3, reason = u.c4, score = CAST(u.c5 AS DOUBLE), "
            f"evidence = u.c6, masked = u.c7 FROM (SELECT {_unnest(8)}) u "
            f"WHERE {TABLE}.request_id = u.c0 AND {TABLE}.table_name = u.c1 "
            f"AND {TABLE}.fingerprint = u.c2",
            _columns(updates, 8),
        )
    if inserts:
        con.execute(
            f"INSERT INTO {TABLE} (request_id, item, table_name, fingerprint, row_ref, reason, "
            f"score, evidence, masked, found_at) SELECT c0, CAST(c1 AS INTEGER), c2, c3, c4, "
            f"c5, CAST(c6 AS DOUBLE), c7, c8, ? FROM (SELECT {_unnest(9)})",
            [now, *_columns(inserts, 9)],
        )
    added = len(inserts)
    return added


def _unnest(n: int) -> str:
    """n parallel JSON lists (bound in order) as columns c0..c{n-1}, as text."""
    return ", ".join(f"UNNEST(CAST(?::JSON AS VARCHAR[])) AS c{i}" for i in range(n))


def _columns(rows: Sequence[Sequence[Any]], n: int) -> list[str]:
    """The columns of `rows` as JSON lists of text (None stays null), for `_unnest`."""
    return [
        json.dumps([None if r[i] is None else str(r[i]) for r in rows], ensure_ascii=False)
        for i in range(n)
    ]


def open_counts(con: Connection, request_ids: Sequence[str]) -> dict[str, int]:
    """Possible matches still waiting for a reviewer, per request (one query for a batch;
    requests with none are left out)."""
    if not request_ids or not internal_table_exists(con, "review_queue"):
        return {}
    rows = con.execute(
        f"SELECT request_id, count(*) FROM {TABLE} WHERE decision IS NULL AND request_id IN "
        "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[]))) GROUP BY request_id",
        [json_list(list(request_ids))],
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def items(
    con: Connection, request_id: str | None = None, *, open_only: bool = True
) -> list[ReviewItem]:
    if not internal_table_exists(con, "review_queue"):
        return []
    where, params = [], []
    if request_id is not None:
        where.append("request_id = ?")
        params.append(request_id)
    if open_only:
        where.append("decision IS NULL")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = con.execute(
        f"SELECT request_id, item, table_name, row_ref, reason, score, evidence, masked, "
        f"decision, note, decided_at, fingerprint FROM {TABLE} {clause} "
        "ORDER BY request_id, item",
        params,
    ).fetchall()
    return [
        ReviewItem(
            r[0],
            int(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            json.loads(r[6] or "[]"),
            json.loads(r[7] or "{}"),
            r[8],
            r[9],
            r[10].isoformat(sep=" ", timespec="seconds") if r[10] else None,
            r[11],
        )
        for r in rows
    ]


def decide(
    ws: Workspace,
    master: MasterKey,
    request_id: str,
    item_numbers: Sequence[int],
    decision: str,
    note: str | None = None,
) -> list[ReviewItem]:
    """Record a reviewer's decision on items of one request, with an audit entry. The
    items are returned saying whether their rows are still held as found: a row another
    request erased or changed since can still be decided, but the decision applies to
    nothing, and the caller must say so."""
    if decision not in (CONFIRMED, REJECTED):
        raise UsageError(f"a decision is {CONFIRMED} or {REJECTED}, not {decision!r}")
    known = {i.item: i for i in items(ws.con, request_id, open_only=False)}
    if not known:
        raise UsageError(
            f"request {request_id!r} has no possible matches to review",
            hint="`tutela review list` shows the requests with open items",
        )
    missing = sorted(set(item_numbers) - set(known))
    if missing:
        raise UsageError(
            f"request {request_id!r} has no item {', '.join(map(str, missing))} "
            f"(items: {', '.join(map(str, sorted(known)))})"
        )
    chosen = sorted(set(item_numbers))
    looked = {i.item: i.unchanged for i in with_presence(ws, [known[n] for n in chosen])}
    gone = [n for n, unchanged in looked.items() if unchanged is False]
    now = datetime.now(UTC).replace(tzinfo=None)
    with ws.transaction() as con:
        con.execute(
            f"UPDATE {TABLE} SET decision = ?, note = ?, decided_at = ? WHERE request_id = ? "
            "AND item IN (SELECT UNNEST(CAST(?::JSON AS INTEGER[])))",
            [decision, note, now, request_id, json_list(sorted(set(item_numbers)))],
        )
        audit.append(
            con,
            master,
            command=f"review {'confirm' if decision == CONFIRMED else 'reject'}",
            arguments={"request_id": request_id, "items": sorted(set(item_numbers))},
            tables=sorted({known[i].table for i in item_numbers}),
            counts={
                decision: len(chosen),
                **({"rows_erased_or_changed": len(gone)} if gone else {}),
            },
            result=decision,
        )
    return [  # a decision changes no row: presence as looked up before it
        replace(i, unchanged=looked[i.item])
        for i in items(ws.con, request_id, open_only=False)
        if i.item in looked
    ]
