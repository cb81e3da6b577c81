"""The `tutela policy` command group through typer's CliRunner: exit codes and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutela.base.errors import ExitCode
from tutela.policy import check_policy, load_policy, load_policy_text, policy_json_schema
from tutela.policy.draft import draft_policy
from tutela.policy.facts import ScanColumn, SourceInfo
from tutela.report.sarif import check_to_sarif as to_sarif
from tutela.workspace import Workspace

from .conftest import AS_OF, REPO, asset, make_app

SMALL = str(asset("small.yaml"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help(runner: CliRunner) -> None:
    result = runner.invoke(make_app(), ["policy", "--help"])
    assert result.exit_code == 0
    for command in ("init", "validate", "check", "schema", "ropa"):
        assert command in result.output
        sub = runner.invoke(make_app(), ["policy", command, "--help"])
        assert sub.exit_code == 0 and len(sub.output) > 100


def test_validate_ok_and_broken(runner: CliRunner) -> None:
    ok = runner.invoke(make_app(), ["policy", "validate", str(REPO / "policies")])
    assert ok.exit_code == 0, ok.output
    assert "policy ok" in ok.stderr
    broken = asset("broken", "wrong_enum.yaml")
    bad = runner.invoke(make_app(), ["policy", "validate", SMALL, str(broken)])
    assert bad.exit_code == ExitCode.INVALID_CONFIG
    assert "error[policy]" in bad.stderr
    assert f"{broken}:10:18" in bad.stderr
    assert bad.stdout == ""


def test_validate_rejects_an_unknown_phone_region(runner: CliRunner, tmp_path: Path) -> None:
    """A phone link's region says how numbers written without their country are read: one
    that is no country (`QQ`) is a clear error naming its line, not a silent default."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        (REPO / "policies" / "acme.yaml").read_text().replace("region: ES", "region: QQ")
    )
    result = runner.invoke(make_app(), ["policy", "validate", str(policy)])
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "'QQ' is no phone region" in result.stderr
    assert f"{policy}:" in result.stderr


def test_validate_json_lists_issues(runner: CliRunner) -> None:
    broken = asset("broken", "unknown_table.yaml")
    result = runner.invoke(make_app(), ["policy", "validate", "-f", "json", str(broken)])
    assert result.exit_code == ExitCode.INVALID_CONFIG
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert data["issues"][0]["line"] == 11 and data["issues"][0]["column"] == 19


