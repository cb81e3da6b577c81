"""An erasure plan: what the policy's erasure rules do to one person's rows (each rule's
action, from `policy/erasure_actions.py`: delete, blank columns, keep under a legal basis...)
and which free-text mentions are redacted. Made by `plan_erasure`; applied, verified and
certified by `erase.py`. Below `erase.py`, `physical.py` and `systems.py`, which all read
plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tutela.policy.erasure_actions import ErasureAction
from tutela.policy.models import Policy
from tutela.subjects.find import SubjectMatch
from tutela.workspace import Workspace


@dataclass
class TablePlan:
    table: str
    action: ErasureAction
    rowids: list[int]
    columns: list[str] = field(default_factory=list)
    legal_basis: str | None = None
    reason: str | None = None
    lists_others: dict[str, int] = field(default_factory=dict)
    """List columns the action removes -> how many of the rows list items there not shown
    to be the person's (`SubjectMatch.lists_others`): they go with her row."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "action": str(self.action),
            "rows": len(self.rowids),
            "columns": self.columns,
            "legal_basis": self.legal_basis,
            "reason": self.reason,
            "rows_listing_others": self.lists_others,
        }


@dataclass
class Redaction:
    table: str
    column: str
    rowid: int
    fragments: list[str]
    kinds: list[str]


@dataclass
class ErasurePlan:
    request_id: str
    match: SubjectMatch
    tables: list[TablePlan] = field(default_factory=list)
    redactions: list[Redaction] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """Tables of the plan that Tutela never changes (Iceberg tables), and why."""

    @property
    def empty(self) -> bool:
        return not self.tables and not self.redactions

    def kept_rows(self) -> dict[str, set[int]]:
        return {t.table: set(t.rowids) for t in self.tables if t.action.keeps}

    def to_dict(self) -> dict[str, Any]:
        redacted: dict[str, int] = {}
        for r in self.redactions:
            key = f"{r.table}.{r.column}"
            redacted[key] = redacted.get(key, 0) + 1
        return {
            "request_id": self.request_id,
            "found": not self.empty,
            "tables": [t.to_dict() for t in self.tables],
            "free_text_redactions": [{"column": k, "rows": v} for k, v in sorted(redacted.items())],
            "possible_matches_for_review": [p.to_dict() for p in self.match.possible],
            "held_back": [h.to_dict() for h in self.match.held_back],
            "confirmed_by_review": {t: len(r) for t, r in sorted(self.match.confirmed.items())},
            "not_erasable": self.not_erasable(),
        }

    def not_erasable(self) -> list[dict[str, str]]:
        """Tables the plan would change that Tutela never changes (Iceberg tables), why,
        and what is owed at the source: `--apply` is refused while any is in the plan."""
        changed = {t.table: t for t in self.tables if not t.action.keeps}
        mentions: dict[str, int] = {}
        for r in self.redactions:
            mentions[r.table] = mentions.get(r.table, 0) + 1
        out = []
        for table in sorted(set(changed) | set(mentions)):
            reason = self.refused.get(table)
            if reason is None:
                continue
            t, parts = changed.get(table), []
            owed = t.action.owed_at_source(len(t.rowids), t.columns) if t else None
            if owed:
                parts.append(owed)
            if mentions.get(table):
                parts.append(f"redact the person's mentions in {mentions[table]} free-text values")
            out.append({"table": table, "reason": reason, "owed_at_source": "; ".join(parts)})
        return out


def plan_erasure(
    policy: Policy, match: SubjectMatch, request_id: str, ws: Workspace | None = None
) -> ErasurePlan:
    """`ws`: the workspace whose attached tables the match may name (for the tables Tutela
    never changes); without it every table is taken as changeable."""
    plan = ErasurePlan(request_id, match)
    for table in sorted(match.rows):
        rule = policy.erasure_rule(table)
        others = {
            column: n
            for column, n in match.lists_others.get(table, {}).items()
            if rule.action.removes(column, rule.columns)
        }
        plan.tables.append(
            TablePlan(
                table,
                rule.action,
                sorted(match.rows[table]),
                list(rule.columns),
                rule.legal_basis and str(rule.legal_basis),
                rule.reason,
                others,
            )
        )
    planned = {t.table: (t, set(t.rowids)) for t in plan.tables}
    for hit in match.free_text:
        t, rows = planned.get(hit.table, (None, set()))
        # a mention in a row of the person's that is kept as it is, or whose column the
        # action removes anyway, is not redacted
        if (
            t is not None
            and hit.rowid in rows
            and (t.action.keeps or t.action.removes(hit.column, t.columns))
        ):
            continue
        plan.redactions.append(
            Redaction(
                hit.table,
                hit.column,
                hit.rowid,
                sorted(hit.fragments, key=len, reverse=True),
                sorted(hit.kinds),
            )
        )
    if ws is not None:
        for table in {t.table for t in plan.tables} | {r.table for r in plan.redactions}:
            reason = ws.attachments.write_refusal(table)
            if reason is not None:
                plan.refused[table] = reason
    return plan
