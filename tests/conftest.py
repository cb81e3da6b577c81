"""Shared fixtures: a workspace on tmp_path, asset paths, a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner, Result

from tutela.cli.app import app
from tutela.workspace import Workspace

ASSETS = Path(__file__).parent / "assets"

# No test depends on wall-clock speed: on a busy 2-core CI machine one slow example is no
# failure (hypothesis' default 200 ms deadline per example made the suite flaky), and neither
# is slow data generation (the `too_slow` health check times it).
settings.register_profile("tutela", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tutela")


def asset(*parts: str) -> Path:
    return ASSETS.joinpath(*parts)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """Tutela runs offline: any attempt to open a network connection fails the test run."""
    import socket

    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise AssertionError(f"network access attempted: {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def workspace(ws_path: Path) -> Iterator[Workspace]:
    ws = Workspace.open(ws_path)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def cli(ws_path: Path) -> Callable[..., Result]:
    """Run `tutela -w <tmp workspace> ARGS...`; stdout and stderr are kept apart."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["-w", str(ws_path), *args], input=input)

    return run


def json_out(result: Result) -> Any:
    return json.loads(result.stdout)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Skipped live-database, Spark and browser tests must not pass unnoticed: in capitals."""
    reasons = {
        str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        for rep in terminalreporter.stats.get("skipped", [])
    }
    live = sorted(r for r in reasons if "LIVE POSTGRESQL" in r)
    if live:
        terminalreporter.write_sep("!", "LIVE POSTGRESQL TESTS DID NOT RUN", red=True, bold=True)
        for reason in live:
            terminalreporter.write_line(reason, red=True, bold=True)
    sarif = sorted(r for r in reasons if "SARIF VALIDATOR" in r)
    if sarif:
        terminalreporter.write_sep("!", "SARIF VALIDATOR TESTS DID NOT RUN", red=True, bold=True)
        for reason in sarif:
            terminalreporter.write_line(reason, red=True, bold=True)
    # here, not in tests/spark/conftest.py: under pytest-xdist the controller, which writes
    # this summary, never loads a conftest below tests/ (it collects nothing)
    spark = sorted(r for r in reasons if "SPARK TESTS SKIPPED" in r)
    if spark:
        terminalreporter.write_sep("!", "SPARK TESTS DID NOT RUN", red=True, bold=True)
        for reason in spark:
            terminalreporter.write_line(reason, red=True, bold=True)
    browser = sorted(r for r in reasons if "CHROMIUM" in r)
    if browser:
        terminalreporter.write_sep("!", "BROWSER TESTS DID NOT RUN", red=True, bold=True)
        for reason in browser:
            terminalreporter.write_line(reason, red=True, bold=True)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist the default temporary paths gain a `popen-gwN/` level, and output
    that prints a path (folded to 80 columns) then wraps differently from a run in one
    process. A fresh, short base directory keeps every worker's paths no longer than those of
    a run in one process (/tmp/pytest-of-USER/pytest-N/); it is removed after a green run."""
    controller = not hasattr(config, "workerinput")  # workers inherit the controller's base
    if (
        getattr(config.option, "numprocesses", None)
        and config.option.basetemp is None
        and controller
    ):
        import tempfile

        config.option.basetemp = tempfile.mkdtemp(prefix="pytest-")
        config._tutela_basetemp = config.option.basetemp  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    base = getattr(session.config, "_tutela_basetemp", None)
    if base is not None and exitstatus == 0:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def family_policy(schema: str) -> str:
    """The policy of the split-name family case: Maria (C1) and her brother Pedro (C2), names
    in first_name and last_name, on `{schema}.people` and a `{schema}.newsletter` where they
    share family.garcia@example.com (N1, N2) and Maria has her own subscription (N4)."""
    people, newsletter = f"{schema}.people", f"{schema}.newsletter"
    return f"""\
version: 1
subjects:
  customer:
    identifiers:
      - {{table: {people}, column: customer_id, kind: customer_id}}
      - {{table: {people}, column: email, kind: email}}
      - {{table: {people}, columns: [first_name, last_name], kind: name}}
      - {{table: {newsletter}, column: email, kind: email}}
      - {{table: {newsletter}, columns: [first_name, last_name], kind: name}}
tables:
  {people}:
    columns: {{customer_id: {{}}, first_name: PERSON, last_name: PERSON, email: EMAIL_ADDRESS}}
  {newsletter}:
    columns: {{subscriber_id: {{}}, email: EMAIL_ADDRESS, first_name: PERSON, last_name: PERSON}}
erasure:
  default: delete
"""


def erase_the_garcias(cli: Callable[..., Result], policy: Path, certs: Path) -> dict[str, Any]:
    """The family case through the CLI: the dry run by the family address plans nothing and
    lists both family rows for review; then Maria's erasure by her id is applied. Returns
    her certificate."""
    dry = cli("erase", "--email", "family.garcia@example.com", "-p", str(policy), "-f", "json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)["plan"]
    assert plan["tables"] == []
    assert {p["row"] for p in plan["possible_matches_for_review"]} >= {
        "subscriber_id=N1", "subscriber_id=N2"
    }  # fmt: skip
    applied = cli("erase", "--id", "customer_id=C1", "-p", str(policy), "--apply",
                  "-o", str(certs), "--request-id", "M1")  # fmt: skip
    assert applied.exit_code == 0, applied.output
    return json.loads((certs / "erasure-M1.json").read_text())  # type: ignore[no-any-return]
