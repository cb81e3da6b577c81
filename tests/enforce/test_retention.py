"""Retention: the plan finds expired rows without legal holds; apply is one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from typer.testing import Result

from tutela import audit
from tutela.enforce import retention
from tutela.keyguard import workspace_key
from tutela.policy.facts import collect_facts
from tutela.policy.models import Policy
from tutela.workspace import Workspace

AS_OF = date(2026, 6, 1)


def _expired_tickets(ws: Workspace, held: bool) -> int:
    op = "=" if held else "<>"
    return int(
        ws.query(
            "SELECT count(*) FROM callcentre_tickets WHERE CAST(opened_at AS TIMESTAMP) "
            f"< TIMESTAMP '2024-06-01' AND category {op} 'privacy'"
        )[0][0]
    )


def test_plan_excludes_legal_holds_and_agrees_with_policy_check(
    drop_ws: Workspace, acme: Policy
) -> None:
    plan = retention.plan(drop_ws, acme, AS_OF)
    tickets = next(i for i in plan.items if i.table == "callcentre_tickets")
    assert tickets.expired == _expired_tickets(drop_ws, held=False) > 0
    assert tickets.held == _expired_tickets(drop_ws, held=True) > 0
    facts = {
        (f.rule_index, f.table): f.expired for f in collect_facts(drop_ws, acme, AS_OF).retention
    }
    for item in plan.items:
        if item.action == "delete" and item.skipped is None:
            assert facts[(item.rule_index, item.table)] == item.expired


def test_apply_deletes_exactly_the_expired_rows(drop_ws: Workspace, acme: Policy) -> None:
    before = drop_ws.row_count("callcentre_tickets")
    expired = _expired_tickets(drop_ws, held=False)
    held = _expired_tickets(drop_ws, held=True)
    result = retention.apply(drop_ws, acme, AS_OF, table="callcentre_tickets")
    assert result.applied and result.items[0].applied == expired
    assert drop_ws.row_count("callcentre_tickets") == before - expired
    assert _expired_tickets(drop_ws, held=False) == 0
    assert _expired_tickets(drop_ws, held=True) == held  # legal hold kept
    entry = audit.entries(drop_ws.con, limit=1)[0]
    assert entry.command == "retention apply" and entry.seq == result.audit_seq
    assert "@" not in json.dumps(entry.to_dict())  # counts only
    # a second run has nothing left to do
    assert retention.plan(drop_ws, acme, AS_OF, "callcentre_tickets").total == 0


def test_anonymize_blanks_only_the_rule_columns(drop_ws: Workspace, acme: Policy) -> None:
    plan = retention.plan(drop_ws, acme, AS_OF, table="orders_orders")
    assert plan.items[0].expired > 0
    rows = drop_ws.row_count("orders_orders")
    retention.apply(drop_ws, acme, AS_OF, table="orders_orders")
    assert drop_ws.row_count("orders_orders") == rows
    left = drop_ws.query(
        "SELECT count(*) FROM orders_orders WHERE CAST(order_date AS DATE) < DATE '2020-06-01' "
        "AND (customer_id IS NOT NULL OR card_number IS NOT NULL OR amount_eur IS NULL)"
    )[0][0]
    assert left == 0


def test_failure_midway_leaves_data_unchanged(drop_ws: Workspace, acme: Policy) -> None:
    workspace_key(drop_ws)
    counts = {t: drop_ws.row_count(t) for t in drop_ws.user_tables()}
    nulls = drop_ws.query("SELECT count(*) FROM orders_orders WHERE card_number IS NULL")[0][0]

    def explode(label: str, fraction: float) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        retention.apply(drop_ws, acme, AS_OF, progress=explode)
    assert {t: drop_ws.row_count(t) for t in drop_ws.user_tables()} == counts
    assert (
        drop_ws.query("SELECT count(*) FROM orders_orders WHERE card_number IS NULL")[0][0] == nulls
    )
    assert not [e for e in audit.entries(drop_ws.con) if e.command == "retention apply"]


def test_cli_plan_by_default(enforce_cli: Callable[..., Result]) -> None:
    result = enforce_cli("retention", "apply", "--as-of", "2026-06-01", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["applied"] is False and data["expired_rows"] > 0
    again = enforce_cli("retention", "plan", "--as-of", "2026-06-01", "--format", "json")
    assert json.loads(again.stdout)["expired_rows"] == data["expired_rows"]
    bad = enforce_cli("retention", "apply", "--apply", "--dry-run")
    assert bad.exit_code == 2
