"""Consent ledger semantics, purpose-bound exports, consent check, role views and exports."""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import Result

from tutela.enforce import access, consent, export
from tutela.enforce.common import RefusedError
from tutela.policy.models import Policy
from tutela.workspace import Workspace

from .conftest import DROP

WITHDRAWN = "r.castells@example.net"  # granted 2017-03-09, withdrew 2019-06-02 (consents.csv)


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _state(ws: Workspace, policy: Policy, who: str, at: datetime | None = None) -> str:
    rows = consent.status(ws, policy, who, at)
    return str(next(r["state"] for r in rows if r["purpose"] == "marketing_email"))


def test_latest_event_wins_and_withdrawal_is_effective_from_its_time(
    drop_ws: Workspace, acme: Policy, tmp_path: Path
) -> None:
    f = _write(
        tmp_path / "c.csv",
        [
            ["subject", "purpose", "status", "recorded_at", "source"],
            ["New.Person@Example.com", "marketing_email", "granted", "2024-01-01T10:00:00", "web"],
            [
                "new.person@example.com",
                "marketing_email",
                "withdrawn",
                "2025-01-01T10:00:00",
                "web",
            ],
            ["new.person@example.com", "marketing_email", "granted", "2025-06-01T10:00:00", "app"],
        ],
    )
    first = consent.import_file(drop_ws, acme, f)
    assert (first.added, first.duplicates) == (3, 0)
    assert consent.import_file(drop_ws, acme, f).added == 0  # idempotent, never overwrites
    who = "NEW.PERSON@example.com"
    assert _state(drop_ws, acme, who, datetime(2023, 12, 31)) == "none"
    assert _state(drop_ws, acme, who, datetime(2024, 12, 31, 23, 59)) == "granted"
    assert _state(drop_ws, acme, who, datetime(2025, 1, 1, 10, 0)) == "withdrawn"
    assert _state(drop_ws, acme, who, datetime(2025, 7, 1)) == "granted"
    # the policy's consent table is read as well: latest there wins too
    assert _state(drop_ws, acme, WITHDRAWN, datetime(2019, 1, 1)) == "granted"
    assert _state(drop_ws, acme, WITHDRAWN) == "withdrawn"


def test_import_refuses_unknown_status(drop_ws: Workspace, acme: Policy, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "bad.csv",
        [
            ["subject", "purpose", "status", "recorded_at"],
            ["a@b.example", "x", "maybe", "2024-01-01"],
        ],
    )
    with pytest.raises(Exception, match="nothing imported"):
        consent.import_file(drop_ws, acme, f)


