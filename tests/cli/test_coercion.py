"""Option values checked without pydantic (cli/coercion.py) give what Typer's own check gives:
the same value, or the same usage error, for every Enum, Path and flag option of every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tutela.cli.app import COMMANDS, app
from tutela.cli.root import _load

coercion = pytest.importorskip("typer._coercion")  # older Typers check with click's types

runner = CliRunner()


def _params(command: Any) -> list[tuple[Any, Any]]:
    out = [(command, p) for p in getattr(command, "params", [])]
    for sub in getattr(command, "commands", {}).values():
        out += _params(sub)
    return out


def _outcome(check: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "value", check.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as exc:
        return "error", exc.format_message()


def _samples(param: Any, tmp_path: Path) -> list[Any]:
    annotation = param.type_descriptor.annotation
    if annotation is bool:
        return [True, False, None]
    if annotation is Path:
        (tmp_path / "file.csv").write_text("a\n1\n")
        (tmp_path / "dir").mkdir(exist_ok=True)
        existing = [str(tmp_path / "file.csv"), str(tmp_path / "dir"), tmp_path / "dir"]
        return [*existing, str(tmp_path / "missing"), "", "-", "rel/a.yaml", None]
    choices = list(param.type_descriptor.choices)
    return [*choices, *(c.value for c in choices), "XML", "Json", "\x1b[31mred", None]


def test_every_light_check_matches_typers(tmp_path: Path) -> None:
    root = typer.main.get_command(app)
    commands = [root, *(_load(name, entry) for name, entry in COMMANDS.items())]
    checked = {"Enum": 0, "Path": 0, "bool": 0}
    for command in commands:
        for owner, param in _params(command):
            light = param._runtime_param
            if light is None or type(light).__module__ != "tutela.cli.coercion":
                continue
            typers = coercion.build_runtime_param(param.type_descriptor)
            ctx = typer.Context(owner)
            for value in _samples(param, tmp_path):
                expected = _outcome(typers, value, param, ctx)
                assert _outcome(light, value, param, ctx) == expected, (param.name, value)
            annotation = param.type_descriptor.annotation
            checked["bool" if annotation is bool else "Path" if annotation is Path else "Enum"] += 1
    assert all(checked.values()), checked  # each kind is used by some command


def test_a_bad_format_is_one_usage_error() -> None:
    result = runner.invoke(app, ["tables", "--format", "xml"])
    assert result.exit_code == 2
    assert "Value error, 'xml' is not one of 'table', 'json'." in result.stderr
