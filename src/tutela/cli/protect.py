"""`tutela keys`, `pseudonymize`, `reidentify`, `risk`: protection (key ids shown, never keys)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, guarded, state
from tutela.errors import ExitCode, UsageError
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.protect import keys as keyring
from tutela.protect import pseudonymize as ps
from tutela.protect import reidentify as rid
from tutela.protect import risk as riskmod
from tutela.protect.methods import parse_columns

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


def _keyset_dict(keyset: keyring.KeySet, **extra: Any) -> dict[str, Any]:
    return {
        "master_key_id": keyset.master_key_id,
        "active_version": keyset.active.version,
        "versions": [v.to_dict() for v in keyset.versions],
        **extra,
    }


# -- keys ---------------------------------------------------------------------------------


@keys_app.command("init")
@guarded
def keys_init_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Create the master key and the key set (files mode 0600) if missing; print their ids."""
    with state(ctx).open_workspace(create=True) as ws:
        master = workspace_key(ws)  # creates and records the master key on first use
        keyset, created = keyring.init_keyset(ws.root)
    if fmt is OutputFormat.json:
        output.emit_json(_keyset_dict(keyset, created=created, master_source=master.source))
        return
    active = keyset.active
    verb = "created" if created else "exists"
    output.out.print(
        f"{master.key_id} ({master.source}); key set {verb}: v{active.version} {active.key_id}"
    )


@keys_app.command("list")
@guarded
def keys_list_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the key versions with their ids and status (active, readable, retired)."""
    with state(ctx).open_workspace(read_only=True) as ws:
        keyset = keyring.load_keyset(ws.root, workspace_key(ws))
    if fmt is OutputFormat.json:
        output.emit_json(_keyset_dict(keyset))
    else:
        _render_versions(keyset)


@keys_app.command("rotate")
@guarded
def keys_rotate_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Make a new active key version; older ones stay readable until retired."""
    from tutela import audit

    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        before = keyring.load_keyset(ws.root, master)
        with ws.transaction() as con:
            keyset = keyring.rotate_keyset(ws.root)
            audit.append(
                con,
                master,
                command="keys rotate",
                arguments={"from": before.active.key_id, "to": keyset.active.key_id},
                tables=[],
                counts={"version": keyset.active.version},
                result="rotated",
            )
    if fmt is OutputFormat.json:
        output.emit_json(_keyset_dict(keyset))
        return
    output.out.print(f"active key version is now v{keyset.active.version} {keyset.active.key_id}")
    output.info("re-encrypt older enc: tokens with `tutela keys rekey --apply`")


