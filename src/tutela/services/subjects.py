"""Services of `tutela subject find`, `sar`, `erase`, `requests ...` and `review ...`.

Each loads the policy, opens the workspace, builds the search space and the key, and does
the one thing asked; the command renders the typed result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.services.session import Session
from tutela.subjects import requests, review, service, tasks
from tutela.subjects.service import MatchSummary

Identifiers = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class FindRequest:
    identifiers: Identifiers
    policy: Path


def find(session: Session, request: FindRequest) -> MatchSummary:
    """Every row of one person in every table, following identity links; audited."""
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        ctx = service.context(ws, policy)
        return service.match_summary(ctx, service.find(ctx, request.identifiers))


@dataclass(frozen=True)
class AccessRequest:
    identifiers: Identifiers
    policy: Path
    out: Path = Path("reports")
    request_id: str | None = None
    """Default: SAR-<UTC time>."""


@dataclass(frozen=True)
class SarSummary:
    tables: int
    rows: int
    free_text_mentions: int
    possible_matches_for_review: int

    def to_dict(self) -> dict[str, int]:
        return {
            "tables": self.tables,
            "rows": self.rows,
            "free_text_mentions": self.free_text_mentions,
            "possible_matches_for_review": self.possible_matches_for_review,
        }


@dataclass(frozen=True)
class SubjectAccessReport:
    """A written subject-access report: what it says in short, and where its files are."""

    request_id: str
    data_held: bool
    summary: SarSummary
    files: list[str] = field(default_factory=list)
    """JSON, HTML and Markdown, mode 0600."""
    read_on_spark: dict[str, Any] = field(default_factory=dict)
    """Lake tables behind Spark: rows Spark picked for the search, and its passes."""
    lists_others: dict[str, dict[str, int]] = field(default_factory=dict)
    """table -> list column -> rows of the report listing items there not shown to be the
    person's: the operator checks them before sending the copy (GDPR Art. 15(4))."""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "request_id": self.request_id,
            "data_held": self.data_held,
            "summary": self.summary.to_dict(),
            "files": self.files,
            "rows_listing_others": self.lists_others,
        }
        if self.read_on_spark:
            out["read_on_spark"] = self.read_on_spark
        return out


def access_report(session: Session, request: AccessRequest) -> SubjectAccessReport:
    """The Art. 15/20 report of one person, written to `request.out`; audited."""
    request_id = request.request_id or service.new_request_id("SAR")
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        ctx = service.context(ws, policy)
        result = service.access_reports(ctx, {request_id: request.identifiers}, request.out)
    report, files = result[request_id]["report"], result[request_id]["files"]
    return SubjectAccessReport(
        request_id,
        bool(report["data_held"]),
        SarSummary(**report["summary"]),
        files,
        result[request_id]["read_on_spark"],
        result[request_id]["lists_others"],
    )


@dataclass(frozen=True)
class ErasureRequest:
    identifiers: Identifiers
    policy: Path
    apply: bool = False
    """False: plan only."""
    purge: bool = False
    purge_now: bool = False
    request_id: str | None = None
    """Default: ERASE-<UTC time>."""
    out: Path = Path("reports")


@dataclass(frozen=True)
class ErasureResult:
    """The plan, and when applied the certificate and the files it was written to."""

    plan: dict[str, Any]
    """The plan as shown (read while the workspace is open: it names live tables)."""
    certificate: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.certificate is not None

    @property
    def verified(self) -> bool:
        """Applied and no residue found (a plan is not a failure)."""
        return self.certificate is None or bool(self.certificate["verification"]["ok"])

    def to_dict(self) -> dict[str, Any]:
        if self.certificate is None:
            return {"applied": False, "plan": self.plan}
        return {"applied": True, "certificate": self.certificate, "files": self.files}


def erase(session: Session, request: ErasureRequest) -> ErasureResult:
    """Plan the erasure of one person; with `apply`, carry it out in one transaction, verify
    nothing is left, write the certificate and track the request."""
    request_id = request.request_id or service.new_request_id("ERASE")
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        ctx = service.context(ws, policy)
        clean, plans = service.plan_erasures(ctx, {request_id: request.identifiers})
        if not request.apply:
            return ErasureResult(plans[0].to_dict())
        [(cert, files)] = service.apply_erasures(
            ctx, clean, plans, request.out, purge=request.purge, purge_now=request.purge_now
        )
        cert["request_state"] = requests.track_erasure(
            ctx, request_id, clean[request_id], cert, files
        )
        return ErasureResult(plans[0].to_dict(), cert, files)


@dataclass(frozen=True)
class BatchRequest:
    file: Path
    policy: Path
    apply: bool = False
    purge: bool = False
    purge_now: bool = False
    out: Path = Path("reports")


def run_requests(session: Session, request: BatchRequest) -> requests.BatchResult:
    """Every request in a file in one set-based pass; bad rows fail alone."""
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        return requests.run_batch(
            service.context(ws, policy),
            request.file,
            apply=request.apply,
            out_dir=request.out,
            purge=request.purge,
            purge_now=request.purge_now,
        )


def list_requests(session: Session, *, overdue: bool = False) -> list[dict[str, Any]]:
    with session.open(read_only=True) as ws:
        return requests.list_requests(ws, overdue=overdue)


def confirm_task(
    session: Session, request_id: str, system: str, note: str | None = None
) -> tasks.Confirmation:
    """Record that an erasure owed at a source system was carried out there; audited."""
    with session.open() as ws:
        return tasks.confirm(ws, workspace_key(ws), request_id, system, note)


def review_items(
    session: Session, request_id: str | None = None, *, open_only: bool = True
) -> list[review.ReviewItem]:
    with session.open(read_only=True) as ws:
        return review.with_presence(ws, review.items(ws.con, request_id, open_only=open_only))


@dataclass(frozen=True)
class ReviewDecision:
    request_id: str
    items: list[int]
    decision: str
    """review.CONFIRMED or review.REJECTED."""
    note: str | None = None


def decide(session: Session, request: ReviewDecision) -> list[review.ReviewItem]:
    """A human's decision on possible matches; the next run of the request uses it."""
    with session.open() as ws:
        return review.decide(
            ws, workspace_key(ws), request.request_id, request.items, request.decision, request.note
        )
