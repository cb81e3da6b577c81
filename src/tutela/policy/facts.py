"""Workspace facts for a policy: loaded columns, scan results, retention and consent counts.

Every query pushes the work into DuckDB with quoted identifiers and bound parameters;
only counts and dates come back, never personal values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tutela.base.normalize import key_sql
from tutela.detect import TableScan, stored_scan_with_decisions
from tutela.policy.models import IdentityLink, Policy, RetentionRule
from tutela.policy.sql import any_of, date_expr
from tutela.workspace import (
    INTERNAL,
    Workspace,
    internal_table_exists,
    quote_ident,
)


@dataclass(frozen=True)
class ScanColumn:
    table: str
    column: str
    entity: str | None
    category: str | None
    quasi_identifier: bool = False
    free_text: bool = False
    signals: tuple[str, ...] = ()  # what fired on a column left without an entity
    reviewed: str | None = None  # the reason of a human decision (`tutela classify`)


@dataclass(frozen=True)
class SourceInfo:
    table: str
    source_system: str | None
    path: str | None
    row_count: int | None


@dataclass(frozen=True)
class RetentionFact:
    rule_index: int
    table: str
    cutoff: date
    expired: int
    oldest: date | None
    unreadable: int


@dataclass(frozen=True)
class ConsentFact:
    purpose: str
    table: str
    column: str | None  # None: the table has no identifier of the consent subject kind
    subjects: int = 0
    missing: int = 0
    withdrawn: int = 0


@dataclass(frozen=True)
class SharedUniqueFact:
    """A link declared `unique: true` whose values the data shows shared between people."""

    link_index: int
    table: str
    column: str
    by: str  # the column that tells the people apart
    values: int  # values carried by more than one person
    rows: int


@dataclass(frozen=True)
class WorkspaceFacts:
    """The inputs `evaluate` needs; built by `collect_facts` or by hand in tests."""

    as_of: date
    tables: dict[str, dict[str, str]]  # loaded table -> column -> DuckDB type
    sources: dict[str, SourceInfo] = dataclasses.field(default_factory=dict)
    scan: tuple[ScanColumn, ...] | None = None  # None: no scan stored
    retention: tuple[RetentionFact, ...] = ()
    consent: tuple[ConsentFact, ...] = ()
    shared_unique: tuple[SharedUniqueFact, ...] = ()


def collect_facts(ws: Workspace, policy: Policy, as_of: date) -> WorkspaceFacts:
    tables = {t: {c.name: c.type for c in ws.columns(t)} for t in ws.user_tables()}
    return WorkspaceFacts(
        as_of=as_of,
        tables=tables,
        sources=load_sources(ws),
        scan=load_scan(ws, list(tables)),
        retention=tuple(_retention(ws, policy, tables, as_of)),
        consent=tuple(_consent(ws, policy, tables)),
        shared_unique=tuple(_shared_unique(ws, policy, tables)),
    )


_PRIORITY = ("customer_id", "account_id", "national_id", "tax_id", "email", "name")


def _shared_unique(
    ws: Workspace, policy: Policy, tables: dict[str, dict[str, str]]
) -> Iterable[SharedUniqueFact]:
    """Values of each link declared unique that rows of its own table attribute to more
    than one person (told apart by the table's strongest other identity column)."""
    links = policy.identity_links()
    for i, link in enumerate(links):
        if link.unique is not True or link.column not in tables.get(link.table, {}):
            continue
        others = [
            other
            for other in links
            if other.table == link.table
            and other.column != link.column
            and other.column in tables[link.table]
            and (other.kind in _PRIORITY or other.is_unique)
            and not other.shared
        ]
        if not others:
            continue
        by = min(others, key=lambda o: _PRIORITY.index(o.kind) if o.kind in _PRIORITY else 4)
        key = key_sql(quote_ident(link.column), str(link.method))
        who = key_sql(quote_ident(by.column), str(by.method))
        row = ws.con.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT {key} AS k, count(*) AS n, "
            f"count(DISTINCT {who}) AS people FROM {ws.table_ident(link.table)} "
            f"WHERE {key} IS NOT NULL GROUP BY k HAVING people > 1)"
        ).fetchone()
        if row and row[0]:
            yield SharedUniqueFact(i, link.table, link.column, by.column, int(row[0]), int(row[1]))


