"""Data- and user-derived strings are printed as they are (issue #15 item 11)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result


def test_emoji_codes_are_not_rendered(cli: Callable[..., Result], tmp_path: Path) -> None:
    good = tmp_path / "ok:100:.csv"
    good.write_text("code,name\n:100:,:smile: Anna\n", encoding="utf-8")
    loaded = cli("load", str(good), "--table", "t100")
    assert loaded.exit_code == 0, loaded.output
    assert ":100:" in loaded.stdout and "💯" not in loaded.output
    shown = cli("show", "t100")
    assert ":100:" in shown.stdout and ":smile:" in shown.stdout, shown.stdout
    assert "💯" not in shown.stdout and "😄" not in shown.stdout
    ragged = tmp_path / "ragged:100:.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    failed = cli("load", str(ragged))
    assert failed.exit_code == 4
    assert "ragged:100:.csv" in failed.stderr and "💯" not in failed.stderr, failed.stderr
