"""Fixtures: the example drop loaded into a tmp workspace, the acme policy, a CLI runner
with the `tutela` app."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tutela.cli.app import app
from tutela.ingest.load import load_files
from tutela.policy.loader import load_policy
from tutela.policy.models import Policy
from tutela.workspace import Workspace

ROOT = Path(__file__).parents[2]
DROP = ROOT / "examples" / "drop"
POLICY = ROOT / "policies" / "acme.yaml"


@pytest.fixture(scope="session")
def acme() -> Policy:
    return load_policy(POLICY).policy


@pytest.fixture(scope="session")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    with Workspace.open(root) as ws:
        results = load_files(ws, sorted(p for p in DROP.iterdir() if p.is_file()))
        assert all(r.error is None for r in results)
    return root


@pytest.fixture
def drop_path(loaded_template: Path, tmp_path: Path) -> Path:
    """A private copy of the loaded example workspace."""
    target = tmp_path / "ws"
    shutil.copytree(loaded_template, target)
    return target


@pytest.fixture
def drop_ws(drop_path: Path) -> Iterator[Workspace]:
    ws = Workspace.open(drop_path)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def enforce_cli(drop_path: Path) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["-w", str(drop_path), *args, "-p", str(POLICY)])

    return run
