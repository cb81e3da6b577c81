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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tutela import purge
from tutela.base.errors import PurgeError
from tutela.subjects.find import SearchSpace
from tutela.subjects.plan import ErasurePlan
from tutela.workspace import DB_FILE, PurgeReport, Workspace, json_list, quote_ident


@dataclass
class ErasedValues:
    """One request's values that the erasure removes, each with where it came from."""

    values: dict[str, str] = field(default_factory=dict)
    """value -> the first `table.column` it was read from (never shown with the value)"""
    kept: int = 0
    """distinct values left out because rows kept under a legal basis still hold them"""
    over_limit: int = 0
    """distinct values not searched: past MAX_VALUES_PER_COLUMN in one column"""


_NOT_TEXT = ("DATE", "TIME", "TIMESTAMP", "INTERVAL", "BLOB", "BOOLEAN", "STRUCT", "MAP", "UNION")


MAX_VALUES_PER_COLUMN = 10_000
"""Per request and column, at most this many values are byte-searched (an erasure of
400,000 order rows does not need 400,000 needles to show the rewrite worked); the
certificate counts the rest as not searched."""


@dataclass
class Distinct:
    values: dict[str, set[str]] = field(default_factory=dict)
    """request -> distinct values (at most `limit` of them)"""
    totals: dict[str, int] = field(default_factory=dict)
    """request -> how many distinct values there are in all"""


@dataclass(frozen=True)
class Rows:
    """(request, rowid) pairs, serialised once for every column read from them."""

    requests: str
    rowids: str
    empty: bool

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, int]]) -> Rows:
        return cls(json_list(p[0] for p in pairs), json_list(p[1] for p in pairs), not pairs)


def distinct_values(
    ws: Workspace,
    table: str,
    column: str,
    column_type: str,
    pairs: Sequence[tuple[str, int]] | Rows,
    limit: int = MAX_VALUES_PER_COLUMN,
) -> Distinct:
    """The distinct non-empty text values of `column` in the rows given as (request, rowid)
    pairs, per request and at most `limit` each; list items one by one. One query, whatever
    the batch size. Dates, times, booleans and nested structs are left out."""
    out = Distinct()
    rows_ = pairs if isinstance(pairs, Rows) else Rows.of(pairs)
    if rows_.empty or column_type.upper().startswith(_NOT_TEXT):
        return out
    col = f"t.{quote_ident(column)}"
    value = (
        f"CAST(unnest({col}) AS VARCHAR)"
        if column_type.endswith("[]")
        else f"CAST({col} AS VARCHAR)"
    )
    rows = ws.con.execute(
        "WITH w AS (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS req, "
        "UNNEST(CAST(?::JSON AS BIGINT[])) AS rid), "
        f"d AS (SELECT DISTINCT req, v FROM (SELECT w.req, {value} AS v FROM w "
        f"JOIN {ws.relation(table)} t ON t.rowid = w.rid) WHERE v IS NOT NULL AND trim(v) <> '') "
        "SELECT req, v, count(*) OVER (PARTITION BY req) FROM d "
        "QUALIFY row_number() OVER (PARTITION BY req ORDER BY v) <= ?",
        [rows_.requests, rows_.rowids, limit],
    ).fetchall()
    for req, v, total in rows:
        out.values.setdefault(str(req), set()).add(str(v))
        out.totals[str(req)] = int(total)
    return out


