"""Batches of data-subject requests from a ticketing system, tracked to their GDPR deadline.

A request file is CSV (any encoding `tutela load` reads) or JSONL, one request a row:
`request_id`, `type` (access | erasure), `received_at`, and identifier columns named after
identity-link kinds (`email`, `phone`, `customer_id`, `national_id`, ...; JSONL may also
give an `identifiers` object). A bad row fails that request with a reason and the batch
goes on. Each request's state (received, done, failed, needs_review) is kept in the
workspace with its deadline (received + one month, Art. 12(3)); finished requests are not
redone when a batch is run again.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tutela.base.errors import InputFileError, TutelaError
from tutela.ingest.sniff import detect_encoding, hash_file
from tutela.subjects import review, service, tasks
from tutela.workspace import internal_table_exists

TABLE = tasks.REQUESTS
TYPES = ("access", "erasure")
FINISHED = ("done", "needs_review", tasks.AWAITING)
"""States of a request that was answered; a `needs_review` one is answered again (with the
reviewer's decisions) each time its batch runs, the others are not."""
_ID_COLUMNS = ("request_id", "id", "request", "ticket")
_TYPE_COLUMNS = ("type", "request_type", "kind")
_DATE_COLUMNS = ("received_at", "received", "received_date", "date")
_NOT_IDENTIFIERS = {*_ID_COLUMNS, *_TYPE_COLUMNS, *_DATE_COLUMNS, "identifiers", "notes"}

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    request_id VARCHAR PRIMARY KEY,
    type VARCHAR,
    received_at DATE,
    deadline DATE,
    state VARCHAR NOT NULL,
    reason VARCHAR,
    subject_hash VARCHAR,
    outputs VARCHAR,
    updated_at TIMESTAMP NOT NULL
)"""


@dataclass
class RequestRow:
    line: int
    request_id: str
    type: str
    received: date | None
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


def add_month(d: date) -> date:
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


GDPR_APPLIES = date(2018, 5, 25)
"""No request under the GDPR was received before it applied: an earlier date is a typo."""


def _parse_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for parse in (date.fromisoformat, lambda v: datetime.fromisoformat(v).date()):
        try:
            received = parse(value)
        except ValueError:
            continue
        if received < GDPR_APPLIES:
            raise ValueError(
                f"received date {value!r} is before the GDPR applied ({GDPR_APPLIES.isoformat()})"
            )
        return received
    raise ValueError(f"received date {value!r} is not an ISO date")


def _first(row: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


# A NUL byte stands for this private-use character while the CSV module reads the file (it
# refuses a NUL anywhere); the row holding it then fails alone.
_NUL = "\ue000"
MAX_FIELD = 16 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ue000]")
# Stricter than "has an @": no spaces, brackets, quotes or markup in either part.
_EMAIL_VALUE = re.compile(
    r"^[^\s@<>()\[\]\\,;:\"]+@[^\s@<>()\[\]\\,;:\"]+\.[^\s@<>()\[\]\\,;:\"]+$"
)
_PHONE_VALUE = re.compile(r"^\+?[0-9][0-9 ().\-/]*$")


def _value_problem(kind: str, value: str) -> str | None:
    """Why an identifier value cannot be right (without repeating the value: reasons are
    stored), or None."""
    if _CONTROL.search(value):
        return f"{kind} contains a control character or NUL byte"
    if kind == "email" and not _EMAIL_VALUE.match(value.strip()):
        return "malformed e-mail address"
    if kind == "phone":
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE_VALUE.match(value.strip()) or not 6 <= digits <= 15:
            return "malformed phone number (expected 6 to 15 digits)"
    return None


def _row_problem(req: RequestRow, raw_id: str, today: date) -> str | None:
    if not raw_id:
        return "no request id"
    if _CONTROL.search(raw_id):
        return "request id contains a control character or NUL byte"
    for kind, values in req.identifiers.items():
        for value in values:
            problem = _value_problem(kind, value)
            if problem:
                return problem
    if req.received is not None and req.received > today:
        return f"received date {req.received.isoformat()} is in the future"
    return None


def _to_request(line: int, row: dict[str, Any]) -> RequestRow:
    row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    raw_id = _first(row, _ID_COLUMNS)
    req_id = raw_id if raw_id and not _CONTROL.search(raw_id) else f"line-{line}"
    kind = _first(row, _TYPE_COLUMNS).lower()
    ids: dict[str, list[str]] = {}
    nested = row.get("identifiers")
    bad_nesting = False
    if isinstance(nested, dict):
        for k, v in nested.items():
            values = v if isinstance(v, list) else [v]
            bad_nesting |= any(isinstance(x, dict | list) for x in values)
            ids.setdefault(str(k), []).extend(
                str(x) for x in values if x is not None and not isinstance(x, dict | list)
            )
    for k, v in row.items():
        if k not in _NOT_IDENTIFIERS and v not in (None, "") and not isinstance(v, dict | list):
            ids.setdefault(k, []).append(str(v))
    req = RequestRow(line, req_id, kind, None, ids)
    try:
        req.received = _parse_date(_first(row, _DATE_COLUMNS))
    except ValueError as exc:
        req.error = str(exc)
    if req.error is None and req.received is None and any(n in row for n in _DATE_COLUMNS):
        # a file without a date column: requests received today; an empty cell is a gap
        req.error = "no received date (the one-month deadline runs from it)"
    fields = [n for n in (*_ID_COLUMNS, *_TYPE_COLUMNS, *_DATE_COLUMNS) if n in row]
    not_text = [n for n in fields if isinstance(row[n], dict | list)]
    if not_text:
        req.error = f"{not_text[0]} must be text, not a list or an object"
    elif kind not in TYPES:
        shown = kind if not _CONTROL.search(kind) else kind.encode("unicode_escape").decode()
        req.error = f"unknown request type {shown!r} (expected access or erasure)"
    elif bad_nesting:
        req.error = "identifiers must be text or lists of text"
    elif req.error is None:
        # one day of slack: a ticket stamped in another time zone is not from the future
        tomorrow = date.fromordinal(datetime.now(UTC).date().toordinal() + 1)
        req.error = _row_problem(req, raw_id, tomorrow)
    return req


def read_requests(path: Path) -> list[RequestRow]:
    """Every row of the file as a request; rows that cannot be read carry their error."""
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    facts = hash_file(path)
    if facts.size == 0:
        raise InputFileError(f"{path}: file is empty")
    try:
        encoding = detect_encoding(path, facts)
    except InputFileError as exc:
        # A stray NUL byte or two in a text file is a bad row, not a binary file: such
        # rows fail alone below. Many NULs (or invalid UTF-8 besides) stay an error.
        if facts.utf8_error is not None or facts.head.count(0) > max(2, len(facts.head) // 100):
            # `tutela load`'s hint names its --encoding, which a request file has not
            raise InputFileError(
                exc.message, hint="save the request file as UTF-8 (or UTF-16) and run it again"
            ) from exc
        encoding = "utf-8"
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not readable as {encoding} ({exc.reason})") from exc
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        out = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                out.append(
                    RequestRow(line, f"line-{line}", "", None, error=f"not valid JSON ({exc.msg})")
                )
                continue
            except RecursionError:  # `[[[[...` thousands deep
                out.append(
                    RequestRow(line, f"line-{line}", "", None, error="JSON nested too deeply")
                )
                continue
            if not isinstance(obj, dict):
                out.append(RequestRow(line, f"line-{line}", "", None, error="not a JSON object"))
                continue
            out.append(_to_request(line, obj))
        return out
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    # a field as long as a line `tutela load` reads (16 MiB), not the csv module's 128 KiB
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))
    reader = csv.DictReader(
        io.StringIO(text.replace("\x00", _NUL), newline=""), delimiter=delimiter
    )
    out = []
    try:
        if not reader.fieldnames:
            raise InputFileError(f"{path}: no header row")
        names = [str(n).strip().lower() for n in reader.fieldnames]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # one of the two would be dropped: say so rather than guess
            raise InputFileError(
                f"{path}:1: the header names column {twice[0]!r} more than once",
                hint="give each column its own name (a request with two e-mails: JSONL, "
                '"identifiers": {"email": [...]})',
            )
        if not set(names) & set(_TYPE_COLUMNS):  # every row would fail alike
            raise InputFileError(
                f"{path}:1: no column says the request type",
                hint=f"add a column {_TYPE_COLUMNS[0]!r} holding access or erasure",
            )
        width = len(reader.fieldnames)
        for row in reader:
            req = _to_request(reader.line_num, row)
            extra = row.get(None)
            if extra:
                req.error = f"{width + len(extra)} fields where the header has {width}"
            elif any(v is None for v in row.values()):
                given = sum(v is not None for v in row.values())
                req.error = f"only {given} fields where the header has {width}"
            out.append(req)
    except csv.Error as exc:
        raise InputFileError(f"{path}:{reader.line_num}: {exc}") from exc
    return out


@dataclass
class BatchResult:
    rows: list[dict[str, Any]]

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r["state"]] = out.get(r["state"], 0) + 1
        return out


def _state(ctx: service.Context) -> dict[str, tuple[str, str | None, str | None]]:
    """request id -> (state, type, subject hash) of every request seen before."""
    ctx.ws.con.execute(_DDL)
    rows = ctx.ws.con.execute(f"SELECT request_id, state, type, subject_hash FROM {TABLE}")
    return {r[0]: (r[1], r[2], r[3]) for r in rows.fetchall()}


class _Ledger:
    """Request states collected during a batch and written in one statement."""

    def __init__(self, ctx: service.Context) -> None:
        self.ctx = ctx
        self.rows: dict[str, list[Any]] = {}

    def subject_hash(self, req: RequestRow) -> str:
        return service.subject_hash(self.ctx, req.identifiers)

    def record(self, req: RequestRow, state: str, reason: str | None, outputs: list[str]) -> None:
        received = req.received or datetime.now(UTC).date()
        self.rows[req.request_id] = [
            req.request_id,
            req.type or None,
            received,
            add_month(received),
            state,
            reason,
            self.subject_hash(req),
            json.dumps(outputs),
            datetime.now(UTC).replace(tzinfo=None),
        ]

    def flush(self) -> None:
        if not self.rows:
            return
        columns = list(zip(*self.rows.values(), strict=True))
        self.ctx.ws.con.execute(
            f"INSERT OR REPLACE INTO {TABLE} SELECT UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), "
            "UNNEST(?::DATE[]), UNNEST(?::DATE[]), UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), "
            "UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), UNNEST(?::TIMESTAMP[])",
            [list(c) for c in columns],
        )
        self.rows.clear()


def run_batch(
    ctx: service.Context,
    path: Path,
    *,
    apply: bool,
    out_dir: Path,
    progress: Callable[[str, float], None] | None = None,
    purge: bool = False,
    purge_now: bool = False,
) -> BatchResult:
    rows = read_requests(path)
    done = _state(ctx)
    ledger = _Ledger(ctx)
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    todo: list[RequestRow] = []
    for req in rows:
        if req.request_id in seen:
            req.error = f"duplicate request id {req.request_id!r} in the file"
        seen.add(req.request_id)
        if req.error is None:
            try:
                req.identifiers = service.validate_identifiers(req.identifiers, where="row")
                known = {link.kind for link in ctx.space.links} | {"name"}
                unknown = sorted(set(req.identifiers) - known)
                if unknown:
                    req.error = f"no identity link of kind {', '.join(unknown)}"
            except TutelaError as exc:
                req.error = exc.message.removeprefix("row: ")
        previous = done.get(req.request_id)
        if req.error is None and previous and previous[0] in FINISHED:
            if (previous[1], previous[2]) != (req.type, ledger.subject_hash(req)):
                req.error = "request id reused with a different type or person"
            elif previous[0] == "needs_review":
                pass  # answered again below, with the reviewer's decisions
            else:
                results.append(
                    {
                        "request_id": req.request_id,
                        "line": req.line,
                        "type": req.type,
                        "state": previous[0],
                        "reason": "finished in an earlier run; not redone",
                    }
                )
                continue
        if req.error is not None:
            duplicate = req.error.startswith(("duplicate request id", "request id reused"))
            if not duplicate and (done.get(req.request_id) or ("",))[0] not in FINISHED:
                ledger.record(req, "failed", req.error, [])
            results.append(
                {
                    "request_id": req.request_id,
                    "line": req.line,
                    "type": req.type,
                    "state": "failed",
                    "reason": req.error,
                }
            )
            continue
        todo.append(req)
    access = {r.request_id: r for r in todo if r.type == "access"}
    erasures = {r.request_id: r for r in todo if r.type == "erasure"}
    if access:
        reports = service.access_reports(
            ctx, {k: r.identifiers for k, r in access.items()}, out_dir
        )
        waiting = review.open_counts(ctx.ws.con, list(access))
        for req_id, req in access.items():
            rep = reports[req_id]
            pending = max(
                rep["report"]["summary"]["possible_matches_for_review"],
                waiting.get(req_id, 0),
            )
            state, reason = (
                ("needs_review", f"{pending} possible match(es) to review (tutela review list)")
                if pending
                else ("done", None)
            )
            if rep["lists_others"]:
                # a row of the copy lists items of someone else, maybe
                check = "check before sending (GDPR Art. 15(4)): " + _lists_others(
                    rep["lists_others"]
                )
                reason = f"{reason}; {check}" if reason else check
            ledger.record(req, state, reason, rep["files"])
            results.append(
                {
                    "request_id": req_id,
                    "line": req.line,
                    "type": "access",
                    "state": state,
                    "reason": reason,
                    "files": rep["files"],
                    "rows": rep["report"]["summary"]["rows"],
                }
                | ({"read_on_spark": rep["read_on_spark"]} if rep["read_on_spark"] else {})
                | ({"rows_listing_others": rep["lists_others"]} if rep["lists_others"] else {})
            )
    if erasures:
        clean, plans = service.plan_erasures(ctx, {k: r.identifiers for k, r in erasures.items()})
        if not apply:
            for plan in plans:
                req = erasures[plan.request_id]
                ledger.record(req, "received", "planned (dry run)", [])
                results.append(
                    {
                        "request_id": plan.request_id,
                        "line": req.line,
                        "type": "erasure",
                        "state": "received",
                        "reason": "dry run: pass --apply to erase"
                        + (
                            "; the erasure also removes "
                            + _lists_others({t.table: t.lists_others for t in plan.tables})
                            if any(t.lists_others for t in plan.tables)
                            else ""
                        ),
                        "plan": plan.to_dict(),
                    }
                )
        else:
            applied = list(
                service.apply_erasures(
                    ctx,
                    clean,
                    plans,
                    out_dir,
                    command="requests run",
                    purge=purge,
                    purge_now=purge_now,
                )
            )
            states = erasure_states(ctx.ws.con, [cert for cert, _ in applied])
            for (cert, files), (state, reason) in zip(applied, states, strict=True):
                req = erasures[cert["request_id"]]
                removed = {t["table"]: t.get("rows_listing_others") for t in cert["tables"]}
                if any(removed.values()):
                    also = "the erasure also removed " + _lists_others(removed)
                    reason = f"{reason}; {also}" if reason else also
                ledger.record(req, state, reason, files)
                results.append(
                    {
                        "request_id": req.request_id,
                        "line": req.line,
                        "type": "erasure",
                        "state": state,
                        "reason": reason,
                        "files": files,
                    }
                )
    ledger.flush()
    results.sort(key=lambda r: r["line"])
    return BatchResult(results)


def _lists_others(lists: Mapping[str, Mapping[str, int] | None]) -> str:
    """`SubjectMatch.lists_others` in a phrase."""
    return "; ".join(
        f"{t}: items not shown to be the person's in column(s) {', '.join(sorted(c))}"
        for t, c in sorted(lists.items())
        if c
    )


def erasure_states(con: Any, certs: Sequence[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Each request's state after its erasure was applied: done only when every system is
    and no possible match waits for a reviewer (counting those of earlier runs: a re-run
    after the person's own rows are gone no longer reaches them, but nobody has looked at
    them). One query per table for the whole batch."""
    ids = [c["request_id"] for c in certs]
    waiting = review.open_counts(con, ids)
    owed_tasks = tasks.owed_by_request(con, ids)
    states: list[tuple[str, str | None]] = []
    for cert in certs:
        request_id = cert["request_id"]
        if not cert["verification"]["ok"]:
            states.append(("failed", "residue found after erasure"))
            continue
        pending = max(cert["possible_matches_for_review"], waiting.get(request_id, 0))
        if pending:
            states.append(
                ("needs_review", f"{pending} possible match(es) to review (tutela review list)")
            )
            continue
        owed = sorted({*(cert.get("owed_at_sources") or []), *owed_tasks.get(request_id, [])})
        states.append((tasks.AWAITING, tasks.awaiting_reason(owed)) if owed else ("done", None))
    return states


