"""Every system a person's data came from, and what is owed there.

The workspace usually holds *copies*: a CRM export, a newsletter CSV. Erasing the copy does
not erase the person at the source. For each source system (`tutela load --source`, else
the file loaded; a live attachment is its own system) this module says which tables hold
the person, whether the data was erased in place (a live database) or only in the loaded
copy, and for copies what is owed at the source: the file loaded and its sha256, the rows,
and the keys to find them there. Record ids (customer numbers, ticket ids) are given in
clear, since the source cannot be acted on without them; direct identifiers (e-mail, phone,
national id...) only as keyed hashes, like the certificate's identifiers.

Files Tutela wrote earlier that held the person (exports, protected copies, access
reports) are found in the audit log and listed too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tutela import audit
from tutela.base.keys import MasterKey, keyed_hash
from tutela.policy.erasure_actions import ErasureAction
from tutela.policy.models import Policy
from tutela.subjects.find import SearchSpace, SubjectMatch
from tutela.subjects.physical import Distinct, Rows, distinct_values
from tutela.subjects.plan import ErasurePlan
from tutela.workspace import (
    INTERNAL,
    Workspace,
    internal_table_exists,
    quote_ident,
)

RECORD_ID_KINDS = frozenset(
    {"customer_id", "account_id", "user_id", "member_id", "contract_id", "order_id",
     "ticket_id", "cookie_id", "device_id", "customer_ref", "loyalty_id"}
)  # fmt: skip
"""Identity-link kinds that are record keys of a source system: shown in clear."""
DIRECT_KINDS = frozenset(
    {"email", "phone", "national_id", "tax_id", "iban", "name", "passport", "card",
     "credit_card", "ip_address", "address", "date_of_birth", "social_security"}
)  # fmt: skip
_ROW_KEY_NAME = re.compile(
    r"(^|[_.\s])(id|no|nr|num|number|ref|code|key)$|id$|^id[_.]", re.IGNORECASE
)
MAX_KEYS_SHOWN = 200


def shows_in_clear(kind: str) -> bool:
    """Record ids are needed in clear to act at the source; direct identifiers never."""
    if kind in DIRECT_KINDS:
        return False
    return kind in RECORD_ID_KINDS or kind.endswith(("_id", "_ref", "_number"))


def _provenance(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.con.execute(
        f"SELECT table_name, source_system, path, sheet, sha256, loaded_at, row_count "
        f"FROM {INTERNAL}.sources"
    ).fetchall()
    return {
        r[0]: {
            "source_system": r[1],
            "file": r[2],
            "sheet": r[3],
            "sha256": r[4],
            "loaded_at": r[5].isoformat(timespec="seconds") if r[5] else None,
            "rows_loaded": r[6],
        }
        for r in rows
    }


def system_of(
    ws: Workspace, table: str, provenance: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str]:
    """(system, mode) of a table: a live attachment's name (in place), else the source
    system it was loaded with, else the file it came from (copy)."""
    found = ws.live_table(table)
    if found is not None:
        return found.attachment.name, "in_place"
    prov = provenance.get(table)
    if prov is None:
        return f"table:{table}", "copy"  # created inside the workspace, not loaded
    return str(prov["source_system"] or Path(str(prov["file"])).name), "copy"


def _row_key_columns(ws: Workspace, policy: Policy, table: str) -> list[str]:
    """Columns that name a row at its source: declared not personal in the policy, named
    like an id, and unique and non-null in the table (`ticket_id`, `order_id`)."""
    spec = policy.tables.get(table)
    if spec is None or ws.live_table(table) is not None:
        return []
    present = {c.name for c in ws.columns(table)}
    names = [
        name
        for name, col in spec.columns.items()
        if not col.personal and name in present and _ROW_KEY_NAME.search(name)
    ]
    if not names:
        return []
    checks = ", ".join(
        f"count(DISTINCT {quote_ident(n)}) = count(*) AND count({quote_ident(n)}) = count(*)"
        for n in names
    )
    row = ws.con.execute(f"SELECT {checks} FROM {ws.table_ident(table)}").fetchone()
    return [n for n, unique in zip(names, row or (), strict=False) if unique][:1]


def _keys(
    per_column: Mapping[str, set[str]],
    more: Mapping[str, int],
    columns: Sequence[tuple[str, str]],
    hash_key: bytes,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(record keys in clear, direct identifiers hashed) of one request's rows, per column;
    past MAX_KEYS_SHOWN values a column says how many more there are."""
    clear: list[dict[str, Any]] = []
    hashed: list[dict[str, Any]] = []
    for column, kind in columns:
        values = sorted(per_column.get(column, set()))
        if not values:
            continue
        entry: dict[str, Any] = {"column": column, "kind": kind}
        if kind == "row_key" or shows_in_clear(kind):
            entry["values"] = values
            clear.append(entry)
        else:
            entry["hashes"] = sorted({keyed_hash(hash_key, f"{kind}:{v.strip()}") for v in values})
            hashed.append(entry)
        if more.get(column, 0) > 0:
            entry["more"] = more[column]
    return clear, hashed


