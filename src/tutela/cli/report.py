"""`tutela report`: the governance report a DPO asks for, as one self-contained HTML file."""

from __future__ import annotations

import enum
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import UsageError
from tutela.cli import output
from tutela.cli.options import PolicyPathOption, session
from tutela.services.report import ReportRequest, governance_report


class ReportFormat(enum.StrEnum):
    html = "html"
    json = "json"


def report_cmd(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Output file, mode 0600 (default governance.html; JSON without --out: stdout).",
        show_default=False,
    ),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help="html or json."),
    as_of: str | None = typer.Option(None, "--as-of", help="Report as of this date (YYYY-MM-DD)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    policy: Path = PolicyPathOption,
) -> None:
    """Governance report for a DPO: one self-contained HTML file (or JSON).

    Data map, findings heat map, retention, consent, requests and audit integrity; no
    scripts, opens offline, prints."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UsageError(f"--as-of takes YYYY-MM-DD, not {as_of!r}") from None
    request = ReportRequest(policy, out, fmt is ReportFormat.html, day, force)
    outcome = governance_report(session(ctx), request)
    if outcome.path is None:
        output.emit_json(outcome.report.to_dict())
        return
    output.out.print(escape(str(outcome.path.resolve())))
    summary = outcome.report.summary()
    if not summary["audit_chain_verified"]:
        output.warn("the audit chain did not verify: see the report's integrity section")
    if summary["overdue_requests"]:
        output.warn(f"{summary['overdue_requests']} data-subject request(s) overdue")
