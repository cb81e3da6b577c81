"""`tutela scan` from the command line: formats, stored results, CI gate, baseline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from tests.conftest import json_out
from tutela.workspace import Workspace

Cli = Callable[..., Result]


def _drop(ws_path: Path) -> None:
    ws = Workspace.open(ws_path)
    ws.con.execute(
        "CREATE TABLE crm AS SELECT 'C' || i AS id, 'user' || i || '@example.com' AS email, "
        "round(i * 1.5, 2) AS saldo, 'SKU-' || (1000 + i) || '-BL' AS sku FROM range(200) t(i)"
    )
    ws.close()


def test_json_lists_every_column_and_second_run_is_cached(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    first = cli("scan", "--format", "json")
    assert first.exit_code == 0, first.stderr
    [table] = json_out(first)["tables"]
    cols = {c["column"]: c for c in table["columns"]}
    assert set(cols) == {"id", "email", "saldo", "sku"}
    assert cols["email"]["entity"] == "EMAIL_ADDRESS"
    assert cols["email"]["category"] == "user.contact.email"
    assert cols["sku"]["entity"] is None and cols["saldo"]["entity"] is None
    assert table["cached"] is False
    assert "user1@example.com" not in first.stdout  # examples are masked
    second = json_out(cli("scan", "crm", "--format", "json"))
    assert second["tables"][0]["cached"] is True
    assert second["tables"][0]["columns"] == table["columns"]
    forced = json_out(cli("scan", "--force", "--format", "json"))
    assert forced["tables"][0]["cached"] is False


def test_fail_on_and_baseline(cli: Cli, ws_path: Path, tmp_path: Path) -> None:
    _drop(ws_path)
    assert cli("scan", "--fail-on", "PERSON").exit_code == 0
    gated = cli("scan", "--fail-on", "EMAIL_ADDRESS,PERSON")
    assert gated.exit_code == 1
    assert "crm.email (EMAIL_ADDRESS)" in gated.stderr
    baseline = tmp_path / "baseline.json"
    baseline.write_text(cli("scan", "--format", "json").stdout, encoding="utf-8")
    accepted = cli("scan", "--fail-on", "ANY", "--baseline", str(baseline), "--format", "json")
    assert accepted.exit_code == 0
    assert json_out(accepted)["suppressed_by_baseline"] == 1


def test_sarif_output(cli: Cli, ws_path: Path) -> None:
    _drop(ws_path)
    sarif = json.loads(cli("scan", "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "EMAIL_ADDRESS"
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "crm.email"


def test_usage_errors(cli: Cli, ws_path: Path, tmp_path: Path) -> None:
    _drop(ws_path)
    bad = cli("scan", "--fail-on", "SHOE_SIZE")
    assert bad.exit_code == 2 and "unknown entity SHOE_SIZE" in bad.stderr
    missing = cli("scan", "nope")
    assert missing.exit_code == 2 and "no table named 'nope'" in missing.stderr
    junk = tmp_path / "b.json"
    junk.write_text("[1, 2]")
    assert cli("scan", "--baseline", str(junk)).exit_code == 4
