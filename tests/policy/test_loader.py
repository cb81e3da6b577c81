"""The policy loader: broken inputs located at file:line:col, merging, YAML hazards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela.base.errors import ExitCode, PolicyError
from tutela.policy import ErasureAction, IdentifierKind, PolicyInvalidError, load_policy
from tutela.policy.loader import MAX_VALUES

from .conftest import REPO, asset

# (file, expected message fragment, "line:col" of the first issue)
BROKEN = [
    ("unknown_key.yaml", "unknown key 'colour'", "12:5"),
    ("wrong_enum.yaml", "invalid value 'contrakt'", "10:18"),
    ("bad_duration.yaml", "unknown unit 'fortnights'", "10:13"),
    ("ambiguous_duration.yaml", "write 'months' (or 'mo')", "10:13"),
    ("unknown_table.yaml", "unknown table 'tickets'", "11:19"),
    ("unknown_column_in_role.yaml", "unknown column 'emial' in table 'crm'", "11:22"),
    ("unknown_column_in_link.yaml", "unknown column 'mail' in table 'crm'", "11:30"),
    ("unknown_purpose.yaml", "unknown purpose 'marketin'", "18:14"),
    ("duplicate_key.yaml", "duplicate key 'support' (first defined at line 9)", "12:3"),
    ("bad_syntax.yaml", "invalid YAML: expected ',' or ']'", "12:1"),
    ("missing_required.yaml", "missing required key 'after'", "9:5"),
    ("consent_without_source.yaml", "requires consent but no consent source", "10:18"),
    ("legal_basis_missing.yaml", "missing required key 'legal_basis'", "9:3"),
    ("alias_bomb.yaml", "alias bomb", "2:29"),
    ("empty.yaml", "the policy file is empty", "1:1"),
    ("not_a_mapping.yaml", "must be a mapping of sections, not a list", "1:1"),
    ("raw_sql_condition.yaml", "conditions are not SQL strings", "12:17"),
    ("entity_category_mismatch.yaml", "belongs to category user.contact.email", "8:15"),
    ("bad_country.yaml", "use the ISO code GB", "13:56"),
    ("unknown_category.yaml", "did you mean user.contact.email?", "8:15"),
    ("legitimate_interest_missing.yaml", "needs the interest pursued", "10:5"),
    ("python_tag.yaml", "unsupported YAML tag", "8:13"),
    ("anonymize_without_columns.yaml", "action anonymize needs the columns", "10:10"),
    ("two_operators.yaml", "exactly one of equals, not_equals, in", "11:19"),
    ("two_documents.yaml", "expected a single document", "8:1"),
    ("no_tables.yaml", "missing required key 'tables'", "1:1"),
    ("column_in_two_lists.yaml", "listed under both clear and masked", "11:12"),
    ("keep_without_basis.yaml", "needs a stated basis (Art. 17(3))", "10:10"),
]


@pytest.mark.parametrize(("name", "fragment", "where"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_policy_is_located(name: str, fragment: str, where: str) -> None:
    path = asset("broken", name)
    with pytest.raises(PolicyInvalidError) as info:
        load_policy(path)
    error = info.value
    assert error.exit_code == ExitCode.INVALID_CONFIG
    first = error.issues[0]
    assert fragment in str(first), str(error)
    assert f"{first.mark.line}:{first.mark.column}" == where, str(error)
    assert first.mark.file == str(path)
    assert f"{path}:{where}:" in error.message


def test_every_broken_asset_is_in_the_table() -> None:
    on_disk = {p.name for p in asset("broken").glob("*.yaml")}
    assert on_disk == {b[0] for b in BROKEN}
    assert len(on_disk) >= 15


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "version: 1\n"
        "tables:\n"
        "  crm:\n"
        "    columns: {email: EMAIL_ADRESS, pais: not_personal}\n"
        "purposes:\n"
        "  a: {legal_basis: consen, tables: [crm]}\n"
        "  b: {tables: [crm], colour: red}\n"
        "retention:\n"
        "  - {table: crm, period: 6 yrs and 3 fortnights, after: pais}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyInvalidError) as info:
        load_policy(path)
    lines = sorted(i.mark.line for i in info.value.issues)
    assert lines == [4, 6, 7, 7, 9]
    text = str(info.value)
    assert "did you mean 'consent'?" in text
    assert "expected: one of: description, legal_basis" in text


def test_reference_errors_are_all_listed() -> None:
    with pytest.raises(PolicyInvalidError) as info:
        load_policy(asset("broken", "unknown_purpose.yaml"))
    assert len(info.value.issues) == 1
    assert info.value.issues[0].hint == "did you mean 'marketing'?"


def test_acme_policy_validates() -> None:
    loaded = load_policy(REPO / "policies")
    policy = loaded.policy
    assert len(policy.tables) == 10
    kinds = {link.kind for link in policy.identity_links("customer")}
    assert {IdentifierKind.email, IdentifierKind.phone, IdentifierKind.national_id} <= kinds
    greek = policy.identity_links_for("crm_greece_legacy")
    assert {link.column for link in greek} >= {"κωδικός_πελάτη", "ΑΜΚΑ"}
    orders = policy.erasure_rule("orders_orders")
    assert orders.action is ErasureAction.anonymize
    assert "invoice_number" not in orders.columns
    assert policy.erasure_rule("web_events").action is ErasureAction.delete
    assert policy.consent_purposes() == {
        "marketing_email": "marketing_email",
        "customer_profiling": "profiling",
    }
    assert policy.consent is not None and policy.consent.table == "consents"


def test_directory_is_merged_and_duplicates_located(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "version: 1\ntables:\n  crm:\n    columns: {email: EMAIL_ADDRESS, d: not_personal}\n"
        "retention:\n  - {table: crm, period: 1y, after: d}\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text(
        "purposes:\n  support: {legal_basis: contract, tables: [crm]}\n"
        "retention:\n  - {table: crm, period: 2y, after: dd}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyInvalidError) as info:
        load_policy(tmp_path)
    (issue,) = info.value.issues
    assert issue.mark.file.endswith("b.yml")
    assert (issue.mark.line, issue.path) == (4, "retention[1].after")
    (tmp_path / "b.yml").write_text(
        "purposes:\n  support: {legal_basis: contract, tables: [crm]}\n", encoding="utf-8"
    )
    loaded = load_policy(tmp_path)
    assert set(loaded.policy.purposes) == {"support"}
    assert len(loaded.files) == 2
    (tmp_path / "c.yaml").write_text("tables:\n  crm: {columns: {}}\n", encoding="utf-8")
    with pytest.raises(PolicyInvalidError, match=r"tables.crm is declared twice"):
        load_policy(tmp_path)


def test_missing_policy_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope")
    assert info.value.exit_code == ExitCode.INVALID_CONFIG
    with pytest.raises(PolicyError, match="no policy files"):
        load_policy(tmp_path)


def test_yaml_11_booleans_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ntables:\n  t: {columns: {e: EMAIL_ADDRESS}}\n"
        "purposes:\n  p:\n    legal_basis: contract\n    tables: [t]\n"
        "    recipients: [{name: Fjord AS, kind: processor, country: NO}]\n",
        encoding="utf-8",
    )
    policy = load_policy(path).policy
    assert policy.purposes["p"].recipients[0].country == "NO"


def test_merge_keys_and_anchors(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ntables:\n  t: {columns: {e: EMAIL_ADDRESS}}\n"
        "x-eu: &eu {kind: processor, country: FR}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyInvalidError, match="unknown key 'x-eu'"):
        load_policy(path)
    path.write_text(
        "version: 1\ntables:\n  t: {columns: {e: EMAIL_ADDRESS}}\n"
        "purposes:\n  p:\n    legal_basis: contract\n    tables: [t]\n"
        "    recipients:\n      - &r {name: A, kind: processor, country: FR}\n"
        "      - {<<: *r, name: B}\n",
        encoding="utf-8",
    )
    recipients = load_policy(path).policy.purposes["p"].recipients
    assert [(r.name, r.country) for r in recipients] == [("A", "FR"), ("B", "FR")]


def test_alias_limit_is_generous_for_real_policies() -> None:
    assert MAX_VALUES >= 10_000