@keys_app.command("rekey")
@guarded
def keys_rekey_cmd(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply", help="Re-encrypt the tokens."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan only (the default)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Re-encrypt reversible tokens of older key versions under the active one (plan first)."""
    do_apply = _mode(apply, dry_run)
    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        plan = rid.plan_rekey(ws, keyset)
        seq = rid.apply_rekey(ws, plan, keyset, master) if do_apply and plan.stale else None
    if fmt is OutputFormat.json:
        output.emit_json({"applied": seq is not None, "audit_entry": seq, "plan": plan.to_dict()})
        return
    output.render_table(
        f"Reversible columns (active version v{plan.active})",
        ["table", "column", "purpose", "tokens by version"],
        [
            (
                h.table,
                h.column,
                h.purpose,
                ", ".join(f"v{k}: {n:,}" for k, n in h.by_version.items()),
            )
            for h in plan.holdings
        ],
    )
    if not plan.stale:
        output.info("every token is under the active version; nothing to re-key")
    elif seq is None:
        output.info("dry run: nothing changed; pass --apply to re-key")
    else:
        output.out.print(f"re-keyed {len(plan.stale)} column(s); audit entry #{seq}")


@keys_app.command("retire")
@guarded
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
    do_apply = _mode(apply, dry_run)
    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        plan = rid.plan_retire(ws, keyset, version)
        seq = rid.apply_retire(ws, plan, master, force=force) if do_apply else None
    if fmt is OutputFormat.json:
        output.emit_json({"applied": do_apply, "audit_entry": seq, "plan": plan.to_dict()})
        return
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
    for w in plan.warnings:
        output.warn(w)


@guarded
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
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Reference date for age bands (today)."
    ),
    max_shift_days: int = typer.Option(30, "--max-shift-days", help="Largest date shift."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Pseudonymize columns with keyed tokens, AES-SIV, shaped tokens or masks: plan by
    default; --apply rewrites the table in one audited transaction; --out writes a file."""
    do_apply = _mode(apply, dry_run)
    if out is not None and apply:
        raise UsageError("--out writes a file and leaves the table alone; drop --apply")
    if role and policy is None:
        raise UsageError("--role needs --policy")
    if not columns and policy is None:
        raise UsageError("say what to protect: --columns COL,... or --policy FILE")
    pol = load_policy(policy).policy if policy is not None else None
    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        ws.require_table(table)
        if columns:
            requests: Any = parse_columns(columns, method)
        else:
            assert pol is not None
            layout = [c.name for c in ws.columns(table)]
            requests = ps.requests_from_policy(pol, table, layout, role)
        plan = ps.plan(
            ws, table, requests, keyset=keyset, purpose=purpose, key_version=key_version,
            normalize=normalize, policy=pol, target=str(out) if out else "in-place",
            as_of=as_of.date() if as_of else None, max_shift_days=max_shift_days,
        )  # fmt: skip
        result: ps.ProtectResult | None = None
        if out is not None and not dry_run:
            result = ps.write_file(ws, plan, keyset, master, overwrite=force)
        elif do_apply:
            result = ps.apply_in_place(ws, plan, keyset, master)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict() if result else ps.ProtectResult(plan, False).to_dict())
        return
    _render_plan(plan)
    if result is None:
        if out:
            output.info(f"dry run: nothing written; drop --dry-run to write {out}")
        else:
            output.info(f"dry run: nothing changed; pass --apply to rewrite {table} in place")
    elif result.out:
        output.out.print(f"wrote {escape(result.out)} and {escape(str(result.manifest))}")
    else:
        output.out.print(f"{escape(table)} protected in place; audit entry #{result.audit_seq}")


# -- reidentify ------------------------------------------------------------------------------


@guarded
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
    """Turn reversible (encrypt) tokens back into values, for a role the policy allows
    to see them in clear; every re-identification is audited."""
    pol = load_policy(policy).policy
    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        result = rid.reidentify(
            ws, source, _split(columns), role=role, policy=pol, keyset=keyset, master=master,
            out=out, overwrite=force, limit=limit,
        )  # fmt: skip
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


@guarded
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
    with state(ctx).open_workspace(read_only=True) as ws:
        report = riskmod.assess(
            ws, source, _split(quasi), sensitive=sensitive, fail_below=fail_below
        )
    if fmt is OutputFormat.json:
        output.emit_json(report.to_dict())
    else:
        d = report.to_dict()
        rows = [
            ("rows", f"{report.rows:,}"),
            ("quasi-identifiers", ", ".join(report.quasi)),
            ("k-anonymity (smallest group)", report.k),
            ("groups", f"{report.groups:,}"),
            ("unique rows", f"{report.unique_rows:,} ({d['unique_share']:.1%})"),
        ]
        if report.threshold is not None:
            rows.append((f"rows in groups < {report.threshold}", report.rows_below_threshold))
        if report.sensitive:
            rows.append((f"l-diversity of {report.sensitive}", report.l_diversity))
        rows += [(f"groups of size {k}", v) for k, v in report.group_sizes.items()]
        output.render_table(f"Re-identification risk: {report.source}", ["measure", "value"], rows)
    if not report.passes:
        if fmt is not OutputFormat.json:
            output.print_error("k-anonymity", f"k = {report.k} is below {report.threshold}")
        raise typer.Exit(int(ExitCode.FINDINGS))


__all__ = ["keys_app", "pseudonymize_cmd", "reidentify_cmd", "risk_cmd"]
