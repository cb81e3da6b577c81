"""`policy check` findings on a synthetic workspace, and the pure evaluator on hand-made facts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from tutela.policy import Finding, LoadedPolicy, Severity, check_policy, evaluate, load_policy
from tutela.policy.facts import ScanColumn, WorkspaceFacts
from tutela.workspace import Workspace, quote_ident

from .conftest import AS_OF, asset


def _by_rule(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.rule, []).append(f)
    return out


def _check(open_ws: Workspace) -> tuple[LoadedPolicy, dict[str, list[Finding]]]:
    loaded = load_policy(asset("small.yaml"))
    report = check_policy(loaded, open_ws, as_of=AS_OF)
    return loaded, _by_rule(report.findings)


def test_expired_rows_counted_with_legal_hold(open_ws: Workspace) -> None:
    _, rules = _check(open_ws)
    (expired,) = rules["retention-expired"]
    # C2 (2015) and C4 (2019, hold NULL) are past 6 years; C3 is on legal hold; C5 has no date
    assert (expired.table, expired.column, expired.count) == ("customers", "last_order", 2)
    assert str(expired.oldest) == "2015-03-01"
    assert expired.severity is Severity.high
    assert expired.location is not None and expired.location.line == 51


def test_consent_missing_and_withdrawn(open_ws: Workspace) -> None:
    _, rules = _check(open_ws)
    (missing,) = rules["consent-missing"]
    (withdrawn,) = rules["consent-withdrawn"]
    # c@ only consented to profiling; b@ (stored as " B@News.Example ") withdrew last;
    # d@ withdrew and granted again, so the latest event (granted) wins
    assert (missing.purpose, missing.table, missing.count) == ("marketing_email", "newsletter", 1)
    assert "1 of 4 subject(s)" in missing.message
    assert (withdrawn.count, withdrawn.severity) == (1, Severity.critical)


def test_clear_national_id_and_transfer_without_safeguard(open_ws: Workspace) -> None:
    loaded, rules = _check(open_ws)
    (clear,) = rules["clear-sensitive-id"]
    assert (clear.role, clear.table, clear.column) == ("billing", "customers", "dni")
    assert clear.location == loaded.locate(("roles", "billing", "tables", "customers", "clear", 2))
    (transfer,) = rules["transfer-no-safeguard"]
    assert "Offshore Mailer Ltd (IN)" in transfer.message
    assert transfer.severity is Severity.high
    assert transfer.location is not None and transfer.location.line == 46


def test_nothing_else_is_reported(open_ws: Workspace) -> None:
    _, rules = _check(open_ws)
    assert set(rules) == {
        "retention-expired", "consent-missing", "consent-withdrawn", "clear-sensitive-id",
        "transfer-no-safeguard", "no-scan",
    }  # fmt: skip


def test_quoted_identifiers_in_retention(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        table = quote_ident('odd "t"')
        ws.con.execute(f'CREATE TABLE {table} ("fecha alta" VARCHAR, "e-mail" VARCHAR)')
        ws.con.execute(
            f"INSERT INTO {table} VALUES ('01/02/2001', 'a@x.example'), "
            "('2026-10-01', 'b@x.example'), ('not a date', 'c@x.example')"
        )
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\ntables:\n  'odd \"t\"':\n    columns:\n      e-mail: EMAIL_ADDRESS\n"
        "      fecha alta: not_personal\n"
        "purposes:\n  p: {legal_basis: contract, tables: ['odd \"t\"']}\n"
        "retention:\n  - {table: 'odd \"t\"', period: 1y, after: fecha alta}\n",
        encoding="utf-8",
    )
    with Workspace.open(root, read_only=True) as ws:
        report = check_policy(load_policy(policy), ws, as_of=AS_OF)
    rules = _by_rule(report.findings)
    assert rules["retention-expired"][0].count == 1
    assert str(rules["retention-expired"][0].oldest) == "2001-02-01"
    assert rules["retention-unreadable-dates"][0].count == 1


def _facts(**kwargs: object) -> WorkspaceFacts:
    tables = {
        "customers": dict.fromkeys(
            ["customer_id", "name", "email", "phone", "dni", "country", "last_order",
             "legal_hold", "notes"], "VARCHAR"),
        "newsletter": {"email": "VARCHAR", "signed_up": "VARCHAR"},
        "consents": dict.fromkeys(["subject_email", "purpose", "status", "recorded_at"], "VARCHAR"),
        "extra": {"x": "VARCHAR"},
    }  # fmt: skip
    return WorkspaceFacts(as_of=AS_OF, tables=tables, **kwargs)  # type: ignore[arg-type]


def test_scan_findings_from_pure_facts() -> None:
    loaded = load_policy(asset("small.yaml"))
    scan = (
        ScanColumn("customers", "notes", "PERSON", "user.name"),
        ScanColumn("customers", "last_order", "DATE_OF_BIRTH", None),
        ScanColumn("customers", "email", "EMAIL_ADDRESS", "user.contact.email"),
    )
    findings = evaluate(loaded.policy, _facts(scan=scan), loaded.locate)
    rules = _by_rule(findings)
    assert [(f.table, f.column) for f in rules["unclassified-column"]] == [("customers", "notes")]
    assert [f.column for f in rules["scan-disagrees"]] == ["last_order"]
    assert [f.table for f in rules["table-not-in-policy"]] == ["extra"]
    assert "no-scan" not in rules
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)


def test_no_legal_basis_and_unlisted_purpose(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ntables:\n  customers:\n    columns: {email: EMAIL_ADDRESS, dni: NATIONAL_ID}\n"
        "  newsletter:\n    columns: {email: EMAIL_ADDRESS}\n"
        "purposes:\n  p:\n    legal_basis: null   # draft: not decided yet\n"
        "    tables: [customers]\n"
        "    categories: [user.contact]\n"
        "    storage: [{location: Tokyo DC, country: JP}]\n",
        encoding="utf-8",
    )
    loaded = load_policy(path)
    rules = _by_rule(evaluate(loaded.policy, _facts(), loaded.locate))
    (basis,) = rules["no-legal-basis"]
    assert basis.severity is Severity.critical
    assert basis.location is not None and basis.location.line == 9
    no_purpose = {(f.table, f.column) for f in rules["no-purpose"]}
    assert no_purpose == {("customers", "dni"), ("newsletter", "email")}
    (japan,) = rules["transfer-no-safeguard"]
    assert japan.severity is Severity.low and "adequacy_decision" in japan.fix
    assert "column-not-in-data" not in rules


def test_stored_scan_from_detect_engine(workspace: Path) -> None:
    """The adapter over `tutela.detect.load_stored_scan` (skipped until the engine exists)."""
    detect = pytest.importorskip("tutela.detect")
    if not all(hasattr(detect, n) for n in ("scan_table", "store_scan", "table_fingerprint")):
        pytest.skip("tutela.detect has no scan store yet")
    with Workspace.open(workspace) as ws:
        ws.con.execute("ALTER TABLE customers ADD COLUMN contact_mail VARCHAR")
        ws.con.execute("UPDATE customers SET contact_mail = lower(name[1:2]) || '@mail.example'")
        for table in ws.user_tables():
            scan = detect.scan_table(ws.con, table)
            fingerprint = detect.table_fingerprint(ws.con, table)
            detect.store_scan(ws.con, scan, fingerprint=fingerprint)
    with Workspace.open(workspace, read_only=True) as ws:
        report = check_policy(load_policy(asset("small.yaml")), ws, as_of=AS_OF)
    rules = _by_rule(report.findings)
    assert report.scan_available and "no-scan" not in rules
    assert ("customers", "contact_mail") in {
        (f.table, f.column) for f in rules["unclassified-column"]
    }
