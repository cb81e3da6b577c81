"""One call per command: find, subject-access report, erasure; each audited."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from tutela import audit
from tutela.base.errors import InterruptedByUser, TutelaError, UsageError
from tutela.base.keys import MasterKey, keyed_hash
from tutela.keyguard import workspace_key
from tutela.policy.models import Policy
from tutela.report import sar as sar_render
from tutela.report.certificate import certificate_markdown
from tutela.report.files import prepare_output_dir, safe_stem, write_private
from tutela.report.jsonout import to_json
from tutela.subjects import erase as erasure
from tutela.subjects import narrow, physical, review, systems
from tutela.subjects.find import SearchSpace, SubjectMatch, find_subjects, search_space
from tutela.subjects.ledger import Ledger
from tutela.subjects.plan import ErasurePlan
from tutela.subjects.policyview import free_text_columns, link_specs, placeholders
from tutela.subjects.sar import build_sar
from tutela.workspace import Workspace

Identifiers = Mapping[str, Sequence[str]]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_request_id(prefix: str) -> str:
    """A request reference for one-off commands: prefix, UTC time to the second and a random
    part (two searches in one second are two requests: each keeps its own review items)."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def validate_identifiers(identifiers: Identifiers, *, where: str = "") -> dict[str, list[str]]:
    """Drop empty values; refuse a request without identifiers, with names only (a name
    does not say who asks: "we hold nothing under that name" would be false for every
    namesake's rows, and their data is not the requester's), with a malformed e-mail or
    with a phone number without its digits."""
    clean = {
        k: [str(v).strip() for v in vals if v is not None and str(v).strip()]
        for k, vals in identifiers.items()
    }
    clean = {k: v for k, v in clean.items() if v}
    prefix = f"{where}: " if where else ""
    if not clean:
        raise UsageError(
            f"{prefix}no identifier given",
            hint="give --email, --phone, --customer-id, --national-id or --id KIND=VALUE",
        )
    if set(clean) == {"name"}:
        raise UsageError(
            f"{prefix}a name alone does not identify anyone",
            hint="ask the requester for an e-mail address, a phone number or a customer id "
            "as well (GDPR Art. 12(6))",
        )
    for email in clean.get("email", []):
        if not _EMAIL.match(email):
            # in a batch the reason is stored: it must not keep the value
            shown = "" if where else f" {email!r}"
            raise UsageError(f"{prefix}malformed e-mail address{shown}")
    for phone in clean.get("phone", []):
        if not 6 <= sum(ch.isdigit() for ch in phone) <= 21:  # an extension may follow
            shown = "" if where else f" {phone!r}"
            raise UsageError(f"{prefix}malformed phone number{shown} (expected 6 to 15 digits)")
    return clean


@dataclass
class Context:
    ws: Workspace
    policy: Policy
    space: SearchSpace
    master: MasterKey


def context(ws: Workspace, policy: Policy) -> Context:
    space = search_space(
        ws, link_specs(policy), free_text_columns(ws, policy), placeholders(policy)
    )
    if not any(link.matches for link in space.links):
        raise UsageError(
            "the policy declares no identity link on any loaded table",
            hint="declare subjects: <name>: identifiers: [{table, column, kind}] in the policy",
        )
    return Context(ws, policy, space, workspace_key(ws))


def _audit_read(
    ctx: Context,
    command: str,
    requests: Mapping[str, Identifiers],
    matches: Mapping[str, SubjectMatch],
) -> audit.AuditEntry:
    with ctx.ws.transaction() as con:
        return audit.append(
            con,
            ctx.master,
            command=command,
            arguments={
                "requests": {
                    r: erasure.hashed_identifiers(ctx.master, ids) for r, ids in requests.items()
                }
            },
            tables=sorted({t for m in matches.values() for t in m.rows}),
            counts={
                r: {
                    "rows": m.row_count(),
                    "free_text": len(m.free_text),
                    "possible_matches": len(m.possible),
                }
                for r, m in matches.items()
            },
            result="read",
        )


