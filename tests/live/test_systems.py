"""#14: a live attachment erased in place is its own system, done at once; a loaded copy
is owed at its source until confirmed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from tests.conftest import json_out
from tests.live.test_sqlite import legacy as legacy  # the same SQLite file and policy


def test_live_system_is_erased_in_place_and_the_copy_is_owed(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    assert cli("load", str(tmp_path / "shop.csv"), "--source", "webshop").exit_code == 0
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    result = cli("erase", "--email", "nuria@example.cat", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--request-id", "S1", "--apply")  # fmt: skip
    assert result.exit_code == 0, result.output
    cert = json.loads((tmp_path / "certs" / "erasure-S1.json").read_text())
    systems = {s["system"]: s for s in cert["systems"]}
    assert systems["legacy"]["mode"] == "in_place" and systems["legacy"]["state"] == "erased"
    assert systems["legacy"]["action_owed"] is None
    assert systems["webshop"]["mode"] == "copy" and systems["webshop"]["state"] == "owed"
    assert "shop.csv" in systems["webshop"]["action_owed"]
    assert cert["physical"]["rewritten"] and cert["physical"]["ok"]
    [req] = json_out(cli("requests", "list", "-f", "json"))["requests"]
    assert req["state"] == "awaiting_systems" and req["owed_at"] == ["webshop"]
    states = {t["system"]: (t["mode"], t["state"]) for t in req["systems"]}
    assert states == {"legacy": ("in_place", "erased"), "webshop": ("copy", "owed")}
    done = cli(
        "requests", "confirm", "S1", "--system", "webshop", "--note", "ticket 7", "-f", "json"
    )
    assert json_out(done)["request_state"] == "done"