def _owed(
    action: ErasureAction | None, rows: int, columns: Sequence[str], redactions: int
) -> str | None:
    """`action` None: a table whose rows only mention the person in free text."""
    parts = []
    owed = action.owed_at_source(rows, columns) if action is not None else None
    if owed:
        parts.append(owed)
    if redactions:
        parts.append(f"redact the person's mentions in {redactions} free-text value(s)")
    return "; ".join(parts) or None


def erasure_systems(
    ws: Workspace,
    policy: Policy,
    space: SearchSpace,
    plans: Sequence[ErasurePlan],
    master: MasterKey,
) -> dict[str, list[dict[str, Any]]]:
    """Per request, every system holding the person and what is owed there. Read before
    the erasure is applied (the record keys are in the rows it removes)."""
    provenance = _provenance(ws)
    hash_key = master.derive("subject-identifiers")
    links: dict[str, list[tuple[str, str]]] = {}
    for link in space.links:
        links.setdefault(link.table, []).extend((c, link.kind) for c in link.columns)
    tables = sorted(
        {t.table for p in plans for t in p.tables} | {r.table for p in plans for r in p.redactions}
    )
    key_columns: dict[str, list[tuple[str, str]]] = {}
    # table -> column -> request -> distinct values. Rows only mentioning the person in free
    # text belong to someone else: only their row key is read, never their identifiers.
    key_values: dict[str, dict[str, Distinct]] = {}
    for table in tables:
        types = {c.name: c.type for c in ws.columns(table)}
        row_keys = [(c, "row_key") for c in _row_key_columns(ws, policy, table)]
        key_columns[table] = row_keys + [lc for lc in links.get(table, []) if lc not in row_keys]
        own = [(p.request_id, r) for p in plans for t in p.tables if t.table == table
               for r in t.rowids]  # fmt: skip
        other = [(p.request_id, r.rowid) for p in plans for r in p.redactions
                 if r.table == table]  # fmt: skip
        own_rows, all_rows = Rows.of(own), Rows.of(own + other)
        key_values[table] = {
            column: distinct_values(
                ws, table, column, types.get(column, "VARCHAR"),
                all_rows if kind == "row_key" else own_rows, limit=MAX_KEYS_SHOWN,
            )
            for column, kind in key_columns[table]
            if column in types
        }  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {}
    for plan in plans:
        by_system: dict[str, dict[str, Any]] = {}
        redacted: dict[str, list[int]] = {}
        for r in plan.redactions:
            redacted.setdefault(r.table, []).append(r.rowid)
        entries: list[tuple[str, ErasureAction | None, list[int], list[str], str | None]] = [
            (t.table, t.action, t.rowids, t.columns, t.legal_basis) for t in plan.tables
        ]
        planned = {t.table for t in plan.tables}
        entries += [(tb, None, [], [], None) for tb in sorted(redacted) if tb not in planned]
        for table, action, rowids, columns, basis in entries:
            system, mode = system_of(ws, table, provenance)
            sysd = by_system.setdefault(
                system,
                {"system": system, "mode": mode, "names": [], "tables": [], "rows": 0},
            )
            if mode == "copy":
                sysd["mode"] = "copy"  # a system with any copied table is owed at its source
            spec = policy.tables.get(table)
            if spec and spec.source_system and spec.source_system not in sysd["names"]:
                sysd["names"].append(spec.source_system)
            mentions = redacted.get(table, [])
            mine = {c: d.values.get(plan.request_id, set()) for c, d in key_values[table].items()}
            more = {
                c: d.totals.get(plan.request_id, 0) - len(mine[c])
                for c, d in key_values[table].items()
            }
            clear, hashed = _keys(mine, more, key_columns.get(table, []), hash_key)
            prov = provenance.get(table) or {}
            entry = {
                "table": table,
                "action": "redact" if action is None else str(action),
                "rows": len(rowids),
                "columns": list(columns),
                "legal_basis": basis,
                "free_text_redactions": len(mentions),
                "file": prov.get("file"),
                "sheet": prov.get("sheet"),
                "sha256": prov.get("sha256"),
                "loaded_at": prov.get("loaded_at"),
                "record_keys": clear,
                "identifiers_hashed": hashed,
                "owed": (
                    None
                    if action is not None and action.keeps
                    else _owed(action, len(rowids), columns, len(mentions))
                ),
            }
            sysd["tables"].append(entry)
            sysd["rows"] += len(rowids)
        for sysd in by_system.values():
            acting = [t for t in sysd["tables"] if t["owed"]]
            if not acting:
                sysd["state"] = "kept"
            elif sysd["mode"] == "in_place" and all(
                ws.live_table(t["table"]) is not None for t in acting
            ):
                sysd["state"] = "erased"
            else:
                sysd["state"] = "owed"
            sysd["action_owed"] = (
                _owed_text(sysd, [t for t in acting if ws.live_table(t["table"]) is None])
                if sysd["state"] == "owed"
                else None
            )
        out[plan.request_id] = sorted(by_system.values(), key=lambda s: str(s["system"]))
    return out


