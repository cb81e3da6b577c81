"""Service of `tutela report`: build the governance report and write it (0600) in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tutela.policy.loader import load_policy
from tutela.report import governance
from tutela.report.files import check_target, write_private_file
from tutela.report.governance_html import render_html
from tutela.report.jsonout import to_json
from tutela.services.session import Session


@dataclass(frozen=True)
class ReportRequest:
    policy: Path
    out: Path | None = None
    """The file to write; None with `html` False: the report is only returned."""
    html: bool = True
    as_of: date | None = None
    force: bool = False
    """Replace an existing output file."""

    @property
    def target(self) -> Path | None:
        if not self.html and self.out is None:
            return None
        return self.out or Path("governance.html")


@dataclass(frozen=True)
class ReportOutcome:
    report: governance.GovernanceReport
    path: Path | None = None
    """The file written (None: nothing written)."""


def governance_report(session: Session, request: ReportRequest) -> ReportOutcome:
    """Data map, findings, retention, consent, requests and audit integrity for a DPO."""
    target = request.target
    if target is not None:
        check_target(target, force=request.force)  # before any work
    loaded = load_policy(request.policy)
    with session.open(read_only=True) as ws:
        report = governance.build(
            ws, loaded.policy, as_of=request.as_of, policy_files=tuple(str(f) for f in loaded.files)
        )
    if target is None:
        return ReportOutcome(report)
    text = render_html(report) if request.html else to_json(report.to_dict()) + "\n"
    return ReportOutcome(report, write_private_file(target, text, force=request.force))
