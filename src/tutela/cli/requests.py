"""`tutela requests run|list|confirm`: batches of requests, GDPR deadlines, per-system tasks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import ExitCode, UsageError
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, session
from tutela.services import subjects
from tutela.subjects import tasks

requests_app = typer.Typer(help="Process batches of data-subject requests.", no_args_is_help=True)


@requests_app.command("run")
def run_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV or JSONL: request_id, type, received_at, ids."),
    apply: bool = typer.Option(False, "--apply", help="Carry out erasure requests."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan erasures only (the default)."),
    purge: bool = typer.Option(
        False, "--purge", help="Then VACUUM the live tables changed (PostgreSQL: VACUUM (FULL))."
    ),
    purge_now: bool = typer.Option(
        False,
        "--purge-now",
        help="Lake (Delta) tables: purge old versions even if readers may still use them.",
    ),
    out: Path = typer.Option(Path("reports"), "--out", "-o", help="Directory for outputs."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Answer every request in a file in one set-based pass; bad rows fail alone.
    Exit 1 if any request failed or needs review."""
    if apply and dry_run:
        raise UsageError("--apply and --dry-run exclude each other")
    request = subjects.BatchRequest(file, policy, apply, purge, purge_now, out)
    result = subjects.run_requests(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json({"summary": result.summary(), "requests": result.rows})
    else:
        output.render_table(
            f"Requests in {file}",
            ["line", "request", "type", "state", "reason"],
            [
                (r["line"], r["request_id"], r["type"], r["state"], r["reason"] or "")
                for r in result.rows
            ],
        )
        output.out.print(", ".join(f"{k}: {v}" for k, v in sorted(result.summary().items())))
    if any(r["state"] in ("failed", "needs_review") for r in result.rows):
        raise typer.Exit(int(ExitCode.FINDINGS))


@requests_app.command("list")
def list_cmd(
    ctx: typer.Context,
    overdue: bool = typer.Option(
        False, "--overdue", help="Only unfinished requests past deadline."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Every tracked request with its state and one-month deadline."""
    rows = subjects.list_requests(session(ctx), overdue=overdue)
    if fmt is OutputFormat.json:
        output.emit_json({"requests": rows})
        return
    output.render_table(
        "Overdue requests" if overdue else "Requests",
        ["request", "type", "received", "deadline", "state", "systems", "reason"],
        [
            (
                r["request_id"],
                r["type"],
                r["received_at"],
                r["deadline"],
                r["state"] + (" (OVERDUE)" if r["overdue"] else ""),
                _systems_cell(r["systems"]),
                "" if r["state"] == tasks.AWAITING else r["reason"] or "",
            )
            for r in rows
        ],
    )


def _systems_cell(systems: list[dict[str, object]]) -> str:
    """`owed: crm (OVERDUE), newsletter; confirmed: orders`: per-system tasks, compactly."""
    parts = []
    for wanted in ("owed", "confirmed", "erased"):
        names = [
            f"{t['system']}" + (" (OVERDUE)" if t.get("overdue") else "")
            for t in systems
            if t["state"] == wanted
        ]
        if names:
            parts.append(f"{wanted}: {', '.join(names)}")
    return "; ".join(parts)


@requests_app.command("confirm")
def confirm_cmd(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="The erasure request, e.g. REQ-2026-0042."),
    system: str = typer.Option(
        ..., "--system", help="The source system where the erasure was carried out."
    ),
    note: str | None = typer.Option(
        None, "--note", help='How it was done there, e.g. "deleted in CRM ticket 4411".'
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Record that an erasure owed at a source system was carried out there (audited);
    the request is done when no system is owed any more."""
    result = subjects.confirm_task(session(ctx), request_id, system, note)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
        return
    still = ", ".join(result.still_owed) or "none"
    output.out.print(
        f"{escape(request_id)}: {escape(system)} {result.state}; request {result.request_state}"
        f" (still owed at: {escape(still)}); audit entry #{result.audit_seq}"
    )