def _owed_text(system: Mapping[str, Any], tables: Sequence[Mapping[str, Any]]) -> str:
    where = " / ".join(system["names"]) or system["system"]
    parts = []
    for t in tables:
        keys = "; ".join(
            f"{k['column']} = {', '.join(k['values'])}"
            + (f" (+{k['more']} more)" if "more" in k else "")
            for k in t["record_keys"]
        )
        hashed = ", ".join(f"{h['column']} (keyed hash)" for h in t["identifiers_hashed"])
        source = Path(str(t["file"])).name if t["file"] else t["table"]
        find = keys or hashed or "the person's identifiers"
        parts.append(f"{t['owed']} of {source} where {find}")
    return f"at {where}: " + "; ".join(parts)


def access_systems(ws: Workspace, match: SubjectMatch) -> list[dict[str, Any]]:
    """For a subject-access report: per system, the tables holding the person, whether
    they were read in place (a live database) or from a loaded copy, and that copy's file."""
    provenance = _provenance(ws)
    by_system: dict[str, dict[str, Any]] = {}
    tables = sorted(set(match.rows) | {h.table for h in match.free_text})
    for table in tables:
        system, mode = system_of(ws, table, provenance)
        sysd = by_system.setdefault(system, {"system": system, "mode": mode, "tables": []})
        prov = provenance.get(table) or {}
        sysd["tables"].append(
            {
                "table": table,
                "rows": len(match.rows.get(table, [])),
                "free_text_mentions": sum(1 for h in match.free_text if h.table == table),
                "file": Path(str(prov["file"])).name if prov.get("file") else None,
                "sha256": prov.get("sha256"),
                "loaded_at": prov.get("loaded_at"),
            }
        )
    return sorted(by_system.values(), key=lambda s: str(s["system"]))


def copies_written(
    ws: Workspace, tables: Sequence[str], hashed: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Files Tutela wrote earlier that held the person, from the audit log: access reports
    for the same identifiers (certain), and exports or protected copies of a table that
    held the person's rows (possible: an export filtered by consent may have left them out)."""
    if not internal_table_exists(ws.con, "audit_log"):
        return []
    return _copies(audit.entries(ws.con), tables, hashed)


def copies_for_plans(
    ws: Workspace, plans: Sequence[ErasurePlan], hashed: Mapping[str, Mapping[str, Sequence[str]]]
) -> dict[str, list[dict[str, Any]]]:
    """`copies_written` for every request of a batch, reading the audit log once."""
    log = audit.entries(ws.con) if internal_table_exists(ws.con, "audit_log") else []
    return {
        p.request_id: _copies(log, sorted(p.match.rows), hashed.get(p.request_id, {}))
        for p in plans
    }


def _copies(
    log: Sequence[audit.AuditEntry], tables: Sequence[str], hashed: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    mine = {h for values in hashed.values() for h in values}
    held = set(tables)
    out: list[dict[str, Any]] = []
    for e in log:
        base = {"audit_seq": e.seq, "at": e.at, "command": e.command}
        if e.result == "read" and e.command in ("sar", "requests run"):
            for req, ids in (e.arguments.get("requests") or {}).items():
                if isinstance(ids, dict) and mine & {h for v in ids.values() for h in v}:
                    out.append({**base, "kind": "access report", "request_id": req,
                                "holds_person": "yes"})  # fmt: skip
        elif e.command == "export" and held & set(e.tables):
            out.append(
                {**base, "kind": "export", "file": e.arguments.get("file"),
                 "tables": e.tables, "holds_person": "possibly"}
            )  # fmt: skip
        elif e.command == "pseudonymize" and e.result.startswith("written ") and held & {*e.tables}:
            out.append(
                {**base, "kind": "protected copy", "file": e.result.split()[1],
                 "tables": e.tables, "holds_person": "possibly (pseudonymized)"}
            )  # fmt: skip
    return out
