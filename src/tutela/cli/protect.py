"""`tutela keys`, `pseudonymize`, `reidentify`, `risk`: protection (key ids shown, never keys)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from tutela import keyguard, lake
from tutela.base import keys as keyring
from tutela.base.errors import ExitCode, UsageError
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, PolicyPathOption, state
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.protect import pseudonymize as ps
from tutela.protect import reidentify as rid
from tutela.protect import risk as riskmod
from tutela.protect import shred as shredmod
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
        with state(ctx).open_workspace() as ws:
            reset = keyguard.reset_master_key(ws, apply=apply)
        _render_key_reset(reset, fmt)
        return
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
    with state(ctx).open_workspace(read_only=True) as ws:
        keyset = keyring.load_keyset(ws.root, workspace_key(ws))
    if fmt is OutputFormat.json:
        output.emit_json(_keyset_dict(keyset))
    else:
        _render_versions(keyset)


@keys_app.command("rotate")
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
    do_apply = _mode(apply, dry_run)
    if out is not None and apply:
        raise UsageError("--out writes a file and leaves the table alone; drop --apply")
    if role and policy is None:
        raise UsageError("--role needs --policy")
    if not columns and policy is None:
        raise UsageError("say what to protect: --columns COL,... or --policy FILE")
    pol = load_policy(policy).policy if policy is not None else None
    shred_request = _shred_request(columns, method, subject_column)
    if shred_request is not None:
        _shred(
            ctx, table, *shred_request, policy=pol, subject_kind=subject_kind, purpose=purpose,
            key_version=key_version, out=out, do_apply=do_apply, dry_run=dry_run, force=force,
            fmt=fmt,
        )  # fmt: skip
        return
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
        lake_out = lake.output_table(ws.attachments, str(out)) if out is not None else None
        if lake_out is not None and not dry_run:  # --out lake.schema.table: a new lake table
            result = ps.write_table(ws, plan, keyset, master, lake_out, overwrite=force)
        elif out is not None and not dry_run:
            result = ps.write_file(ws, plan, keyset, master, overwrite=force)
        elif do_apply:
            result = ps.apply_in_place(ws, plan, keyset, master, force=force)
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
        also = f" and {escape(str(result.manifest))}" if result.manifest else ""
        output.out.print(f"wrote {escape(result.out)}{also}")
    else:
        output.out.print(f"{escape(table)} protected in place; audit entry #{result.audit_seq}")


def _shred_request(
    columns: list[str] | None, method: str, subject_column: str | None
) -> tuple[list[str], str] | None:
    """(columns, subject column) when the request uses the shred method, else None.

    `--method shred --subject-column S -c a,b` or `-c a=shred:S,b=shred:S`; shred cannot be
    mixed with other methods in one command."""
    shred: list[str] = []
    others: list[str] = []
    subjects: set[str] = set()
    for part in _split(columns):
        column, sep, text = part.partition("=")
        name, _, arg = (text if sep else method).strip().partition(":")
        if name.strip().lower() == shredmod.METHOD:
            shred.append(column.strip())
            subject = arg.strip() or subject_column
            if not subject:
                raise UsageError(
                    f"shred needs the subject column of {column.strip()!r}",
                    hint="--subject-column customer_id, or -c email=shred:customer_id",
                )
            subjects.add(subject)
        else:
            others.append(column.strip())
    if not shred:
        if method.strip().lower() == shredmod.METHOD:
            raise UsageError("shred needs --columns", hint="-c email,phone --subject-column id")
        return None
    if others:
        raise UsageError(
            f"shred cannot be combined with other methods in one command ({', '.join(others)})",
            hint="run pseudonymize once for the shredded columns and once for the others",
        )
    if len(subjects) != 1:
        raise UsageError("every shredded column must use the same subject column")
    return shred, subjects.pop()


def _shred(
    ctx: typer.Context,
    table: str,
    columns: list[str],
    subject_column: str,
    *,
    policy: Any,
    subject_kind: str | None,
    purpose: str,
    key_version: int | None,
    out: Path | None,
    do_apply: bool,
    dry_run: bool,
    force: bool,
    fmt: OutputFormat,
) -> None:
    with state(ctx).open_workspace() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        plan = shredmod.plan(
            ws, table, columns, subject_column, keyset=keyset, purpose=purpose,
            key_version=key_version, policy=policy, subject_kind=subject_kind,
            target=str(out) if out else "in-place",
        )  # fmt: skip
        result: shredmod.ShredResult | None = None
        if out is not None and not dry_run:
            result = shredmod.write_file(ws, plan, keyset, master, overwrite=force)
        elif do_apply:
            result = shredmod.apply_in_place(ws, plan, keyset, master)
    if fmt is OutputFormat.json:
        output.emit_json(
            result.to_dict() if result else shredmod.ShredResult(plan, False).to_dict()
        )
        return
    target = "in place" if plan.in_place else f"to {plan.target}"
    output.render_table(
        f"{plan.table}: {plan.rows:,} rows, {target}; shred by {plan.subject.column} "
        f"(kind {plan.subject.kind}, {plan.subjects:,} subjects); purpose {plan.purpose}, "
        f"key v{plan.key_version} {plan.key_id}",
        ["column", "method", "values", "without subject"],
        [
            (c.column, f"shred:{subject_column}", f"{c.values:,}", c.no_subject)
            for c in plan.columns
        ],
    )
    for w in plan.warnings:
        output.warn(w)
    if result is None:
        where = f"drop --dry-run to write {out}" if out else f"pass --apply to rewrite {table}"
        output.info(f"dry run: nothing changed; {where}")
    elif result.out:
        output.out.print(f"wrote {escape(result.out)} and {escape(str(result.manifest))}")
    else:
        output.out.print(
            f"{escape(table)} shredded in place ({result.keys_created:,} new subject keys); "
            f"audit entry #{result.audit_seq}"
        )


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
