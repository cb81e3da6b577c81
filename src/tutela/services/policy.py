"""Services of `tutela policy validate|check|init|ropa`: policy files in, typed reports out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tutela.base.errors import WorkspaceError
from tutela.policy import CheckReport, Issue, LoadedPolicy, PolicyInvalidError, check_policy
from tutela.policy import load_policy as _load
from tutela.policy.checks import policy_name_advice
from tutela.policy.ropa import Ropa
from tutela.services.session import Session


@dataclass(frozen=True)
class Validation:
    loaded: list[LoadedPolicy] = field(default_factory=list)
    """The policies that loaded."""
    issues: list[Issue] = field(default_factory=list)
    """Every error of every policy that did not."""
    unfinished: list[str] = field(default_factory=list)
    """TODOs left in the drafts that loaded."""

    @property
    def valid(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "issues": [i.to_dict() for i in self.issues],
            "warnings": self.unfinished,
        }


def validate(paths: Sequence[Path]) -> Validation:
    """Load each policy (file or directory); collect all errors rather than stop at one."""
    issues: list[Issue] = []
    loaded: list[LoadedPolicy] = []
    for target in paths:
        try:
            loaded.append(_load(target))
        except PolicyInvalidError as exc:
            issues += exc.issues
    warnings = [todo for item in loaded for todo in item.unfinished()]
    for item in loaded:
        warnings += [f"{a.message}; {a.fix}" for a in policy_name_advice(item.policy)]
    return Validation(loaded, issues, warnings)


def check(session: Session, policy: Path, as_of: date | None = None) -> CheckReport:
    """The loaded data against the policy: retention, consent, transfers, access."""
    loaded = _load(policy)
    with session.open(read_only=True) as ws:
        return check_policy(loaded, ws, as_of=as_of)


def draft(session: Session, region: str | None = None) -> str:
    """A draft policy (YAML text) from the catalog and the last scan."""
    from tutela.policy.draft import draft_from_workspace

    with session.open(read_only=True) as ws:
        return draft_from_workspace(ws, region=region.upper() if region else None)


def ropa(session: Session, policy: Path) -> Ropa:
    """Records of processing activities (Art. 30); without a workspace, from the policy
    alone (the session is told so)."""
    from tutela.policy.facts import load_sources
    from tutela.policy.ropa import build_ropa

    loaded = _load(policy)
    try:
        with session.open(read_only=True) as ws:
            sources = load_sources(ws)
    except WorkspaceError as exc:
        session.notify(f"{exc.message}; records are built from the policy alone")
        sources = {}
    return build_ropa(loaded.policy, sources)