def test_export_for_consent_purpose_drops_withdrawn_subjects(
    enforce_cli: Callable[..., Result], drop_ws: Workspace, acme: Policy, tmp_path: Path
) -> None:
    subscribers = {
        r[0].lower() for r in drop_ws.query("SELECT adres_email FROM newsletter_subscribers")
    }
    assert WITHDRAWN in subscribers
    keep = "roisin.higgins@example.com"
    assert _state(drop_ws, acme, keep) == "granted"
    drop_ws.close()
    assert enforce_cli("consent", "withdraw", "--email", "Roisin.Higgins@example.com",
                       "--purpose", "marketing_email").exit_code == 0  # fmt: skip
    out = tmp_path / "send_list.csv"
    result = enforce_cli("export", "newsletter_subscribers", "--purpose", "marketing_email",
                         "--out", str(out), "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with out.open(encoding="utf-8") as fh:
        sent = {row["adres_email"].lower() for row in csv.DictReader(fh)}
    assert len(sent) == data["rows"] and data["dropped_without_consent"] > 0
    assert WITHDRAWN not in sent and keep not in sent
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # the withdrawal is audited with the subject hashed
    log = enforce_cli("consent", "status", "--email", keep, "--format", "json")
    assert json.loads(log.stdout)["purposes"][0]["state"] == "withdrawn"


def test_export_refuses_table_outside_purpose_and_never_overwrites(
    enforce_cli: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    refused = enforce_cli("export", "crm_greece_legacy", "--purpose", "marketing_email",
                          "--out", str(out))  # fmt: skip
    assert refused.exit_code == 2 and "refused" in refused.stderr and not out.exists()
    out.write_text("keep me")
    again = enforce_cli("export", "crm_customers", "--role", "dpo", "--out", str(out))
    assert again.exit_code == 2 and out.read_text() == "keep me"
    forced = enforce_cli("export", "crm_customers", "--role", "dpo", "--out", str(out), "--force")
    assert forced.exit_code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600


def test_consent_check_lists_subjects_without_consent(
    enforce_cli: Callable[..., Result], tmp_path: Path
) -> None:
    listed = _write(
        tmp_path / "outgoing.csv",
        [["email", "name"], ["Roisin.Higgins@example.com", "R"], [WITHDRAWN, "C"],
         ["nobody@nowhere.example", "N"]],
    )  # fmt: skip
    result = enforce_cli("consent", "check", str(listed), "--purpose", "marketing_email",
                         "--format", "json")  # fmt: skip
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert {m["subject"]: m["state"] for m in data["missing"]} == {
        WITHDRAWN: "withdrawn",
        "nobody@nowhere.example": "none",
    }
    ok = _write(tmp_path / "ok.csv", [["email"], ["roisin.higgins@example.com"]])
    assert enforce_cli("consent", "check", str(ok), "--purpose", "marketing_email").exit_code == 0


def test_role_views_mask_and_filter(drop_ws: Workspace, acme: Policy) -> None:
    access.create_views(drop_ws, acme, "support_agent")
    access.create_views(drop_ws, acme, "dpo")
    agent = drop_ws.query(
        "SELECT documento_identidad FROM role_support_agent.crm_customers "
        "WHERE documento_identidad IS NOT NULL"
    )
    clear = drop_ws.query(
        "SELECT documento_identidad FROM role_dpo.crm_customers "
        "WHERE documento_identidad IS NOT NULL AND pais = 'ES'"
    )
    assert len(agent) == len(clear) > 0
    assert all(r[0].startswith("****") for r in agent)
    assert not any(r[0].startswith("****") for r in clear)
    cols = {c.name for c in drop_ws.columns("crm_customers")}
    agent_cols = {r[0] for r in drop_ws.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "'role_support_agent' AND table_name = 'crm_customers'")}  # fmt: skip
    assert agent_cols == cols - {"fecha_nacimiento"}
    assert drop_ws.query("SELECT DISTINCT pais FROM role_support_agent.crm_customers") == [("ES",)]
    tables = {r[0] for r in drop_ws.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "'role_support_agent'")}  # fmt: skip
    assert "web_events" not in tables  # hidden by the role's default


def test_analyst_pseudonymized_tokens_join_across_tables(drop_ws: Workspace, acme: Policy) -> None:
    access.create_views(drop_ws, acme, "analyst")
    ids = drop_ws.query("SELECT id_cliente FROM role_analyst.crm_customers LIMIT 5")
    assert all(r[0].startswith("tok_") for r in ids)
    joined = drop_ws.query(
        "SELECT count(*) FROM role_analyst.orders_orders o "
        "JOIN role_analyst.crm_customers c ON o.customer_id = c.id_cliente"
    )[0][0]
    assert joined > 0


