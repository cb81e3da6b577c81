"""`tutela keys`, `pseudonymize`, `reidentify`, `risk`: protection (key ids shown, never keys)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape

from tutela import keyguard
from tutela.base import keys as keyring
from tutela.base.errors import ExitCode, UsageError
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, session
from tutela.protect import pseudonymize as ps
from tutela.protect import shred as shredmod
from tutela.protect.pipeline import Result
from tutela.services import protect as keysvc
from tutela.services.protect import KeySetView
from tutela.services.pseudonymize import ProtectRequest, protect

keys_app = typer.Typer(
    help="Manage the workspace keys: the master key and versioned protection keys.",
    no_args_is_help=True,
)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _mode(apply: bool, dry_run: bool) -> bool:
    if apply and dry_run:
        raise UsageError("--apply and --dry-run exclude each other")
    return apply


def _render_versions(keyset: keyring.KeySet) -> None:
    output.render_table(
        f"Key set (master key {keyset.master_key_id})",
        ["version", "key id", "status", "created", "retired"],
        [
            (v.version, v.key_id, v.status, v.created_at, v.retired_at or "")
            for v in keyset.versions
        ],
    )


# -- keys ---------------------------------------------------------------------------------


@keys_app.command("init")
def keys_init_cmd(
    ctx: typer.Context,
    new_key: bool = typer.Option(
        False,
        "--new-key",
        help="Only if the workspace's master key is lost for good: start a new one "
        "(destructive; plan first, --apply to do it).",
    ),
    apply: bool = typer.Option(False, "--apply", help="With --new-key: replace the lost key."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Create the master key and the key set (files mode 0600) if missing; print their ids."""
    if apply and not new_key:
        raise UsageError("--apply goes with --new-key")
    if new_key:
        _render_key_reset(keysvc.reset_master_key(session(ctx), apply=apply), fmt)
        return
    view = keysvc.init_keys(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json(view.to_dict())
        return
    active = view.keyset.active
    verb = "created" if view.created else "exists"
    output.out.print(
        f"{view.master_key_id} ({view.master_source}); key set {verb}: "
        f"v{active.version} {active.key_id}"
    )


def _render_key_reset(reset: keyguard.KeyReset, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        output.emit_json(reset.to_dict())
    consequences = [
        f"audit entries #1-#{reset.audit_entries} were keyed by {reset.previous_key_id}: "
        "`tutela audit verify` will check their order and links, not their content",
        "identifier hashes in earlier certificates, requests and audit entries will no "
        "longer match new ones",
    ]
    if reset.keyset_set_aside:
        consequences.append(
            f"the key set wrapped under the lost key is kept as {reset.keyset_set_aside}: "
            "values encrypted or tokenized with it cannot be re-identified or re-keyed"
        )
    if not reset.applied:
        output.warn(
            f"DESTRUCTIVE: this replaces the lost master key {reset.previous_key_id} with a "
            "new one. Restore keys/master.key from a backup instead if you can."
        )
        for line in consequences:
            output.warn(line)
        output.info("dry run: nothing changed; pass --new-key --apply to start a new key")
        return
    for line in consequences:
        output.warn(line)
    if fmt is not OutputFormat.json:
        output.out.print(f"new master key {reset.new_key_id} (replaces {reset.previous_key_id})")


@keys_app.command("list")
def keys_list_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the key versions with their ids and status (active, readable, retired)."""
    view = keysvc.list_keys(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json(view.to_dict())
    else:
        _render_versions(view.keyset)


@keys_app.command("rotate")
def keys_rotate_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Make a new active key version; older ones stay readable until retired."""
    view: KeySetView = keysvc.rotate_keys(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json(view.to_dict())
        return
    keyset = view.keyset
    output.out.print(f"active key version is now v{keyset.active.version} {keyset.active.key_id}")
    output.info("re-encrypt older enc: tokens with `tutela keys rekey --apply`")


@keys_app.command("rekey")
def keys_rekey_cmd(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply", help="Re-encrypt the tokens."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Re-encrypt reversible tokens of older key versions under the active one (plan first)."""
    outcome = keysvc.rekey(session(ctx), apply=_mode(apply, dry_run))
    if fmt is OutputFormat.json:
        output.emit_json(outcome.to_dict())
        return
    plan, seq = outcome.plan, outcome.audit_entry
    output.render_token_holdings(plan)
    if not plan.stale:
        output.info("every token is under the active version; nothing to re-key")
    elif seq is None:
        output.info("dry run: nothing changed; pass --apply to re-key")
    else:
        output.out.print(f"re-keyed {len(plan.stale)} column(s); audit entry #{seq}")


@keys_app.command("retire")
def keys_retire_cmd(
    ctx: typer.Context,
    version: int = typer.Argument(..., help="The key version to retire."),
    apply: bool = typer.Option(False, "--apply", help="Destroy the key version (irreversible)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    force: bool = typer.Option(
        False, "--force", help="Retire even though workspace values still need it."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Destroy an old key version: what it encrypted becomes unreadable (plan first)."""
    outcome = keysvc.retire(session(ctx), version, apply=_mode(apply, dry_run), force=force)
    if fmt is OutputFormat.json:
        output.emit_json(outcome.to_dict())
        return
    plan, seq, do_apply = outcome.plan, outcome.audit_entry, outcome.applied
    for h in plan.still_used:
        output.warn(
            f"{h.table}.{h.column} holds {h.by_version.get(version, 0):,} value(s) under v{version}"
        )
    if not do_apply:
        output.out.print(f"would retire v{version} {plan.key_id} ({plan.status})")
        output.info("dry run: nothing changed; pass --apply to retire")
    elif seq is None:
        output.out.print(f"v{version} was already retired")
    else:
        output.out.print(f"retired v{version} {plan.key_id}; audit entry #{seq}")


# -- pseudonymize ---------------------------------------------------------------------------


def _render_plan(plan: ps.ProtectPlan) -> None:
    target = "in place" if plan.in_place else f"to {plan.target}"
    output.render_table(
        f"{plan.table}: {plan.rows:,} rows, {target}; purpose {plan.purpose}, "
        f"key v{plan.key_version} {plan.key_id}",
        ["column", "method", "normalise", "values", "why"],
        [(c.column, c.label, c.normalize or "", f"{c.values:,}", c.reason) for c in plan.columns],
    )
    if plan.kept:
        output.out.print(f"[dim]unchanged: {escape(', '.join(plan.kept))}[/]")


def _render_shred_plan(plan: shredmod.ShredPlan) -> None:
    target = "in place" if plan.in_place else f"to {plan.target}"
    output.render_table(
        f"{plan.table}: {plan.rows:,} rows, {target}; shred by {plan.subject.column} "
        f"(kind {plan.subject.kind}, {plan.subjects:,} subjects); purpose {plan.purpose}, "
        f"key v{plan.key_version} {plan.key_id}",
        ["column", "method", "values", "without subject"],
        [
            (c.column, f"shred:{plan.subject.column}", f"{c.values:,}", c.no_subject)
            for c in plan.columns
        ],
    )


def _render_protected(result: Result) -> None:
    """The plan, its warnings, and what was done (or how to do it)."""
    plan = result.plan
    if isinstance(plan, shredmod.ShredPlan):
        _render_shred_plan(plan)
    elif isinstance(plan, ps.ProtectPlan):
        _render_plan(plan)
    for w in plan.warnings:
        output.warn(w)
    if not result.applied:
        if plan.in_place:
            output.info(f"dry run: nothing changed; pass --apply to rewrite {plan.table} in place")
        else:
            output.info(f"dry run: nothing written; drop --dry-run to write {plan.target}")
    elif result.out:
        also = f" and {escape(str(result.manifest))}" if result.manifest else ""
        output.out.print(f"wrote {escape(result.out)}{also}")
    elif isinstance(plan, shredmod.ShredPlan):
        output.out.print(
            f"{escape(plan.table)} shredded in place ({result.keys_created:,} new subject keys); "
            f"audit entry #{result.audit_seq}"
        )
    else:
        output.out.print(
            f"{escape(plan.table)} protected in place; audit entry #{result.audit_seq}"
        )


def pseudonymize_cmd(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="Workspace table to protect."),
    columns: list[str] | None = typer.Option(
        None,
        "--columns",
        "-c",
        help="Columns, comma-separated; COL=METHOD[:ARG] picks a method per column "
        "(email=email, dob=age_band:5, ts=date_shift:customer_id).",
    ),
    method: str = typer.Option("hmac", "--method", "-m", help="Method for columns without one."),
    policy: Path | None = typer.Option(
        None, "--policy", "-p", help="Take columns and methods from this policy."
    ),
    role: str | None = typer.Option(None, "--role", help="With --policy: protect for this role."),
    purpose: str = typer.Option(
        ps.DEFAULT_PURPOSE, "--purpose", help="Key purpose: other purposes give other tokens."
    ),
    key_version: int | None = typer.Option(
        None, "--key-version", help="Key version (default: the active one)."
    ),
    normalize: str = typer.Option(
        "auto", "--normalize", help="auto, none, trim, email, e164, compact or name."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write a protected file (+ manifest) instead of changing the table.",
    ),
    apply: bool = typer.Option(False, "--apply", help="Change the table in place."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace an existing --out file; with --apply, protect already-protected "
        "columns again.",
    ),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Reference date for age bands (today)."
    ),
    max_shift_days: int = typer.Option(30, "--max-shift-days", help="Largest date shift."),
    subject_column: str | None = typer.Option(
        None,
        "--subject-column",
        help="With --method shred: the column identifying each row's subject.",
    ),
    subject_kind: str | None = typer.Option(
        None,
        "--subject-kind",
        help="With shred: the identifier kind of the subject column (default: from the "
        "policy's identity links, else the column name).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Pseudonymize columns: keyed tokens, AES-SIV, shaped tokens, masks or shredding.

    Shredding encrypts under per-subject keys that erasure destroys. Plan by default; --apply
    rewrites the table in one audited transaction; --out writes a file instead."""
    request = ProtectRequest(
        table, columns=columns, method=method, policy=policy, role=role, purpose=purpose,
        key_version=key_version, normalize=normalize, out=out, apply=apply, dry_run=dry_run,
        force=force, as_of=as_of.date() if as_of else None, max_shift_days=max_shift_days,
        subject_column=subject_column, subject_kind=subject_kind,
    )  # fmt: skip
    result = protect(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
    else:
        _render_protected(result)


# -- reidentify ------------------------------------------------------------------------------


def reidentify_cmd(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="A protected file (with manifest) or table."),
    columns: list[str] = typer.Option(..., "--columns", "-c", help="Columns to decrypt."),
    role: str = typer.Option(..., "--role", help="Policy role that must see them in clear."),
    policy: Path = PolicyPathOption,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
    limit: int = typer.Option(100, "--limit", "-n", help="Rows to print without --out."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Turn reversible tokens back into values, for a role allowed to see them; audited.

    Works on encrypt and shred tokens, for a role the policy allows to see the columns in
    clear; every re-identification is an audit entry."""
    request = keysvc.ReidentifyRequest(source, _split(columns), role, policy, out, force, limit)
    result = keysvc.reidentify(session(ctx), request)
    for w in result.warnings:
        output.warn(w)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
        return
    if result.data is not None:
        headers = list(result.data[0]) if result.data else []
        output.render_table(None, headers, [list(r.values()) for r in result.data])
        if result.rows > len(result.data):
            output.info(f"showing {len(result.data)} of {result.rows:,} rows (--limit)")
    else:
        output.out.print(f"wrote {escape(str(result.out))}")
    output.info(f"audit entry #{result.audit_seq}")


# -- risk ------------------------------------------------------------------------------------


def risk_cmd(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="A workspace table or a Parquet/CSV/JSON file."),
    quasi: list[str] = typer.Option(..., "--quasi", "-q", help="Quasi-identifier columns."),
    sensitive: str | None = typer.Option(None, "--sensitive", help="Column for l-diversity."),
    fail_below: int | None = typer.Option(
        None, "--fail-below", help="Exit 1 when k-anonymity is below this."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Re-identification risk: k-anonymity, unique rows and l-diversity over quasi-identifiers."""
    request = keysvc.RiskRequest(source, _split(quasi), sensitive, fail_below)
    report = keysvc.risk(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json(report.to_dict())
    else:
        output.render_risk(report)
    if not report.passes:
        if fmt is not OutputFormat.json:
            output.print_error("k-anonymity", f"k = {report.k} is below {report.threshold}")
        raise typer.Exit(int(ExitCode.FINDINGS))


__all__ = ["keys_app", "pseudonymize_cmd", "reidentify_cmd", "risk_cmd"]
