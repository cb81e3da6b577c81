"""The layering a contributor relies on: no import cycles, a ground floor that imports nothing
above it, one engine seam, and commands that stay one call (scripts/import_graph.py)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_graph():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts/import_graph.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycles_and_layers_hold() -> None:
    assert _import_graph().problems() == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = _import_graph()
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert graph.cycles(edges) == [["a", "b", "c"]]
    assert graph.cycles({"a": {"b"}, "b": set()}) == []


def test_every_command_body_is_short() -> None:
    """A command parses options, makes one core call and renders: about 40 lines at most."""
    long = []
    for path in sorted((ROOT / "src/tutela/cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if not node.name.endswith("_cmd") and not any(".command" in d for d in decorators):
                continue
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            if body and (body[-1].end_lineno or 0) - body[0].lineno + 1 > 40:
                long.append(f"{path.name}:{node.name}")
    assert long == []
