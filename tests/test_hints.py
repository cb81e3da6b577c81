"""Every `tutela ...` command that a message, hint or doc suggests exists (issue #15 item 15:
`policy check` suggested `tutela erase --retention`; the README cited a file not shipped)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from tutela.cli.app import app

ROOT = Path(__file__).parents[1]
_SUGGESTION = re.compile(r"`tutela ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)((?: --?[a-z][a-z-]*)*)")


def _commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    found: dict[str, Any] = {}

    def walk(cmd: Any, prefix: str) -> None:
        for name in cmd.list_commands(None) if hasattr(cmd, "list_commands") else []:
            sub = cmd.get_command(None, name)  # lazy commands are loaded
            found[f"{prefix}{name}"] = sub
            walk(sub, f"{prefix}{name} ")

    walk(group, "")
    return found


def test_suggested_commands_and_options_exist() -> None:
    commands = _commands()
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "src" / "tutela").rglob("*.py")]
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    for text in texts:
        for words, options in _SUGGESTION.findall(text):
            name = words if words in commands else words.split(" ")[0]
            assert name in commands, f"`tutela {words}` is not a command"
            cmd = commands[name]
            known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
            known |= {"--workspace", "-w", "--debug", "--help"}
            for option in options.split():
                if not getattr(cmd, "commands", None):
                    assert option in known, f"`tutela {words} {option}`: no such option"


def test_docs_cited_in_the_readme_are_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "shared/spec" not in readme
    for cited in re.findall(r"`((?:docs|policies|examples)/[^`*]+\.(?:md|yaml))`", readme):
        assert (ROOT / cited).is_file(), cited
    assert "| PHONE_NUMBER |" in (ROOT / "docs" / "entities.md").read_text(encoding="utf-8")