def test_unknown_role_is_refused(
    drop_ws: Workspace, acme: Policy, enforce_cli: Callable[..., Result], tmp_path: Path
) -> None:
    with pytest.raises(RefusedError):
        access.create_views(drop_ws, acme, "intern")
    drop_ws.close()
    result = enforce_cli("export", "crm_customers", "--role", "intern",
                         "--out", str(tmp_path / "x.parquet"))  # fmt: skip
    assert result.exit_code == 2 and "no role 'intern'" in result.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_csv_formula_neutralisation(drop_ws: Workspace, acme: Policy, tmp_path: Path) -> None:
    drop_ws.con.execute(
        "CREATE TABLE formulas AS SELECT * FROM (VALUES "
        "('=HYPERLINK(\"http://x\")', -3), ('+34 612', 1), ('-12.5', 2), ('-1+2', 3), "
        "('@SUM(A1)', 4), ('\tx', 5), ('\rx', 6), ('plain', 7), (NULL, 8)) v(val, n)"
    )
    out = tmp_path / "f.csv"
    export.export_for_role(drop_ws, acme, "formulas", "dpo", out)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    vals = [r["val"] for r in rows]
    assert vals == ["'=HYPERLINK(\"http://x\")", "'+34 612", "-12.5", "'-1+2", "'@SUM(A1)",
                    "'\tx", "'\rx", "plain", ""]  # fmt: skip
    assert rows[0]["n"] == "-3"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    pq = tmp_path / "f.parquet"
    export.export_for_role(drop_ws, acme, "formulas", "dpo", pq)  # no prefix outside CSV
    assert drop_ws.query(f"SELECT val FROM read_parquet('{pq}') LIMIT 1")[0][0].startswith("=")


def test_example_drop_files_present() -> None:
    assert (DROP / "consents.csv").is_file()


def test_csv_header_and_nested_values(drop_ws: Workspace, acme: Policy, tmp_path: Path) -> None:
    """Issue #15 item 12: header names are neutralised too; LIST/STRUCT are JSON."""
    drop_ws.con.execute(
        "CREATE TABLE formulas AS SELECT 1 AS \"=cmd|' /C calc'!A0\", "
        "[{'sku': 'SKU-166', 'qty': 2}] AS items, {'city': 'Vic'} AS addr"
    )
    out = tmp_path / "h.csv"
    export.export_for_role(drop_ws, acme, "formulas", "dpo", out)
    with out.open(encoding="utf-8", newline="") as fh:
        header, row = list(csv.reader(fh))
    assert header == ["'=cmd|' /C calc'!A0", "items", "addr"]
    assert json.loads(row[1]) == [{"sku": "SKU-166", "qty": 2}]
    assert json.loads(row[2]) == {"city": "Vic"}


def test_consent_import_errors_name_their_lines(
    enforce_cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Issue #15 item 10: a short row is a short row (not 'no subject column'), and bad
    events are listed with their lines, each status once."""
    head = "subject_email,purpose,status,recorded_at,source\n"
    ok = "a@example.com,marketing_email,granted,2020-01-01T00:00:00,web\n"
    short = tmp_path / "short.csv"
    short.write_text(head + ok + ok + "bob@example.com,marketing_email\n" + ok, "utf-8")
    result = enforce_cli("consent", "import", str(short))
    assert result.exit_code == 4
    assert "short.csv:4: expected 5 columns, found 2" in result.stderr, result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text(
        head + ok + '"x@example.com",marketing_email,yes,2020-01-01T00:00:00,"a\nb"\n'
        + ",marketing_email,granted,2020-01-01T00:00:00,web\n", "utf-8",
    )  # fmt: skip
    result = enforce_cli("consent", "import", str(bad))
    assert result.exit_code == 4
    line = result.stderr.replace("\n  ", " ")
    assert "a status other than granted or withdrawn at bad.csv:4" in line, line
    assert "no subject at bad.csv:5" in line  # the quoted line break counted
    assert "granted, granted" not in line


@pytest.mark.parametrize("command", ["check", "withdraw"])
def test_purposes_not_based_on_consent_are_refused(
    enforce_cli: Callable[..., Result], tmp_path: Path, command: str
) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text("email\nanna.puig@example.com\n", encoding="utf-8")
    args = (
        ["consent", "check", str(listed)]
        if command == "check"
        else ["consent", "withdraw", "--email", "anna.puig@example.com"]
    )
    result = enforce_cli(*args, "--purpose", "order_fulfilment")
    assert result.exit_code == 2, result.output
    assert "rests on contract, not on consent" in result.stderr
