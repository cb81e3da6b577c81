"""The subject-access report as the person reads it (issue #15 item 13)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import Result

from tutela.report.sar import to_html, to_markdown
from tutela.workspace import DB_FILE

ROOT = Path(__file__).parents[2]
DROP = ROOT / "examples" / "drop"


def _report(**over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "request_id": "R<1>",
        "generated_at": "2026-01-05T10:11:12.123456+00:00",
        "tool": "tutela test",
        "controller": {"name": "Acme <b>", "country": "ES", "dpo": None},
        "identifiers_searched": {"email": ["x@example.com"]},
        "data_held": True,
        "summary": {"tables": 1, "rows": 1, "free_text_mentions": 1},
        "tables": [
            {
                "table": "crm",
                "provenance": {
                    "source_system": "crm",
                    "file": "/srv/exports/secret-dir/crm.csv",
                    "loaded_at": "2026-01-04T09:08:07.654321",
                },
                "description": "CRM <img src=x onerror=alert(1)>",
                "purposes": [{"purpose": "support", "legal_basis": "contract", "recipients": []}],
                "retention": [],
                "erasure": {"action": "delete"},
                "categories": [],
                "columns": ["name", "note"],
                "rows": [{"name": "Anna", "note": "<script>alert(1)</script>"}],
            }
        ],
        "free_text_mentions": [
            {"table": "crm", "column": "note", "mentions": 1, "texts": ["<b>hi</b>"]}
        ],
        "consent": [],
        "automated_decision_making": "none",
        "your_rights": "rights",
    }
    report.update(over)
    return report


def test_markdown_escapes_html_from_data_and_policy() -> None:
    md = to_markdown(_report())
    assert not re.search(r"<(script|img|b)\b", md), md
    assert "&lt;script&gt;" in md and "&lt;img" in md


def test_wording_paths_times_and_retention() -> None:
    for text in (to_markdown(_report()), to_html(_report())):
        assert "/srv/exports" not in text and "crm.csv" in text
        assert "2026-01-05 10:11 UTC" in text and "10:11:12.123456" not in text
        assert "2026-01-04 09:08" in text and "T09:08" not in text
        assert "1 mention" in text and "1 mentions" not in text
        assert "1 record" in text and "1 system" in text and "1 records" not in text
        assert "Retention: no fixed period" in text and "support" in text
    html = to_html(_report())
    summary = re.search(r"<p>We hold .*?</p>", html)
    assert summary and "1 mention" in summary.group(0)


def test_sar_from_the_cli_uses_policy_names_and_states_retention(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    loaded = cli("load", str(DROP / "crm_customers.csv"), str(DROP / "consents.csv"))
    assert loaded.exit_code == 0, loaded.output
    out = tmp_path / "reports"
    result = cli(
        "sar", "--email", "anna.puig@example.com", "-p", str(ROOT / "policies" / "acme.yaml"),
        "--out", str(out), "--request-id", "REQ-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    md = (out / "sar-REQ-1.md").read_text(encoding="utf-8")
    data = json.loads((out / "sar-REQ-1.json").read_text(encoding="utf-8"))
    consent = [c["purpose"] for c in data["consent"]]
    assert "customer_profiling" in consent and "profiling" not in consent  # the policy's name
    assert "| customer_profiling |" in md
    sections = re.findall(r"^## (\S+)\n", md, re.M)
    tables = [t["table"] for t in data["tables"]]
    assert tables and all(t in sections for t in tables)
    for chunk in md.split("\n## ")[1 : len(tables) + 1]:
        assert re.search(r"^- (Kept |Retention: )", chunk, re.M), chunk
    for text in (md, json.dumps(data), (out / "sar-REQ-1.html").read_text(encoding="utf-8")):
        assert str(DROP) not in text and str(ROOT) not in text


def test_a_column_of_keyed_tokens_is_searched_by_the_tokens_of_her_identifiers(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Once crm_customers.email holds keyed tokens (`pseudonymize --apply`), an e-mail given
    in a request finds her row through its token: the access report has the row and the
    erasure deletes it (pseudonymized data is still hers). A column of reversible
    ciphertexts is not compared with identifiers: the report and the certificate say so,
    rather than only 'nothing found'."""
    assert cli("load", str(DROP / "crm_customers.csv")).exit_code == 0
    assert cli("keys", "init").exit_code == 0
    policy = str(ROOT / "policies" / "acme.yaml")
    out = tmp_path / "reports"
    ask = ["--email", "anna.puig@example.com", "-p", policy, "--out", str(out)]
    assert cli("sar", *ask, "--request-id", "SAR-0").exit_code == 0
    before = json.loads((out / "sar-SAR-0.json").read_text(encoding="utf-8"))
    done = cli("pseudonymize", "crm_customers", "-c", "email=hmac", "--apply")
    assert done.exit_code == 0, done.output

    assert cli("sar", *ask, "--request-id", "SAR-1").exit_code == 0
    sar = json.loads((out / "sar-SAR-1.json").read_text(encoding="utf-8"))
    assert not any("crm_customers" in n for n in sar["not_searched"])
    rows = {t["table"]: len(t["rows"]) for t in sar["tables"]}
    assert rows == {t["table"]: len(t["rows"]) for t in before["tables"]}
    assert rows["crm_customers"] == 1
    (row,) = next(t for t in sar["tables"] if t["table"] == "crm_customers")["rows"]
    assert str(row["email"]).startswith("tok_")  # her row as it is held now
    plan = cli("erase", *ask, "--request-id", "ER-0", "--dry-run", "-f", "json")
    assert plan.exit_code == 0, plan.output
    assert "crm_customers" in plan.stdout
    erased = cli("erase", *ask, "--request-id", "ER-1", "--apply")
    assert erased.exit_code == 0, erased.output
    cert = json.loads((out / "erasure-ER-1.json").read_text(encoding="utf-8"))
    assert cert["verification"]["ok"] is True
    again = cli("subject", "find", "--email", "anna.puig@example.com", "-p", policy, "-f", "json")
    assert "crm_customers" not in again.stdout


