"""Before/after tables from two or more `accuracy.py --json` files.

    python benchmarks/compare_accuracy.py --before A.json [B.json ...] --after C.json [...]

Several files per side are merged (e.g. a full run plus an `--only messy` run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _merge(paths: list[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in paths:
        for k, v in json.loads(p.read_text(encoding="utf-8")).items():
            out.setdefault(k, v)
    return out


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _f1(p: float | None, r: float | None) -> float | None:
    return round(2 * p * r / (p + r), 3) if p and r else None


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    out = []
    if "columns" in before and "columns" in after:
        rows = []
        for suite in after["columns"]:
            b, a = before["columns"].get(suite, {}), after["columns"][suite]
            rows.append([suite, b.get("accuracy"), a.get("accuracy"),
                         f"{b.get('negatives_flagged')}/{b.get('negatives')}",
                         f"{a.get('negatives_flagged')}/{a.get('negatives')}"])  # fmt: skip
        out += ["### FakeNameGenerator columns\n",
                _table(["suite", "accuracy before", "after", "null flagged before", "after"],
                       rows), ""]  # fmt: skip
    if "id_column_metrics" in before and "id_column_metrics" in after:
        rows = []
        for suite, a in after["id_column_metrics"].items():
            b = before["id_column_metrics"].get(suite, {})
            rows.append([suite, f"{b.get('correct')}/{b.get('columns')}",
                         f"{a.get('correct')}/{a.get('columns')}",
                         f"{b.get('negatives_flagged')}/{b.get('negatives')}",
                         f"{a.get('negatives_flagged')}/{a.get('negatives')}"])  # fmt: skip
        out += ["### Identifier columns\n",
                _table(["suite", "right before", "after", "invalid flagged before", "after"],
                       rows), ""]  # fmt: skip
    if "messy" in before and "messy" in after:
        rows = []
        groups_b = {"all": before["messy"]["all"], **before["messy"]["groups"]}
        groups_a = {"all": after["messy"]["all"], **after["messy"]["groups"]}
        for g, a in groups_a.items():
            b = groups_b.get(g, {})
            rows.append([g, b.get("precision"), b.get("recall"), b.get("f1"),
                         a.get("precision"), a.get("recall"), a.get("f1"),
                         f"{a.get('negatives_flagged')}/{a.get('negatives')}"])  # fmt: skip
        out += ["### Generated messy drop (column verdicts, via the CLI)\n",
                _table(["lang/header", "P before", "R before", "F1 before", "P after",
                        "R after", "F1 after", "null flagged after"], rows), ""]  # fmt: skip
    if "text" in before and "text" in after:
        rows = []
        for key, a in after["text"]["any_pii"].items():
            if key.count("/") != 1:
                continue
            b = before["text"]["any_pii"].get(key, {})
            rows.append([key, b.get("precision"), b.get("recall"), _f1(b.get("precision"),
                         b.get("recall")), a.get("precision"), a.get("recall"),
                         _f1(a.get("precision"), a.get("recall"))])  # fmt: skip
        out += ["### Free text, any PII (span level, gold language)\n",
                _table(["dataset/lang", "P before", "R before", "F1 before", "P after",
                        "R after", "F1 after"], rows), ""]  # fmt: skip
        rows = []
        for key, a in after["text"]["strict"].items():
            if not key.endswith("/PERSON"):
                continue
            b = before["text"]["strict"].get(key, {})
            rows.append([key.rsplit("/", 1)[0], b.get("precision"), b.get("recall"),
                         a.get("precision"), a.get("recall")])  # fmt: skip
        out += ["### PERSON in free text\n",
                _table(["dataset/lang", "P before", "R before", "P after", "R after"], rows),
                ""]  # fmt: skip
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, nargs="+", required=True)
    parser.add_argument("--after", type=Path, nargs="+", required=True)
    args = parser.parse_args()
    print(compare(_merge(args.before), _merge(args.after)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
