"""Models, durations, identifier normalisation, SQL conditions and the JSON Schema."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.policy import (
    Condition,
    IdentityLink,
    policy_json_schema,
    policy_json_schema_text,
)
from tutela.policy.duration import Duration, parse_duration
from tutela.policy.sql import condition_sql


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3y", Duration(3, 0, 0)),
        ("6 years", Duration(6, 0, 0)),
        ("18 months", Duration(0, 18, 0)),
        ("90 days", Duration(0, 0, 90)),
        ("2 weeks", Duration(0, 0, 14)),
        ("1 year 6 months", Duration(1, 6, 0)),
        ("1 year, 6 months and 2 days", Duration(1, 6, 2)),
        ("P1Y6M", Duration(1, 6, 0)),
        ("13mo", Duration(0, 13, 0)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("3", "as a period"), ("3m", "ambiguous"), ("0 days", "zero"), (6, "no unit"),
     ("forever", "as a period"), ("3 lightyears", "unknown unit")],
)  # fmt: skip
def test_parse_duration_rejects(text: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


@given(st.integers(0, 50), st.integers(0, 24), st.integers(0, 400), st.dates(date(1900, 1, 1)))
def test_duration_round_trip_and_order(years: int, months: int, days: int, day: date) -> None:
    if years == months == days == 0:
        return
    duration = Duration(years, months, days)
    assert parse_duration(str(duration)) == duration
    assert duration.before(day) < day


def test_month_arithmetic_clamps() -> None:
    assert Duration(0, 1, 0).before(date(2024, 3, 31)) == date(2024, 2, 29)
    assert Duration(1, 0, 0).before(date(2024, 2, 29)) == date(2023, 2, 28)


def test_identity_link_region_rule() -> None:
    with pytest.raises(ValueError, match="only apply to phone numbers"):
        IdentityLink(table="t", column="c", kind="email", region="ES")


CONDITIONS = [
    ({"column": "flag", "equals": True}, {1}),
    ({"column": "pais", "equals": "ES"}, {1, 3}),
    ({"column": "pais", "in": ["ES", "PT"]}, {1, 2, 3}),
    ({"column": "pais", "not_in": ["ES"]}, {2, 4}),
    ({"column": "pais", "not_equals": "ES"}, {2, 4}),
    ({"column": "n", "equals": 2}, {2}),
    ({"column": "pais", "is_null": True}, {4}),
    ({"column": 'weird "col"', "equals": "x"}, {1}),
]


@pytest.mark.parametrize(("spec", "ids"), CONDITIONS)
def test_condition_sql_is_bound_and_quoted(spec: dict[str, Any], ids: set[int]) -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE t (id INT, pais VARCHAR, flag VARCHAR, n INT, "weird ""col""" TEXT)')
    con.execute(
        "INSERT INTO t VALUES (1, 'ES', 'true', 1, 'x'), (2, 'PT', 'no', 2, 'y'), "
        "(3, 'ES', NULL, NULL, NULL), (4, NULL, 'false', 3, 'z')"
    )
    sql, params = condition_sql(Condition.model_validate(spec))
    assert "'ES'" not in sql
    got = {r[0] for r in con.execute(f"SELECT id FROM t WHERE {sql}", params).fetchall()}
    assert got == ids


def test_json_schema_is_a_valid_schema() -> None:
    schema = policy_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert "tables" in schema["required"]
    text = policy_json_schema_text()
    assert json.loads(text) == schema

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [
                r for v in node.values() for r in refs(v)
            ]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(schema):
        assert ref.startswith("#/$defs/") and ref.split("/")[-1] in schema["$defs"]
    purpose = schema["$defs"]["Purpose"]
    assert "legal_basis" in purpose["required"]
    condition = schema["$defs"]["Condition"]["properties"]
    assert "in" in condition and "in_" not in condition


def test_json_schema_passes_the_metaschema() -> None:
    schema = policy_json_schema()
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
