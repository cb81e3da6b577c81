"""`tutela classify`: human decisions persist across rescans and reach --fail-on, policy init,
SARIF and the audit log; a decision on a column whose values change is flagged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from tests.conftest import json_out
from tutela.workspace import Workspace

Cli = Callable[..., Result]


def _drop(ws_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        ws.con.execute(
            "CREATE TABLE crm AS SELECT 'C' || i AS id, 'user' || i || '@example.com' AS email, "
            "['Ana Puig', 'Jordi Vila', 'Marta Soler', 'Pau Serra'][i % 4 + 1] AS contact, "
            "'SKU-' || (1000 + i) AS sku FROM range(200) t(i)"
        )


def _cols(result: Result) -> dict[str, dict[str, object]]:
    [table] = json_out(result)["tables"]
    return {c["column"]: c for c in table["columns"]}


def test_not_personal_decision_persists_and_gates(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    assert _cols(cli("scan", "--format", "json"))["contact"]["entity"] == "PERSON"
    assert cli("scan", "--fail-on", "PERSON").exit_code == 1
    done = cli("classify", "crm.contact", "--not-personal", "--reason", "shared test accounts")
    assert done.exit_code == 0, done.output
    for args in (("scan", "--format", "json"), ("scan", "--force", "--format", "json")):
        contact = _cols(cli(*args))["contact"]
        assert contact["entity"] is None
        decision = contact["evidence"]["decision"]
        assert decision["by"] == "human" and decision["reason"] == "shared test accounts"
        assert decision["scanner_entity"] == "PERSON" and not decision["stale"]
    assert cli("scan", "--fail-on", "PERSON").exit_code == 0
    table = "".join(ch for ch in cli("scan").stdout if ch.isalnum())  # cells wrap: join them
    assert "human" in table and "sharedtestaccounts" in table
    # the decision is audited, with the reason
    audit = cli("audit", "show", "--format", "json")
    assert "classify" in audit.stdout and "shared test accounts" in audit.stdout


def test_entity_decision_and_policy_init_and_sarif(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    cli("scan")
    assert cli("classify", "crm.sku", "--as", "online_id", "--reason", "device ids").exit_code == 0
    assert cli("classify", "crm.contact", "--not-personal", "--reason", "robots").exit_code == 0
    cols = _cols(cli("scan", "--format", "json"))
    assert (cols["sku"]["entity"], cols["sku"]["category"]) == (
        "ONLINE_ID",
        "user.device.cookie_id",
    )
    draft = cli("policy", "init").stdout
    assert "sku: ONLINE_ID" in draft
    assert "contact: not_personal  # reviewed: robots" in draft
    sarif = json.loads(cli("scan", "--format", "sarif").stdout)
    results = {r["partialFingerprints"]["column"]: r for r in sarif["runs"][0]["results"]}
    assert results["crm.contact"]["suppressions"][0]["justification"].endswith("robots")
    assert results["crm.sku"]["properties"]["human_decision"] is True
    listed = json_out(cli("classify", "--list", "--format", "json"))["decisions"]
    assert {d["column"] for d in listed} == {"sku", "contact"}
    assert cli("classify", "crm.contact", "--forget").exit_code == 0
    assert _cols(cli("scan", "--format", "json"))["contact"]["entity"] == "PERSON"


def test_changed_values_flag_the_decision_for_review(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    cli("classify", "crm.contact", "--not-personal", "--reason", "robots")
    with Workspace.open(ws_path) as ws:
        ws.con.execute("UPDATE crm SET contact = 'Nil Pons' WHERE id = 'C1'")
    contact = _cols(cli("scan", "--format", "json"))["contact"]
    assert contact["evidence"]["decision"]["stale"] is True
    assert contact["entity"] == "PERSON"  # an outdated "not personal" hides nothing
    assert "REVIEW" in "".join(ch for ch in cli("scan").stdout if ch.isalnum())
    assert "contact: PERSON" in cli("policy", "init").stdout


def test_usage_errors(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    assert cli("classify", "crm.nope", "--not-personal", "--reason", "x").exit_code == 2
    assert cli("classify", "nope.contact", "--not-personal", "--reason", "x").exit_code == 2
    assert cli("classify", "crm.contact", "--as", "SHOE_SIZE", "--reason", "x").exit_code == 2
    assert cli("classify", "crm.contact", "--not-personal").exit_code == 2  # no reason
    both = cli("classify", "crm.contact", "--as", "PERSON", "--not-personal", "--reason", "x")
    assert both.exit_code == 2 and "error[usage]" in both.stderr
