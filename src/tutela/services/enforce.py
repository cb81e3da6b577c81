"""Services of `tutela retention`, `consent`, `view` and `export`: the policy applied.

Each loads the policy before opening the workspace, as the commands always did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tutela.enforce import access, consent, export, retention
from tutela.policy.loader import load_policy
from tutela.services.session import Session


@dataclass(frozen=True)
class RetentionRequest:
    policy: Path
    as_of: date
    table: str | None = None
    """Only this table."""
    apply: bool = False
    """Carry out the actions (else: the plan only)."""


def retention_plan(session: Session, request: RetentionRequest) -> retention.RetentionPlan:
    """Rows past retention per table (read-only)."""
    policy = load_policy(request.policy).policy
    with session.open(read_only=True) as ws:
        return retention.plan(ws, policy, request.as_of, request.table)


def retention_apply(session: Session, request: RetentionRequest) -> retention.RetentionPlan:
    """Delete, anonymize or pseudonymize expired rows in one audited transaction; without
    `apply`, the plan (the workspace opened for writing all the same, as to apply)."""
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        if request.apply:
            return retention.apply(ws, policy, request.as_of, request.table)
        return retention.plan(ws, policy, request.as_of, request.table)


def consent_import(
    session: Session, policy_path: Path, files: Sequence[Path]
) -> list[consent.ImportResult]:
    """Append consent events from files to the ledger (identical events are skipped)."""
    policy = load_policy(policy_path).policy
    with session.open(create=True) as ws:
        return [consent.import_file(ws, policy, f) for f in files]


@dataclass(frozen=True)
class Withdrawal:
    policy: Path
    subject: str
    purpose: str
    at: datetime | None = None
    """Effective time (default now)."""


def consent_withdraw(session: Session, request: Withdrawal) -> int:
    """Record a withdrawal of consent; returns its audit entry."""
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        return consent.withdraw(ws, policy, request.subject, request.purpose, request.at)


def consent_status(
    session: Session, policy_path: Path, subject: str, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    policy = load_policy(policy_path).policy
    with session.open(read_only=True) as ws:
        return consent.status(ws, policy, subject, as_of)


@dataclass(frozen=True)
class ConsentCheck:
    policy: Path
    file: Path
    purpose: str
    column: str | None = None
    """Subject column (default: e-mail)."""


def consent_check(session: Session, request: ConsentCheck) -> consent.CheckResult:
    """Every subject in an outgoing list without current consent for the purpose."""
    policy = load_policy(request.policy).policy
    with session.open(read_only=True) as ws:
        return consent.check_file(ws, policy, request.file, request.purpose, request.column)


def create_views(session: Session, policy_path: Path, role: str) -> access.ViewResult:
    policy = load_policy(policy_path).policy
    with session.open() as ws:
        return access.create_views(ws, policy, role)


@dataclass(frozen=True)
class ExportRequest:
    policy: Path
    table: str
    out: Path
    purpose: str | None = None
    """Export for this purpose (consent enforced); exactly one of purpose and role."""
    role: str | None = None
    """Export as this role sees it."""
    force: bool = False


def export_table(session: Session, request: ExportRequest) -> export.ExportResult:
    policy = load_policy(request.policy).policy
    with session.open() as ws:
        if request.purpose is not None:
            return export.export_for_purpose(
                ws, policy, request.table, request.purpose, request.out, force=request.force
            )
        assert request.role is not None
        return export.export_for_role(
            ws, policy, request.table, request.role, request.out, force=request.force
        )
