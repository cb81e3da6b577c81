"""`tutela retention`, `tutela consent`, `tutela view`, `tutela export`: the policy applied."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.markup import escape

from tutela.base.errors import ExitCode, UsageError
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, session
from tutela.services import enforce

retention_app = typer.Typer(help="Rows past their retention period.", no_args_is_help=True)
consent_app = typer.Typer(help="The consent ledger.", no_args_is_help=True)
view_app = typer.Typer(help="Per-role DuckDB views.", no_args_is_help=True)

AsOfOption = typer.Option(None, "--as-of", help="Evaluate on this date (YYYY-MM-DD).")
ForceOption = typer.Option(False, "--force", help="Replace an existing output file.")


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        raise UsageError(f"--as-of takes YYYY-MM-DD, not {value!r}") from None


def _moment(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        raise UsageError(f"expected an ISO date or time, not {value!r}") from None


def _render_retention(data: dict[str, object], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        output.emit_json(data)
        return
    items = data["items"]
    assert isinstance(items, list)
    rows = [
        (i["table"], i["action"], f"{i['period']} after {i['after']}", i["cutoff"],
         i["expired"], i["legal_hold"], i["oldest"] or "", i["skipped"] or
         ("" if i["applied"] is None else f"applied: {i['applied']}"))
        for i in items
    ]  # fmt: skip
    output.render_table(
        f"retention as of {data['as_of']}",
        ["table", "action", "rule", "cutoff", "expired", "legal hold", "oldest", "note"],
        rows,
    )
    storage = data.get("live_sources") or []
    assert isinstance(storage, list)
    output.render_storage(storage)  # lake tables: commit, purge and file check


@retention_app.command("plan")
def retention_plan_cmd(
    ctx: typer.Context,
    table: str | None = typer.Option(None, "--table", help="Only this table."),
    as_of: str | None = AsOfOption,
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Rows past retention per table: count, oldest date, action, rows under legal hold."""
    plan = enforce.retention_plan(
        session(ctx), enforce.RetentionRequest(policy, _day(as_of), table)
    )
    _render_retention(plan.to_dict(), fmt)


@retention_app.command("apply")
def retention_apply_cmd(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply", help="Carry out the actions."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    table: str | None = typer.Option(None, "--table", help="Only this table."),
    as_of: str | None = AsOfOption,
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Delete, anonymize or pseudonymize expired rows in one audited transaction
    (plan by default; --apply to run it)."""
    if apply and dry_run:
        raise UsageError("--apply and --dry-run exclude each other")
    request = enforce.RetentionRequest(policy, _day(as_of), table, apply)
    plan = enforce.retention_apply(session(ctx), request)
    data = plan.to_dict()
    _render_retention(data, fmt)
    if not apply:
        output.info("dry run: nothing changed; pass --apply to carry it out")
        return
    not_purged = [e["table"] for e in data.get("live_sources") or [] if not e["done"]]
    if not_purged:  # the rows are changed, but older files of these tables still hold them
        output.warn(
            "changed but not yet physically removed in: "
            + ", ".join(not_purged)
            + " (see above; run again when no reader pins the old versions)"
        )
        raise typer.Exit(int(ExitCode.FINDINGS))


@consent_app.command("import")
def consent_import_cmd(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Consent files: subject, purpose, status, time."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Append consent events to the ledger (identical events are skipped)."""
    results = [r.to_dict() for r in enforce.consent_import(session(ctx), policy, files)]
    if fmt is OutputFormat.json:
        output.emit_json({"imports": results})
        return
    output.render_table(
        None,
        ["file", "rows", "added", "duplicates"],
        [(r["file"], r["rows"], r["added"], r["duplicates"]) for r in results],
    )


@consent_app.command("withdraw")
def consent_withdraw_cmd(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email", help="The subject's identifier."),
    purpose: str = typer.Option(..., "--purpose", help="Policy purpose."),
    at: str | None = typer.Option(None, "--at", help="Effective time (default now)."),
    policy: Path = PolicyPathOption,
) -> None:
    """Record a withdrawal of consent (effective from --at or now); audited, subject hashed."""
    seq = enforce.consent_withdraw(
        session(ctx), enforce.Withdrawal(policy, email, purpose, _moment(at))
    )
    output.info(f"withdrawal recorded (audit entry {seq})")


@consent_app.command("status")
def consent_status_cmd(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email", help="The subject's identifier."),
    as_of: str | None = typer.Option(None, "--as-of", help="State at this time."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Every consent purpose and the subject's current state for it."""
    rows = enforce.consent_status(session(ctx), policy, email, _moment(as_of))
    if fmt is OutputFormat.json:
        output.emit_json({"purposes": rows})
        return
    output.render_table(
        None,
        ["purpose", "consent required", "state", "since", "source"],
        [(r["purpose"], r["consent_required"], r["state"], r["since"], r["source"]) for r in rows],
    )


@consent_app.command("check")
def consent_check_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="An outgoing list (CSV, Parquet, JSON)."),
    purpose: str = typer.Option(..., "--purpose", help="Policy purpose."),
    column: str | None = typer.Option(None, "--column", help="Subject column (default: e-mail)."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Audit a list made elsewhere: exit 1, listing every subject without current consent."""
    result = enforce.consent_check(
        session(ctx), enforce.ConsentCheck(policy, file, purpose, column)
    )
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
    else:
        if result.missing:
            output.render_table(
                f"without current consent for {purpose}",
                ["subject", "state"],
                [(m["subject"], m["state"]) for m in result.missing],
            )
        output.info(
            f"{result.rows} rows, {result.subjects} subjects, "
            f"{len(result.missing)} without current consent for {purpose}"
        )
    if not result.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))


@view_app.command("create")
def view_create_cmd(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="Policy role."),
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Create schema role_<name> with one view per table the role may see (masked columns,
    row filters; tables with pseudonymized columns are materialised snapshots)."""
    result = enforce.create_views(session(ctx), policy, role)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
        return
    output.render_table(
        f"schema {result.schema}",
        ["object", "kind", "clear", "masked", "pseudonymized", "hidden", "row filter"],
        [(o["object"], o["kind"], o["clear"], o["masked"], o["pseudonymized"], o["hidden"],
          o["row_filter"]) for o in result.objects],
    )  # fmt: skip


def export_cmd(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="The table to export."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv, .parquet, .json."),
    purpose: str | None = typer.Option(None, "--purpose", help="Export for this purpose."),
    role: str | None = typer.Option(None, "--role", help="Export as this role sees it."),
    force: bool = ForceOption,
    policy: Path = PolicyPathOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Export a table for a purpose (consent enforced) or a role (its view); 0600, audited."""
    if (purpose is None) == (role is None):
        raise UsageError("give exactly one of --purpose and --role")
    request = enforce.ExportRequest(policy, table, out, purpose, role, force)
    result = enforce.export_table(session(ctx), request)
    data = result.to_dict()
    if fmt is OutputFormat.json:
        output.emit_json(data)
        return
    output.out.print(f"wrote {data['rows']} of {data['source_rows']} rows to {escape(str(out))}")
    if data["dropped_without_consent"]:
        output.info(f"{data['dropped_without_consent']} rows dropped: no current consent")
    if data["excluded_columns"]:
        output.info("columns left out: " + ", ".join(data["excluded_columns"]))