@pytest.mark.parametrize(("method", "why"), [("encrypt", "not computed"), ("hmac:8", "32-bit")])
def test_a_column_of_ciphertexts_or_short_tokens_is_reported_as_not_searched(
    cli: Callable[..., Result], tmp_path: Path, method: str, why: str
) -> None:
    """Ciphertexts are not computed from identifiers; 32-bit tokens collide between people
    too often (one key in ~4,000 meets someone else's token in a million rows)."""
    assert cli("load", str(DROP / "crm_customers.csv")).exit_code == 0
    assert cli("keys", "init").exit_code == 0
    done = cli("pseudonymize", "crm_customers", "-c", f"email={method}", "--apply")
    assert done.exit_code == 0, done.output
    policy = str(ROOT / "policies" / "acme.yaml")
    out = tmp_path / "reports"
    ask = ["--email", "anna.puig@example.com", "-p", policy, "--out", str(out)]
    assert cli("sar", *ask, "--request-id", "SAR-1").exit_code == 0
    sar = json.loads((out / "sar-SAR-1.json").read_text(encoding="utf-8"))
    notes = [n for n in sar["not_searched"] if "crm_customers.email is pseudonymized" in n]
    assert notes and why in notes[0]
    erased = cli("erase", *ask, "--request-id", "ER-1", "--apply")
    assert erased.exit_code == 0, erased.output
    cert = json.loads((out / "erasure-ER-1.json").read_text(encoding="utf-8"))
    assert any("crm_customers.email is pseudonymized" in n for n in cert["not_searched"])
    assert "## Not searched" in (out / "erasure-ER-1.md").read_text(encoding="utf-8")


