"""Services of `tutela audit verify` and `tutela audit show`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutela import audit, integrity
from tutela.keyguard import earlier_key_through, workspace_key
from tutela.services.session import Session


@dataclass(frozen=True)
class Verification:
    chain: audit.VerifyReport
    read_back: integrity.ReadBack
    """Every block the chain vouches for, read back with its checksums."""

    @property
    def ok(self) -> bool:
        return self.chain.ok

    def to_dict(self) -> dict[str, Any]:
        return {**self.chain.to_dict(), "read_back": self.read_back.to_dict()}


def verify(session: Session) -> Verification:
    """Check that no audit entry was edited, removed, reordered or forged."""
    with session.open(read_only=True) as ws:
        chain = audit.verify(ws.con, workspace_key(ws), earlier_key_through=earlier_key_through(ws))
        return Verification(chain, integrity.read_back(ws))


def entries(session: Session, limit: int) -> list[audit.AuditEntry]:
    """The newest `limit` entries."""
    with session.open(read_only=True) as ws:
        return audit.entries(ws.con, limit)
