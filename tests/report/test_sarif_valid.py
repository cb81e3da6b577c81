"""Both SARIF outputs (`scan --format sarif`, `policy check --format sarif`) pass Microsoft's
reference validator, `@microsoft/sarif-multitool validate` (installed from npm by
`make test` through scripts/ensure-sarif-multitool). Without it these tests skip, loudly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutela.cli.app import app
from tutela.detect.model import ColumnFinding, TableScan
from tutela.report.sarif import scan_to_sarif as to_sarif

from ..policy.conftest import build_workspace

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "tests" / "assets" / "policies" / "small.yaml"


def _validator() -> Path:
    env = os.environ.get("SARIF_MULTITOOL")
    local = REPO / ".tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
    for candidate in (env, str(local), shutil.which("sarif-multitool")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.skip(
        "SARIF VALIDATOR TESTS SKIPPED: @microsoft/sarif-multitool is not installed "
        "(run `sh scripts/ensure-sarif-multitool`, which needs npm, or set SARIF_MULTITOOL)"
    )


def _validate(tool: Path, *files: Path) -> None:
    out = files[0].with_suffix(".validation.sarif")
    done = subprocess.run(
        [str(tool), "validate", *map(str, files), "-o", str(out), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    problems = [
        line
        for line in done.stdout.splitlines()
        if ": error " in line or ": warning " in line or "ERR" in line.split(":")[0]
    ]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Analysis completed successfully" in done.stdout, done.stdout
    assert problems == [], "\n".join(problems)
    # the validator's own log lists every result it found: nothing at error/warning level
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    levels = [r.get("level", "warning") for run in log["runs"] for r in run.get("results", [])]
    assert "error" not in levels and "warning" not in levels


def test_scan_and_policy_sarif_pass_the_reference_validator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _validator()
    monkeypatch.chdir(tmp_path)  # the loaded file is under the current directory
    drop = tmp_path / "drop"
    drop.mkdir()
    build_workspace(tmp_path / "ws")  # the tables tests/assets/policies/small.yaml describes
    (drop / "contacts.csv").write_text(
        "customer_id,name,email,phone,dni,country,notes\n"
        + "".join(
            f"C{i},{('Ana Puig', 'Jordi Vila', 'Marta Soler', 'Pau Serra')[i % 4]},"
            f"ana{i}@shop.example,+34 600 000 {i:03d},00000000T,ES,"
            f"ok\n"
            for i in range(30)
        ),
        encoding="utf-8",
    )
    outside = tmp_path.parent / f"{tmp_path.name}-outside"  # not under cwd: file://
    outside.mkdir()
    elsewhere = outside / "elsewhere.csv"
    elsewhere.write_text(
        "email\n" + "".join(f"u{i}@x.example\n" for i in range(20)), encoding="utf-8"
    )
    runner = CliRunner()
    ws = str(tmp_path / "ws")

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["-w", ws, *args])
        assert result.exit_code in (0, 1), result.output
        return result.stdout

    cli("load", str(drop / "contacts.csv"), str(elsewhere), "--source", "crm")
    cli("classify", "contacts.name", "--not-personal", "--reason", "test accounts only")
    scan = tmp_path / "scan.sarif"
    # only the two loaded tables: the policy's own tables add time, not SARIF shapes
    scan.write_text(cli("scan", "contacts", "elsewhere", "--format", "sarif"), encoding="utf-8")
    policy = tmp_path / "policy.sarif"
    policy.write_text(
        cli("policy", "check", "-p", str(POLICY), "--format", "sarif"), encoding="utf-8"
    )
    data = json.loads(scan.read_text(encoding="utf-8"))
    results = data["runs"][0]["results"]
    assert all("region" in r["locations"][0]["physicalLocation"] for r in results)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "drop/contacts.csv" in uris and any(u.startswith("file://") for u in uris)
    dismissed = [r for r in results if r.get("suppressions")]
    assert dismissed and "test accounts only" in dismissed[0]["suppressions"][0]["justification"]
    _validate(tool, scan, policy)


def test_sarif_of_a_table_without_a_file_passes_the_validator(tmp_path: Path) -> None:
    tool = _validator()
    scan = TableScan(
        "crm.public.customers",
        3,
        [ColumnFinding("email", "VARCHAR", "EMAIL_ADDRESS", None, "user.contact.email", 0.9)],
    )
    path = tmp_path / "live.sarif"
    path.write_text(json.dumps(to_sarif([scan], {})), encoding="utf-8")
    _validate(tool, path)
