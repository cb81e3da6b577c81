"""Physical erasure of a person: which values must be gone, the rewrite that removes their
bytes, and the byte-level check that follows it.

Before the erasure is applied, the values it removes are read from the person's rows:
identity-link and free-text columns of deleted rows, the blanked columns of anonymized
rows, the fragments redacted from free text, and the normalised keys the search found.
Values that stay in rows kept under a legal basis are set aside (they are not erased).

After the logical erasure commits, the workspace file is rewritten once for the whole batch
(`Workspace.purge`). Then every file the engine keeps in the workspace is searched for the
bytes of each value. A value found there is looked up again in every table of the
workspace: if it is still held in a table (a kept row, another person's record, the
consent ledger), it was not erased and the certificate says where it is held; if no table
holds it, the bytes are residue and the verification fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tutela import purge
from tutela.errors import PurgeError
from tutela.subjects import tasks
from tutela.subjects.erase import ErasurePlan
from tutela.subjects.find import SearchSpace
from tutela.workspace import DB_FILE, PurgeReport, Workspace, json_list, quote_ident, relation


@dataclass
class ErasedValues:
    """One request's values that the erasure removes, each with where it came from."""

    values: dict[str, set[str]] = field(default_factory=dict)
    """value -> `table.column` labels (never shown with the value)"""
    kept: int = 0
    """distinct values left out because rows kept under a legal basis still hold them"""

    def add(self, value: str, where: str) -> None:
        self.values.setdefault(value, set()).add(where)


