"""The governance report's model: where the personal data is, why, for how long, whether
consent and data-subject requests are in order, and whether the audit trail holds.

Built only from what the workspace and the policy already know, through the core's own
answers: the catalog and stored scans, the `policy check` classification rules, the
retention plan (and its forecast), the consent state, the request ledger and the audit
chain verification. Counts and names of tables, columns, purposes and recipients only:
no personal data value, not even a masked example, goes into the model.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from tutela import __version__, audit
from tutela.base.errors import KeyMaterialError
from tutela.base.normalize import key_sql
from tutela.detect import RULE_VERSION, ColumnFinding, TableScan, apply_decisions
from tutela.enforce import consent, retention
from tutela.keyguard import workspace_key
from tutela.policy.checks import evaluate
from tutela.policy.facts import WorkspaceFacts, load_sources, scan_columns
from tutela.policy.models import Policy
from tutela.policy.vocab import ADEQUATE_COUNTRIES, EEA_COUNTRIES, category_within
from tutela.subjects import requests as subject_requests
from tutela.workspace import (
    INTERNAL,
    USER_SCHEMA,
    Workspace,
    internal_table_exists,
    quote_ident,
)

# `policy check` rules that mean "a personal-data column the policy does not classify"
UNCLASSIFIED_RULES = ("unclassified-column", "scan-disagrees", "missing-category")
UNCLASSIFIED = "unclassified"
FORECAST_MONTHS = 12
LAST_AUDIT_ENTRIES = 10


# -- data map ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A recipient or a storage location of a purpose, and whether data leaves the EEA."""

    name: str
    kind: str  # processor, controller, ... or "storage"
    country: str
    outside_eea: bool
    safeguard: str | None
    transfer: str  # "within EEA" | "safeguard: sccs" | "adequacy decision" | "NO SAFEGUARD"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})"

    @property
    def unsafe(self) -> bool:
        return self.transfer == "NO SAFEGUARD"


@dataclass(frozen=True)
class ColumnClass:
    column: str
    category: str  # fideslang category, or "unclassified"
    unclassified: str | None = None  # the `policy check` rule when the policy misses it
    scan_entity: str | None = None


@dataclass(frozen=True)
class TableEntry:
    table: str
    system: str
    rows: int | None
    columns: int
    personal: tuple[ColumnClass, ...]
    purposes: tuple[str, ...]
    in_policy: bool

    @property
    def unclassified(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.personal if c.unclassified)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({c.category for c in self.personal}))


@dataclass(frozen=True)
class PurposeEntry:
    purpose: str
    legal_basis: str | None
    consent_required: bool
    tables: tuple[str, ...]
    categories: tuple[str, ...]  # the categories of the loaded columns it uses
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Flow:
    """One edge of the data map, from a node of one layer to a node of the next."""

    layer: int  # 0 system->table, 1 table->category, 2 category->purpose, 3 purpose->place
    source: str
    target: str
    weight: int
    outside_eea: bool = False
    unsafe: bool = False


@dataclass(frozen=True)
class DataMap:
    systems: tuple[str, ...]
    tables: tuple[TableEntry, ...]
    categories: tuple[str, ...]
    purposes: tuple[PurposeEntry, ...]
    places: tuple[Place, ...]
    flows: tuple[Flow, ...]
    not_loaded: tuple[str, ...]  # declared in the policy, not in the workspace

    @property
    def personal_columns(self) -> int:
        return sum(len(t.personal) for t in self.tables)

    @property
    def unclassified_columns(self) -> int:
        return sum(len(t.unclassified) for t in self.tables)


# -- findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    table: str
    entity: str
    columns: tuple[str, ...]
    matched: int
    non_empty: int

    @property
    def share(self) -> float | None:
        """Share of the non-empty values that match (checksums applied where there are)."""
        return self.matched / self.non_empty if self.non_empty else None


@dataclass(frozen=True)
class FreeTextColumn:
    table: str
    column: str
    entity: str
    rows_with_mentions: int
    non_empty: int
    mentions: dict[str, int]  # entity -> analysed values with a mention


@dataclass(frozen=True)
class Findings:
    cells: tuple[HeatCell, ...]
    free_text: tuple[FreeTextColumn, ...]
    scanned_tables: int
    unscanned: tuple[str, ...]


