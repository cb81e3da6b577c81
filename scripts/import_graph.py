"""The file-level import graph of src/tutela: cycles and layering rules.

    python scripts/import_graph.py           # prints every cycle and broken rule; exit 1 if any

Every `import` counts, wherever it stands (a function-level import or one under
`if TYPE_CHECKING:` is still an edge). A package's `__init__` is a file like any other. Rules:
- no cycles (strongly connected components of more than one file);
- `tutela.base` imports nothing of Tutela outside `tutela.base`;
- only `tutela.engine.duck` imports `duckdb`;
- nothing outside `tutela.cli` (and `python -m tutela`) imports `tutela.cli`, typer or rich.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Edges between Tutela modules, and the outside top-level packages each module imports."""
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    outside: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                if target in modules and target != name:
                    edges[name].add(target)
                elif not target.startswith("tutela"):
                    outside[name].add(target.split(".")[0])
    return edges, outside


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def problems() -> list[str]:
    edges, outside = graph()
    found = []
    for component in cycles(edges):
        inner = set(component)
        links = [f"{a} -> {b}" for a in component for b in sorted(edges[a] & inner)]
        found.append("cycle: " + "; ".join(links))
    for name, targets in sorted(edges.items()):
        if name.startswith("tutela.base"):
            for target in sorted(targets):
                if not target.startswith("tutela.base"):
                    found.append(f"ground floor: {name} imports {target}")
        if not name.startswith(("tutela.cli", "tutela.__main__")):
            for target in sorted(targets):
                if target.startswith("tutela.cli"):
                    found.append(f"core imports the CLI: {name} imports {target}")
    for name, packages in sorted(outside.items()):
        if "duckdb" in packages and name != "tutela.engine.duck":
            found.append(f"engine seam: {name} imports duckdb")
        if not name.startswith("tutela.cli") and packages & {"typer", "rich", "click"}:
            found.append(f"core imports the CLI toolkit: {name} imports {sorted(packages)}")
    return found


def main() -> int:
    found = problems()
    edges, _ = graph()
    print(f"{len(edges)} modules with imports, {sum(map(len, edges.values()))} edges")
    for line in found:
        print(line)
    print("no cycles, layering holds" if not found else f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
