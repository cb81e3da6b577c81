"""`tutela classify`: record a reviewer's decision on a column; every later scan honours it."""

from __future__ import annotations

import typer
from rich.markup import escape

from tutela.base.errors import UsageError
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, state
from tutela.detect import decisions, load_stored_scan


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
    with state(ctx).open_workspace() as ws:
        if list_:
            found = [d.to_dict() for d in decisions.load_decisions(ws.con).values()]
            if fmt is OutputFormat.json:
                output.emit_json({"decisions": found})
            else:
                output.render_table(
                    "Decisions",
                    ["column", "verdict", "reason", "decided at"],
                    [
                        (f"{d['table']}.{d['column']}", d["entity"] or "not personal",
                         d["reason"], d["decided_at"])
                        for d in found
                    ],
                )  # fmt: skip
            return
        if target is None:
            raise UsageError("name the column: tutela classify TABLE.COLUMN --as ENTITY ...")
        if forget:
            gone = decisions.forget(ws, target)
            output.err.print(
                f"decision on {escape(target)} removed" if gone else "no decision to remove"
            )
            return
        if (entity is None) == (not not_personal):
            raise UsageError("give exactly one of --as ENTITY and --not-personal")
        table, column = decisions.split_target(ws, target)
        stored = load_stored_scan(ws.con, table)
        detected = next(
            (c.entity for c in (stored[0].columns if stored else []) if c.column == column), None
        )
        decision = decisions.record(
            ws, target, entity=entity.upper() if entity else None, reason=reason, detected=detected
        )
    if fmt is OutputFormat.json:
        output.emit_json(decision.to_dict())
        return
    verdict = decision.entity or "not personal data"
    output.err.print(
        f"{escape(decision.table)}.{escape(decision.column)}: {escape(verdict)} "
        f"(recorded and audited; scans show it as a human decision)"
    )
