"""Erasure (GDPR Art. 17): plan, apply in one transaction, verify, certify.

The plan follows the policy's erasure rules per table: delete the person's rows, blank the
listed columns (anonymize), or keep the rows under a stated legal basis (Art. 17(3)); each
action is one object in `policy/erasure_actions.py`, applied here through its `apply`.
Free-text mentions in rows that stay are redacted in place. Possible matches (similar
name, no certain identifier) are listed for review and never touched.

Applying runs every statement and the audit entry in one DuckDB transaction: a crash or
kill part-way leaves the data exactly as before. Each action (delete rows, blank columns,
rewrite a text) goes through one interface, `sources.Writer` (`Workspace.writes`), whatever
holds the table: loaded tables change in that transaction, attached ones (PostgreSQL,
SQLite, lake tables) in their own, committed just before it. Verification then searches again for
every identifier found while planning; anything left outside kept rows is residue.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tutela import audit
from tutela.base.keys import MasterKey, keyed_hash
from tutela.policy.erasure_actions import ErasureAction
from tutela.sources import LiveErasure, Writes
from tutela.subjects import ledger, tasks
from tutela.subjects.find import (
    SearchSpace,
    held_short_numbers,
    row_fingerprints,
    search_residue,
    short_number_only,
)
from tutela.subjects.identity import AMBIGUOUS
from tutela.subjects.plan import ErasurePlan as ErasurePlan  # re-exported with the two below
from tutela.subjects.plan import Redaction
from tutela.subjects.plan import TablePlan as TablePlan
from tutela.subjects.plan import plan_erasure as plan_erasure
from tutela.workspace import Workspace, internal_table_exists, json_list, quote_ident

REDACTED = "[REDACTED]"


def _redact_all(ws: Workspace, writes: Writes, redactions: Sequence[Redaction]) -> None:
    """Free-text redactions: one read and one write per column, however many rows
    (fragments of several people in one text are all applied)."""
    by_column: dict[tuple[str, str], dict[int, list[str]]] = {}
    for r in redactions:
        by_column.setdefault((r.table, r.column), {}).setdefault(r.rowid, []).extend(r.fragments)
    for (table, column), fragments in sorted(by_column.items()):
        rows = ws.con.execute(
            f"SELECT rowid, CAST({quote_ident(column)} AS VARCHAR) FROM {ws.relation(table)} "
            "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(sorted(fragments))],
        ).fetchall()
        new = {
            rid: redact(text, sorted(set(fragments[rid]), key=len, reverse=True))
            for rid, text in rows
            if text is not None
        }
        if new:
            writes.set_text(table, column, new)


def redact(text: str, fragments: Sequence[str]) -> str:
    """Every occurrence of the fragments, never part of a longer number ("10234" in
    "pedido 102345" stays: it is another number)."""
    for fragment in fragments:
        before = "(?<![0-9])" if fragment[:1].isdigit() else ""
        after = "(?![0-9])" if fragment[-1:].isdigit() else ""
        text = re.sub(before + re.escape(fragment) + after, REDACTED, text, flags=re.IGNORECASE)
    return text


@dataclass
class ErasureOutcome:
    plan: ErasurePlan
    counts: dict[str, dict[str, int]]
    audit_entry: audit.AuditEntry
    verification: dict[str, Any]
    identifiers: dict[str, list[str]]
    key_id: str
    finished_at: str
    live: list[LiveErasure] = field(default_factory=list)
    """What became of the erased content in each live table's storage (live.py)."""

    @property
    def verified(self) -> bool:
        return bool(self.verification["ok"])


