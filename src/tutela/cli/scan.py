"""`tutela scan`: find every personal-data column; a CI gate with --fail-on and --baseline."""

from __future__ import annotations

import enum
from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import ExitCode
from tutela.cli import output
from tutela.cli.options import session
from tutela.services.scan import ScanRequest, scan


class ScanFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


def scan_cmd(
    ctx: typer.Context,
    tables: list[str] | None = typer.Argument(None, help="Tables to scan (default: all)."),
    fmt: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="table, json, sarif."),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Entities that fail the run (exit 1), e.g. PERSON,NATIONAL_ID or ANY.",
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A previous `scan --format json`: its findings are accepted."
    ),
    force: bool = typer.Option(False, "--force", help="Rescan tables whose results are stored."),
    ner_model: str | None = typer.Option(
        None,
        "--ner-model",
        help="A spaCy NER pipeline you installed (directory or package) for names in free text.",
        show_default=False,
    ),
) -> None:
    """Scan every column of the loaded tables for personal data."""
    request = ScanRequest(tables or [], fail_on, baseline, force, ner_model)
    with output.progress_bar() as progress:
        outcome = scan(session(ctx), request, progress)
    run, failing = outcome.run, outcome.failing
    if fmt is ScanFormat.json:
        output.emit_json(run.to_dict())
    elif fmt is ScanFormat.sarif:
        from tutela.report.sarif import scan_to_sarif  # imports the policy rules: only here

        output.emit_json(scan_to_sarif(run.scans, outcome.sources))
    else:
        output.render_scan(run)
    if failing:
        output.err.print(
            f"{len(failing)} personal-data column(s) match --fail-on: "
            + escape(", ".join(f"{t}.{c} ({e})" for t, c, e in failing[:10]))
            + (" …" if len(failing) > 10 else "")
        )
        raise typer.Exit(int(ExitCode.FINDINGS))