def find(ctx: Context, identifiers: Identifiers, request_id: str = "find") -> SubjectMatch:
    ids = validate_identifiers(identifiers)
    ledger = Ledger.load(ctx.ws.con, ctx.master)
    with narrow.narrowing(ctx.ws):  # a lake behind Spark: the rows Spark picks
        match = find_subjects(ctx.ws, ctx.space, {request_id: ids}, ledger=ledger)[request_id]
    _audit_read(ctx, "subject find", {request_id: ids}, {request_id: match})
    return match


@dataclass(frozen=True)
class Mention:
    """Free-text mentions of the person in one column: which identifier kinds were seen."""

    table: str
    column: str
    kinds: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "kinds": self.kinds}


@dataclass(frozen=True)
class MatchSummary:
    """What `subject find` shows: where the person's rows are, and what was held back."""

    found: bool
    tables: dict[str, int]
    """Table -> rows of the person in it."""
    rows: int
    free_text_mentions: list[Mention] = field(default_factory=list)
    possible_matches: list[dict[str, Any]] = field(default_factory=list)
    """Rows for a human to review (masked values only)."""
    shared_identifiers: list[dict[str, Any]] = field(default_factory=list)
    """Identifiers shared with other people or placeholders: not followed."""
    identifier_kinds_found: dict[str, int] = field(default_factory=dict)
    not_searched: list[str] = field(default_factory=list)
    read_on_spark: dict[str, Any] = field(default_factory=dict)
    """Lake tables behind Spark: rows Spark picked for the search, and its passes."""

    def to_dict(self) -> dict[str, Any]:
        extra = {"read_on_spark": self.read_on_spark} if self.read_on_spark else {}
        return extra | {
            "found": self.found,
            "tables": self.tables,
            "rows": self.rows,
            "free_text_mentions": [m.to_dict() for m in self.free_text_mentions],
            "possible_matches": self.possible_matches,
            "shared_identifiers": self.shared_identifiers,
            "identifier_kinds_found": self.identifier_kinds_found,
            "not_searched": self.not_searched,
        }


def match_summary(ctx: Context, match: SubjectMatch) -> MatchSummary:
    return MatchSummary(
        found=match.found,
        tables={t: len(r) for t, r in sorted(match.rows.items())},
        rows=match.row_count(),
        free_text_mentions=[Mention(h.table, h.column, sorted(h.kinds)) for h in match.free_text],
        possible_matches=[p.to_dict() for p in match.possible],
        shared_identifiers=[h.to_dict() for h in match.held_back],
        identifier_kinds_found={k: len(v) for k, v in sorted(match.keys.items())},
        not_searched=list(ctx.space.skipped),
        read_on_spark=read_on_spark(match),
    )


def read_on_spark(match: SubjectMatch) -> dict[str, Any]:
    """What `subject find` and `sar` say of lake tables read as rows Spark picked."""
    if not match.picked_on_spark and not match.read_whole:
        return {}
    out: dict[str, Any] = {
        "rows_picked": dict(match.picked_on_spark),
        "passes": match.search_passes,
    }
    if match.read_whole:
        out["read_whole_by_duckdb"] = dict(match.read_whole)
    return out


def subject_hash(ctx: Context, identifiers: Identifiers) -> str:
    """Which person a request names, as a keyed hash of its identifiers (no value kept)."""
    subject = json.dumps(erasure.hashed_identifiers(ctx.master, identifiers), sort_keys=True)
    return keyed_hash(ctx.master.derive("subject-identifiers"), subject)


def _find_reviewed(ctx: Context, requests: Mapping[str, Identifiers]) -> dict[str, SubjectMatch]:
    """One search for these requests, with the decisions reviewers recorded for them (for
    the same identifiers only)."""
    review.check_subjects(ctx.ws.con, {r: subject_hash(ctx, ids) for r, ids in requests.items()})
    decided = review.decisions(ctx.ws.con, requests)
    ledger = Ledger.load(ctx.ws.con, ctx.master)
    return find_subjects(ctx.ws, ctx.space, requests, decisions=decided, ledger=ledger)


