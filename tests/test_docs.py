"""Every command has help text and appears in the README."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.main import get_command

from tutela.cli.app import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, object]]:
    root = get_command(app)
    out: list[tuple[str, object]] = []

    def walk(prefix: str, cmd: object) -> None:
        if hasattr(cmd, "list_commands"):  # a group: its commands, lazy ones loaded
            for name in cmd.list_commands(None):
                walk(f"{prefix} {name}".strip(), cmd.get_command(None, name))
        else:
            out.append((prefix, cmd))

    walk("", root)
    return out


def test_every_command_has_help_and_is_documented() -> None:
    commands = _commands()
    assert len(commands) >= 4
    for name, cmd in commands:
        assert (getattr(cmd, "help", None) or "").strip(), f"`tutela {name}` has no help text"
        assert f"tutela {name}" in README, f"`tutela {name}` is not in README.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = README[: README.index("## ")]
    assert "make demo" in head and "make test" in head
    assert isinstance(app, typer.Typer)
