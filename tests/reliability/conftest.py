"""Reliability suite: the `reliability` marker, sizes chosen from the environment, and a
helper that runs the real `tutela` CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutela import audit, keyguard
from tutela.workspace import Workspace

TableState = dict[str, tuple[object, ...]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reliability: fault injection, fuzzing and adversarial-input proofs "
        "(sizes from TUTELA_CRASH_TRIALS / TUTELA_FUZZ_EXAMPLES)",
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def crash_trials() -> int:
    return env_int("TUTELA_CRASH_TRIALS", 3)


def fuzz_examples(default: int = 150) -> int:
    return env_int("TUTELA_FUZZ_EXAMPLES", default)


def tutela(
    root: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m tutela -w ROOT ARGS...` to completion, capturing text output."""
    return subprocess.run(
        [sys.executable, "-m", "tutela", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def table_state(root: Path) -> TableState:
    """Per user table `(count, bit_xor(hash(row)))`, after checking the audit log verifies."""
    ws = Workspace.open(root)
    try:
        report = audit.verify(ws.con, keyguard.workspace_key(ws))
        assert report.ok, report.problems
        return {
            t: ws.con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{t}" t').fetchone()  # type: ignore[misc]
            for t in ws.user_tables()
        }
    finally:
        ws.close()


def tutela_here(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tutela -w ROOT ARGS...` in this process (the same code path as the console script,
    without an interpreter start-up per call); returns what `tutela()` returns."""
    from typer.testing import CliRunner

    from tutela.cli.app import app

    result = CliRunner().invoke(app, ["-w", str(root), *args], env=env)
    return subprocess.CompletedProcess(
        args, result.exit_code, result.stdout, result.stderr if result.stderr_bytes else ""
    )
