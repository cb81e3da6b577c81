"""The protection commands through the CLI: exit codes, dry runs, apply, files, secrets."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tutela.base import keys
from tutela.workspace import Workspace

from .conftest import CUSTOMERS

Run = Callable[..., Result]


def _rows(ws_root: Path, sql: str) -> list[tuple[object, ...]]:
    with Workspace.open(ws_root, read_only=True) as ws:
        return ws.query(sql)


def test_keys_init_list_rotate_retire(cli: Run) -> None:
    r = cli("keys", "init", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["created"] is False  # fixture made it
    assert cli("keys", "rotate").exit_code == 0
    data = json.loads(cli("keys", "list", "--format", "json").stdout)
    assert data["active_version"] == 2
    assert [v["status"] for v in data["versions"]] == ["readable", "active"]
    r = cli("keys", "retire", "2")
    assert r.exit_code == 2 and "active" in r.stderr
    r = cli("keys", "retire", "1")
    assert r.exit_code == 0 and "dry run" in r.stderr
    assert cli("keys", "retire", "1", "--apply").exit_code == 0
    data = json.loads(cli("keys", "list", "--format", "json").stdout)
    assert data["versions"][0]["status"] == "retired"


def test_pseudonymize_dry_run_by_default_then_apply(cli: Run, ws_root: Path) -> None:
    before = _rows(ws_root, "SELECT * FROM crm ORDER BY id")
    r = cli("pseudonymize", "crm", "--columns", "email,phone", "--format", "json")
    assert r.exit_code == 0
    plan = json.loads(r.stdout)
    assert plan["applied"] is False and plan["plan"]["rows"] == 4
    assert _rows(ws_root, "SELECT * FROM crm ORDER BY id") == before
    r = cli("pseudonymize", "crm", "--columns", "email,phone", "--apply")
    assert r.exit_code == 0, r.stderr
    assert "audit entry #1" in r.stdout
    emails = [row[0] for row in _rows(ws_root, "SELECT email FROM crm ORDER BY id")]
    assert str(emails[0]).startswith("tok_") and emails[0] == emails[1]
    r = cli("audit", "verify")
    assert r.exit_code == 0 and "1 entries" in r.stdout
    r = cli("pseudonymize", "crm", "--columns", "email", "--format", "json")
    assert json.loads(r.stdout)["plan"]["warnings"]  # already protected: said in the plan


def test_usage_errors_exit_2(cli: Run) -> None:
    assert cli("pseudonymize", "crm").exit_code == 2
    assert cli("pseudonymize", "nope", "-c", "email").exit_code == 2
    assert cli("pseudonymize", "crm", "-c", "email=rot13").exit_code == 2
    assert cli("pseudonymize", "crm", "-c", "email", "--apply", "--dry-run").exit_code == 2
    r = cli("pseudonymize", "crm", "-c", "email", "--out", "x.xlsx")
    assert r.exit_code == 2 and "output format" in r.stderr


def test_policy_file_output_and_reidentify(cli: Run, tmp_path: Path, policy_file: Path) -> None:
    out = tmp_path / "crm_pseudo.parquet"
    r = cli("pseudonymize", "crm", "--policy", str(policy_file), "-c", "email=encrypt,phone",
            "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.stderr
    manifest = json.loads(Path(f"{out}.tutela.json").read_text())
    assert manifest["columns"]["phone"]["normalize"] == "e164"
    assert cli("pseudonymize", "crm", "-c", "email", "--out", str(out)).exit_code == 2  # exists
    r = cli("reidentify", str(out), "--columns", "email", "--role", "dpo",
            "--policy", str(policy_file), "--format", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert [d["email"] for d in data["data"]][:2] == [
        "Anna.Puig@Example.com ",
        "anna.puig@example.com",
    ]
    assert str(data["data"][0]["phone"]).startswith("tok_")
    r = cli("reidentify", str(out), "-c", "email", "--role", "ghost", "--policy", str(policy_file))
    assert r.exit_code == 2 and "unknown role 'ghost'" in r.stderr
    r = cli(
        "reidentify", str(out), "-c", "email", "--role", "analyst", "--policy", str(policy_file)
    )
    assert r.exit_code == 2 and "access-denied" in r.stderr
    r = cli("reidentify", str(out), "-c", "phone", "--role", "dpo", "--policy", str(policy_file))
    assert r.exit_code == 2 and "one-way" in r.stderr


def test_whole_policy_mode(cli: Run, tmp_path: Path, policy_file: Path) -> None:
    out = tmp_path / "analyst.csv"
    r = cli("pseudonymize", "crm", "--policy", str(policy_file), "--role", "analyst",
            "--out", str(out), "--format", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["id", "email", "card", "cp", "gender", "ts"]


def test_rotate_rekey_then_old_tokens_still_read(
    cli: Run, ws_root: Path, policy_file: Path
) -> None:
    assert cli("pseudonymize", "crm", "-c", "email=encrypt", "--apply").exit_code == 0
    assert cli("keys", "rotate").exit_code == 0
    r = cli("reidentify", "crm", "-c", "email", "--role", "dpo", "--policy", str(policy_file),
            "--format", "json")  # fmt: skip
    assert json.loads(r.stdout)["data"][0]["email"] == "Anna.Puig@Example.com "
    assert cli("keys", "retire", "1", "--apply").exit_code == 2  # still needed
    r = cli("keys", "rekey", "--format", "json")
    assert json.loads(r.stdout)["plan"]["to_rekey"] == ["crm.email"]
    assert cli("keys", "rekey", "--apply").exit_code == 0
    tokens = [row[0] for row in _rows(ws_root, "SELECT email FROM crm WHERE email IS NOT NULL")]
    assert all(str(t).startswith("enc:v2:") for t in tokens)
    assert cli("keys", "retire", "1", "--apply").exit_code == 0
    r = cli("reidentify", "crm", "-c", "email", "--role", "dpo", "--policy", str(policy_file),
            "--format", "json")  # fmt: skip
    assert json.loads(r.stdout)["data"][2]["email"] == "jan.kowalski@example.org"


def test_risk_reports_k_and_fails_below(cli: Run) -> None:
    r = cli("risk", "crm", "--quasi", "gender", "--sensitive", "cp", "--format", "json")
    assert r.exit_code == 0
    report = json.loads(r.stdout)
    assert report["k_anonymity"] == 1 and report["groups"] == 3 and report["unique_rows"] == 2
    assert report["l_diversity"] == 0  # the all-empty group
    r = cli("risk", "crm", "--quasi", "gender", "--fail-below", "2")
    assert r.exit_code == 1 and "k = 1" in r.stderr
    assert cli("risk", "crm", "--quasi", "nope").exit_code == 2


MARKER = "5ec2e7" * 11  # 33 bytes, hex


@pytest.fixture
def marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protect_app: typer.Typer) -> Run:
    monkeypatch.setenv(keys.ENV_MASTER_KEY, MARKER)
    root = tmp_path / "marked"
    with Workspace.open(root) as ws:
        ws.con.execute(CUSTOMERS)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(protect_app, ["-w", str(root), *args])

    return run


def test_secrets_never_appear(marked: Run, tmp_path: Path, policy_file: Path) -> None:
    master = keys.MasterKey(bytes.fromhex(MARKER), "test")
    secrets = {MARKER, MARKER.upper(), bytes.fromhex(MARKER).hex()}
    out = tmp_path / "o.parquet"
    results = [
        marked("keys", "init"),
        marked("--debug", "keys", "list"),
        marked("pseudonymize", "crm", "-c", "email,phone=phone,id=encrypt", "--out", str(out)),
        marked("--debug", "keys", "rotate"),
        marked("--debug", "pseudonymize", "crm", "-c", "email=encrypt", "--apply"),
        marked("--debug", "pseudonymize", "crm", "-c", "nope"),
        marked("--debug", "pseudonymize", "crm", "-c", "email", "--key-version", "9"),
        marked(
            "--debug",
            "reidentify",
            str(out),
            "-c",
            "id",
            "--role",
            "dpo",
            "--policy",
            str(policy_file),
        ),
        marked(
            "--debug",
            "reidentify",
            str(out),
            "-c",
            "phone",
            "--role",
            "dpo",
            "--policy",
            str(policy_file),
        ),
        marked("--debug", "keys", "retire", "1", "--apply", "--force"),
        marked(
            "--debug",
            "reidentify",
            str(out),
            "-c",
            "id",
            "--role",
            "dpo",
            "--policy",
            str(policy_file),
        ),
        marked("audit", "show", "--format", "json"),
    ]
    keyset = keys.load_keyset(tmp_path / "marked", master)
    derived = {
        keyset.key(2).derive("pseudonymize/hmac/pseudonymization").hex(),
        keyset.key(2).derive("pseudonymize/aes-siv/pseudonymization", 64).hex(),
    }
    texts = []
    for r in results:
        texts += [r.stdout, r.stderr]
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            texts.append("".join(traceback.format_exception(r.exception)))
            texts.append(repr(r.exception.args))
    texts += [out.read_bytes().hex(), Path(f"{out}.tutela.json").read_text()]
    blob = "\n".join(texts)
    for secret in secrets | derived:
        assert secret.lower() not in blob.lower()
    assert results[0].exit_code == 0 and "environment" in results[0].stdout
    assert results[2].exit_code == 0, results[2].stderr
    assert results[10].exception is not None  # retired key: the values cannot be read


def test_pseudonymize_csv_goes_through_the_one_csv_writer(
    cli: Run, ws_root: Path, tmp_path: Path
) -> None:
    """Issue #15 item 12: values that a spreadsheet would run get `'`, as in `export`."""
    with Workspace.open(ws_root) as ws:
        ws.con.execute("UPDATE crm SET notes = CASE id WHEN 1 THEN '=1+2' WHEN 2 THEN '@x' "
                       "WHEN 3 THEN '+4' ELSE '-5' END")  # fmt: skip
    out = tmp_path / "p.csv"
    r = cli("pseudonymize", "crm", "-c", "email", "--out", str(out))
    assert r.exit_code == 0, r.output
    import csv

    with out.open(encoding="utf-8", newline="") as fh:
        notes = [row["notes"] for row in csv.DictReader(fh)]
    assert sorted(notes) == sorted(["'=1+2", "'@x", "'+4", "-5"])


def test_second_apply_on_the_same_column_is_refused_unless_forced(cli: Run, ws_root: Path) -> None:
    """Issue #15 item 15: a second --apply stacked tokens of tokens."""
    assert cli("pseudonymize", "crm", "-c", "email", "--apply").exit_code == 0
    once = _rows(ws_root, "SELECT email FROM crm ORDER BY id")
    again = cli("pseudonymize", "crm", "-c", "email", "--apply")
    assert again.exit_code == 2, again.output
    assert again.stderr.startswith("error[usage]: crm: email is already protected by hmac")
    assert "--force" in again.stderr
    assert _rows(ws_root, "SELECT email FROM crm ORDER BY id") == once
    forced = cli("pseudonymize", "crm", "-c", "email", "--apply", "--force")
    assert forced.exit_code == 0, forced.output
    assert _rows(ws_root, "SELECT email FROM crm ORDER BY id") != once