def test_policy_option_and_env(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(make_app(), ["policy", "validate", "-p", str(tmp_path / "x")])
    assert missing.exit_code == ExitCode.INVALID_CONFIG
    assert "policy not found" in missing.stderr
    env = runner.invoke(make_app(), ["policy", "validate"], env={"TUTELA_POLICY": SMALL})
    assert env.exit_code == 0, env.stderr


def test_check_json_equals_library(runner: CliRunner, workspace: Path) -> None:
    args = ["-w", str(workspace), "policy", "check", "-p", SMALL, "--as-of", "2026-11-01"]
    result = runner.invoke(make_app(), [*args, "--format", "json"])
    assert result.exit_code == ExitCode.FINDINGS, result.stderr
    with Workspace.open(workspace, read_only=True) as ws:
        report = check_policy(load_policy(SMALL), ws, as_of=AS_OF)
    assert json.loads(result.stdout) == json.loads(json.dumps(report.to_dict()))
    table = runner.invoke(make_app(), args)
    assert table.exit_code == ExitCode.FINDINGS
    assert "Policy findings as of 2026-11-01" in table.stdout
    assert "1 critical" in table.stderr


def test_check_fail_on_threshold(runner: CliRunner, workspace: Path, tmp_path: Path) -> None:
    calm = tmp_path / "calm.yaml"
    calm.write_text(
        "version: 1\ntables:\n  newsletter:\n    columns: {email: EMAIL_ADDRESS, signed_up: {}}\n"
        "purposes:\n  p: {legal_basis: contract, tables: [newsletter]}\n",
        encoding="utf-8",
    )
    base = ["-w", str(workspace), "policy", "check", "-p", str(calm), "-f", "json"]
    result = runner.invoke(make_app(), base)
    assert result.exit_code == 0, result.stderr
    worst = {f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert worst == {"medium", "info"}
    strict = runner.invoke(make_app(), [*base, "--fail-on", "medium"])
    assert strict.exit_code == ExitCode.FINDINGS


def test_check_invalid_policy_exits_3(runner: CliRunner, workspace: Path) -> None:
    broken = str(asset("broken", "duplicate_key.yaml"))
    result = runner.invoke(make_app(), ["-w", str(workspace), "policy", "check", "-p", broken])
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "duplicate key 'support'" in result.stderr


def test_check_sarif(runner: CliRunner, workspace: Path) -> None:
    args = ["-w", str(workspace), "policy", "check", "-p", SMALL, "-f", "sarif"]
    result = runner.invoke(make_app(), [*args, "--as-of", "2026-11-01"])
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    with Workspace.open(workspace, read_only=True) as ws:
        report = check_policy(load_policy(SMALL), ws, as_of=AS_OF)
    assert len(run["results"]) == len(report.findings)
    assert to_sarif(report)["runs"][0]["results"] == run["results"]
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in {"error", "warning", "note"}
    expired = next(r for r in run["results"] if r["ruleId"] == "retention-expired")
    region = expired["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 51, "startColumn": 5}


def test_schema_command(runner: CliRunner) -> None:
    result = runner.invoke(make_app(), ["policy", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == policy_json_schema()


@pytest.mark.parametrize(("fmt", "marker"), [("md", "## marketing_email"),
                                             ("html", "<h2>marketing_email</h2>"),
                                             ("json", '"purpose": "marketing_email"')])  # fmt: skip
def test_ropa_formats(runner: CliRunner, workspace: Path, fmt: str, marker: str) -> None:
    args = ["-w", str(workspace), "policy", "ropa", "-p", SMALL, "-f", fmt]
    result = runner.invoke(make_app(), args)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout
    assert "Offshore Mailer Ltd (IN): NO SAFEGUARD DECLARED" in result.stdout


def test_ropa_without_workspace_warns(runner: CliRunner, tmp_path: Path) -> None:
    args = ["-w", str(tmp_path / "none"), "policy", "ropa", "-p", SMALL, "-f", "json"]
    result = runner.invoke(make_app(), args)
    assert result.exit_code == 0
    assert "warning" in result.stderr
    assert json.loads(result.stdout)["controller"]["name"] == "Test Shop S.L."


def test_init_draft_validates(runner: CliRunner, workspace: Path) -> None:
    result = runner.invoke(make_app(), ["-w", str(workspace), "policy", "init", "--region", "es"])
    assert result.exit_code == 0, result.stderr
    policy = load_policy_text(result.stdout, "draft.yaml")
    assert set(policy.tables) == {"customers", "newsletter", "consents"}
    assert [link.column for link in policy.identity_links()] == ["customer_id"]


def test_draft_from_scan_results() -> None:
    scan = (
        ScanColumn("crm", "email", "EMAIL_ADDRESS", "user.contact.email"),
        ScanColumn("crm", "tel: móvil", "PHONE_NUMBER", None),
        ScanColumn("crm", "cp", None, "user.contact.address.postal_code", quasi_identifier=True),
        ScanColumn("crm", "saldo", None, None),
        ScanColumn("crm", "odd", "SOMETHING_NEW", None),
        ScanColumn("crm", "notes", "PERSON", "user.name", free_text=True),
    )
    text = draft_policy(
        {"crm": ["id_cliente", "email", "tel: móvil", "cp", "saldo", "odd", "notes"]},
        {"crm": SourceInfo("crm", "CRM", "crm.csv", 3)},
        scan,
        region="ES",
    )
    policy = load_policy_text(text)
    crm = policy.tables["crm"]
    assert crm.source_system == "CRM"
    assert crm.columns["email"].entity == "EMAIL_ADDRESS"
    assert crm.columns["cp"].quasi_identifier
    assert crm.columns["saldo"].personal is False
    assert crm.columns["odd"].effective_category is None  # unknown entity: left to classify
    assert crm.columns["notes"].free_text  # notes are searched as text, not used as a link
    kinds = {(link.column, link.kind.value, link.region) for link in policy.identity_links()}
    assert kinds == {("id_cliente", "customer_id", None), ("email", "email", None),
                     ("tel: móvil", "phone", "ES")}  # fmt: skip


def test_draft_never_declares_not_personal_where_a_signal_fired() -> None:
    scan = (
        ScanColumn("shop", "customer.name", None, None, signals=("PERSON in 33% of values",)),
        ScanColumn("shop", "cookie", None, None, signals=("header: values do not look like X",)),
        ScanColumn("shop", "notes", None, None, reviewed="only SKUs and dates"),
        ScanColumn("shop", "saldo", None, None),
    )
    text = draft_policy(
        {"shop": ["customer.name", "cookie", "notes", "saldo"]}, {}, scan, region="ES"
    )
    assert "customer.name: {}  # TODO: review, PERSON in 33% of values" in text
    assert "cookie: {}  # TODO: review, header:" in text
    assert "notes: not_personal  # reviewed: only SKUs and dates" in text
    assert "saldo: not_personal" in text
    shop = load_policy_text(text).tables["shop"]  # the draft still validates
    assert shop.columns["saldo"].personal is False


def test_validate_warns_about_todos_left_in_a_draft(runner: CliRunner, tmp_path: Path) -> None:
    """Issue #15 item 15: `name: TODO your company` is valid YAML but not a finished policy."""
    text = (
        Path(SMALL)
        .read_text(encoding="utf-8")
        .replace("{name: Test Shop S.L.,", "{name: TODO your company,")
    )
    draft = tmp_path / "draft.yaml"
    draft.write_text(text, encoding="utf-8")
    result = runner.invoke(make_app(), ["policy", "validate", str(draft)])
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and f"{draft}:3: still says TODO" in result.stderr
    as_json = runner.invoke(make_app(), ["policy", "validate", str(draft), "--format", "json"])
    assert json.loads(as_json.stdout)["warnings"]
    clean = runner.invoke(make_app(), ["policy", "validate", SMALL])
    assert "TODO" not in clean.stderr


def test_draft_declares_a_name_over_two_columns_as_one() -> None:
    """A CRM's first and last names are one name (`columns:`), in the languages' headers;
    a shop's billing and shipping names are two; a buyer's and a recipient's full names
    are two, and so is a whole name beside its given name."""
    tables = {
        "crm": ["Id", "LastName", "FirstName"],
        "orders": ["buyer_name", "recipient_name"],
        "woo": ["Billing First Name", "Billing Last Name", "Shipping First Name",
                "Shipping Last Name"],
        "de": ["Vorname", "Name"],
        "ca": ["nom", "cognoms"],
        "es": ["nombre", "nombre_y_apellidos"],
    }  # fmt: skip
    scan = tuple(
        ScanColumn(table, column, "PERSON", "user.name")
        for table, columns in tables.items()
        for column in columns
        if column != "Id"
    )
    text = draft_policy(tables, {}, scan, region="ES")
    names = {(x.table, x.all_columns) for x in load_policy_text(text).identity_links()}
    assert names == {
        ("crm", ("FirstName", "LastName")), ("orders", ("buyer_name",)),
        ("orders", ("recipient_name",)), ("woo", ("Billing First Name", "Billing Last Name")),
        ("woo", ("Shipping First Name", "Shipping Last Name")), ("de", ("Vorname", "Name")),
        ("ca", ("nom", "cognoms")), ("es", ("nombre",)), ("es", ("nombre_y_apellidos",)),
    }  # fmt: skip
