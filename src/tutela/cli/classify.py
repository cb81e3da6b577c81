"""`tutela classify`: record a reviewer's decision on a column; every later scan honours it."""

from __future__ import annotations

import typer
from rich.markup import escape

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.services.classify import ClassifyAction, ClassifyRequest, classify


def classify_cmd(
    ctx: typer.Context,
    target: str | None = typer.Argument(
        None, help="TABLE.COLUMN (e.g. crm_customers.notes).", show_default=False
    ),
    entity: str | None = typer.Option(
        None, "--as", help="The entity the column holds (e.g. PERSON).", show_default=False
    ),
    not_personal: bool = typer.Option(
        False, "--not-personal", help="The column holds no personal data."
    ),
    reason: str = typer.Option("", "--reason", help="Why (shown to the next reviewer)."),
    forget: bool = typer.Option(False, "--forget", help="Remove the decision on the column."),
    list_: bool = typer.Option(False, "--list", help="List the recorded decisions."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Record a human decision on a column: rescans, --fail-on, policy init and SARIF honour it."""
    request = ClassifyRequest(target, entity, not_personal, reason, forget, list_)
    result = classify(session(ctx), request)
    if result.action is ClassifyAction.forget:
        removed = f"decision on {escape(target or '')} removed"
        output.err.print(removed if result.removed else "no decision to remove")
    elif fmt is OutputFormat.json and result.action is ClassifyAction.list:
        output.emit_json({"decisions": [d.to_dict() for d in result.decisions]})
    elif fmt is OutputFormat.json:
        output.emit_json(result.decisions[0].to_dict())
    elif result.action is ClassifyAction.list:
        output.render_decisions(result.decisions)
    else:
        decision = result.decisions[0]
        verdict = decision.entity or "not personal data"
        output.err.print(
            f"{escape(decision.table)}.{escape(decision.column)}: {escape(verdict)} "
            f"(recorded and audited; scans show it as a human decision)"
        )