def track_erasure(
    ctx: service.Context,
    request_id: str,
    identifiers: dict[str, list[str]],
    cert: dict[str, Any],
    files: list[str],
) -> str:
    """Record a one-off `tutela erase` as a request (received today), so its per-system
    tasks can be listed and confirmed like a batch's. Returns its state."""
    ctx.ws.con.execute(_DDL)
    ledger = _Ledger(ctx)
    [(state, reason)] = erasure_states(ctx.ws.con, [cert])
    row = ctx.ws.con.execute(
        f"SELECT received_at FROM {TABLE} WHERE request_id = ?", [request_id]
    ).fetchone()  # a request received earlier (a batch row) keeps its date and deadline
    received = row[0] if row else None
    ledger.record(RequestRow(0, request_id, "erasure", received, identifiers), state, reason, files)
    ledger.flush()
    return state


def list_requests(
    ctx_ws: Any, *, overdue: bool = False, today: date | None = None
) -> list[dict[str, Any]]:
    con = ctx_ws.con
    if not internal_table_exists(con, "requests"):
        return []
    today = today or datetime.now(UTC).date()
    where = "WHERE state <> 'done' AND deadline < ?" if overdue else ""
    params = [today] if overdue else []
    per_request = tasks.tasks_by_request(con)  # before the query below: one result at a time
    cur = con.execute(
        f"SELECT request_id, type, received_at, deadline, state, reason, outputs FROM {TABLE} "
        f"{where} ORDER BY deadline, request_id",
        params,
    )
    out = []
    for r in cur.fetchall():
        systems = per_request.get(r[0], [])
        for task in systems:
            task["overdue"] = tasks.overdue(task, r[3], today)
        out.append(
            {
                "request_id": r[0],
                "type": r[1],
                "received_at": r[2].isoformat(),
                "deadline": r[3].isoformat(),
                "state": r[4],
                "reason": r[5],
                "overdue": r[4] != "done" and r[3] < today,
                "outputs": json.loads(r[6] or "[]"),
                "systems": systems,
                "owed_at": [t["system"] for t in systems if t["state"] == "owed"],
            }
        )
    return out
