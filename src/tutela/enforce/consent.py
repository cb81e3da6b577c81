"""The consent ledger: events appended (never overwritten), the policy's consent table read
alongside, and the current state per subject and purpose (latest event up to a moment wins).

Subjects are stored as their normalised key (subjects.normalize.key_sql), so
`Anna.Puig@Example.com` in one file and `anna.puig@example.com` in another are one person.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tutela import audit
from tutela.base.errors import EngineError, InputFileError, UsageError
from tutela.base.normalize import key_sql
from tutela.enforce.common import RefusedError, internal_table_exists, subject_hash
from tutela.engine import Connection, SqlError
from tutela.ingest.load import StagedFile, stage_file
from tutela.keyguard import workspace_key
from tutela.policy.models import DEFAULT_NORMALIZATION, IdentifierKind, Policy
from tutela.policy.sql import date_expr
from tutela.workspace import INTERNAL, Workspace, quote_ident

LEDGER = f"{INTERNAL}.consent_ledger"
GRANTED = "granted"
WITHDRAWN = "withdrawn"

_DDL = f"""CREATE TABLE IF NOT EXISTS {LEDGER} (
    subject_key VARCHAR NOT NULL,
    subject_kind VARCHAR NOT NULL,
    purpose VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    recorded_at TIMESTAMP NOT NULL,
    source VARCHAR,
    imported_from VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL
)"""

_SUBJECT_NAMES = ["subject", "subject_email", "email", "e_mail", "mail", "subject_key"]
_TIME_NAMES = ["recorded_at", "time", "timestamp", "at", "date"]


def ensure_ledger(ws: Workspace) -> None:
    ws.con.execute(_DDL)


def subject_kind(policy: Policy) -> IdentifierKind:
    return policy.consent.subject_kind if policy.consent else IdentifierKind.email


def normalization(kind: IdentifierKind) -> str:
    return DEFAULT_NORMALIZATION[kind].value


def _require_purpose(policy: Policy, purpose: str) -> None:
    """A purpose of the policy that rests on consent: for any other there is no consent to
    check or withdraw (a contract purpose does not need one, and withdrawing does nothing)."""
    if purpose not in policy.purposes:
        known = ", ".join(policy.purposes) or "none"
        raise RefusedError(f"the policy has no purpose {purpose!r} (purposes: {known})")
    spec = policy.purposes[purpose]
    if not spec.needs_consent:
        consent_based = ", ".join(p for p, s in policy.purposes.items() if s.needs_consent)
        raise RefusedError(
            f"purpose {purpose!r} rests on {spec.legal_basis}, not on consent: there is no "
            "consent to check or withdraw for it",
            hint=f"consent-based purposes: {consent_based or 'none'}",
        )


def _purpose_names(policy: Policy) -> dict[str, str]:
    """Value used by the consent tool -> policy purpose name (identity when they agree)."""
    if policy.consent is None:
        return {}
    return {
        policy.consent.purpose_value(name): name
        for name in policy.purposes
        if policy.consent.purpose_value(name) != name
    }


def _vocab(policy: Policy) -> tuple[list[str], list[str]]:
    granted = [GRANTED, *(policy.consent.granted if policy.consent else [])]
    withdrawn = [WITHDRAWN, *(policy.consent.withdrawn if policy.consent else [])]
    return [g.lower() for g in granted], [w.lower() for w in withdrawn]


def _normalised_select(
    policy: Policy,
    relation: str,
    columns: dict[str, str | None],
    types: dict[str, str],
    *,
    row: str | None = None,
) -> tuple[str, list[Any]]:
    """Rows of `relation` as ledger events (subject_key, kind, purpose, status, at, source)."""
    kind = subject_kind(policy)
    subj = key_sql(quote_ident(str(columns["subject"])), normalization(kind))
    purpose_col = f"CAST({quote_ident(str(columns['purpose']))} AS VARCHAR)"
    mapping = _purpose_names(policy)
    purpose = (
        f"coalesce(map_extract(MAP(?::VARCHAR[], ?::VARCHAR[]), {purpose_col})[1], {purpose_col})"
    )
    st = f"lower(trim(CAST({quote_ident(str(columns['status']))} AS VARCHAR)))"
    granted, withdrawn = _vocab(policy)
    status = (
        f"CASE WHEN list_contains(?, {st}) THEN 'granted' "
        f"WHEN list_contains(?, {st}) THEN 'withdrawn' END"
    )
    time_col = str(columns["time"])
    at, at_params = date_expr(time_col, types.get(time_col, "VARCHAR"), None)
    source_col = columns.get("source")
    source = f"CAST({quote_ident(source_col)} AS VARCHAR)" if source_col else "NULL"
    sql = (
        f"SELECT {subj} AS subject_key, ? AS subject_kind, {purpose} AS purpose, "
        f"{status} AS status, {at} AS recorded_at, {source} AS source"
        + (f", {row} AS {quote_ident(_ROW)}" if row else "")
        + f" FROM {relation}"
    )
    params = [kind.value, list(mapping), list(mapping.values()), granted, withdrawn, *at_params]
    return sql, params


def events_sql(ws: Workspace, policy: Policy) -> tuple[str, list[Any]]:
    """Every valid consent event: the ledger plus the policy's consent table if loaded."""
    parts: list[str] = []
    params: list[Any] = []
    if internal_table_exists(ws, "consent_ledger"):
        parts.append(
            f"SELECT subject_key, subject_kind, purpose, status, recorded_at, source FROM {LEDGER}"
        )
    src = policy.consent
    if src is not None and ws.has_table(src.table):
        types = {c.name: c.type for c in ws.columns(src.table)}
        cols = {
            "subject": src.subject_column,
            "purpose": src.purpose_column,
            "status": src.status_column,
            "time": src.timestamp_column,
            "source": src.source_column if src.source_column in types else None,
        }
        if all(v in types for k, v in cols.items() if k != "source"):
            sql, p = _normalised_select(policy, ws.table_ident(src.table), cols, types)
            parts.append(
                f"SELECT * FROM ({sql}) WHERE subject_key IS NOT NULL AND status IS NOT NULL "
                "AND recorded_at IS NOT NULL"
            )
            params.extend(p)
    if not parts:
        parts.append(
            "SELECT NULL::VARCHAR AS subject_key, NULL::VARCHAR AS subject_kind, "
            "NULL::VARCHAR AS purpose, NULL::VARCHAR AS status, "
            "NULL::TIMESTAMP AS recorded_at, NULL::VARCHAR AS source WHERE false"
        )
    return " UNION ALL ".join(parts), params


