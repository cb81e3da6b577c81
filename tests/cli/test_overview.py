"""`tutela --help` (cli/overview.py, drawn without typer.rich_utils) is byte for byte what
Typer draws, in colour and without, at two terminal widths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HELP = (
    "import sys\n"
    "{preload}"
    "from tutela.cli.app import app\n"
    "app(['--help'], standalone_mode=False)\n"
    "print('rich_utils imported:', 'typer.rich_utils' in sys.modules, file=sys.stderr)\n"
)


def _help(*, typers: bool, env: dict[str, str]) -> tuple[str, str]:
    code = HELP.format(preload="import typer.rich_utils\n" if typers else "")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout, done.stderr


@pytest.mark.parametrize(
    "env", [{"COLUMNS": "100", "FORCE_COLOR": "1"}, {"COLUMNS": "61", "NO_COLOR": "1"}]
)
def test_overview_is_typers(env: dict[str, str]) -> None:
    settings = ("FORCE_COLOR", "NO_COLOR", "TERMINAL_WIDTH", "_TYPER_FORCE_DISABLE_TERMINAL")
    clean = {k: v for k, v in os.environ.items() if k not in settings} | env
    ours, ours_err = _help(typers=False, env=clean)
    typers, _ = _help(typers=True, env=clean)
    assert "rich_utils imported: False" in ours_err  # the point: start-up without it
    assert "Commands" in ours and "TUTELA_WORKSPACE" in ours
    assert ours == typers
