"""One task per source system for each erasure request: a request is done when every
system is.

An erasure applied to a live attachment is done there (`in_place`, `erased`). One applied to
a loaded copy is `owed` at the source system until someone confirms it was carried out
there (`tutela requests confirm REQ --system crm --note "..."`, audited). The request's own
state (`_tutela.requests`) is `awaiting_systems` while a task is owed and `done` when none
is. The table holds no personal data: system names, counts and the confirming note.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tutela import audit
from tutela.base.errors import UsageError
from tutela.base.keys import MasterKey
from tutela.workspace import INTERNAL, Workspace, internal_table_exists

TABLE = f"{INTERNAL}.request_tasks"
REQUESTS = f"{INTERNAL}.requests"
"""The requests table (made and filled by requests.py; a confirmation can finish one)."""
AWAITING = "awaiting_systems"

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    request_id VARCHAR,
    system VARCHAR,
    mode VARCHAR,
    state VARCHAR,
    note VARCHAR,
    updated_at TIMESTAMP NOT NULL,
    tables VARCHAR,
    rows BIGINT,
    PRIMARY KEY (request_id, system)
)"""


def ensure_table(con: Any) -> None:
    con.execute(_DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record(con: Any, systems_by_request: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """The tasks of applied erasures (systems from `systems.erasure_systems`, by request id),
    written in one statement for the whole batch; a system confirmed earlier stays
    confirmed, one kept under a legal basis gets no task."""
    ensure_table(con)
    ids = list(systems_by_request)
    confirmed = {
        (str(r[0]), str(r[1]))
        for r in con.execute(
            f"SELECT request_id, system FROM {TABLE} "
            "WHERE state = 'confirmed' AND list_contains(?::VARCHAR[], request_id)",
            [ids],
        ).fetchall()
    }
    rows = [
        (request_id, str(s["system"]), str(s["mode"]),
         "erased" if s["state"] == "erased" else "owed",
         json.dumps([t["table"] for t in s["tables"]]), int(s["rows"]))
        for request_id, systems in systems_by_request.items()
        for s in systems
        if s["state"] != "kept" and (request_id, str(s["system"])) not in confirmed
    ]  # fmt: skip
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} SELECT * FROM (SELECT unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), NULL, "
        "?::TIMESTAMP, unnest(?::VARCHAR[]), unnest(?::BIGINT[]))",
        [list(columns[0]), list(columns[1]), list(columns[2]), list(columns[3]), _now(),
         list(columns[4]), list(columns[5])],
    )  # fmt: skip


def owed_by_request(con: Any, request_ids: Sequence[str]) -> dict[str, list[str]]:
    """The systems where each request's erasure is still owed (one query for a batch)."""
    if not request_ids or not internal_table_exists(con, "request_tasks"):
        return {}
    rows = con.execute(
        f"SELECT request_id, system FROM {TABLE} WHERE state = 'owed' AND request_id IN "
        "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[]))) ORDER BY request_id, system",
        [json.dumps(list(request_ids))],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for req, system in rows:
        out.setdefault(str(req), []).append(str(system))
    return out


def awaiting_reason(owed: Sequence[str]) -> str:
    return "erased in the workspace; owed at the source: " + ", ".join(owed)


@dataclass(frozen=True)
class Confirmation:
    request_id: str
    system: str
    state: str
    request_state: str
    still_owed: list[str]
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "system": self.system,
            "task_state": self.state,
            "request_state": self.request_state,
            "still_owed": self.still_owed,
            "audit_seq": self.audit_seq,
        }


def confirm(
    ws: Workspace, master: MasterKey, request_id: str, system: str, note: str | None
) -> Confirmation:
    """Record that the erasure was carried out at `system`; the request becomes done when
    no task is owed any more. Audited, in one transaction."""
    if not internal_table_exists(ws.con, "request_tasks"):
        raise UsageError(f"no erasure request {request_id!r} has tasks to confirm")
    known = ws.con.execute(
        f"SELECT system, state FROM {TABLE} WHERE request_id = ? ORDER BY system", [request_id]
    ).fetchall()
    if not known:
        raise UsageError(f"no erasure request {request_id!r} with tasks per system")
    states = {str(r[0]): str(r[1]) for r in known}
    if system not in states:
        raise UsageError(
            f"request {request_id} has no task for system {system!r}",
            hint="its systems: " + ", ".join(f"{s} ({st})" for s, st in states.items()),
        )
    with ws.transaction() as con:
        if states[system] == "owed":
            con.execute(
                f"UPDATE {TABLE} SET state = 'confirmed', note = ?, updated_at = ? "
                "WHERE request_id = ? AND system = ?",
                [note, _now(), request_id, system],
            )
            states[system] = "confirmed"
        still = sorted(s for s, st in states.items() if st == "owed")
        row = con.execute(
            f"SELECT state FROM {REQUESTS} WHERE request_id = ?", [request_id]
        ).fetchone()
        request_state = str(row[0]) if row else "done"
        if request_state == AWAITING and not still:
            request_state = "done"
            con.execute(
                f"UPDATE {REQUESTS} SET state = 'done', reason = NULL, updated_at = ? "
                "WHERE request_id = ?",
                [_now(), request_id],
            )
        elif request_state == AWAITING:
            con.execute(
                f"UPDATE {REQUESTS} SET reason = ?, updated_at = ? WHERE request_id = ?",
                [awaiting_reason(still), _now(), request_id],
            )
        entry = audit.append(
            con,
            master,
            command="requests confirm",
            arguments={"request_id": request_id, "system": system, "note": note},
            tables=[],
            counts={"still_owed": len(still)},
            result="confirmed",
        )
    return Confirmation(request_id, system, states[system], request_state, still, entry.seq)


def tasks_by_request(
    con: Any, request_ids: Sequence[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    if not internal_table_exists(con, "request_tasks"):
        return {}
    rows = con.execute(
        f"SELECT request_id, system, mode, state, note, updated_at, tables, rows FROM {TABLE} "
        "ORDER BY request_id, system"
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if request_ids is not None and r[0] not in request_ids:
            continue
        out.setdefault(str(r[0]), []).append(
            {
                "system": r[1],
                "mode": r[2],
                "state": r[3],
                "note": r[4],
                "updated_at": r[5].isoformat(timespec="seconds") if r[5] else None,
                "tables": json.loads(r[6] or "[]"),
                "rows": r[7],
            }
        )
    return out


def overdue(task: Mapping[str, Any], deadline: date, today: date) -> bool:
    return task["state"] == "owed" and deadline < today