def hashed_identifiers(
    master: MasterKey, identifiers: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    key = master.derive("subject-identifiers")
    return {
        kind: sorted(keyed_hash(key, f"{kind}:{v}") for v in values)
        for kind, values in identifiers.items()
    }


def apply_plans(
    ws: Workspace,
    master: MasterKey,
    plans: Sequence[ErasurePlan],
    identifiers: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    command: str = "erase",
    owed: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> tuple[dict[str, dict[str, dict[str, int]]], audit.AuditEntry]:
    """Every plan, the tasks owed at each source system (`owed`, by request) and one audit
    entry, in one transaction: a crash after it cannot lose what the systems are owed."""
    counts: dict[str, dict[str, dict[str, int]]] = {p.request_id: {} for p in plans}
    # Set-based: one call per action, table and column list, however many requests.
    steps: dict[tuple[ErasureAction, str, tuple[str, ...]], set[int]] = {}
    for plan in plans:
        per_table = counts[plan.request_id]
        for t in plan.tables:
            per_table.setdefault(t.table, {})[t.action.done] = len(t.rowids)
            if not t.action.keeps:
                steps.setdefault((t.action, t.table, tuple(t.columns)), set()).update(t.rowids)
        for r in plan.redactions:
            c = per_table.setdefault(r.table, {})
            c["redacted"] = c.get("redacted", 0) + 1
    touched = sorted(
        {t.table for p in plans for t in p.tables if not t.action.keeps}
        | {r.table for p in plans for r in p.redactions}
    )
    checking = ws.writes(ws.con)
    checking.check_writable(touched)  # before anything changes
    live_tables = checking.external(touched)
    # Catalog lookups read every attached catalog; inside the transaction that would hold
    # a read lock on an attached SQLite file and make its commit fail. Look up first.
    shred_table = internal_table_exists(ws.con, "subject_keys")
    hashed = {p.request_id: hashed_identifiers(master, identifiers[p.request_id]) for p in plans}
    if live_tables:
        # Live databases commit in their own transactions just before the workspace; this
        # entry makes an interruption in between visible (a "started" with no "applied").
        with ws.transaction() as con:
            audit.append(
                con,
                master,
                command=command,
                arguments={"requests": hashed},
                tables=live_tables,
                counts={},
                result="started",
            )
    try:
        with ws.transaction(purge_after=command) as con:  # physical purge: Workspace.purge
            # Loaded tables change in this transaction; attached ones in their own,
            # committed just before it (a refused commit there rolls this one back).
            writes = ws.writes(con)
            try:
                _redact_all(ws, writes, [r for plan in plans for r in plan.redactions])
                # updates first, row deletions last: the updates address rows by rowid
                for (action, table, columns), rowids in sorted(
                    steps.items(), key=lambda s: (s[0][0].last, s[0][1], s[0][2], str(s[0][0]))
                ):
                    if action.apply is not None:
                        action.apply(writes, table, columns, sorted(rowids))
                _shred_subject_keys(con, master, plans, counts, shred_table)  # same txn
                for plan in plans:  # what they shared stays shared (subjects/ledger.py)
                    erased = plan.redactions or any(
                        t.rowids and not t.action.keeps for t in plan.tables
                    )
                    shared = [
                        (h.kind, h.key, h.cc)
                        for h in plan.match.held_back
                        if h.status == AMBIGUOUS and h.key
                    ]
                    if erased:  # a plan that erased nothing leaves nothing to remember
                        ledger.record(con, master, plan.request_id, shared, now())
                if owed:
                    tasks.record(con, owed)
                entry = audit.append(
                    con,
                    master,
                    command=command,
                    arguments={"requests": hashed},
                    tables=sorted(
                        {t.table for p in plans for t in p.tables}
                        | {r.table for p in plans for r in p.redactions}
                    ),
                    counts=counts,
                    result="applied",
                )
                landed = writes.commit()  # attached sources; then the workspace
                audit.append_commits(con, master, command, landed)  # one entry per lake table
            finally:
                writes.rollback()  # no-op after a commit
    except Exception as exc:
        if live_tables:  # nothing was committed: say so next to the "started" entry
            with contextlib.suppress(Exception), ws.transaction() as con:
                audit.append(
                    con,
                    master,
                    command=command,
                    arguments={"requests": hashed},
                    tables=live_tables,
                    counts={"error": getattr(exc, "slug", type(exc).__name__)},
                    result="failed",
                )
        raise
    return counts, entry


def _shred_subject_keys(
    con: Any,
    master: MasterKey,
    plans: Sequence[ErasurePlan],
    counts: dict[str, dict[str, dict[str, int]]],
    table_exists: bool,
) -> None:
    """Crypto-shredding (protect/shred.py): destroy the per-subject keys of every identifier
    of the erased person, so `shred:` values in earlier exports and backups die too. Skipped
    when the plan keeps rows under a legal basis (their shredded values must stay readable)."""
    from tutela.protect.shred import destroy_subject_keys

    for plan in plans:
        if any(t.action.keeps for t in plan.tables):
            continue
        n = destroy_subject_keys(con, master, plan.match.keys, table_exists=table_exists)
        if n:
            counts[plan.request_id]["_tutela.subject_keys"] = {"subject_keys_destroyed": n}


def verify(
    ws: Workspace, space: SearchSpace, plans: Sequence[ErasurePlan]
) -> dict[str, dict[str, Any]]:
    """Search again for every identifier that was the person's alone while planning;
    report residue outside kept rows and rows held back for review. Shared identifiers are
    not searched: after the person's rows are gone, the rows still carrying them are the
    other people's."""
    requests = {
        p.request_id: [
            (kind, key, cc)
            for kind, keys in sorted(p.match.keys.items())
            if kind != "name"
            for key in sorted(keys)
            for cc in sorted(p.match.countries.get((kind, key)) or [None], key=str)
        ]
        for p in plans
    }
    requests = {r: k for r, k in requests.items() if k}
    after = search_residue(ws, space, requests) if requests else {}
    out: dict[str, dict[str, Any]] = {}
    for plan in plans:
        found = after.get(plan.request_id)
        kept = plan.kept_rows()
        held: dict[str, set[str]] = {}
        for p in plan.match.possible:
            held.setdefault(p.table, set()).add(p.fingerprint)
        residue = []
        held_rows = 0
        if found:
            for table, rowids in found.rows.items():
                left = [r for r in rowids if r not in kept.get(table, set())]
                if left and table in held:
                    fps = row_fingerprints(ws, table, left)
                    held_rows += sum(1 for r in left if fps.get(r) in held[table])
                    left = [r for r in left if fps.get(r) not in held[table]]
                if left:
                    residue.append({"table": table, "rows": len(left)})
            texts = [h for h in found.free_text if h.rowid not in kept.get(h.table, set())]
            for table in sorted({h.table for h in texts} & set(held)):
                # a text held for review while planning (its row a possible match) is held
                fps = row_fingerprints(ws, table, [h.rowid for h in texts if h.table == table])
                waiting = [h for h in texts if h.table == table and fps.get(h.rowid) in held[table]]
                held_rows += len(waiting)
                texts = [h for h in texts if h not in waiting]
            # a short id held back while planning is held back by the same rule now
            held_texts = held_short_numbers(ws, space, [h for h in texts if short_number_only(h)])
            for hit in texts:
                if (hit.table, hit.column, hit.rowid) in held_texts:
                    held_rows += 1
                    continue
                residue.append(
                    {
                        "table": hit.table,
                        "column": hit.column,
                        "rows": 1,
                        "kinds": sorted(hit.kinds),
                    }
                )
        out[plan.request_id] = {
            "ok": not residue,
            "searched_identifiers": len({k[:2] for k in requests.get(plan.request_id, [])}),
            "residue": residue,
            "held_for_review": held_rows,
        }
    return out


def earlier_erasures(
    con: Any, request_ids: Sequence[str], before: int
) -> dict[str, list[dict[str, Any]]]:
    """Erasures applied under these request ids before audit entry `before` (a run that was
    interrupted before its certificate, an earlier run of a request left for review): the
    entry, when, and what it did, as audited. A re-run's certificate names them."""
    if not request_ids or not internal_table_exists(con, "audit_log"):
        return {}
    rows = con.execute(
        f"SELECT seq, logged_at, counts FROM {audit.TABLE} WHERE result = 'applied' "
        "AND command IN ('erase', 'requests run') AND seq < ? "
        "AND list_has_any(json_keys(counts), ?::VARCHAR[]) ORDER BY seq",
        [before, list(request_ids)],
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    wanted = set(request_ids)
    for seq, logged_at, counts in rows:
        for request_id, done in json.loads(counts).items():
            if request_id in wanted:
                out.setdefault(request_id, []).append(
                    {"audit_entry": int(seq), "logged_at": logged_at, "counts": done}
                )
    return out


def shared_rows(plans: Sequence[ErasurePlan]) -> dict[str, dict[str, int]]:
    """For each request of one run, the other requests whose plans act on some of the same
    rows (one person asking twice, through two channels), and how many rows: those rows
    were changed once, and both certificates count them."""
    owners: dict[tuple[str, int], list[str]] = {}
    for plan in plans:
        rows = {(t.table, rid) for t in plan.tables if not t.action.keeps for rid in t.rowids}
        rows |= {(r.table, r.rowid) for r in plan.redactions}
        for row in rows:
            owners.setdefault(row, []).append(plan.request_id)
    out: dict[str, dict[str, int]] = {}
    for reqs in owners.values():
        for req in reqs:
            for other in reqs:
                if other != req:
                    out.setdefault(req, {})
                    out[req][other] = out[req].get(other, 0) + 1
    return out


def certificate(outcome: ErasureOutcome) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "certificate": "erasure",
        "request_id": plan.request_id,
        "completed_at": outcome.finished_at,
        "identifiers_hashed": outcome.identifiers,
        "key_id": outcome.key_id,
        "found": not plan.empty,
        "tables": [{**t.to_dict(), "counts": outcome.counts.get(t.table, {})} for t in plan.tables]
        + [
            {
                "table": table,
                "action": "redact",
                "rows": counts.get("redacted", 0),
                "columns": sorted({r.column for r in plan.redactions if r.table == table}),
                "legal_basis": None,
                "reason": "the person is mentioned in free text of rows that stay",
                "counts": counts,
            }
            for table, counts in sorted(outcome.counts.items())
            if table not in {t.table for t in plan.tables} and "redacted" in counts
        ],
        "free_text_redactions": sum(c.get("redacted", 0) for c in outcome.counts.values()),
        "subject_keys_destroyed": sum(
            c.get("subject_keys_destroyed", 0) for c in outcome.counts.values()
        ),
        "kept": [t.to_dict() for t in plan.tables if t.action.keeps],
        "possible_matches_for_review": len(plan.match.possible),
        "held_back": [h.to_dict() for h in plan.match.held_back],
        "confirmed_by_review": {t: len(r) for t, r in sorted(plan.match.confirmed.items())},
        "verification": outcome.verification,
        "audit_entry": {"seq": outcome.audit_entry.seq, "hash": outcome.audit_entry.entry_hash},
        "live_sources": [e.to_dict() for e in outcome.live],
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