def _texts(value: Any) -> Iterable[str]:
    """Every text form DuckDB would store for a cell (lists and structs item by item)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, int | float | Decimal):
        yield str(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif not isinstance(value, dt.date | dt.time | dt.timedelta | bytes):
        yield str(value)


def _read(
    ws: Workspace, table: str, columns: Sequence[str], rowids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    wanted = sorted(set(rowids))
    if not columns or not wanted:
        return {}
    select = ", ".join(quote_ident(c) for c in columns)
    rows = ws.con.execute(
        f"SELECT rowid, {select} FROM {relation(table)} "
        "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
        [json_list(wanted)],
    ).fetchall()
    return {int(r[0]): dict(zip(columns, r[1:], strict=True)) for r in rows}


def erased_values(
    ws: Workspace, space: SearchSpace, plans: Sequence[ErasurePlan]
) -> dict[str, ErasedValues]:
    """Per request, the values the plans remove; read before they are applied. One query
    per table for the whole batch."""
    planned = {t.table for p in plans for t in p.tables}
    existing = {table: {c.name for c in ws.columns(table)} for table in planned}
    sensitive: dict[str, list[str]] = {}
    for link in space.links:
        sensitive.setdefault(link.table, []).append(link.column)
    for table, column in space.free_text:
        sensitive.setdefault(table, []).append(column)
    # (table) -> columns to read, and per request the rowids and which columns count
    wanted: dict[str, set[str]] = {}
    for plan in plans:
        for t in plan.tables:
            cols = set(sensitive.get(t.table, [])) | set(t.columns)
            wanted.setdefault(t.table, set()).update(c for c in cols if c in existing[t.table])
    cells = {
        table: _read(ws, table, sorted(cols), {r for p in plans for t in p.tables
                                               if t.table == table for r in t.rowids})
        for table, cols in wanted.items()
    }  # fmt: skip
    out: dict[str, ErasedValues] = {}
    for plan in plans:
        ev = ErasedValues()
        kept: set[str] = set()
        for t in plan.tables:
            table_cells = cells.get(t.table, {})
            read = sorted(wanted.get(t.table, set()))
            for rid in t.rowids:
                row = table_cells.get(rid, {})
                for col in read:
                    gone = t.action == "delete" or (t.action == "anonymize" and col in t.columns)
                    for text in _texts(row.get(col)):
                        if gone:
                            ev.add(text, f"{t.table}.{col}")
                        else:
                            kept.add(text)
        for r in plan.redactions:
            for fragment in r.fragments:
                ev.add(fragment, f"{r.table}.{r.column}")
        for kind, keys in plan.match.keys.items():
            for key in keys:
                ev.add(key, f"key:{kind}")
        left_out = kept & set(ev.values)
        for value in left_out:
            del ev.values[value]
        ev.kept = len(left_out)
        out[plan.request_id] = ev
    return out


def _held_in(ws: Workspace, values: Sequence[str]) -> dict[str, list[str]]:
    """For each value, the tables of the workspace (any schema) that still contain it,
    case-insensitively, in any column. Only run for the few values whose bytes were found."""
    if not values:
        return {}
    tables = ws.con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT temporary ORDER BY 1, 2"
    ).fetchall()
    found: dict[str, list[str]] = {}
    lowered = [v.lower() for v in values]
    for schema, table in tables:
        cols = ws.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
        if not cols:
            continue
        text = " || chr(31) || ".join(
            f"coalesce(lower(CAST({quote_ident(str(c[0]))} AS VARCHAR)), '')" for c in cols
        )
        name = f"{quote_ident(str(schema))}.{quote_ident(str(table))}"
        rows = ws.con.execute(
            f"SELECT DISTINCT n.v FROM (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS v) n "
            f"WHERE EXISTS (SELECT 1 FROM {name} t WHERE contains({text}, n.v))",
            [json_list(lowered)],
        ).fetchall()
        label = str(table) if schema == "main" else f"{schema}.{table}"
        for (v,) in rows:
            found.setdefault(str(v), []).append(label)
    return {v: found[v.lower()] for v in values if v.lower() in found}


def verify_bytes(
    ws: Workspace,
    erased: Mapping[str, ErasedValues],
    purged: PurgeReport | None,
    purge_error: PurgeError | None = None,
) -> dict[str, dict[str, Any]]:
    """Per request: the rewrite's facts and the byte search over every engine file."""
    files = purge.engine_files(ws.root, DB_FILE)
    per_request: dict[str, tuple[list[bytes], int]] = {
        req: purge.needle_bytes(ev.values) for req, ev in erased.items()
    }
    needles = sorted({n for ns, _ in per_request.values() for n in ns})
    search = purge.search_bytes(ws.root, files, needles)
    found_values = sorted({n.decode("utf-8") for n in search.found})
    held = _held_in(ws, found_values)
    out: dict[str, dict[str, Any]] = {}
    for req, ev in erased.items():
        _, short = per_request[req]
        residue: list[dict[str, Any]] = []
        still_held: list[dict[str, Any]] = []
        found = 0
        for value, where in sorted(ev.values.items()):
            forms = {value.encode("utf-8"), value.lower().encode("utf-8")}
            in_files = sorted({f for n in forms if n in search.found for f in search.found[n]})
            if not in_files:
                continue
            found += 1
            entry = {"from": sorted(where), "files": in_files}
            held_in = sorted({t for form in (value, value.lower()) for t in held.get(form, [])})
            if held_in:
                still_held.append({**entry, "held_in": held_in})
            else:
                residue.append(entry)
        searchable = len(ev.values) - short
        rewritten = purged is not None
        summary = (
            f"{'files rewritten' if rewritten else 'FILE NOT REWRITTEN'}; "
            f"{found} of {searchable} values found in {len(files)} files"
        )
        if still_held:
            summary += f" ({len(still_held)} still held in tables, not erased)"
        out[req] = {
            "ok": rewritten and not residue,
            "summary": summary,
            "rewritten": rewritten,
            "rewrite": purged.rewrite.to_dict() if purged else None,
            "rewrite_error": purge_error.message if purge_error else None,
            "files_searched": search.files,
            "values_searched": searchable,
            "values_too_short": short,
            "values_kept_under_legal_basis": ev.kept,
            "values_found": found,
            "still_held": still_held,
            "residue": residue,
        }
    return out


def purge_workspace(ws: Workspace) -> tuple[PurgeReport | None, PurgeError | None]:
    """Rewrite the workspace file once (for a whole batch). A failure is returned, not
    raised: the erasure is committed and audited already, and its certificate must say
    that the file was not rewritten (the pending marker makes the next command retry)."""
    try:
        return ws.purge(), None
    except PurgeError as exc:
        return None, exc


def record_tasks(ws: Workspace, owed: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """One task per source system and request (see tasks.py), in one transaction."""
    with ws.transaction() as con:
        for request_id, systems in owed.items():
            tasks.record(con, request_id, systems)


def annotate(
    cert: dict[str, Any],
    on_disk: Mapping[str, Any],
    systems: Sequence[Mapping[str, Any]],
    copies: Sequence[Mapping[str, Any]],
) -> None:
    """Add the physical check, the systems and earlier copies to a certificate; residue
    in the files fails its verification like residue in the tables."""
    cert["physical"] = dict(on_disk)
    cert["systems"] = [dict(s) for s in systems]
    cert["copies_written"] = [dict(c) for c in copies]
    cert["owed_at_sources"] = sorted(str(s["system"]) for s in systems if s["state"] == "owed")
    verification = cert["verification"]
    verification["tables_ok"] = bool(verification["ok"])
    verification["files_ok"] = bool(on_disk["ok"])
    verification["ok"] = bool(verification["ok"]) and bool(on_disk["ok"])
