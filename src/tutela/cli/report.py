"""`tutela report`: the governance report a DPO asks for, as one self-contained HTML file."""

from __future__ import annotations

import enum
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import UsageError
from tutela.cli import output
from tutela.cli.options import PolicyPathOption, state
from tutela.policy.loader import load_policy
from tutela.report import governance
from tutela.report.files import check_target, write_private_file
from tutela.report.governance_html import render_html
from tutela.report.jsonout import to_json


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
    target = None if fmt is ReportFormat.json and out is None else out or Path("governance.html")
    if target is not None:
        check_target(target, force=force)
    loaded = load_policy(policy)
    with state(ctx).open_workspace(read_only=True) as ws:
        report = governance.build(
            ws, loaded.policy, as_of=day, policy_files=tuple(str(f) for f in loaded.files)
        )
    if target is None:
        output.emit_json(report.to_dict())
        return
    text = render_html(report) if fmt is ReportFormat.html else to_json(report.to_dict()) + "\n"
    path = write_private_file(target, text, force=force)
    output.out.print(escape(str(path.resolve())))
    summary = report.summary()
    if not summary["audit_chain_verified"]:
        output.warn("the audit chain did not verify: see the report's integrity section")
    if summary["overdue_requests"]:
        output.warn(f"{summary['overdue_requests']} data-subject request(s) overdue")
