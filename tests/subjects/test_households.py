"""A generated drop with households, shared tablets, NAT, placeholders, recycled numbers,
namesakes and typos (examples/households/): no access report holds another person's row,
and no erasure changes another person's row (truth kept apart from the data)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "households"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"households_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [7, 2026])
def test_generated_drop_never_crosses_people(tmp_path: Path, seed: int) -> None:
    generate, evaluate = _module("generate"), _module("evaluate")
    drop = generate.generate(160, seed)
    generate.write(drop, tmp_path, generate.requests_for(drop, random.Random(seed), 16))
    result = evaluate.evaluate(tmp_path, erase=True)
    assert result["rows_of_other_people_reported"] == 0, result["examples_of_crossing"]
    assert result["erasure_rows_of_others_changed"] == 0, result["erasure_examples"]
    assert result["erasure_verified"] is True
    assert result["certain_recall"] > 0.7  # and it still finds the person