def current_sql(ws: Workspace, policy: Policy, as_of: datetime) -> tuple[str, list[Any]]:
    """The state per subject and purpose at `as_of`: the latest event up to then wins (a
    withdrawal at the same instant as a grant wins: fail closed). `?` parameters."""
    events, params = events_sql(ws, policy)
    sql = f"""
        SELECT subject_key, subject_kind, purpose, status, recorded_at, source FROM (
            SELECT *, row_number() OVER (
                PARTITION BY subject_key, subject_kind, purpose
                ORDER BY recorded_at DESC, (status = 'withdrawn') DESC, source
            ) AS rn
            FROM ({events}) WHERE recorded_at <= CAST(? AS TIMESTAMP)
        ) WHERE rn = 1"""
    return sql, [*params, as_of]


# -- import and withdraw ----------------------------------------------------------------


@dataclass
class ImportResult:
    path: str
    rows: int
    added: int
    duplicates: int
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "audit_seq": self.audit_seq,
        }


_FILE = "__tutela_consent_file"
_ROW = "__tutela_row"


@dataclass(frozen=True)
class _Staged:
    """A consent or outgoing-list file read into a temp table, one numbered row each."""

    relation: str
    columns: list[str]
    types: dict[str, str]
    where: Callable[[list[int]], list[str]]  # row numbers -> `file:line` (or `file row N`)


@contextmanager
def _staged(ws: Workspace, path: Path) -> Iterator[_Staged]:
    """Read `path` with `tutela load`'s readers (any encoding, dialect sniffing, ragged
    rows refused with their line number) into a numbered temp table."""
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    if not path.is_file():
        raise InputFileError(f"{path}: not a file")
    with tempfile.TemporaryDirectory(prefix="consent-", dir=ws.root) as tmp:
        staged = stage_file(ws, path, _FILE, Path(tmp))
        con = ws.con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(_FILE + '_rows')} AS "
            f"SELECT row_number() OVER () AS {quote_ident(_ROW)}, * FROM temp.{quote_ident(_FILE)}"
        )
        con.execute(f"DROP TABLE temp.{quote_ident(_FILE)}")
        relation = f"temp.{quote_ident(_FILE + '_rows')}"
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        types = {str(r[0]): str(r[1]) for r in described if r[0] != _ROW}
        try:
            yield _Staged(relation, list(types), types, _locator(path, staged))
        finally:
            con.execute(f"DROP TABLE IF EXISTS {relation}")


