"""`tutela policy schema` accepts what the loader accepts (issue #15 item 14b)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tutela.policy import PolicyInvalidError, load_policy_text, policy_json_schema
from tutela.policy.loader import parse_yaml

from .conftest import REPO, asset

TESTS = REPO / "tests"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = policy_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(text: str) -> Any:
    data, _, issues = parse_yaml(text, "<test>")
    assert not issues
    return data


def _policy_texts() -> list[tuple[str, str]]:
    """Every policy YAML in the repository's tests and examples."""
    found = [(str(p), p.read_text(encoding="utf-8")) for p in (REPO / "policies").glob("*.yaml")]
    found += [(str(p), p.read_text(encoding="utf-8")) for p in TESTS.rglob("*.yaml")]
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if "tables:" in text and ("version: 1" in text or "purposes:" in text):
                    found.append((f"{path}:{node.lineno}", text))
    return found


def test_every_policy_the_loader_accepts_validates(
    validator: jsonschema.Draft202012Validator,
) -> None:
    accepted = 0
    for where, text in _policy_texts():
        try:
            load_policy_text(text, where)
        except PolicyInvalidError:
            continue
        errors = [e.message for e in validator.iter_errors(_data(text))]
        assert not errors, (where, errors[:5])
        accepted += 1
    assert accepted >= 5  # acme.yaml, small.yaml and the test suites' own policies


@pytest.mark.parametrize(
    "name",
    [
        "unknown_key",
        "wrong_enum",
        "missing_required",
        "not_a_mapping",
        "bad_duration",
        "bad_country",
        "unknown_category",
        "raw_sql_condition",
        "no_tables",
        "empty",
    ],
)
def test_structurally_broken_policies_fail_the_schema(
    validator: jsonschema.Draft202012Validator, name: str
) -> None:
    path = asset("broken", f"{name}.yaml")
    text = Path(path).read_text(encoding="utf-8")
    with pytest.raises(PolicyInvalidError):
        load_policy_text(text, str(path))
    data, _, _ = parse_yaml(text, str(path))
    assert list(validator.iter_errors(data)), f"{name} validates against the schema"
