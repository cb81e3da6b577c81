"""The governance report: its model against hand-counted facts, its HTML and JSON, the CLI."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tutela.cli.app import app
from tutela.policy.loader import load_policy
from tutela.report import charts, governance
from tutela.report.governance_html import render_html
from tutela.report.jsonout import to_json
from tutela.workspace import Workspace

from .conftest import AS_OF, MASKED_EXAMPLE, PERSONAL_VALUES, build


def _report(root: Path) -> governance.GovernanceReport:
    policy = load_policy(root.parent / "policy.yaml")
    with Workspace.open(root, read_only=True) as ws:
        files = tuple(str(f) for f in policy.files)
        return governance.build(ws, policy.policy, as_of=AS_OF, policy_files=files)


@pytest.fixture
def report(report_ws: Path) -> governance.GovernanceReport:
    return _report(report_ws)


def test_data_map_counts_and_flags(report: governance.GovernanceReport) -> None:
    dm = report.data_map
    tables = {t.table: t for t in dm.tables}
    assert set(tables) == {"customers", "newsletter", "consents", "archive", "extra"}
    crm = tables["customers"]
    assert (crm.system, crm.rows, crm.columns) == ("CRM", 6, 8)  # the policy names the system
    assert tables["newsletter"].system == "newsletter-tool"  # else the catalog's --source
    assert len(crm.personal) == 6 and crm.unclassified == ("notes",)
    assert not tables["extra"].in_policy and not tables["extra"].personal
    assert (dm.personal_columns, dm.unclassified_columns) == (9, 1)
    assert ("customers", governance.UNCLASSIFIED) in {(f.source, f.target) for f in dm.flows}
    places = {p.label: p for p in dm.places}
    assert places["Offshore Calls Ltd (IN)"].unsafe
    assert places["Cloud Desk Inc (US)"].outside_eea and not places["Cloud Desk Inc (US)"].unsafe
    assert places["Cloud Desk Inc (US)"].transfer == "safeguard: sccs"
    assert not places["Frankfurt DC (DE)"].outside_eea
    unsafe = [(f.source, f.target) for f in dm.flows if f.unsafe]
    assert unsafe == [("support", "Offshore Calls Ltd (IN)")]
    marketing = next(p for p in dm.purposes if p.purpose == "marketing")
    assert marketing.categories == ("user.contact.email",)  # limited to its categories
    assert report.summary()["transfers_without_safeguard"] == 1


def test_findings_heat_map_cells(report: governance.GovernanceReport) -> None:
    cells = {(c.table, c.entity): c for c in report.findings.cells}
    assert cells[("customers", "PERSON")].columns == ("name", "notes")
    assert cells[("customers", "PHONE_NUMBER")].share == pytest.approx(0.8)
    (free,) = report.findings.free_text
    assert (free.table, free.column, free.rows_with_mentions) == ("customers", "notes", 2)
    assert free.mentions == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert set(report.findings.unscanned) == {"archive", "consents", "extra"}


def test_retention_now_forecast_and_holds(report: governance.GovernanceReport) -> None:
    ret = report.retention
    assert ret.months[:3] == ("2026-11", "2026-12", "2027-01") and len(ret.months) == 12
    (line,) = ret.lines
    assert (line.expired, line.held, str(line.oldest)) == (1, 1, "2020-01-01")
    assert line.legal_hold == ("legal_hold = True",)
    # C4 (2024-11-20) is due in November 2026, C3 (2024-12-10) in December; C5 after 2027
    assert line.upcoming == (1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def test_consent_current_withdrawn_never_asked(report: governance.GovernanceReport) -> None:
    (line,) = report.consent.lines
    assert line.purpose == "marketing"
    assert (line.current, line.withdrawn, line.never_asked) == (2, 3, 4)
    assert (line.processed, line.processed_without_consent) == (8, 7)
    assert line.tables == ("newsletter", "customers")


def test_open_requests_tasks_and_review(report: governance.GovernanceReport) -> None:
    q = report.requests
    assert [r.request_id for r in q.open] == ["R1", "R3", "R2"]  # most urgent first
    r1, r3, r2 = q.open
    assert (r1.days_left, r1.overdue) == (-14, True)
    assert r3.state == "done" and r3.owed_tasks == 1 and r3.overdue  # billing still owed
    assert (r2.days_left, r2.overdue) == (16, False)
    assert [(v.table, v.open, v.best_score) for v in r2.review] == [("customers", 2, 0.95)]
    assert (q.review_open, q.overdue, q.by_state["done"]) == (2, 2, 2)


def test_request_tables_of_other_branches_are_optional(tmp_path: Path) -> None:
    build(tmp_path / "ws", tracked=False)
    report = _report(tmp_path / "ws")
    q = report.requests
    assert not q.tasks_tracked and not q.review_tracked
    assert [r.request_id for r in q.open] == ["R1", "R2"]  # R3 looks done without its tasks
    assert "not tracked in this workspace" in render_html(report)


def test_integrity_verified_then_tampered(report_ws: Path) -> None:
    report = _report(report_ws)
    assert report.integrity.verified and report.integrity.entries == 4  # + the withdrawal
    assert [a.seq for a in report.integrity.last_entries] == [4, 3, 2, 1]
    assert report.integrity.never_scanned == ("archive", "consents", "extra")
    with Workspace.open(report_ws) as ws:
        ws.con.execute("UPDATE _tutela.audit_log SET result = 'nothing' WHERE seq = 2")
    tampered = _report(report_ws)
    assert not tampered.integrity.verified
    assert any("entry 2" in p for p in tampered.integrity.problems)
    assert "AUDIT CHAIN NOT VERIFIED" in render_html(tampered)


def _svgs(page: str) -> list[str]:
    return [
        base64.b64decode(data).decode("utf-8")
        for data in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    ]


def test_html_is_self_contained_with_a_table_per_chart(
    report: governance.GovernanceReport,
) -> None:
    page = render_html(report)
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # nothing is loaded: images are data: URLs, links are anchors within the page
    assert set(re.findall(r'\bsrc="([a-z]+):', page)) == {"data"}
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    for section in ("data-map", "findings", "retention", "consent", "requests", "integrity"):
        assert f'<section id="{section}">' in page
    figures = re.findall(r"<figure.*?</figure>\s*(?:<div class=\"pair\">)?\s*<table", page)
    assert page.count("<figure") == 5 and len(figures) == 5  # each chart: its table next
    svgs = _svgs(page)
    assert len(svgs) == 5 and all(s.lstrip().startswith("<svg") for s in svgs)
    assert all("<image" not in s and 'href="http' not in s for s in svgs)
    assert 'class="overdue"' in page and "OVERDUE by 14 days" in page


def test_no_personal_values_anywhere(report: governance.GovernanceReport) -> None:
    page = render_html(report)
    text = page + "".join(_svgs(page)) + json.dumps(report.to_dict(), default=str)
    for value in [*PERSONAL_VALUES, MASKED_EXAMPLE]:
        assert value not in text, value


def test_chart_specs_are_valid_vega_lite(report: governance.GovernanceReport) -> None:
    """Every spec against the Vega-Lite JSON schema that altair (a dev dependency) ships:
    read from its file, without importing altair (which takes seconds)."""
    import importlib.util

    import jsonschema

    spec = importlib.util.find_spec("altair")
    assert spec is not None and spec.submodule_search_locations
    root = Path(spec.submodule_search_locations[0])
    validator = jsonschema.Draft7Validator(
        json.loads((root / "vegalite/v6/schema/vega-lite-schema.json").read_text("utf-8"))
    )
    made = [
        charts.data_map_chart(report.data_map),
        charts.heat_map_chart(report.findings),
        charts.retention_chart(report.retention),
        charts.consent_chart(report.consent.lines),
        charts.requests_chart(report.requests.open),
    ]
    for chart in made:
        assert chart is not None
        assert [e.message for e in validator.iter_errors(chart.to_dict())] == []
    broken = made[0].to_dict() | {"mark": "barr"}  # the check can fail
    assert list(validator.iter_errors(broken))


def test_large_data_map_draws_straight_edges(report: governance.GovernanceReport) -> None:
    import dataclasses

    many = dataclasses.replace(
        report.data_map,
        flows=report.data_map.flows * (charts.CURVED_UP_TO // len(report.data_map.flows) + 1),
    )
    chart = charts.data_map_chart(many)
    assert chart is not None and "segments" in chart.data and "points" not in chart.data


def test_empty_workspace_still_renders(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ntables:\n  t:\n    columns: {x: not_personal}\n")
    with Workspace.open(tmp_path / "ws") as ws:
        ws.con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with Workspace.open(tmp_path / "ws", read_only=True) as ws:
        report = governance.build(ws, load_policy(policy).policy, as_of=AS_OF)
    page = render_html(report)
    assert "The policy declares no retention period." in page
    assert "No purpose of the policy is based on consent." in page
    assert report.integrity.verified and report.integrity.entries == 0


# -- the command -----------------------------------------------------------------------------


def _cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["-w", str(root), "report", "-p", str(root.parent / "policy.yaml"), *args]
    )


def test_cli_writes_a_private_file_and_never_clobbers(report_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "governance.html"
    result = _cli(report_ws, "--out", str(out), "--as-of", "2026-11-15")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out.resolve())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Shop Test S.L." in out.read_text(encoding="utf-8")
    assert "2 data-subject request(s) overdue" in result.stderr
    again = _cli(report_ws, "--out", str(out), "--format", "json")
    assert again.exit_code == 2 and "error[usage]" in again.stderr
    assert "--force" in again.stderr and "Shop Test S.L." in out.read_text(encoding="utf-8")
    forced = _cli(report_ws, "--out", str(out), "--format", "json", "--force")
    assert forced.exit_code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["tables"] == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tutela-")] == []


def test_cli_json_equals_the_library(report_ws: Path) -> None:
    result = _cli(report_ws, "--format", "json", "--as-of", "2026-11-15")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = json.loads(to_json(_report(report_ws).to_dict()))
    for volatile in ("generated_at",):
        data.pop(volatile), expected.pop(volatile)
    assert data == expected
    assert data["summary"]["unclassified_columns"] == 1


def test_cli_bad_as_of_and_missing_directory(report_ws: Path, tmp_path: Path) -> None:
    bad = _cli(report_ws, "--as-of", "15/11/2026")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
    nowhere = _cli(report_ws, "--out", str(tmp_path / "no" / "such" / "r.html"))
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.stderr


def test_bulk_scan_reading_matches_load_stored_scan(report_ws: Path) -> None:
    """The report reads every stored scan in two queries; it must read what the detector's
    own `load_stored_scan` reads, table by table."""
    from tutela.detect import load_stored_scan
    from tutela.report.governance import _catalog, _stored_scans

    with Workspace.open(report_ws, read_only=True) as ws:
        tables = _catalog(ws)
        assert tables == {t: {c.name: c.type for c in ws.columns(t)} for t in ws.user_tables()}
        bulk = _stored_scans(ws, tables)
        one_by_one = {t: s for t in tables if (s := load_stored_scan(ws.con, t)) is not None}
    assert bulk == one_by_one and set(bulk) == {"customers", "newsletter"}


def test_a_human_decision_holds_in_the_report(report_ws: Path) -> None:
    """`tutela classify` says `customers.notes` holds no personal data: the report no longer
    flags it as unclassified personal data, as `policy check` does not."""
    decided = CliRunner().invoke(
        app,
        ["-w", str(report_ws), "classify", "customers.notes", "--not-personal", "--reason",
         "delivery slots only"],
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    crm = next(t for t in _report(report_ws).data_map.tables if t.table == "customers")
    assert crm.unclassified == ()
    assert "notes" not in {c.column for c in crm.personal} and len(crm.personal) == 5
