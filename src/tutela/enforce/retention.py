"""Retention enforcement: which rows are past their period, and deleting, anonymizing or
pseudonymizing them in one audited transaction.

The expiry test is the one `policy check` counts (policy.sql.date_expr against the rule's
cutoff, legal holds excluded through policy.sql.any_of), so the plan and the check agree.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tutela import audit
from tutela.base.errors import EngineError
from tutela.base.keys import init_keyset
from tutela.base.normalize import key_sql
from tutela.base.progress import ProgressCallback, no_progress
from tutela.enforce.common import rebind
from tutela.engine import SqlError
from tutela.keyguard import workspace_key
from tutela.policy.models import Policy, RetentionAction, RetentionRule
from tutela.policy.sql import any_of, date_expr
from tutela.policy.vocab import category_within
from tutela.protect.pseudonymize import hmac_key
from tutela.protect.sqlhmac import TOKEN_PREFIX, Binder, HmacKey, token_sql
from tutela.sources import LiveErasure, LiveSourceError, Writes
from tutela.workspace import Workspace, quote_ident

KEY_PURPOSE = "retention"


@dataclass
class RetentionItem:
    """One rule applied to one table."""

    rule_index: int
    table: str
    action: RetentionAction
    period: str
    after: str
    cutoff: date
    columns: list[str] = field(default_factory=list)
    expired: int = 0  # rows the action changes
    held: int = 0  # expired but under a legal hold: never touched
    oldest: date | None = None
    unreadable: int = 0  # dates that cannot be read: never expired, reported
    skipped: str | None = None
    applied: int | None = None
    # with `plan(..., until=dates)`: rows the action reaches after the previous date (the
    # plan's as-of date first) and by each date; legal holds excluded as above
    upcoming: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_index,
            "table": self.table,
            "action": str(self.action),
            "period": self.period,
            "after": self.after,
            "cutoff": self.cutoff.isoformat(),
            "columns": self.columns,
            "expired": self.expired,
            "legal_hold": self.held,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "unreadable_dates": self.unreadable,
            "skipped": self.skipped,
            "applied": self.applied,
        }


@dataclass
class RetentionPlan:
    as_of: date
    items: list[RetentionItem]
    applied: bool = False
    audit_seq: int | None = None
    storage: list[LiveErasure] = field(default_factory=list)
    """Lake tables changed: their commits, purge and file check (lake.py)."""
    rewrite: dict[str, Any] | None = None
    """The workspace-file rewrite that made the change physical (see purge.py)."""

    @property
    def total(self) -> int:
        return sum(i.expired for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "applied": self.applied,
            "audit_seq": self.audit_seq,
            "workspace_rewritten": self.rewrite,
            "expired_rows": self.total,
            "items": [i.to_dict() for i in self.items],
            "live_sources": [e.to_dict() for e in self.storage],
        }


def _targets(policy: Policy, rule: RetentionRule) -> list[str]:
    if rule.table:
        return [rule.table]
    return [t for t in policy.tables if rule in policy.retention_rules_for(t)]


def _action_columns(policy: Policy, rule: RetentionRule, table: str) -> list[str]:
    """The rule's `columns`; for a category rule without them, the table's columns the
    policy files under that category (an IP-address rule blanks the IP, not the row)."""
    if rule.columns or rule.action is RetentionAction.delete:
        return list(rule.columns)
    spec = policy.tables.get(table)
    return [
        name
        for name, col in (spec.columns.items() if spec else [])
        if col.personal
        and rule.category
        and col.effective_category
        and category_within(col.effective_category, rule.category)
    ]


def _predicate(
    item: RetentionItem, rule: RetentionRule, types: dict[str, str]
) -> tuple[str, list[Any]]:
    """SQL true for rows the action must change (never NULL); `?` parameters."""
    day, day_params = date_expr(rule.after, types[rule.after], rule.date_format)
    hold, hold_params = any_of(rule.legal_hold)
    sql = f"(coalesce({day} < CAST(? AS TIMESTAMP), false) AND NOT {hold})"
    params: list[Any] = [*day_params, item.cutoff, *hold_params]
    if item.action is not RetentionAction.delete:
        cols = [quote_ident(c) for c in item.columns]
        if item.action is RetentionAction.anonymize:
            pending = " OR ".join(f"{c} IS NOT NULL" for c in cols)
        else:
            pending = " OR ".join(
                f"({c} IS NOT NULL AND NOT starts_with(CAST({c} AS VARCHAR), '{TOKEN_PREFIX}'))"
                for c in cols
            )
        sql = f"({sql} AND ({pending}))"
    return sql, params


def plan(
    ws: Workspace,
    policy: Policy,
    as_of: date,
    table: str | None = None,
    *,
    until: Sequence[date] = (),
) -> RetentionPlan:
    """Every retention rule against the loaded tables: counts and dates only. With `until`
    (ascending dates), each item also counts the rows reaching the end of their retention
    period by each of those dates, in the same pass over the table."""
    loaded = {t: {c.name: c.type for c in ws.columns(t)} for t in ws.user_tables()}
    items: list[RetentionItem] = []
    for index, rule in enumerate(policy.retention):
        for target in _targets(policy, rule):
            if table is not None and target != table:
                continue
            item = RetentionItem(
                index, target, rule.action, str(rule.period), rule.after,
                rule.period.before(as_of), _action_columns(policy, rule, target),
            )  # fmt: skip
            items.append(item)
            types = loaded.get(target)
            if types is None:
                item.skipped = "table not loaded"
                continue
            missing = [
                c
                for c in [rule.after, *item.columns, *(h.column for h in rule.legal_hold)]
                if c not in types
            ]
            if missing:
                item.skipped = "missing column(s): " + ", ".join(missing)
                continue
            if rule.action is not RetentionAction.delete and not item.columns:
                item.skipped = "no columns to transform"
                continue
            _count(ws, item, rule, types, [rule.period.before(d) for d in until])
    return RetentionPlan(as_of, items)


def _count(
    ws: Workspace,
    item: RetentionItem,
    rule: RetentionRule,
    types: dict[str, str],
    cutoffs: list[date],
) -> None:
    """Expired, oldest, held and unreadable rows, and (forecast) the rows the expiry test
    holds for at each later cutoff: one pass, each expression computed once per row."""
    pred, params = _predicate(item, rule, types)
    last, last_params = (
        _predicate(dataclasses.replace(item, cutoff=cutoffs[-1]), rule, types)
        if cutoffs
        else ("false", [])
    )
    day, day_params = date_expr(rule.after, types[rule.after], rule.date_format)
    hold, hold_params = any_of(rule.legal_hold)
    later = "".join(", count(*) FILTER (WHERE l AND d < CAST(? AS TIMESTAMP))" for _ in cutoffs)
    sql = (
        "SELECT count(*) FILTER (WHERE e), min(d) FILTER (WHERE e), "
        "count(*) FILTER (WHERE h AND coalesce(d < CAST(? AS TIMESTAMP), false)), "
        f"count(*) FILTER (WHERE d IS NULL AND has_value){later} "
        f"FROM (SELECT {pred} AS e, {last} AS l, {day} AS d, {hold} AS h, "
        f"{quote_ident(rule.after)} IS NOT NULL AS has_value FROM {ws.relation(item.table)})"
    )
    all_params = [
        item.cutoff, *cutoffs, *params, *last_params, *day_params, *hold_params,
    ]  # fmt: skip
    expired, oldest, held, unreadable, *reached = ws.query(sql, all_params)[0]
    item.expired, item.held, item.unreadable = int(expired), int(held), int(unreadable)
    item.oldest = oldest.date() if isinstance(oldest, datetime) else oldest
    # `l AND d < c` is the expiry test at cutoff c (<= the last): cumulative counts
    totals = [item.expired, *(int(n) for n in reached)]
    item.upcoming = [b - a for a, b in itertools.pairwise(totals)]


def _statement(
    ws: Workspace,
    item: RetentionItem,
    rule: RetentionRule,
    types: dict[str, str],
    key: HmacKey | None,
    normalizations: Mapping[str, str],
) -> tuple[list[str], dict[str, Any]]:
    binder = Binder()
    pred, params = _predicate(item, rule, types)
    where = rebind(pred, params, binder)
    target = ws.table_ident(item.table)
    if item.action is RetentionAction.delete:
        return [f"DELETE FROM {target} WHERE {where}"], binder.params
    pre: list[str] = []
    sets: list[str] = []
    for col in item.columns:
        c = quote_ident(col)
        if item.action is RetentionAction.anonymize:
            sets.append(f"{c} = NULL")
            continue
        assert key is not None
        if not types[col].upper().startswith("VARCHAR"):
            pre.append(f"ALTER TABLE {target} ALTER COLUMN {c} TYPE VARCHAR")
        token = token_sql(key.sql(key_sql(c, normalizations.get(col, "trim")), binder))
        sets.append(
            f"{c} = CASE WHEN {c} IS NULL OR starts_with(CAST({c} AS VARCHAR), '{TOKEN_PREFIX}') "
            f"THEN CAST({c} AS VARCHAR) ELSE {token} END"
        )
    return [*pre, f"UPDATE {target} SET {', '.join(sets)} WHERE {where}"], binder.params


def _apply_lake(
    ws: Workspace,
    writes: Writes,
    item: RetentionItem,
    rule: RetentionRule,
    types: dict[str, str],
    key: HmacKey | None,
    normalizations: Mapping[str, str],
) -> int:
    """A rule on a lake table (Delta, Parquet): the rows are picked on its copy and the
    change goes through the lake source, committed with the workspace (see lake.py)."""
    found = ws.live_table(item.table)
    assert found is not None
    if found.attachment.kind not in ("delta", "parquet"):
        ws.table_ident(item.table)  # refuses: only lake tables are rewritten in place
    writes.check_writable([item.table])
    con = ws.con
    binder = Binder()
    pred, params = _predicate(item, rule, types)
    where = rebind(pred, params, binder)
    rel = ws.relation(item.table)
    rowids = [
        int(r[0])
        for r in con.execute(f"SELECT rowid FROM {rel} WHERE {where}", binder.params).fetchall()
    ]
    if not rowids:
        return 0
    if item.action is RetentionAction.delete:
        writes.delete_rows(item.table, rowids)
    elif item.action is RetentionAction.anonymize:
        writes.set_null(item.table, item.columns, rowids)
    else:
        assert key is not None
        for col in item.columns:
            if not types[col].upper().startswith("VARCHAR"):
                raise LiveSourceError(
                    f"{item.table}.{col} is {types[col]}: a lake table's column keeps its type, "
                    "so Tutela pseudonymizes text columns only there"
                )
            c = quote_ident(col)
            tb = Binder()
            token = token_sql(key.sql(key_sql(c, normalizations.get(col, "trim")), tb))
            where_c = rebind(pred, params, tb)
            rows = con.execute(
                f"SELECT rowid, {token} FROM {rel} WHERE {where_c} AND {c} IS NOT NULL "
                f"AND NOT starts_with(CAST({c} AS VARCHAR), '{TOKEN_PREFIX}')",
                tb.params,
            ).fetchall()
            writes.set_text(item.table, col, {int(r): str(t) for r, t in rows})
    return len(rowids)


def apply(
    ws: Workspace,
    policy: Policy,
    as_of: date,
    table: str | None = None,
    progress: ProgressCallback = no_progress,
) -> RetentionPlan:
    """Plan, then run every action and one audit entry in one transaction."""
    the_plan = plan(ws, policy, as_of, table)
    master = workspace_key(ws)
    runnable = [i for i in the_plan.items if i.skipped is None and i.expired]
    # deletes first: rows about to go are not anonymized (and counted) first
    runnable.sort(key=lambda i: (i.action is not RetentionAction.delete, i.rule_index))
    checking = ws.writes(ws.con)  # a live table Tutela may not change: refused before any change
    checking.check_writable(checking.external(i.table for i in runnable))
    key: HmacKey | None = None
    if any(i.action is RetentionAction.pseudonymize for i in runnable):
        keyset, _ = init_keyset(ws.root)
        key = hmac_key(keyset, keyset.active.version, KEY_PURPOSE)
    try:
        with ws.transaction(purge_after="retention apply" if runnable else None) as con:
            writes = ws.writes(con)
            for n, item in enumerate(runnable):
                rule = policy.retention[item.rule_index]
                types = {c.name: c.type for c in ws.columns(item.table)}
                norms = {
                    column: link.method.value if link.method.value in _KEY_NORMS else "trim"
                    for link in policy.identity_links_for(item.table)
                    for column in link.all_columns
                }
                if ws.live_table(item.table) is not None:
                    item.applied = _apply_lake(ws, writes, item, rule, types, key, norms)
                    progress("retention", (n + 1) / len(runnable))
                    continue
                statements, params = _statement(ws, item, rule, types, key, norms)
                affected = 0
                for sql in statements:
                    row = con.execute(sql, params if sql.startswith(("DELETE", "UPDATE")) else [])
                    if sql.startswith(("DELETE", "UPDATE")):
                        fetched = row.fetchone()
                        affected = int(fetched[0]) if fetched else 0
                item.applied = affected
                progress("retention", (n + 1) / len(runnable))
            entry = audit.append(
                con,
                master,
                command="retention apply",
                arguments={"as_of": as_of.isoformat(), "table": table},
                tables=sorted({i.table for i in runnable}),
                counts={f"{i.table}#{i.rule_index}:{i.action}": i.applied or 0 for i in runnable},
                result="applied",
            )
            landed = writes.commit()  # lake tables, one commit each, just before the workspace
            audit.append_commits(con, master, "retention apply", landed)
    except SqlError as exc:
        raise EngineError(str(exc).splitlines()[0]) from None
    finally:
        ws.attachments.rollback_writes()  # a no-op after the commit
    the_plan.storage = ws.attachments.finish_erasure(purge=True)  # purge and check the lake files
    for item in the_plan.items:
        if item.applied is None and item.skipped is None:
            item.applied = 0
    the_plan.applied = True
    the_plan.audit_seq = entry.seq
    if runnable:  # old values must not stay in the file's free blocks
        the_plan.rewrite = ws.purge().to_dict()
    return the_plan


# normalisations key_sql knows (e164 there is the national significant number)
_KEY_NORMS = {"none", "trim", "email", "compact", "name", "e164"}
