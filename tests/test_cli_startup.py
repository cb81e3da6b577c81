"""Start-up: `tutela --help` imports no command, `tutela tables` only the one it runs, and the
overview's one-line help is each command's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tutela.cli.app import COMMANDS, app
from tutela.cli.root import _load
from tutela.workspace import Workspace

runner = CliRunner()

# Modules a start-up must not pay for (DuckDB, pydantic models, presidio, the renderers).
HEAVY = ["duckdb", "tutela.workspace", "tutela.policy.models", "presidio_analyzer",
         "tutela.detect.engine", "tutela.report.governance", "cryptography", "pyarrow",
         "importlib.metadata", "pydantic", "typer.rich_utils", "rich.markdown"]  # fmt: skip


def _imported_after(*argv: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from tutela.cli.app import app\n"
        f"code = app({list(argv)!r}, standalone_mode=False)\n"
        "assert code in (0, None), code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_help_imports_no_command() -> None:
    loaded = _imported_after("--help")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not any(m.startswith("tutela.cli.") and m.endswith(("scan", "subjects")) for m in loaded)


def _workspace(tmp_path: Path) -> Path:
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ws.con.execute("CREATE TABLE crm AS SELECT 'C1' AS customer_id")
    return tmp_path / "ws"


def test_tables_imports_only_what_it_needs(tmp_path: Path) -> None:
    loaded = _imported_after("-w", str(_workspace(tmp_path)), "tables")
    assert "duckdb" in loaded  # it does read the workspace
    heavy = {"presidio_analyzer", "tutela.detect.engine", "tutela.report.governance", "pyarrow"}
    # Typer's pydantic checks and rich_utils, the keys, and (no attachment stored) the kinds
    heavy |= {"pydantic", "typer.rich_utils", "cryptography", "tutela.live", "tutela.lake"}
    assert not loaded & heavy, sorted(loaded & heavy)


def test_overview_lines_are_the_commands_own_help() -> None:
    for name, entry in COMMANDS.items():
        command = _load(name, entry)
        own = (command.short_help or command.help or "").split("\n\n")[0]
        assert entry.help == " ".join(own.split()), name


def test_every_command_runs_its_own_help() -> None:
    overview = runner.invoke(app, ["--help"])
    assert overview.exit_code == 0
    for name in COMMANDS:
        assert name in overview.stdout
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.stdout)
        assert f"tutela {name}" in " ".join(result.stdout.split()), name


def test_global_options_after_a_lazy_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tables", "-w", str(_workspace(tmp_path))])
    assert result.exit_code == 0, result.stdout
    assert "crm" in result.stdout


def test_pseudonymize_without_a_policy_loads_no_policy_models(tmp_path: Path) -> None:
    """`pseudonymize -c COL` names its columns: the policy models (pydantic, ~0.1 s of every
    such run) are loaded only when --policy is given."""
    ws = _workspace(tmp_path)
    assert runner.invoke(app, ["-w", str(ws), "keys", "init"]).exit_code == 0
    loaded = _imported_after("-w", str(ws), "pseudonymize", "crm", "-c", "customer_id")
    assert "tutela.protect.pseudonymize" in loaded  # it did plan the column
    assert not loaded & {"tutela.policy.models", "tutela.policy.loader"}, sorted(loaded)


def test_pseudonymizing_a_loaded_table_loads_no_lake_spark_or_phone_code(tmp_path: Path) -> None:
    """Tokens for a loaded table's column, applied in place: the lake and live-source
    modules, the Spark translation and phonenumbers' tables (~60 ms of each such run) stay
    unloaded."""
    ws = _workspace(tmp_path)
    assert runner.invoke(app, ["-w", str(ws), "keys", "init"]).exit_code == 0
    argv = ["-w", str(ws), "pseudonymize", "crm", "-c", "customer_id", "--apply"]
    loaded = _imported_after(*argv)
    assert "tutela.protect.pipeline" in loaded  # it did rewrite the table
    unneeded = {"tutela.live", "tutela.lake", "tutela.engine.spark", "phonenumbers"}
    assert not loaded & unneeded, sorted(loaded & unneeded)
