"""`tutela audit`: show and verify the hash-chained audit log."""

from __future__ import annotations

import typer

from tutela.base.errors import ExitCode
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.report.jsonout import to_json
from tutela.services import audit

audit_app = typer.Typer(help="Show and verify the audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Check that no audit entry was edited, removed, reordered or forged (exit 1 if so)."""
    verified = audit.verify(session(ctx))
    report, stored = verified.chain, verified.read_back
    if fmt is OutputFormat.json:
        output.emit_json(verified.to_dict())
    elif report.ok:
        output.out.print(
            f"audit log OK: {report.entries} entries, head {report.head}; "
            f"{stored.tables} tables ({stored.rows:,} rows) read back intact"
        )
    if report.earlier_key_through and fmt is not OutputFormat.json:
        output.warn(
            f"entries #1-#{report.earlier_key_through} were keyed by a master key that was "
            "replaced (`keys init --new-key`): their order and links were checked, their "
            "content could not be"
        )
    else:
        for problem in report.problems:
            output.print_error("audit-tampered", problem)
    raise typer.Exit(int(ExitCode.OK if report.ok else ExitCode.FINDINGS))


@audit_app.command("show")
def show_cmd(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", min=0, max=1_000_000, help="Newest N entries."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """List the newest audit entries (identifiers appear only as keyed hashes)."""
    items = audit.entries(session(ctx), limit)
    if fmt is OutputFormat.json:
        output.emit_json({"entries": [e.to_dict() for e in items]})
        return
    output.render_table(
        "Audit log",
        ["seq", "at", "command", "tables", "counts", "result", "hash"],
        [
            (
                e.seq,
                e.at[:19],
                e.command,
                ", ".join(e.tables),
                to_json(e.counts).replace("\n", "").replace("  ", ""),
                e.result,
                e.entry_hash[:12],
            )
            for e in items
        ],
    )
