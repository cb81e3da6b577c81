"""Services of `tutela keys ...`, `reidentify` and `risk`: keys are loaded here, not in the CLI.

Key ids are in the results; key material never is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela import audit, keyguard
from tutela.base import keys as keyring
from tutela.keyguard import workspace_key
from tutela.protect import reidentify as rid
from tutela.protect import risk as riskmod
from tutela.services.session import Session


@dataclass(frozen=True)
class KeySetView:
    """The key set as shown: ids and status of every version."""

    keyset: keyring.KeySet
    created: bool | None = None
    """init only: whether the key set was created now."""
    master_source: str | None = None
    """init only: where the master key came from (file, environment)."""
    master_key_id: str | None = None
    """init only: the id of the master key in use (not part of the JSON, as before)."""

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.created is not None:
            extra = {"created": self.created, "master_source": self.master_source}
        return {
            "master_key_id": self.keyset.master_key_id,
            "active_version": self.keyset.active.version,
            "versions": [v.to_dict() for v in self.keyset.versions],
            **extra,
        }


def init_keys(session: Session) -> KeySetView:
    """Create the master key and the key set (files 0600) if missing."""
    with session.open(create=True) as ws:
        master = workspace_key(ws)  # creates and records the master key on first use
        keyset, created = keyring.init_keyset(ws.root)
    return KeySetView(
        keyset, created=created, master_source=master.source, master_key_id=master.key_id
    )


def reset_master_key(session: Session, *, apply: bool) -> keyguard.KeyReset:
    """Plan (or with `apply`, carry out) replacing a master key that is lost for good."""
    with session.open() as ws:
        return keyguard.reset_master_key(ws, apply=apply)


def list_keys(session: Session) -> KeySetView:
    with session.open(read_only=True) as ws:
        return KeySetView(keyring.load_keyset(ws.root, workspace_key(ws)))


def rotate_keys(session: Session) -> KeySetView:
    """A new active key version, audited; older ones stay readable until retired."""
    with session.open() as ws:
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
    return KeySetView(keyset)


@dataclass(frozen=True)
class RekeyOutcome:
    plan: rid.RekeyPlan
    audit_entry: int | None = None
    """Set when tokens were re-encrypted."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.audit_entry is not None,
            "audit_entry": self.audit_entry,
            "plan": self.plan.to_dict(),
        }


def rekey(session: Session, *, apply: bool) -> RekeyOutcome:
    """Re-encrypt tokens of older key versions under the active one (a plan without apply)."""
    with session.open() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        plan = rid.plan_rekey(ws, keyset)
        seq = rid.apply_rekey(ws, plan, keyset, master) if apply and plan.stale else None
    return RekeyOutcome(plan, seq)


@dataclass(frozen=True)
class RetireOutcome:
    plan: rid.RetirePlan
    applied: bool
    audit_entry: int | None = None
    """None when applied to a version already retired."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "audit_entry": self.audit_entry,
            "plan": self.plan.to_dict(),
        }


def retire(session: Session, version: int, *, apply: bool, force: bool = False) -> RetireOutcome:
    """Destroy an old key version (a plan without apply)."""
    with session.open() as ws:
        master = workspace_key(ws)
        keyset = keyring.load_keyset(ws.root, master)
        plan = rid.plan_retire(ws, keyset, version)
        seq = rid.apply_retire(ws, plan, master, force=force) if apply else None
    return RetireOutcome(plan, apply, seq)


@dataclass(frozen=True)
class ReidentifyRequest:
    source: str
    columns: list[str]
    role: str
    policy: Path
    out: Path | None = None
    force: bool = False
    limit: int = 100


def reidentify(session: Session, request: ReidentifyRequest) -> rid.ReidentifyResult:
    """Reversible tokens back into values, for a role the policy allows; audited."""
    from tutela.policy.loader import load_policy

    policy = load_policy(request.policy).policy
    with session.open() as ws:
        master = workspace_key(ws)
        return rid.reidentify(
            ws,
            request.source,
            request.columns,
            role=request.role,
            policy=policy,
            keyset=keyring.load_keyset(ws.root, master),
            master=master,
            out=request.out,
            overwrite=request.force,
            limit=request.limit,
        )


@dataclass(frozen=True)
class RiskRequest:
    source: str
    quasi: list[str] = field(default_factory=list)
    sensitive: str | None = None
    fail_below: int | None = None


def risk(session: Session, request: RiskRequest) -> riskmod.RiskReport:
    with session.open(read_only=True) as ws:
        return riskmod.assess(
            ws,
            request.source,
            request.quasi,
            sensitive=request.sensitive,
            fail_below=request.fail_below,
        )