def _locator(path: Path, staged: StagedFile) -> Callable[[list[int]], list[str]]:
    """Row numbers to `file:line`: exact for CSV (quoted line breaks included) and JSONL."""

    def where(rows: list[int]) -> list[str]:
        wanted = set(rows)
        lines: dict[int, int] = {}
        if staged.text_path is not None and staged.format == "csv" and staged.delimiter:
            with staged.text_path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh, delimiter=staged.delimiter)
                next(reader, None)  # the header
                for n, _ in enumerate(reader, start=1):
                    if n in wanted:
                        lines[n] = reader.line_num
                    if len(lines) == len(wanted):
                        break
        elif staged.text_path is not None and staged.format == "ndjson":
            with staged.text_path.open(encoding="utf-8-sig") as fh:
                n = 0
                for number, text in enumerate(fh, start=1):
                    if text.strip():
                        n += 1
                        if n in wanted:
                            lines[n] = number
        return [f"{path.name}:{lines[r]}" if r in lines else f"{path.name} row {r}" for r in rows]

    return where


def _pick(names: list[str], wanted: list[str], what: str, path: Path) -> str:
    lower = {n.lower(): n for n in names}
    for w in wanted:
        if w.lower() in lower:
            return lower[w.lower()]
    raise InputFileError(
        f"{path.name} has no {what} column (looked for {', '.join(wanted)}; "
        f"found {', '.join(names)})"
    )


def import_file(ws: Workspace, policy: Policy, path: Path) -> ImportResult:
    """Append the events of a consent file; identical events already held are skipped, and
    a file with any unreadable event is refused whole, naming the lines."""
    src = policy.consent
    master = workspace_key(ws)
    ensure_ledger(ws)
    now = datetime.now()
    with _staged(ws, path) as staged:
        names = staged.columns
        cols: dict[str, str | None] = {
            "subject": _pick(names, [*([src.subject_column] if src else []), *_SUBJECT_NAMES],
                             "subject", path),
            "purpose": _pick(names, [*([src.purpose_column] if src else []), "purpose"],
                             "purpose", path),
            "status": _pick(names, [*([src.status_column] if src else []), "status"], "status",
                            path),
            "time": _pick(names, [*([src.timestamp_column] if src else []), *_TIME_NAMES],
                          "time", path),
            "source": next(
                (n for n in names if n.lower() in {(src.source_column or "source").lower() if src
                                                   else "source", "source"}), None),
        }  # fmt: skip
        select, params = _normalised_select(
            policy, staged.relation, cols, staged.types, row=quote_ident(_ROW)
        )
        try:
            with ws.transaction() as con:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _consent_import AS {select}", params)
                _refuse_bad_rows(con, policy, path, staged)
                rows_row = con.execute("SELECT count(*) FROM _consent_import").fetchone()
                rows = int(rows_row[0]) if rows_row else 0
                added_row = con.execute(
                    f"""INSERT INTO {LEDGER}
                    SELECT DISTINCT n.* EXCLUDE ({quote_ident(_ROW)}), ?, CAST(? AS TIMESTAMP)
                    FROM _consent_import n
                    WHERE NOT EXISTS (
                        SELECT 1 FROM {LEDGER} l WHERE l.subject_key = n.subject_key
                        AND l.subject_kind = n.subject_kind AND l.purpose = n.purpose
                        AND l.status = n.status AND l.recorded_at = n.recorded_at
                        AND l.source IS NOT DISTINCT FROM n.source)""",
                    [path.name, now],
                ).fetchone()
                added = int(added_row[0]) if added_row else 0
                con.execute("DROP TABLE _consent_import")
                entry = audit.append(
                    con,
                    master,
                    command="consent import",
                    arguments={"file": path.name},
                    tables=[LEDGER],
                    counts={"rows": rows, "added": added, "duplicates": rows - added},
                    result="imported",
                )
        except SqlError as exc:
            raise EngineError(str(exc).splitlines()[0]) from None
    return ImportResult(str(path), rows, added, rows - added, entry.seq)


_PROBLEMS = (
    ("subject_key IS NULL", "no subject"),
    ("status IS NULL", "a status other than {statuses}"),
    ("recorded_at IS NULL", "no readable time"),
    ("purpose IS NULL", "no purpose"),
)


def _refuse_bad_rows(con: Connection, policy: Policy, path: Path, staged: _Staged) -> None:
    """Every kind of bad event with the lines that hold it (the first five of each)."""
    granted, withdrawn = _vocab(policy)
    statuses = " or ".join(dict.fromkeys(granted + withdrawn))
    found = []
    for condition, what in _PROBLEMS:
        rows = con.execute(
            f"SELECT {quote_ident(_ROW)} FROM _consent_import WHERE {condition} ORDER BY 1 LIMIT 6"
        ).fetchall()
        if rows:
            numbers = [int(r[0]) for r in rows]
            places = staged.where(numbers[:5]) + (["..."] if len(numbers) > 5 else [])
            found.append(f"{what.format(statuses=statuses)} at {', '.join(places)}")
    if found:
        raise InputFileError(f"{path.name}: " + "; ".join(found) + "; nothing imported")