# -- catalog and scan ------------------------------------------------------------------


def _internal_table_exists(ws: Workspace, name: str) -> bool:
    return internal_table_exists(ws.con, name)


def load_sources(ws: Workspace) -> dict[str, SourceInfo]:
    if not _internal_table_exists(ws, "sources"):
        return {}
    rows = ws.query(
        f"SELECT table_name, source_system, path, row_count FROM {INTERNAL}.sources "
        "ORDER BY table_name"
    )
    return {r[0]: SourceInfo(r[0], r[1], r[2], r[3]) for r in rows}


def load_scan(ws: Workspace, tables: Iterable[str]) -> tuple[ScanColumn, ...] | None:
    """The stored scan results of these tables; None if none was ever scanned."""
    stored = [
        s for t in tables if (s := stored_scan_with_decisions(ws.con, t, tables=ws)) is not None
    ]
    return scan_columns(stored) if stored else None


def scan_columns(scans: Iterable[TableScan]) -> tuple[ScanColumn, ...]:
    """Stored scans as the facts `evaluate` reads (for callers that loaded them already)."""
    found: list[ScanColumn] = []
    for scan in scans:
        for col in scan.columns:
            decision = col.evidence.get("decision") or {}
            found.append(
                ScanColumn(
                    scan.table,
                    col.column,
                    col.entity,
                    col.category,
                    col.quasi_identifier,
                    col.free_text and col.entity is not None,
                    signals=() if col.entity else signals_of(col.evidence),
                    reviewed=decision.get("reason") if not decision.get("stale") else None,
                )
            )
    return _dedupe(found)


def signals_of(evidence: dict[str, object]) -> tuple[str, ...]:
    """What fired on a column the scan left without an entity, in words for a TODO."""
    out: list[str] = []
    fractions = evidence.get("value_fractions")
    if isinstance(fractions, dict):
        out += [f"{e} in {float(f):.0%} of values" for e, f in fractions.items() if f]
    if evidence.get("header_contradicted"):
        out.append(f"header: {evidence['header_contradicted']}")
    free = evidence.get("free_text")
    if isinstance(free, dict) and free.get("presidio_entities"):
        found = ", ".join(str(e) for e in free["presidio_entities"])
        out.append(f"free-text mentions of {found}")
    if evidence.get("mentions_in_sample"):
        out.append("values mention e-mails, phones or names")
    ident = evidence.get("identifier")
    if isinstance(ident, dict) and ident.get("subtype"):
        out.append(f"company identifier {ident['subtype']}")
    decision = evidence.get("decision")
    if isinstance(decision, dict) and decision.get("stale"):
        out.append("a human decision whose column changed since")
    return tuple(out)


def _dedupe(rows: list[ScanColumn]) -> tuple[ScanColumn, ...]:
    best: dict[tuple[str, str], ScanColumn] = {}
    for row in rows:
        key = (row.table, row.column)
        if key not in best or (row.entity and not best[key].entity):
            best[key] = row
    return tuple(best.values())


# -- retention ------------------------------------------------------------------------


def _retention(
    ws: Workspace, policy: Policy, tables: dict[str, dict[str, str]], as_of: date
) -> Iterable[RetentionFact]:
    for index, rule in enumerate(policy.retention):
        targets = [rule.table] if rule.table else [
            t for t in policy.tables if rule in policy.retention_rules_for(t)
        ]  # fmt: skip
        for table in targets:
            if table is None or table not in tables or rule.after not in tables[table]:
                continue
            if any(c.column not in tables[table] for c in rule.legal_hold):
                continue
            yield _count_expired(ws, index, rule, table, tables[table], as_of)


