"""An erasure action is one object in one place (policy/erasure_actions.py): a toy action
registered here, and nowhere else, is accepted by policies and planned, applied, verified
and certified by a real erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tutela.policy import PolicyInvalidError, load_policy_text, policy_json_schema
from tutela.policy.erasure_actions import ACTIONS, ErasureAction, register
from tutela.sources import Writes
from tutela.subjects import service
from tutela.workspace import Workspace

from .conftest import POLICY

ERASED = "[ERASED]"


def _tombstone(writes: Writes, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
    for column in columns:
        writes.set_text(table, column, dict.fromkeys(rowids, ERASED))


def tombstone_action() -> ErasureAction:
    return ErasureAction(
        "tombstone",
        erases="columns",
        done="tombstoned",
        owed="overwrite {columns} in {rows} row(s)",
        requirement="action tombstone needs the columns to overwrite; write:\n"
        "  action: tombstone\n  columns: [notes]",
        apply=_tombstone,
    )


@pytest.fixture
def tombstone() -> Iterator[ErasureAction]:
    action = register(tombstone_action())
    try:
        yield action
    finally:
        del ACTIONS["tombstone"]


POLICY_WITH_TOMBSTONE = POLICY.replace(
    "  tables:\n    orders:\n",
    "  tables:\n    tickets:\n      action: tombstone\n"
    "      columns: [caller, caller_name, notes]\n    orders:\n",
)


def _error(text: str) -> str:
    with pytest.raises(PolicyInvalidError) as info:
        load_policy_text(text, "p.yaml")
    return str(info.value.issues[0])


def test_policies_name_an_action_only_once_it_is_registered() -> None:
    assert POLICY_WITH_TOMBSTONE != POLICY
    unknown = _error(POLICY_WITH_TOMBSTONE)
    assert "invalid value 'tombstone'" in unknown
    assert "expected: one of 'delete', 'anonymize' or 'keep'" in unknown
    assert "tombstone" not in json.dumps(policy_json_schema())

    action = register(tombstone_action())
    try:
        policy = load_policy_text(POLICY_WITH_TOMBSTONE, "p.yaml")
        assert policy.erasure_rule("tickets").action is action
        enum = policy_json_schema()["$defs"]["ErasureAction"]["enum"]
        assert enum == ["delete", "anonymize", "keep", "tombstone"]
        # what the action needs comes from the action
        no_columns = POLICY_WITH_TOMBSTONE.replace(
            "      columns: [caller, caller_name, notes]\n", ""
        )
        assert "action tombstone needs the columns to overwrite" in _error(no_columns)
        assert "action: tombstone\n      columns: [notes]" in _error(no_columns)
        as_default = POLICY.replace("default: delete", "default: tombstone")
        assert "default: tombstone cannot apply to every table" in _error(as_default)
        with_columns = POLICY.replace(
            "  tables:\n", "  tables:\n    crm: {action: delete, columns: [email]}\n"
        )
        assert "does not take `columns` (only anonymize, tombstone)" in _error(with_columns)
        typo = POLICY_WITH_TOMBSTONE.replace("action: tombstone", "action: tombstoen")
        assert "did you mean 'tombstone'?" in _error(typo)
    finally:
        del ACTIONS["tombstone"]


def test_registered_action_is_planned_applied_verified_and_certified(
    shop: Workspace, tombstone: ErasureAction, tmp_path: Path
) -> None:
    policy = load_policy_text(POLICY_WITH_TOMBSTONE, "p.yaml")
    before = shop.con.execute("SELECT * FROM tickets ORDER BY ticket").fetchall()
    ctx = service.context(shop, policy)
    clean, [plan] = service.plan_erasures(ctx, {"E1": {"email": ["anna.puig@example.com"]}})
    planned = {t["table"]: t for t in plan.to_dict()["tables"]}
    assert planned["tickets"] == {
        "table": "tickets",
        "action": "tombstone",
        "rows": 1,
        "columns": ["caller", "caller_name", "notes"],
        "legal_basis": None,
        "reason": None,
        "rows_listing_others": {},
    }
    # her own ticket's notes are overwritten anyway: only T3's mention is redacted
    assert plan.to_dict()["free_text_redactions"] == [{"column": "tickets.notes", "rows": 1}]

    [(cert, _)] = service.apply_erasures(ctx, clean, [plan], tmp_path)

    after = shop.con.execute("SELECT * FROM tickets ORDER BY ticket").fetchall()
    assert after[0] == ("T1", ERASED, ERASED, ERASED)  # the row stays, her values are gone
    assert after[1] == before[1]  # Joan's ticket untouched
    assert after[2][:3] == before[2][:3] and "[REDACTED]" in after[2][3]
    assert after[3] == before[3]  # a possible match only: untouched
    assert [r[0] for r in shop.con.execute("SELECT * FROM crm").fetchall()] == ["C2", "C3"]

    tickets = next(t for t in cert["tables"] if t["table"] == "tickets")
    assert tickets["action"] == "tombstone"
    assert tickets["counts"] == {"tombstoned": 1, "redacted": 1}
    assert cert["kept"] == []
    assert cert["verification"]["ok"] is True
    owed = [t["owed"] for s in cert["systems"] for t in s["tables"] if t["table"] == "tickets"]
    assert owed == [
        "overwrite caller, caller_name, notes in 1 row(s); "
        "redact the person's mentions in 1 free-text value(s)"
    ]
    written = json.loads(Path(tmp_path / "erasure-E1.json").read_text(encoding="utf-8"))
    assert any(t["action"] == "tombstone" for t in written["tables"])


def test_the_registry_refuses_names_and_definitions_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(ErasureAction("delete", erases="rows", done="deleted", owed="x", apply=_tombstone))
    with pytest.raises(ValueError, match="cannot name"):  # the certificate's free-text entry
        register(ErasureAction("redact", erases="rows", done="x", owed="x", apply=_tombstone))
    with pytest.raises(ValueError, match="legal basis"):
        ErasureAction("hold", erases="nothing", done="held", legal_basis=False)
    with pytest.raises(ValueError, match="requirement"):
        ErasureAction("mask", erases="columns", done="masked", owed="x", apply=_tombstone)
    assert list(ACTIONS) == ["delete", "anonymize", "keep"]
