"""`tutela subject find`, `tutela sar`, `tutela erase`: one person at a time."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import ExitCode, UsageError
from tutela.cli import output
from tutela.cli.options import (
    CustomerIdOption,
    EmailOption,
    FormatOption,
    NationalIdOption,
    OtherIdOption,
    OutputFormat,
    PhoneOption,
    PolicyPathOption,
    parse_identifiers,
    state,
)
from tutela.policy.loader import load_policy
from tutela.subjects import requests, service

subject_app = typer.Typer(help="Find a data subject across every table.", no_args_is_help=True)


@subject_app.command("find")
def find_cmd(
    ctx: typer.Context,
    email: list[str] | None = EmailOption,
    phone: list[str] | None = PhoneOption,
    customer_id: list[str] | None = CustomerIdOption,
    national_id: list[str] | None = NationalIdOption,
    other: list[str] | None = OtherIdOption,
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Every row of one person in every table, following identity links transitively."""
    ids = parse_identifiers(email, phone, customer_id, national_id, other)
    loaded = load_policy(policy)
    with state(ctx).open_workspace() as ws:
        sctx = service.context(ws, loaded.policy)
        match = service.find(sctx, ids)
        summary = service.match_summary(sctx, match)
    if fmt is OutputFormat.json:
        output.emit_json(summary)
        return
    output.render_subject_summary(summary)


def sar_cmd(
    ctx: typer.Context,
    email: list[str] | None = EmailOption,
    phone: list[str] | None = PhoneOption,
    customer_id: list[str] | None = CustomerIdOption,
    national_id: list[str] | None = NationalIdOption,
    other: list[str] | None = OtherIdOption,
    request_id: str | None = typer.Option(
        None, "--request-id", help="Request reference (default: SAR-<UTC time>)."
    ),
    out: Path = typer.Option(Path("reports"), "--out", "-o", help="Directory for the report."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Subject-access report (Art. 15/20): JSON, self-contained HTML and Markdown, mode 0600."""
    ids = parse_identifiers(email, phone, customer_id, national_id, other)
    request_id = request_id or service.new_request_id("SAR")
    loaded = load_policy(policy)
    with state(ctx).open_workspace() as ws:
        sctx = service.context(ws, loaded.policy)
        result = service.access_reports(sctx, {request_id: ids}, out)[request_id]
    summary = result["report"]["summary"]
    if fmt is OutputFormat.json:
        output.emit_json(
            {
                "request_id": request_id,
                "data_held": result["report"]["data_held"],
                "summary": summary,
                "files": result["files"],
            }
        )
        return
    if result["report"]["data_held"]:
        output.out.print(
            f"{summary['rows']} rows in {summary['tables']} tables, "
            f"{summary['free_text_mentions']} free-text mentions, "
            f"{summary['possible_matches_for_review']} possible matches for review"
        )
    else:
        output.out.print("no data held for these identifiers (a valid Art. 15 answer)")
    for f in result["files"]:
        output.out.print(f"  wrote {escape(f)}")


def erase_cmd(
    ctx: typer.Context,
    email: list[str] | None = EmailOption,
    phone: list[str] | None = PhoneOption,
    customer_id: list[str] | None = CustomerIdOption,
    national_id: list[str] | None = NationalIdOption,
    other: list[str] | None = OtherIdOption,
    apply: bool = typer.Option(False, "--apply", help="Carry out the erasure."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    purge: bool = typer.Option(
        False, "--purge", help="Then VACUUM the live tables changed (PostgreSQL: VACUUM (FULL))."
    ),
    purge_now: bool = typer.Option(
        False,
        "--purge-now",
        help="Lake (Delta) tables: purge old versions even if readers may still use them.",
    ),
    request_id: str | None = typer.Option(
        None, "--request-id", help="Request reference (default: ERASE-<UTC time>)."
    ),
    out: Path = typer.Option(Path("reports"), "--out", "-o", help="Directory for certificates."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Erase one person (Art. 17): a plan by default; --apply runs it.

    One transaction, then the workspace file is rewritten, nothing left is verified and a
    certificate written. Exit 1 if residue is found."""
    if apply and dry_run:
        raise UsageError("--apply and --dry-run exclude each other")
    ids = parse_identifiers(email, phone, customer_id, national_id, other)
    request_id = request_id or service.new_request_id("ERASE")
    loaded = load_policy(policy)
    with state(ctx).open_workspace() as ws:
        sctx = service.context(ws, loaded.policy)
        clean, plans = service.plan_erasures(sctx, {request_id: ids})
        plan = plans[0]
        if not apply:
            plan_data = plan.to_dict()
            if fmt is OutputFormat.json:
                output.emit_json({"applied": False, "plan": plan_data})
            else:
                output.render_erasure_plan(plan_data)
                output.info("dry run: nothing changed; pass --apply to erase")
            return
        [(cert, files)] = service.apply_erasures(
            sctx, clean, plans, out, purge=purge, purge_now=purge_now
        )
        cert["request_state"] = requests.track_erasure(
            sctx, request_id, clean[request_id], cert, files
        )
    if fmt is OutputFormat.json:
        output.emit_json({"applied": True, "certificate": cert, "files": files})
    else:
        output.render_erasure_plan(plan.to_dict())
        output.render_certificate(cert, files)
    if not cert["verification"]["ok"]:
        raise typer.Exit(int(ExitCode.FINDINGS))
