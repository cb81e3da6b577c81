"""`tutela subject find`, `tutela sar`, `tutela erase`: one person at a time."""

from __future__ import annotations

from pathlib import Path

import typer

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
    session,
)
from tutela.services import subjects

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
    summary = subjects.find(session(ctx), subjects.FindRequest(ids, policy))
    if fmt is OutputFormat.json:
        output.emit_json(summary.to_dict())
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
    request = subjects.AccessRequest(ids, policy, out, request_id)
    result = subjects.access_report(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
        return
    output.render_access_report(result)


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
    request = subjects.ErasureRequest(ids, policy, apply, purge, purge_now, request_id, out)
    result = subjects.erase(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
    else:
        output.render_erasure_plan(result.plan)
        if result.certificate is None:
            output.info("dry run: nothing changed; pass --apply to erase")
        else:
            output.render_certificate(result.certificate, result.files)
    if not result.verified:
        raise typer.Exit(int(ExitCode.FINDINGS))
