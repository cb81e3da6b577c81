"""A name written over several columns (first_name, last_name) is one name. Read as two,
"Garcia" was the same name on Maria's row and on her brother Pedro's, and the family
e-mail they share looked like one person's: an erasure by it deleted both. The policy
says `columns: [first_name, last_name]` (`policy init` drafts that); parts declared as
separate names are read as one name too, and `policy validate` and `policy check` say to
declare them so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

FAMILY = "family.garcia@example.com"
CRM = """customer_id,first_name,last_name,email
C1,Maria,Garcia,maria@example.com
C2,Pedro,Garcia,pedro@example.com
"""
NEWSLETTER = f"""subscriber_id,email,first_name,last_name
N1,{FAMILY},Maria,Garcia
N2,{FAMILY},Pedro,Garcia
N3,anna@example.com,Anna,Puig
N4,maria@example.com,Maria,Garcia
N5,maria@example.com,Maria,Unknown
"""
ORDERS = f"""order_id,customer_id,email,ship_first,ship_last
O1,,{FAMILY},Maria,Garcia
O2,,{FAMILY},Pedro,Garcia
"""


def _policy(names: str) -> str:
    return f"""version: 1
subjects:
  customer:
    identifiers:
      - {{table: crm, column: customer_id, kind: customer_id}}
      - {{table: crm, column: email, kind: email}}
      - {{table: newsletter, column: email, kind: email}}
      - {{table: orders, column: customer_id, kind: customer_id}}
      - {{table: orders, column: email, kind: email}}
{names}
tables:
  crm: {{columns: {{customer_id: {{}}, first_name: {{}}, last_name: {{}}, email: {{}}}}}}
  newsletter: {{columns: {{subscriber_id: {{}}, email: {{}}, first_name: {{}}, last_name: {{}}}}}}
  orders:
    columns: {{order_id: {{}}, customer_id: {{}}, email: {{}}, ship_first: {{}}, ship_last: {{}}}}
erasure:
  default: delete
"""


SPLIT = _policy(
    "      - {table: crm, columns: [first_name, last_name], kind: name}\n"
    "      - {table: newsletter, columns: [first_name, last_name], kind: name}\n"
    "      - {table: orders, columns: [ship_first, ship_last], kind: name}"
)
SEPARATE = _policy(
    "      - {table: crm, column: first_name, kind: name}\n"
    "      - {table: crm, column: last_name, kind: name}\n"
    "      - {table: newsletter, column: first_name, kind: name}\n"
    "      - {table: newsletter, column: last_name, kind: name}"
)


@pytest.fixture
def drop(cli: Callable[..., Result], tmp_path: Path) -> Path:
    for name, text in (("crm", CRM), ("newsletter", NEWSLETTER), ("orders", ORDERS)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    result = cli("load", *(str(tmp_path / f"{n}.csv") for n in ("crm", "newsletter", "orders")))
    assert result.exit_code == 0, result.output
    (tmp_path / "split.yaml").write_text(SPLIT, encoding="utf-8")
    (tmp_path / "separate.yaml").write_text(SEPARATE, encoding="utf-8")
    # names the tables declare PERSON but no link reads: they still tell people apart
    undeclared = _policy("").replace(
        "first_name: {}, last_name: {}", "first_name: PERSON, last_name: PERSON"
    )
    (tmp_path / "undeclared.yaml").write_text(undeclared, encoding="utf-8")
    # a link of the surname alone left beside the name it is a part of
    leftover = SPLIT.replace(
        "      - {table: orders,",
        "      - {table: newsletter, column: last_name, kind: name}\n      - {table: orders,",
    )
    (tmp_path / "leftover.yaml").write_text(leftover, encoding="utf-8")
    return tmp_path


def _plan(cli: Callable[..., Result], policy: Path, *args: str) -> dict[str, set[str]]:
    result = cli("erase", *args, "--dry-run", "-p", str(policy), "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    return {t["table"]: int(t["rows"]) for t in plan["plan"]["tables"]}  # type: ignore[return-value]


def test_a_family_address_on_siblings_split_names_is_neither_ones(
    cli: Callable[..., Result], drop: Path
) -> None:
    """An erasure by the family address deletes nothing: Maria's and Pedro's newsletter
    rows and orders are two people's, whether the policy joins the parts, declares them
    apart, or leaves a link of the surname alone beside them. Maria's own erasure (her id)
    deletes her CRM row and her newsletter rows by her own address (one with "Unknown" for
    her surname), never Pedro's."""
    for name in ("split", "separate", "undeclared", "leftover"):
        policy = drop / f"{name}.yaml"
        assert _plan(cli, policy, "--email", FAMILY) == {}, policy.name
        result = cli("erase", "--email", FAMILY, "--dry-run", "-p", str(policy), "--format", "json")
        plan = json.loads(result.stdout)["plan"]
        possible = {p["row"] for p in plan["possible_matches_for_review"]}
        assert {"subscriber_id=N1", "subscriber_id=N2", "order_id=O1", "order_id=O2"} <= possible
        assert _plan(cli, policy, "--id", "customer_id=C1") == {"crm": 1, "newsletter": 2}