TOKEN_POLICY = """version: 1
organisation: {name: T, country: ES, dpo: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: calls, column: customer_id, kind: customer_id}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: orders, column: customer_ref, kind: customer_id, strip_prefix: "CUST-"}
tables:
  crm:
    columns:
      customer_id: {personal: true, category: user.unique_id}
      email: {entity: EMAIL_ADDRESS}
      phone: {entity: PHONE_NUMBER}
  calls:
    columns:
      customer_id: {personal: true, category: user.unique_id}
      phone: {entity: PHONE_NUMBER}
  orders:
    columns:
      customer_ref: {personal: true, category: user.unique_id}
"""


def test_tokens_of_other_people_still_tell_them_apart(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """calls.customer_id holds tokens; Anna and Bob called from one number. Bob's row is
    someone else's (his token is another customer id than hers), not hers: it is neither
    reported nor erased with hers. A column whose link strips a prefix before comparing is
    not searched by token (its tokens are of the whole values), and the search says so."""
    for name, text in {
        "crm.csv": "customer_id,email,phone\nC1,anna@example.com,\nC2,bob@example.com,\n"
        "C3,carla@example.com,699 111 222\n",
        "calls.csv": "customer_id,phone\nC1,612 345 678\nC2,612 345 678\nC3,699 111 222\n",
        "orders.csv": "customer_ref,total\nCUST-C1,10\nCUST-C2,20\n",
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert cli("load", str(tmp_path / name)).exit_code == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(TOKEN_POLICY, encoding="utf-8")
    assert cli("keys", "init").exit_code == 0
    for table, column in (("calls", "customer_id"), ("orders", "customer_ref")):
        done = cli("pseudonymize", table, "-c", f"{column}=hmac", "--apply")
        assert done.exit_code == 0, done.output
    found = cli("subject", "find", "--email", "anna@example.com", "-p", str(policy), "-f", "json")
    assert found.exit_code == 0, found.output
    report = json.loads(found.stdout)
    assert report["tables"] == {"crm": 1, "calls": 1}
    assert not [p for p in report["possible_matches"] if p["table"] == "calls"]
    assert any("orders.customer_ref is pseudonymized" in n for n in report["not_searched"])
    plan = cli("erase", "--email", "anna@example.com", "-p", str(policy), "--dry-run",
               "-f", "json")  # fmt: skip
    assert plan.exit_code == 0, plan.output
    calls = [t for t in json.loads(plan.stdout)["plan"]["tables"] if t["table"] == "calls"]
    assert [t["rows"] for t in calls] == [1]
    # her own call carries a token of her own customer id: it agrees with her CRM row
    carla = cli("subject", "find", "--phone", "699111222", "-p", str(policy), "-f", "json")
    assert json.loads(carla.stdout)["tables"] == {"crm": 1, "calls": 1}


def test_tokens_made_under_earlier_rules_are_searched_with_a_note(
    cli: Callable[..., Result], ws_path: Path
) -> None:
    assert cli("load", str(DROP / "crm_customers.csv")).exit_code == 0
    assert cli("keys", "init").exit_code == 0
    assert cli("pseudonymize", "crm_customers", "-c", "email=hmac", "--apply").exit_code == 0
    policy = str(ROOT / "policies" / "acme.yaml")
    ask = ["subject", "find", "--email", "anna.puig@example.com", "-p", policy, "-f", "json"]
    now = json.loads(cli(*ask).stdout)
    assert now["tables"].get("crm_customers") == 1
    assert not any("crm_customers" in n for n in now["not_searched"])
    con = duckdb.connect(str(ws_path / DB_FILE))  # as a workspace from before 2026.12 holds it
    con.execute("UPDATE _tutela.protected_columns SET key_rules = NULL")
    con.close()
    older = json.loads(cli(*ask).stdout)
    assert older["tables"].get("crm_customers") == 1
    assert any("under earlier identifier rules" in n for n in older["not_searched"])
