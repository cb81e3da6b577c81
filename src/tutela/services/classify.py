"""Service of `tutela classify`: list, record or forget a reviewer's decision on a column."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tutela.base.errors import UsageError
from tutela.detect import decisions, load_stored_scan
from tutela.detect.decisions import Decision
from tutela.services.session import Session


class ClassifyAction(enum.StrEnum):
    list = "list"
    forget = "forget"
    record = "record"


@dataclass(frozen=True)
class ClassifyRequest:
    target: str | None = None
    """TABLE.COLUMN; required unless listing."""
    entity: str | None = None
    not_personal: bool = False
    reason: str = ""
    forget: bool = False
    list: bool = False

    @property
    def action(self) -> ClassifyAction:
        if self.list:
            return ClassifyAction.list
        return ClassifyAction.forget if self.forget else ClassifyAction.record


@dataclass(frozen=True)
class ClassifyResult:
    action: ClassifyAction
    decisions: list[Decision] = field(default_factory=list)
    """The recorded decisions (list) or the one just recorded (record)."""
    removed: bool = False
    """forget: whether there was a decision to remove."""


def classify(session: Session, request: ClassifyRequest) -> ClassifyResult:
    with session.open() as ws:
        if request.action is ClassifyAction.list:
            return ClassifyResult(request.action, list(decisions.load_decisions(ws.con).values()))
        target = request.target
        if target is None:
            raise UsageError("name the column: tutela classify TABLE.COLUMN --as ENTITY ...")
        if request.action is ClassifyAction.forget:
            return ClassifyResult(request.action, removed=decisions.forget(ws, target))
        if (request.entity is None) == (not request.not_personal):
            raise UsageError("give exactly one of --as ENTITY and --not-personal")
        table, column = decisions.split_target(ws, target)
        stored = load_stored_scan(ws.con, table)
        detected = next(
            (c.entity for c in (stored[0].columns if stored else []) if c.column == column), None
        )
        entity = request.entity.upper() if request.entity else None
        decision = decisions.record(
            ws, target, entity=entity, reason=request.reason, detected=detected
        )
    return ClassifyResult(request.action, [decision])
