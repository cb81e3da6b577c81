"""`tutela policy ...`: draft, validate, check and document the policy-as-code files."""

from __future__ import annotations

import enum
from datetime import datetime
from pathlib import Path

import typer

from tutela.base.errors import ExitCode
from tutela.cli.options import session
from tutela.cli.output import emit_json, info, render_table, warn
from tutela.policy import (
    DEFAULT_POLICY_PATH,
    ENV_POLICY,
    CheckReport,
    LoadedPolicy,
    PolicyInvalidError,
    Severity,
    policy_json_schema_text,
)
from tutela.report.ropa import to_html, to_markdown
from tutela.report.sarif import check_to_sarif as to_sarif
from tutela.services import policy as service

policy_app = typer.Typer(
    name="policy",
    help="Policy as code: draft, validate and check GDPR policies; print Art. 30 records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


class CheckFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


class ValidateFormat(enum.StrEnum):
    table = "table"
    json = "json"


class RopaFormat(enum.StrEnum):
    md = "md"
    json = "json"
    html = "html"


PolicyOption = typer.Option(
    Path(DEFAULT_POLICY_PATH),
    "--policy",
    "-p",
    envvar=ENV_POLICY,
    help="Policy file or directory of *.yaml files (default ./policies).",
)


def _summary(loaded: LoadedPolicy) -> str:
    p = loaded.policy
    return (
        f"policy ok: {len(loaded.files)} file(s), {len(p.tables)} tables, "
        f"{len(p.purposes)} purposes, {len(p.roles)} roles, "
        f"{len(p.identity_links())} identity links"
    )


@policy_app.command("validate")
def validate_cmd(
    ctx: typer.Context,
    paths: list[Path] | None = typer.Argument(None, help="Policy files or directories."),
    policy: Path = PolicyOption,
    fmt: ValidateFormat = typer.Option(ValidateFormat.table, "--format", "-f"),
) -> None:
    """Check policy files against the schema and their references; report every error."""
    result = service.validate(paths or [policy])
    if fmt is ValidateFormat.json:
        emit_json(result.to_dict())
        if not result.valid:
            raise typer.Exit(int(ExitCode.INVALID_CONFIG))
        return
    if not result.valid:
        raise PolicyInvalidError(result.issues)
    for item in result.loaded:
        info(_summary(item))
    for todo in result.unfinished:
        warn(todo)


@policy_app.command("check")
def check_cmd(
    ctx: typer.Context,
    policy: Path = PolicyOption,
    fmt: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f"),
    fail_on: Severity = typer.Option(
        Severity.high, "--fail-on", help="Exit 1 when a finding is at or above this severity."
    ),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Evaluate retention as of this date."
    ),
) -> None:
    """Check the loaded data against the policy: retention, consent, transfers, access."""
    report = service.check(session(ctx), policy, as_of.date() if as_of else None)
    if fmt is CheckFormat.json:
        emit_json(report.to_dict())
    elif fmt is CheckFormat.sarif:
        emit_json(to_sarif(report))
    else:
        _render_report(report)
    if report.fails(fail_on):
        raise typer.Exit(int(ExitCode.FINDINGS))


def _render_report(report: CheckReport) -> None:
    rows = [
        [
            f.severity.value,
            f.rule,
            f"{f.table}.{f.column}" if f.table and f.column else (f.table or ""),
            "" if f.count is None else f.count,
            f"{f.message}\nfix: {f.fix}",
            str(f.location) if f.location else "",
        ]
        for f in report.findings
    ]
    render_table(
        f"Policy findings as of {report.as_of.isoformat()}",
        ["severity", "rule", "where", "count", "finding and fix", "policy line"],
        rows,
    )
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    info(f"{len(report.findings)} finding(s): {counts or 'none'}")


@policy_app.command("init")
def init_cmd(
    ctx: typer.Context,
    region: str | None = typer.Option(
        None, "--region", help="Default phone region / country (ISO code, e.g. ES)."
    ),
) -> None:
    """Print a draft policy from the catalog and the last scan (redirect it to a file)."""
    print(service.draft(session(ctx), region), end="")
    info("draft written; review the TODOs, then run `tutela policy validate`")


@policy_app.command("schema")
def schema_cmd(ctx: typer.Context) -> None:
    """Print the JSON Schema of policy files, for editor validation."""
    print(policy_json_schema_text(), end="")


@policy_app.command("ropa")
def ropa_cmd(
    ctx: typer.Context,
    policy: Path = PolicyOption,
    fmt: RopaFormat = typer.Option(RopaFormat.md, "--format", "-f"),
) -> None:
    """Print the records of processing activities (GDPR Art. 30) from policy and catalog."""
    ropa = service.ropa(session(ctx), policy)
    if fmt is RopaFormat.json:
        emit_json(ropa.to_dict())
    elif fmt is RopaFormat.html:
        print(to_html(ropa), end="")
    else:
        print(to_markdown(ropa), end="")