def erased_values(
    ws: Workspace, space: SearchSpace, plans: Sequence[ErasurePlan]
) -> dict[str, ErasedValues]:
    """Per request, the values the plans remove; read before they are applied, in DuckDB:
    one query per column for the whole batch."""
    sensitive: dict[str, set[str]] = {}
    for link in space.links:
        sensitive.setdefault(link.table, set()).update(link.columns)
    for table, column in space.free_text:
        sensitive.setdefault(table, set()).add(column)
    out = {plan.request_id: ErasedValues() for plan in plans}
    kept: dict[str, set[str]] = {plan.request_id: set() for plan in plans}
    for table in sorted({t.table for p in plans for t in p.tables}):
        types = {c.name: c.type for c in ws.columns(table)}
        steps = [(p.request_id, t) for p in plans for t in p.tables if t.table == table]
        columns = set(sensitive.get(table, set())) | {c for _, t in steps for c in t.columns}
        serialised: dict[tuple[tuple[str, int], ...], Rows] = {}  # columns with the same rows
        for column in sorted(columns & set(types)):
            gone_pairs: list[tuple[str, int]] = []
            stay_pairs: list[tuple[str, int]] = []
            for req, t in steps:
                erased = t.action.removes(column, t.columns)
                (gone_pairs if erased else stay_pairs).extend((req, rid) for rid in t.rowids)
            for pairs in (gone_pairs, stay_pairs):
                if tuple(pairs) not in serialised:
                    serialised[tuple(pairs)] = Rows.of(pairs)
            gone, stays = serialised[tuple(gone_pairs)], serialised[tuple(stay_pairs)]
            label = f"{table}.{column}"
            removed = distinct_values(ws, table, column, types[column], gone)
            for req, values in removed.values.items():
                target = out[req].values
                for v in values:
                    target.setdefault(v, label)
                out[req].over_limit += removed.totals[req] - len(values)
            for req, values in distinct_values(
                ws, table, column, types[column], stays
            ).values.items():
                kept[req] |= values
    for plan in plans:
        ev = out[plan.request_id]
        for r in plan.redactions:
            for fragment in r.fragments:
                ev.values.setdefault(fragment, f"{r.table}.{r.column}")
        for kind, keys in plan.match.keys.items():
            for key in keys:
                ev.values.setdefault(key, f"key:{kind}")
        left_out = kept[plan.request_id] & ev.values.keys()
        for value in left_out:
            del ev.values[value]
        ev.kept = len(left_out)
    return out


