"""`tutela requests run|list`: batches of access and erasure requests with GDPR deadlines."""

from __future__ import annotations

from pathlib import Path

import typer

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, guarded, state
from tutela.errors import ExitCode, UsageError
from tutela.policy.loader import load_policy
from tutela.subjects import requests, service

requests_app = typer.Typer(help="Process batches of data-subject requests.", no_args_is_help=True)


@requests_app.command("run")
@guarded
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
    loaded = load_policy(policy)
    with state(ctx).open_workspace() as ws:
        sctx = service.context(ws, loaded.policy)
        result = requests.run_batch(
            sctx, file, apply=apply, out_dir=out, purge=purge, purge_now=purge_now
        )
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
@guarded
def list_cmd(
    ctx: typer.Context,
    overdue: bool = typer.Option(
        False, "--overdue", help="Only unfinished requests past deadline."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Every tracked request with its state and one-month deadline."""
    with state(ctx).open_workspace(read_only=True) as ws:
        rows = requests.list_requests(ws, overdue=overdue)
    if fmt is OutputFormat.json:
        output.emit_json({"requests": rows})
        return
    output.render_table(
        "Overdue requests" if overdue else "Requests",
        ["request", "type", "received", "deadline", "state", "reason"],
        [
            (
                r["request_id"],
                r["type"],
                r["received_at"],
                r["deadline"],
                r["state"] + (" (OVERDUE)" if r["overdue"] else ""),
                r["reason"] or "",
            )
            for r in rows
        ],
    )