def record_review(
    ctx: Context, matches: Mapping[str, SubjectMatch], requests: Mapping[str, Identifiers]
) -> None:
    """Keep the open possible matches of these requests for `tutela review`."""
    if any(m.possible for m in matches.values()) or review.items(ctx.ws.con):
        subjects = {r: subject_hash(ctx, ids) for r, ids in requests.items()}
        with ctx.ws.transaction() as con:
            review.record(ctx.ws, con, matches, subjects)


class AccessReport(TypedDict):
    """One request's subject-access report (the document build_sar makes) and its files."""

    report: dict[str, Any]
    files: list[str]
    read_on_spark: dict[str, Any]
    lists_others: dict[str, dict[str, int]]
    """`SubjectMatch.lists_others`: rows of the report listing items not shown to be the
    person's (for the operator, before the copy is sent: GDPR Art. 15(4))."""


class AppliedErasure(NamedTuple):
    """One applied erasure: its certificate and the files it was written to."""

    certificate: dict[str, Any]
    files: list[str]

    @property
    def verified(self) -> bool:
        """Nothing of the person was left anywhere it was checked."""
        return bool(self.certificate["verification"]["ok"])


def access_reports(
    ctx: Context,
    requests: Mapping[str, Identifiers],
    out_dir: Path,
) -> dict[str, AccessReport]:
    """A report per request (JSON + HTML + Markdown, 0600), from one set-based search."""
    clean = {r: validate_identifiers(ids, where=f"request {r}") for r, ids in requests.items()}
    prepare_output_dir(out_dir)
    # live tables: one read each; a lake behind Spark: the rows Spark picks
    with narrow.narrowing(ctx.ws), ctx.ws.snapshots(ctx.space.tables()):
        matches = _find_reviewed(ctx, clean)
        reports = {
            req: build_sar(ctx.ws, ctx.policy, ctx.space, match, clean[req], request_id=req)
            for req, match in matches.items()
        }
    _audit_read(ctx, "sar", clean, matches)  # before any file leaves the workspace
    record_review(ctx, matches, clean)
    out: dict[str, AccessReport] = {}
    for req, report in reports.items():
        stem = f"sar-{safe_stem(req)}"
        files = [
            write_private(out_dir, f"{stem}.json", to_json(report) + "\n"),
            write_private(out_dir, f"{stem}.html", sar_render.to_html(report)),
            write_private(out_dir, f"{stem}.md", sar_render.to_markdown(report)),
        ]
        out[req] = AccessReport(
            report=report,
            files=[str(f) for f in files],
            read_on_spark=read_on_spark(matches[req]),
            lists_others=matches[req].lists_others,
        )
    return out


def plan_erasures(
    ctx: Context, requests: Mapping[str, Identifiers]
) -> tuple[dict[str, dict[str, list[str]]], list[ErasurePlan]]:
    clean = {r: validate_identifiers(ids, where=f"request {r}") for r, ids in requests.items()}
    matches = _find_reviewed(ctx, clean)
    record_review(ctx, matches, clean)
    return clean, [erasure.plan_erasure(ctx.policy, matches[r], r, ctx.ws) for r in clean]


