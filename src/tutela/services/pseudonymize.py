"""`tutela pseudonymize` as one call: a typed request in, a plan carried out (or not), a result out.

The request picks the method family (per-column methods, or `shred` by a subject column),
the service loads the policy and the keys, plans, and unless it is a dry run hands the
plan to the pipeline. Keys are used here and never returned: the result names key ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tutela.base.errors import UsageError
from tutela.base.keys import load_keyset
from tutela.base.progress import ProgressCallback, no_progress
from tutela.protect import pseudonymize, shred
from tutela.protect.methods import ColumnRequest, parse_columns
from tutela.protect.pipeline import DEFAULT_PURPOSE, IN_PLACE, Plan, Result, carry_out
from tutela.services.session import Session


@dataclass(frozen=True)
class ProtectRequest:
    """What to protect and where to: the options of `tutela pseudonymize`."""

    table: str
    columns: list[str] | None = None
    """`--columns` items: `a,b`, `COL=METHOD[:ARG]`, `COL=shred:SUBJECT`."""
    method: str = "hmac"
    """The method of columns that name none."""
    policy: Path | None = None
    role: str | None = None
    purpose: str = DEFAULT_PURPOSE
    key_version: int | None = None
    normalize: str = "auto"
    out: Path | None = None
    """A file or a lake table `lake.schema.table` to write instead of rewriting in place."""
    apply: bool = False
    dry_run: bool = False
    force: bool = False
    """Replace an existing output; in place, protect already-protected columns again."""
    as_of: date | None = None
    max_shift_days: int = 30
    subject_column: str | None = None
    subject_kind: str | None = None

    @property
    def target(self) -> str:
        return str(self.out) if self.out is not None else IN_PLACE

    @property
    def carries_out(self) -> bool:
        """An output is written unless --dry-run; in place needs --apply."""
        return not self.dry_run if self.out is not None else self.apply

    def check(self) -> None:
        if self.apply and self.dry_run:
            raise UsageError("--apply and --dry-run exclude each other")
        if self.out is not None and self.apply:
            raise UsageError("--out writes a file and leaves the table alone; drop --apply")
        if self.role and self.policy is None:
            raise UsageError("--role needs --policy")
        if not self.columns and self.policy is None:
            raise UsageError("say what to protect: --columns COL,... or --policy FILE")


def protect(
    session: Session,
    request: ProtectRequest,
    progress: ProgressCallback = no_progress,
) -> Result:
    """Plan the request; apply it in place, or write the file or lake table, unless it is a
    dry run (then the result holds the plan, `applied` false)."""
    from tutela.keyguard import workspace_key

    r = request
    r.check()
    policy = None
    if r.policy is not None:
        from tutela.policy.loader import load_policy

        policy = load_policy(r.policy).policy
    shredded = shred.shred_columns(r.columns, r.method, r.subject_column)
    with session.open() as ws:
        master = workspace_key(ws)
        keyset = load_keyset(ws.root, master)
        p: Plan
        if shredded is not None:
            p = shred.plan(
                ws, r.table, *shredded, keyset=keyset, purpose=r.purpose,
                key_version=r.key_version, policy=policy, subject_kind=r.subject_kind,
                target=r.target,
            )  # fmt: skip
        else:
            ws.require_table(r.table)
            requests: list[ColumnRequest] | list[tuple[ColumnRequest, str]]
            if r.columns:
                requests = parse_columns(r.columns, r.method)
            else:
                assert policy is not None  # check(): columns or a policy
                layout = [c.name for c in ws.columns(r.table)]
                requests = pseudonymize.requests_from_policy(policy, r.table, layout, r.role)
            p = pseudonymize.plan(
                ws, r.table, requests, keyset=keyset, purpose=r.purpose,
                key_version=r.key_version, normalize=r.normalize, policy=policy,
                target=r.target, as_of=r.as_of, max_shift_days=r.max_shift_days,
            )  # fmt: skip
        if r.out is not None:
            from tutela import lake

            # a lake target it refuses is refused in a dry run too
            lake.output_table(ws.attachments, r.target)
        if not r.carries_out:
            return Result(p, False)
        return carry_out(ws, p, keyset, master, force=r.force, progress=progress)


__all__ = ["ProtectRequest", "protect"]