def test_a_name_declared_as_two_separate_parts_is_flagged(
    cli: Callable[..., Result], drop: Path
) -> None:
    """`policy validate` warns and `policy check` reports a low finding, each with the
    identifier to write, for parts declared as separate names and for a part declared
    again alone; the split declaration passes both."""
    separate, split = drop / "separate.yaml", drop / "split.yaml"
    result = cli("policy", "validate", str(separate))
    assert result.exit_code == 0
    assert (
        "{table: crm, columns: [first_name, last_name], kind: name}" in result.stderr
        and "newsletter: first_name, last_name are declared as separate names" in result.stderr
    )
    check = cli("policy", "check", "-p", str(separate), "--format", "json")
    found = [
        f for f in json.loads(check.stdout)["findings"] if f["rule"] == "name-split-over-links"
    ]
    assert {(f["table"], f["severity"]) for f in found} == {("crm", "low"), ("newsletter", "low")}
    assert found[0]["location"]["line"] > 0
    leftover = cli("policy", "validate", str(drop / "leftover.yaml")).stderr
    assert "newsletter: last_name is declared as a name of its own and as a part" in leftover
    assert "separate names" not in cli("policy", "validate", str(split)).stderr
    check = cli("policy", "check", "-p", str(split), "--format", "json")
    assert not [
        f for f in json.loads(check.stdout)["findings"] if f["rule"] == "name-split-over-links"
    ]


def test_a_split_name_policy_error_names_the_field(cli: Callable[..., Result], drop: Path) -> None:
    bad = drop / "bad.yaml"
    for wrong, says in (
        ("{table: crm, columns: [email, first_name], kind: email}", "joins the parts of one name"),
        ("{table: crm, column: first_name, columns: [first_name, last_name], kind: name}",
         "either column: or columns:"),
        ("{table: crm, columns: [first_name, surname], kind: name}", "unknown column 'surname'"),
        ("{table: crm, columns: [first_name, first_name], kind: name}", "a column twice"),
        ("{table: crm, columns: [], kind: name}", "joins the parts of one name"),
    ):  # fmt: skip
        bad.write_text(_policy(f"      - {wrong}"), encoding="utf-8")
        result = cli("policy", "validate", str(bad))
        assert result.exit_code == 3, result.output
        assert "error[policy]" in result.stderr and says in result.stderr, result.stderr


def test_a_pseudonymized_part_still_tells_the_siblings_apart(
    cli: Callable[..., Result], drop: Path
) -> None:
    """The newsletter's first names are pseudonymized in place (keyed tokens): the name is
    still read, tokens and all, and the family address stays two people's."""
    assert cli("keys", "init").exit_code == 0
    result = cli(
        "pseudonymize", "newsletter", "-c", "first_name", "-m", "hmac", "--normalize", "name",
        "--apply",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("split", "separate"):
        assert _plan(cli, drop / f"{name}.yaml", "--email", FAMILY) == {}, name