def apply_erasures(
    ctx: Context,
    clean: Mapping[str, Identifiers],
    plans: Sequence[ErasurePlan],
    out_dir: Path | None,
    *,
    command: str = "erase",
    purge: bool = False,
    purge_now: bool = False,
) -> list[AppliedErasure]:
    """Apply all plans in one transaction, verify each, write certificates (0600).
    `purge`: also VACUUM the live tables changed (see Attachments.finish_erasure)."""
    if out_dir is not None:
        prepare_output_dir(out_dir)  # fail before changing anything, not after
    # read before applying: the values that must vanish, and the keys owed at each source
    erased = physical.erased_values(ctx.ws, ctx.space, plans)
    owed = systems.erasure_systems(ctx.ws, ctx.policy, ctx.space, plans, ctx.master)
    hashed = {r: erasure.hashed_identifiers(ctx.master, ids) for r, ids in clean.items()}
    copies = systems.copies_for_plans(ctx.ws, plans, hashed)
    counts, entry = erasure.apply_plans(
        ctx.ws, ctx.master, plans, clean, command=command, owed=owed
    )
    try:
        return _finish_erasures(
            ctx, clean, plans, out_dir, counts, entry, erased, owed, copies, purge, purge_now
        )
    except KeyboardInterrupt as exc:  # the erasure stands: say so, and how to finish
        raise InterruptedByUser(
            f"interrupted after the erasure was committed and audited (entry #{entry.seq}); "
            "its certificate was not written",
            hint="run the same command again"
            + (f" with --request-id {plans[0].request_id}" if command == "erase" else "")
            + ": it completes the file rewrite, and its certificate names this erasure",
        ) from exc


def _finish_erasures(
    ctx: Context,
    clean: Mapping[str, Identifiers],
    plans: Sequence[ErasurePlan],
    out_dir: Path | None,
    counts: dict[str, dict[str, dict[str, int]]],
    entry: audit.AuditEntry,
    erased: Any,
    owed: Mapping[str, Sequence[Mapping[str, Any]]],
    copies: Mapping[str, Sequence[Mapping[str, Any]]],
    purge: bool,
    purge_now: bool,
) -> list[AppliedErasure]:
    """What follows the erasure's commit: the live sources' and the workspace file's purge,
    the verification, and a certificate per request."""
    storage = ctx.ws.attachments.finish_erasure(purge=purge, purge_now=purge_now)  # after commit
    purged, purge_error = physical.purge_workspace(ctx.ws)  # then the workspace file
    checks = erasure.verify(ctx.ws, ctx.space, plans)
    on_disk = physical.verify_bytes(ctx.ws, erased, purged, purge_error)
    earlier = erasure.earlier_erasures(ctx.ws.con, [p.request_id for p in plans], entry.seq)
    shared = erasure.shared_rows(plans)
    touched = {t for p in plans for t in counts[p.request_id]}
    for e in storage:  # lake tables: files that still hold removed values are residue
        held: list[str] = list(getattr(e, "residue", ()))
        for plan in plans:
            if held and (e.table in counts[plan.request_id] or e.table not in touched):
                checks[plan.request_id]["ok"] = False
                checks[plan.request_id]["residue"].append(
                    {"table": e.table, "files": held, "rows": 0}
                )
    results = []
    for plan in plans:
        outcome = erasure.ErasureOutcome(
            plan,
            counts[plan.request_id],
            entry,
            checks[plan.request_id],
            erasure.hashed_identifiers(ctx.master, clean[plan.request_id]),
            ctx.master.key_id,
            erasure.now(),
            # and a purge an earlier, interrupted erasure still owed (lake tables)
            [e for e in storage if e.table in counts[plan.request_id] or e.table not in touched],
        )
        cert = erasure.certificate(outcome)
        cert["not_searched"] = list(ctx.space.skipped)
        cert["earlier_erasures"] = earlier.get(plan.request_id, [])
        cert["same_rows_as"] = dict(sorted(shared.get(plan.request_id, {}).items()))
        physical.annotate(
            cert, on_disk[plan.request_id], owed[plan.request_id], copies[plan.request_id]
        )
        files: list[str] = []
        if out_dir is not None:
            stem = f"erasure-{safe_stem(plan.request_id)}"
            try:
                files = [
                    str(write_private(out_dir, f"{stem}.json", to_json(cert) + "\n")),
                    str(write_private(out_dir, f"{stem}.md", certificate_markdown(cert))),
                ]
            except (OSError, TutelaError) as exc:
                raise TutelaError(
                    f"the erasure WAS applied and audited (entry #{entry.seq}), but its "
                    f"certificate could not be written: {exc}",
                    hint="the certificate data is in the audit log; re-run with another --out",
                ) from exc
        results.append(AppliedErasure(cert, files))
    return results
