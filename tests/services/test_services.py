"""The core services behind the commands: `--format json` prints exactly what they return,
their results are typed, and notices reach the caller instead of being printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from typer.testing import CliRunner

from tests.subjects.conftest import POLICY, build
from tutela.cli.app import app
from tutela.services import catalog, policy, subjects
from tutela.services import protect as keys
from tutela.services.session import Session, purge_notice
from tutela.workspace import Workspace

ANNA = {"phone": ["+34 612 345 678"]}


def _shop(tmp_path: Path) -> tuple[Path, Path]:
    ws_path, policy_file = tmp_path / "ws", tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    with Workspace.open(ws_path, create=True) as ws:
        build(ws)
    return ws_path, policy_file


def _json(ws_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["-w", str(ws_path), *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_output_is_the_service_result(tmp_path: Path) -> None:
    ws_path, policy_file = _shop(tmp_path)
    session = Session(ws_path)
    p = str(policy_file)
    found = subjects.find(session, subjects.FindRequest(ANNA, policy_file))
    assert found.found and found.tables["crm"] == 1 and found.rows == found.to_dict()["rows"]
    assert _json(ws_path, "subject", "find", "--phone", ANNA["phone"][0], "-p", p) == (
        found.to_dict()
    )
    planned = subjects.erase(session, subjects.ErasureRequest(ANNA, policy_file, request_id="E-1"))
    assert not planned.applied and planned.verified  # a plan changes nothing and fails nothing
    assert (
        _json(ws_path, "erase", "--phone", ANNA["phone"][0], "-p", p, "--request-id", "E-1")
        == planned.to_dict()
    )
    assert [t.to_dict() for t in catalog.tables(session)] == _json(ws_path, "tables")["tables"]
    assert keys.init_keys(session).created
    assert _json(ws_path, "keys", "list") == keys.list_keys(session).to_dict()


def test_access_report_is_typed_and_matches_its_file(tmp_path: Path) -> None:
    ws_path, policy_file = _shop(tmp_path)
    request = subjects.AccessRequest(ANNA, policy_file, tmp_path / "out", "S-1")
    result = subjects.access_report(Session(ws_path), request)
    assert result.data_held and result.request_id == "S-1"
    [json_file] = [Path(f) for f in result.files if f.endswith(".json")]
    written = json.loads(json_file.read_text(encoding="utf-8"))
    assert written["summary"] == result.summary.to_dict()
    assert result.summary.rows == written["summary"]["rows"] > 0
    assert all(stat.S_IMODE(Path(f).stat().st_mode) == 0o600 for f in result.files)


def test_notices_go_to_the_caller_not_to_the_terminal(tmp_path: Path) -> None:
    heard: list[str] = []
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    ropa = policy.ropa(Session(tmp_path / "no-workspace", notify=heard.append), policy_file)
    assert ropa.to_dict()  # built from the policy alone
    assert len(heard) == 1 and "records are built from the policy alone" in heard[0]
    pending: Any = SimpleNamespace(resumed_purge=None, pending_purge=["tutela erase"])
    pending.purge_error = None
    notice = purge_notice(pending)
    assert notice is not None and "tutela erase" in notice
    pending.pending_purge = []
    assert purge_notice(pending) is None