# -- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionLine:
    table: str
    rule: int
    action: str
    period: str
    after: str
    cutoff: date
    expired: int
    held: int
    oldest: date | None
    legal_hold: tuple[str, ...]  # the hold conditions, as written in the policy
    skipped: str | None
    upcoming: tuple[int, ...]  # rows reaching the end of retention, per month


@dataclass(frozen=True)
class RetentionSection:
    as_of: date
    months: tuple[str, ...]  # "2026-12", ... (the first is the rest of the as-of month)
    lines: tuple[RetentionLine, ...]

    @property
    def expired(self) -> int:
        return sum(line.expired for line in self.lines)

    @property
    def held(self) -> int:
        return sum(line.held for line in self.lines)

    def upcoming_total(self) -> tuple[int, ...]:
        return tuple(
            sum(line.upcoming[i] for line in self.lines if line.upcoming)
            for i in range(len(self.months))
        )


# -- consent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentLine:
    purpose: str
    current: int  # latest event: granted
    withdrawn: int  # latest event: withdrawn
    never_asked: int  # processed in the purpose's tables, no event at all
    processed: int  # distinct subjects in the purpose's tables
    processed_without_consent: int
    tables: tuple[str, ...]  # the tables whose subjects were counted
    not_linked: tuple[str, ...]  # purpose tables with no identifier of the consent kind


@dataclass(frozen=True)
class ConsentSection:
    at: datetime
    subject_kind: str
    lines: tuple[ConsentLine, ...]


# -- requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestTask:
    system: str
    mode: str
    state: str
    updated_at: datetime | None


@dataclass(frozen=True)
class ReviewItem:
    table: str
    open: int
    best_score: float | None


@dataclass(frozen=True)
class OpenRequest:
    request_id: str
    type: str | None
    state: str
    received: date
    deadline: date
    days_left: int
    reason: str | None
    tasks: tuple[RequestTask, ...] = ()
    review: tuple[ReviewItem, ...] = ()

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def owed_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.state == "owed")


@dataclass(frozen=True)
class RequestsSection:
    as_of: date
    total: int
    by_state: dict[str, int]
    open: tuple[OpenRequest, ...]
    tasks_tracked: bool  # _tutela.request_tasks exists
    review_tracked: bool  # _tutela.review_queue exists
    review_open: int

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.open if r.overdue)


# -- integrity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanState:
    table: str
    rule_version: str
    scanned_at: datetime
    rows_at_scan: int
    rows_now: int | None

    @property
    def outdated(self) -> bool:
        return self.rule_version != RULE_VERSION or (
            self.rows_now is not None and self.rows_now != self.rows_at_scan
        )


@dataclass(frozen=True)
class AuditLine:
    seq: int
    at: str
    command: str
    tables: tuple[str, ...]
    result: str
    entry_hash: str


@dataclass(frozen=True)
class IntegritySection:
    verified: bool
    entries: int
    head: str
    problems: tuple[str, ...]
    last_entries: tuple[AuditLine, ...]
    rule_version: str  # the scanner's current rule version
    scans: tuple[ScanState, ...]
    never_scanned: tuple[str, ...]