def subject_key(ws: Workspace, policy: Policy, value: str) -> str:
    row = ws.query(
        f"SELECT {key_sql('x', normalization(subject_kind(policy)))} FROM (SELECT ? AS x)",
        [value],
    )
    if not row or row[0][0] is None:
        raise UsageError(f"{subject_kind(policy).value} identifier is empty")
    return str(row[0][0])


def withdraw(
    ws: Workspace,
    policy: Policy,
    subject: str,
    purpose: str,
    at: datetime | None = None,
    source: str = "tutela consent withdraw",
) -> int:
    """Append a withdrawal event (effective from `at`, default now); returns the audit seq."""
    _require_purpose(policy, purpose)
    key = subject_key(ws, policy, subject)
    kind = subject_kind(policy).value
    master = workspace_key(ws)
    ensure_ledger(ws)
    now = datetime.now()
    with ws.transaction() as con:
        con.execute(
            f"INSERT INTO {LEDGER} VALUES (?, ?, ?, 'withdrawn', ?, ?, 'cli', ?)",
            [key, kind, purpose, at or now, source, now],
        )
        entry = audit.append(
            con,
            master,
            command="consent withdraw",
            arguments={"subject": subject_hash(master, kind, key), "purpose": purpose},
            tables=[LEDGER],
            counts={"events": 1},
            result="withdrawn",
        )
    return entry.seq


def status(
    ws: Workspace, policy: Policy, subject: str, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Every consent purpose of the policy, and any purpose with events for the subject."""
    key = subject_key(ws, policy, subject)
    cur, params = current_sql(ws, policy, as_of or datetime.now())
    rows = ws.query(
        f"SELECT purpose, status, recorded_at, source FROM ({cur}) WHERE subject_key = ? "
        "AND subject_kind = ?",
        [*params, key, subject_kind(policy).value],
    )
    found = {r[0]: r for r in rows}
    purposes = [p for p, spec in policy.purposes.items() if spec.needs_consent]
    purposes += sorted(p for p in found if p not in purposes)
    out = []
    for p in purposes:
        r = found.get(p)
        out.append(
            {
                "purpose": p,
                "consent_required": p in policy.purposes and policy.purposes[p].needs_consent,
                "state": r[1] if r else "none",
                "since": r[2].isoformat(sep=" ") if r and r[2] else None,
                "source": r[3] if r else None,
            }
        )
    return out


# -- checking a list made elsewhere ------------------------------------------------------


@dataclass
class CheckResult:
    purpose: str
    column: str
    rows: int
    subjects: int
    missing: list[dict[str, Any]]  # value as in the file, state (none / withdrawn / no id)

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "column": self.column,
            "rows": self.rows,
            "subjects": self.subjects,
            "without_consent": len(self.missing),
            "missing": self.missing,
            "ok": self.ok,
        }


def check_file(
    ws: Workspace,
    policy: Policy,
    path: Path,
    purpose: str,
    column: str | None = None,
    as_of: datetime | None = None,
) -> CheckResult:
    """Every subject in an outgoing list who has no current consent for `purpose`."""
    _require_purpose(policy, purpose)
    with _staged(ws, path) as staged:
        names = staged.columns
        if column is not None and column not in names:
            raise UsageError(f"{path.name} has no column {column!r} (columns: {', '.join(names)})")
        col = column or _pick(names, _SUBJECT_NAMES + [n for n in names if "mail" in n.lower()],
                              "subject", path)  # fmt: skip
        kind = subject_kind(policy).value
        cur, cur_params = current_sql(ws, policy, as_of or datetime.now())
        c = quote_ident(col)
        sql = f"""
            WITH listed AS (
                SELECT CAST({c} AS VARCHAR) AS v,
                       {key_sql(c, normalization(subject_kind(policy)))} AS k
                FROM {staged.relation}
            ),
            cur AS (SELECT subject_key, status FROM ({cur}) WHERE purpose = ? AND subject_kind = ?)
            SELECT v, k,
                   coalesce(cur.status, CASE WHEN k IS NULL THEN 'no identifier' ELSE 'none' END)
            FROM listed LEFT JOIN cur ON listed.k = cur.subject_key
        """
        rows = ws.query(sql, [*cur_params, purpose, kind])
    missing: dict[str, dict[str, Any]] = {}
    for value, key, state in rows:
        if state != GRANTED:
            ident = key or value or ""
            missing.setdefault(ident, {"subject": value, "state": state})
    return CheckResult(
        purpose, col, len(rows), len({r[1] for r in rows if r[1]}), list(missing.values())
    )
