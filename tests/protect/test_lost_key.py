"""A deleted master key (issue #15 item 5): the message names the workspace's key id and
the way out; no `run keys init` loop; a new key only on purpose, and audit verify says
what it can and cannot check afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from tests.conftest import asset

Cli = Callable[..., Result]


def test_deleted_master_key_names_the_key_and_the_way_out(cli: Cli, ws_path: Path) -> None:
    assert cli("load", str(asset("ingest", "utf8.csv"))).exit_code == 0
    created = json.loads(cli("keys", "init", "--format", "json").stdout)
    key_id = created["master_key_id"]
    (ws_path / "keys" / "master.key").unlink()
    for args in (["show", "utf8"], ["keys", "init"], ["audit", "verify"]):
        result = cli(*args)
        assert result.exit_code == 3, (args, result.output)
        assert f"created with master key {key_id}" in result.stderr
        assert "restore" in result.stderr and "keys init --new-key" in result.stderr
    plan = cli("keys", "init", "--new-key")
    assert plan.exit_code == 0 and "DESTRUCTIVE" in plan.stderr and "dry run" in plan.stderr
    assert not (ws_path / "keys" / "master.key").exists()  # the plan changed nothing
    applied = cli("keys", "init", "--new-key", "--apply", "--format", "json")
    assert applied.exit_code == 0, applied.output
    reset = json.loads(applied.stdout)
    assert reset["previous_key_id"] == key_id and reset["new_key_id"] != key_id
    assert cli("show", "utf8").exit_code == 0  # the workspace works again
    verified = cli("audit", "verify", "--format", "json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["ok"] and report["earlier_key_through"] >= 1
    again = cli("keys", "init", "--new-key", "--apply")
    assert again.exit_code == 2 and "key is present" in again.stderr