# -- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GovernanceReport:
    generated_at: datetime
    as_of: date
    tool: str
    organisation: dict[str, str | None]
    policy_files: tuple[str, ...]
    data_map: DataMap
    findings: Findings
    retention: RetentionSection
    consent: ConsentSection
    requests: RequestsSection
    integrity: IntegritySection
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        return {
            "tables": len(self.data_map.tables),
            "personal_columns": self.data_map.personal_columns,
            "unclassified_columns": self.data_map.unclassified_columns,
            "transfers_without_safeguard": sum(1 for p in self.data_map.places if p.unsafe),
            "rows_past_retention": self.retention.expired,
            "rows_under_legal_hold": self.retention.held,
            "open_requests": len(self.requests.open),
            "overdue_requests": self.requests.overdue,
            "audit_chain_verified": self.integrity.verified,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary()
        # derived values a reader of the JSON would otherwise recompute
        for table, entry in zip(data["data_map"]["tables"], self.data_map.tables, strict=True):
            table["unclassified"] = list(entry.unclassified)
            table["categories"] = list(entry.categories)
        for cell, heat in zip(data["findings"]["cells"], self.findings.cells, strict=True):
            cell["share"] = heat.share
        for req, pending in zip(data["requests"]["open"], self.requests.open, strict=True):
            req["overdue"] = pending.overdue
        return data


def build(
    ws: Workspace,
    policy: Policy,
    *,
    as_of: date | None = None,
    policy_files: tuple[str, ...] = (),
    now: datetime | None = None,
) -> GovernanceReport:
    """The whole report; read-only on the workspace."""
    now = now or datetime.now(UTC)
    day = as_of or now.date()
    tables = _catalog(ws)
    rows = {t: ws.row_count(t) for t in tables}
    scans = _stored_scans(ws, tables)
    org = policy.organisation
    return GovernanceReport(
        generated_at=now,
        as_of=day,
        tool=f"tutela {__version__}",
        organisation={
            "name": org.name if org else None,
            "country": org.country if org else None,
            "dpo": org.dpo if org else None,
        },
        policy_files=policy_files,
        data_map=_data_map(ws, policy, tables, rows, {t: s[0] for t, s in scans.items()}, day),
        findings=_findings(tables, {t: s[0] for t, s in scans.items()}),
        retention=_retention(ws, policy, day),
        consent=_consent(ws, policy, tables, _consent_moment(day)),
        requests=_requests(ws, day),
        integrity=_integrity(ws, tables, rows, scans),
    )


def _catalog(ws: Workspace) -> dict[str, dict[str, str]]:
    """Every table's columns and types. Loaded tables come from one catalog query (a query
    per table, as `Workspace.columns` does, cost a quarter of a second for 50 tables)."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for table, column, kind in ws.query(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_catalog = current_database() "
        "ORDER BY table_name, ordinal_position",
        [USER_SCHEMA],
    ):
        found[str(table)][str(column)] = str(kind)
    return {
        t: found[t] if t in found else {c.name: c.type for c in ws.columns(t)}
        for t in ws.user_tables()
    }


StoredScan = tuple[TableScan, str, str, datetime]  # as load_stored_scan returns it


def _stored_scans(ws: Workspace, tables: Iterable[str]) -> dict[str, StoredScan]:
    """The stored scan of each table, as `load_stored_scan` reads it, in two queries for all
    tables instead of four per table, with the human decisions applied."""
    wanted = list(tables)
    if not (
        internal_table_exists(ws.con, "scans") and internal_table_exists(ws.con, "scan_results")
    ):
        return {}
    heads = {
        str(r[0]): r[1:]
        for r in ws.query(
            f"SELECT table_name, rows, fingerprint, rule_version, scanned_at "
            f"FROM {INTERNAL}.scans WHERE list_contains(?, table_name)",
            [wanted],
        )
    }
    columns: dict[str, list[ColumnFinding]] = defaultdict(list)
    for r in ws.query(
        "SELECT table_name, column_name, data_type, entity, subtype, category, confidence, "
        "free_text, quasi_identifier, matched, non_empty, evidence, skipped "
        f"FROM {INTERNAL}.scan_results WHERE list_contains(?, table_name) "
        "ORDER BY table_name, ordinal",
        [list(heads)],
    ):
        evidence = json.loads(r[11]) if isinstance(r[11], str) else r[11]
        columns[str(r[0])].append(
            ColumnFinding(
                column=r[1], data_type=r[2], entity=r[3], subtype=r[4], category=r[5],
                confidence=float(r[6]), free_text=bool(r[7]), quasi_identifier=bool(r[8]),
                matched=int(r[9]), non_empty=int(r[10]),
                evidence=evidence if isinstance(evidence, dict) else {}, skipped=r[12],
            )
        )  # fmt: skip
    out: dict[str, StoredScan] = {}
    for table in wanted:
        if table not in heads:
            continue
        n, fingerprint, version, at = heads[table]
        if isinstance(at, datetime) and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        scan = TableScan(table, int(n), columns[table])
        apply_decisions(
            ws.con, scan, tables=ws
        )  # what a human decided with `tutela classify` holds here too
        out[table] = (scan, str(fingerprint), str(version), at)
    return out


# -- data map ----------------------------------------------------------------------------


def _place(name: str, kind: str, country: str, safeguard: Any) -> Place:
    outside = country not in EEA_COUNTRIES
    value = safeguard.value if safeguard is not None else None
    if not outside:
        transfer = "within EEA"
    elif value:
        transfer = f"safeguard: {value.replace('_', ' ')}"
    elif country in ADEQUATE_COUNTRIES:
        transfer = "adequacy decision"
    else:
        transfer = "NO SAFEGUARD"
    return Place(name, kind, country, outside, value, transfer)


def _system(policy: Policy, table: str, sources: dict[str, Any]) -> str:
    spec = policy.tables.get(table)
    if spec and spec.source_system:
        return spec.source_system
    src = sources.get(table)
    if src and src.source_system:
        return str(src.source_system)
    if table.count(".") == 2:
        return f"live database {table.split('.')[0]}"
    return "source not recorded"


def _classify(
    policy: Policy,
    table: str,
    columns: list[str],
    scan: TableScan | None,
    flagged: dict[tuple[str, str], str],
) -> list[ColumnClass]:
    found = {c.column: c for c in scan.columns} if scan else {}
    out = []
    for column in columns:
        spec = policy.column_spec(table, column)
        hit = found.get(column)
        rule = flagged.get((table, column))
        if rule is not None:
            out.append(ColumnClass(column, UNCLASSIFIED, rule, hit.entity if hit else None))
        elif spec is not None and spec.personal and spec.is_classified:
            category = spec.effective_category or _quasi_category(hit) or "quasi-identifier"
            out.append(ColumnClass(column, category, None, hit.entity if hit else None))
    return out


def _quasi_category(hit: Any) -> str | None:
    quasi = (hit.evidence or {}).get("quasi_identifier") if hit is not None else None
    return str(quasi["category"]) if isinstance(quasi, dict) and "category" in quasi else None


def _data_map(
    ws: Workspace,
    policy: Policy,
    tables: dict[str, dict[str, str]],
    rows: dict[str, int],
    scans: dict[str, TableScan],
    day: date,
) -> DataMap:
    sources = load_sources(ws)
    # the `policy check` classification rules, on the stored scan only (no data counts)
    facts = WorkspaceFacts(
        as_of=day, tables=tables, scan=scan_columns(scans.values()) if scans else None
    )
    flagged = {
        (f.table, f.column): f.rule
        for f in evaluate(policy, facts)
        if f.rule in UNCLASSIFIED_RULES and f.table in tables and f.column in tables[f.table]
    }
    entries = [
        TableEntry(
            table=t,
            system=_system(policy, t, sources),
            rows=rows.get(t),
            columns=len(cols),
            personal=tuple(_classify(policy, t, list(cols), scans.get(t), flagged)),
            purposes=tuple(policy.purposes_for(t)),
            in_policy=t in policy.tables,
        )
        for t, cols in tables.items()
    ]
    flows: dict[tuple[int, str, str], int] = defaultdict(int)
    for e in entries:
        flows[(0, e.system, e.table)] += 1
        for c in e.personal:
            flows[(1, e.table, c.category)] += 1
    by_table = {e.table: e for e in entries}
    purposes: list[PurposeEntry] = []
    places: dict[str, Place] = {}
    reached: dict[tuple[str, str], Place] = {}
    for name, purpose in policy.purposes.items():
        used: set[str] = set()
        for t in purpose.tables:
            for c in by_table[t].personal if t in by_table else ():
                if c.category == UNCLASSIFIED:
                    continue
                if not purpose.categories or any(
                    category_within(c.category, wanted) for wanted in purpose.categories
                ):
                    used.add(c.category)
                    flows[(2, c.category, name)] += 1
        spots = [_place(r.name, str(r.kind), r.country, r.safeguard) for r in purpose.recipients]
        spots += [_place(s.location, "storage", s.country, s.safeguard) for s in purpose.storage]
        for spot in spots:
            places.setdefault(spot.label, spot)
            flows[(3, name, spot.label)] += 1
            reached[(name, spot.label)] = spot
        purposes.append(
            PurposeEntry(
                purpose=name,
                legal_basis=purpose.legal_basis.value if purpose.legal_basis else None,
                consent_required=purpose.needs_consent,
                tables=tuple(purpose.tables),
                categories=tuple(sorted(used)),
                places=tuple(spots),
            )
        )
    edges = []
    for (layer, src, dst), weight in flows.items():
        to = reached.get((src, dst)) if layer == 3 else None
        outside, bad = (to.outside_eea, to.unsafe) if to else (False, False)
        edges.append(Flow(layer, src, dst, weight, outside, bad))
    categories = sorted({c.category for e in entries for c in e.personal})
    return DataMap(
        systems=tuple(sorted({e.system for e in entries})),
        tables=tuple(entries),
        categories=tuple(categories),
        purposes=tuple(purposes),
        places=tuple(places.values()),
        flows=tuple(edges),
        not_loaded=tuple(sorted(t for t in policy.tables if t not in tables)),
    )


# -- findings heat map -----------------------------------------------------------------------


def _findings(tables: dict[str, dict[str, str]], scans: dict[str, TableScan]) -> Findings:
    cells: list[HeatCell] = []
    free: list[FreeTextColumn] = []
    for table, scan in scans.items():
        grouped: dict[str, list[Any]] = defaultdict(list)
        for col in scan.columns:
            if col.entity is None:
                continue
            grouped[col.entity].append(col)
            if col.free_text:
                info = (col.evidence or {}).get("free_text") or {}
                hits = info.get("presidio_entities") if isinstance(info, dict) else None
                free.append(
                    FreeTextColumn(
                        table, col.column, col.entity, col.matched, col.non_empty,
                        {str(k): int(v) for k, v in (hits or {}).items()},
                    )
                )  # fmt: skip
        for entity, cols in sorted(grouped.items()):
            cells.append(
                HeatCell(
                    table,
                    entity,
                    tuple(c.column for c in cols),
                    sum(c.matched for c in cols),
                    sum(c.non_empty for c in cols),
                )
            )
    return Findings(
        tuple(cells), tuple(free), len(scans), tuple(t for t in tables if t not in scans)
    )


# -- retention -----------------------------------------------------------------------------


def month_ends(day: date, months: int = FORECAST_MONTHS) -> list[date]:
    """The last day of `day`'s month and of each following month, `months` in all."""
    out = []
    year, month = day.year, day.month
    for _ in range(months):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _retention(ws: Workspace, policy: Policy, day: date) -> RetentionSection:
    ends = month_ends(day)
    the_plan = retention.plan(ws, policy, day, until=ends)
    lines = []
    for item in the_plan.items:
        rule = policy.retention[item.rule_index]
        lines.append(
            RetentionLine(
                table=item.table,
                rule=item.rule_index,
                action=str(item.action),
                period=item.period,
                after=item.after,
                cutoff=item.cutoff,
                expired=item.expired,
                held=item.held,
                oldest=item.oldest,
                legal_hold=tuple(c.describe() for c in rule.legal_hold),
                skipped=item.skipped,
                upcoming=tuple(item.upcoming),
            )
        )
    return RetentionSection(day, tuple(f"{d.year}-{d.month:02d}" for d in ends), tuple(lines))


# -- consent -------------------------------------------------------------------------------


def _consent_moment(day: date) -> datetime:
    """Consent as it stands now, or at the end of an earlier or later as-of day (the ledger
    holds local times, as `consent status` reads them)."""
    return datetime.now() if day == date.today() else datetime.combine(day, time.max)


def _consent(
    ws: Workspace, policy: Policy, tables: dict[str, dict[str, str]], at: datetime
) -> ConsentSection:
    kind = consent.subject_kind(policy)
    norm = consent.normalization(kind)
    current, params = consent.current_sql(ws, policy, at)
    source_table = policy.consent.table if policy.consent else None
    lines = []
    for name, purpose in policy.purposes.items():
        if not purpose.needs_consent:
            continue
        parts: list[str] = []
        counted: list[str] = []
        not_linked: list[str] = []
        for table in purpose.tables:
            if table == source_table or table not in tables:
                continue
            links = [
                link
                for link in policy.identity_links_for(table)
                if link.kind is kind and link.column in tables[table]
            ]
            if not links:
                not_linked.append(table)
                continue
            counted.append(table)
            for link in links:
                parts.append(
                    f"SELECT {key_sql(quote_ident(link.column), norm)} AS k "
                    f"FROM {ws.relation(table)}"
                )
        processed = " UNION ".join(parts) or "SELECT NULL::VARCHAR AS k WHERE false"
        sql = f"""
            WITH cur AS (
                SELECT subject_key AS k, status FROM ({current})
                WHERE purpose = ? AND subject_kind = ?
            ),
            proc AS (SELECT DISTINCT k FROM ({processed}) WHERE k IS NOT NULL),
            everyone AS (SELECT k FROM cur UNION SELECT k FROM proc)
            SELECT count(*) FILTER (WHERE cur.status = ?),
                   count(*) FILTER (WHERE cur.status = ?),
                   count(*) FILTER (WHERE cur.status IS NULL),
                   count(proc.k),
                   count(proc.k) FILTER (WHERE cur.status IS DISTINCT FROM ?)
            FROM everyone
            LEFT JOIN cur ON cur.k = everyone.k
            LEFT JOIN proc ON proc.k = everyone.k
        """  # identifiers quoted, values bound
        granted, withdrawn, never, seen, without = ws.query(
            sql,
            [*params, name, kind.value, consent.GRANTED, consent.WITHDRAWN, consent.GRANTED],
        )[0]
        lines.append(
            ConsentLine(
                name, int(granted), int(withdrawn), int(never), int(seen), int(without),
                tuple(counted), tuple(not_linked),
            )
        )  # fmt: skip
    return ConsentSection(at, kind.value, tuple(lines))


# -- requests ------------------------------------------------------------------------------


def _requests(ws: Workspace, day: date) -> RequestsSection:
    listed = subject_requests.list_requests(ws, today=day)
    by_state: dict[str, int] = defaultdict(int)
    for r in listed:
        by_state[r["state"]] += 1
    tasks: dict[str, list[RequestTask]] = defaultdict(list)
    tasks_tracked = internal_table_exists(ws.con, "request_tasks")
    if tasks_tracked:
        for req, system, mode, state, updated in ws.query(
            f"SELECT request_id, system, mode, state, updated_at "
            f"FROM {INTERNAL}.request_tasks ORDER BY request_id, system"
        ):
            tasks[str(req)].append(RequestTask(str(system), str(mode), str(state), updated))
    review: dict[str, list[ReviewItem]] = defaultdict(list)
    review_tracked = internal_table_exists(ws.con, "review_queue")
    review_open = 0
    if review_tracked:
        for req, table, count, score in ws.query(
            f"SELECT request_id, table_name, count(*), max(score) "
            f"FROM {INTERNAL}.review_queue WHERE decision IS NULL "
            "GROUP BY ALL ORDER BY request_id, table_name"
        ):
            review[str(req)].append(ReviewItem(str(table), int(count), score))
            review_open += int(count)
    pending = []
    for r in listed:
        rid = r["request_id"]
        owed = any(t.state == "owed" for t in tasks.get(rid, ()))
        if r["state"] == "done" and not owed and rid not in review:
            continue
        deadline = date.fromisoformat(r["deadline"])
        pending.append(
            OpenRequest(
                request_id=rid,
                type=r["type"],
                state=r["state"],
                received=date.fromisoformat(r["received_at"]),
                deadline=deadline,
                days_left=(deadline - day).days,
                reason=r["reason"],
                tasks=tuple(tasks.get(rid, ())),
                review=tuple(review.get(rid, ())),
            )
        )
    pending.sort(key=lambda r: (r.days_left, r.request_id))
    return RequestsSection(
        day, len(listed), dict(sorted(by_state.items())), tuple(pending),
        tasks_tracked, review_tracked, review_open,
    )  # fmt: skip


# -- integrity -----------------------------------------------------------------------------


def _integrity(
    ws: Workspace,
    tables: dict[str, dict[str, str]],
    rows: dict[str, int],
    scans: dict[str, StoredScan],
) -> IntegritySection:
    try:
        verified = audit.verify(ws.con, workspace_key(ws))
        ok, entries, head, problems = (
            verified.ok, verified.entries, verified.head, tuple(verified.problems)
        )  # fmt: skip
    except KeyMaterialError as exc:  # the chain cannot be checked without its key
        count = len(audit.entries(ws.con))
        ok, entries, head, problems = count == 0, count, "", (f"not verified: {exc.message}",)
    last = tuple(
        AuditLine(e.seq, e.at, e.command, tuple(e.tables), e.result, e.entry_hash)
        for e in reversed(audit.entries(ws.con, LAST_AUDIT_ENTRIES))
    )
    states = tuple(
        ScanState(t, version, at, scan.rows, rows.get(t))
        for t, (scan, _fingerprint, version, at) in scans.items()
    )
    return IntegritySection(
        verified=ok,
        entries=entries,
        head=head,
        problems=problems,
        last_entries=last,
        rule_version=RULE_VERSION,
        scans=states,
        never_scanned=tuple(t for t in tables if t not in scans),
    )