def _count_expired(
    ws: Workspace,
    index: int,
    rule: RetentionRule,
    table: str,
    types: dict[str, str],
    as_of: date,
) -> RetentionFact:
    cutoff = rule.period.before(as_of)
    day, day_params = date_expr(rule.after, types[rule.after], rule.date_format)
    hold, hold_params = any_of(rule.legal_hold)
    sql = (
        "SELECT count(*) FILTER (WHERE d < CAST(? AS TIMESTAMP)), "
        "min(d) FILTER (WHERE d < CAST(? AS TIMESTAMP)), "
        "count(*) FILTER (WHERE d IS NULL AND raw IS NOT NULL) "
        f"FROM (SELECT {day} AS d, {quote_ident(rule.after)} AS raw "
        f"FROM {ws.table_ident(table)} WHERE NOT {hold})"
    )
    expired, oldest, unreadable = ws.query(sql, [cutoff, cutoff, *day_params, *hold_params])[0]
    if isinstance(oldest, datetime):
        oldest = oldest.date()
    return RetentionFact(index, table, cutoff, int(expired), oldest, int(unreadable))


# -- consent --------------------------------------------------------------------------


def _consent(
    ws: Workspace, policy: Policy, tables: dict[str, dict[str, str]]
) -> Iterable[ConsentFact]:
    source = policy.consent
    if source is None or source.table not in tables:
        return
    needed = [source.subject_column, source.purpose_column, source.status_column,
              source.timestamp_column]  # fmt: skip
    if any(c not in tables[source.table] for c in needed):
        return
    for purpose, value in policy.consent_purposes().items():
        for table in policy.purposes[purpose].tables:
            if table == source.table or table not in tables:
                continue
            links = [
                link
                for link in policy.identity_links_for(table)
                if link.kind is source.subject_kind and link.column in tables[table]
            ]
            if not links:
                yield ConsentFact(purpose, table, None)
                continue
            yield _count_consent(ws, policy, purpose, value, links[0])


def _count_consent(
    ws: Workspace, policy: Policy, purpose: str, value: str, link: IdentityLink
) -> ConsentFact:
    source = policy.consent
    assert source is not None
    # the same normalisation the subject-rights engine matches people with
    subj = key_sql(quote_ident(source.subject_column), str(link.method))
    mine = key_sql(quote_ident(link.column), str(link.method))
    ts, ts_params = date_expr(source.timestamp_column, "VARCHAR", None)
    sql = f"""
        WITH events AS (
            SELECT {subj} AS s, CAST({quote_ident(source.status_column)} AS VARCHAR) AS st,
                   row_number() OVER (PARTITION BY {subj} ORDER BY {ts} DESC NULLS LAST) AS rn
            FROM {ws.table_ident(source.table)}
            WHERE CAST({quote_ident(source.purpose_column)} AS VARCHAR) = ?
        ),
        latest AS (SELECT s, st FROM events WHERE rn = 1 AND s IS NOT NULL),
        processed AS (SELECT DISTINCT {mine} AS s FROM {ws.table_ident(link.table)})
        SELECT count(*),
               count(*) FILTER (WHERE latest.s IS NULL
                                OR NOT (list_contains(?, latest.st)
                                        OR list_contains(?, latest.st))),
               count(*) FILTER (WHERE list_contains(?, latest.st))
        FROM processed LEFT JOIN latest ON processed.s = latest.s
        WHERE processed.s IS NOT NULL
    """  # identifiers quoted, values bound
    params = [
        *ts_params, value,
        source.granted, source.withdrawn, source.withdrawn,
    ]  # fmt: skip
    subjects, missing, withdrawn = ws.query(sql, params)[0]
    return ConsentFact(purpose, link.table, link.column, int(subjects), int(missing),
                       int(withdrawn))  # fmt: skip