def _tables(ws: Workspace) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(label, relation, (column, type)s) of every table of the workspace database."""
    rows = ws.con.execute(
        "SELECT schema_name, table_name, list([column_name, data_type] ORDER BY column_index) "
        "FROM duckdb_columns() WHERE database_name = current_database() "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() "
        "  WHERE database_name = current_database() AND NOT temporary) "
        "GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    return [
        (
            str(table) if schema == "main" else f"{schema}.{table}",
            f"{quote_ident(str(schema))}.{quote_ident(str(table))}",
            [(str(c[0]), str(c[1])) for c in columns],
        )
        for schema, table, columns in rows
    ]


_BATCH_ROWS = 100_000


def _held_in(
    ws: Workspace, values: Sequence[str], origins: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """For each value, the tables of the workspace (any schema) that still contain it,
    case-insensitively. Only run for the few values whose bytes were found. A value whose
    own column (`origins`: value -> `table.column` it was erased from) still holds it in
    another row, a namesake's name, is held in that table, and no other is looked at: one
    column read instead of every column of every table. For the rest: an exact match per
    column (a hash join), then one Aho-Corasick pass over each table's text (a value may
    be part of a longer one: `C1007` in `C10070`)."""
    import ahocorasick_rs

    if not values:
        return {}
    # lowered as DuckDB lowers the cells (Python lowers 'İ' to two characters, DuckDB to 'i')
    lower_of: dict[str, str] = dict(
        ws.con.execute(
            "SELECT v, lower(v) FROM (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS v)",
            [json_list(sorted(set(values)))],
        ).fetchall()
    )
    found: dict[str, set[str]] = {}
    tables = _tables(ws)
    by_column: dict[tuple[str, str], set[str]] = {}
    for value, origin in (origins or {}).items():
        table, _, column = origin.partition(".")
        if value in lower_of:
            by_column.setdefault((table, column), set()).add(lower_of[value])
    for label, name, columns in tables:
        for column, _ in columns:
            if (label, column) in by_column:
                for v in _equal_cells(ws, name, column, sorted(by_column[label, column])):
                    found.setdefault(v, set()).add(label)
    lowered = sorted(set(lower_of.values()) - found.keys())
    if lowered:
        for label, name, columns in tables:
            for column, _ in columns:
                for v in _equal_cells(ws, name, column, lowered):
                    found.setdefault(v, set()).add(label)
    rest = [v for v in lowered if v not in found]
    if rest:
        automaton = ahocorasick_rs.AhoCorasick(rest)
        for label, name, columns in tables:
            texts = [c for c, t in columns if not t.upper().startswith(_NOT_TEXT)]
            if not texts:
                continue
            text = " || chr(31) || ".join(
                f"coalesce(lower(CAST({quote_ident(c)} AS VARCHAR)), '')" for c in texts
            )
            # DuckDB joins the rows into one text per chunk: no Python object per row
            cur = ws.con.execute(
                f"SELECT string_agg(x, chr(30)) FROM (SELECT {text} AS x, "
                f"rowid // {_BATCH_ROWS} AS chunk FROM {name}) GROUP BY chunk"
            )
            while batch := cur.fetchmany(1):
                haystack = str(batch[0][0] or "")
                matches = automaton.find_matches_as_indexes(haystack, overlapping=True)
                hits = {i for i, _, _ in matches}
                for i in hits:
                    found.setdefault(rest[i], set()).add(label)
    return {v: sorted(found[lower_of[v]]) for v in values if lower_of[v] in found}


def _equal_cells(ws: Workspace, relation: str, column: str, lowered: Sequence[str]) -> list[str]:
    """Which of the lowered values a column holds, compared case-insensitively as text."""
    # DuckDB's lower() keeps the number of code points of every character (checked over
    # all of Unicode), so a cell can equal a value lowered only if it has the value's length
    # in code points: that cheap test first halves the cost of each column's pass.
    lengths = ", ".join(str(n) for n in sorted({len(v) for v in lowered}))
    rows = ws.con.execute(
        f"SELECT DISTINCT lower(x) FROM (SELECT CAST({quote_ident(column)} AS VARCHAR) "
        f"AS x FROM {relation}) WHERE length(x) IN ({lengths}) "
        "AND lower(x) IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
        [json_list(lowered)],
    ).fetchall()
    return [str(v) for (v,) in rows]


def verify_bytes(
    ws: Workspace,
    erased: Mapping[str, ErasedValues],
    purged: PurgeReport | None,
    purge_error: PurgeError | None = None,
) -> dict[str, dict[str, Any]]:
    """Per request: the rewrite's facts and the byte search over every engine file."""
    files = purge.engine_files(ws.root, DB_FILE)
    every = {v for ev in erased.values() for v in ev.values}
    needles, _ = purge.needle_bytes(every)
    search = purge.search_bytes(ws.root, files, needles)
    hits = search.found
    origins = {
        form: where
        for ev in erased.values()
        for v, where in ev.values.items()
        for form in (v, v.lower())
    }
    held_values = sorted({n.decode("utf-8") for n in hits})
    held = _held_in(ws, held_values, {v: origins[v] for v in held_values if v in origins})
    out: dict[str, dict[str, Any]] = {}
    for req, ev in erased.items():
        residue: list[dict[str, Any]] = []
        still_held: list[dict[str, Any]] = []
        short = 0
        found = 0
        for value, where in ev.values.items():
            raw = value.encode("utf-8")
            low = value.lower().encode("utf-8")
            if len(raw) < purge.MIN_NEEDLE_BYTES and len(low) < purge.MIN_NEEDLE_BYTES:
                short += 1
                continue
            if raw not in hits and low not in hits:
                continue
            in_files = sorted({*hits.get(raw, []), *hits.get(low, [])})
            found += 1
            entry = {"from": [where], "files": in_files}
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
        if ev.over_limit:
            summary += (
                f"; {ev.over_limit} more not searched (over {MAX_VALUES_PER_COLUMN:,} per column)"
            )
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
            "values_over_limit": ev.over_limit,
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
