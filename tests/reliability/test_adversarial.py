"""Hostile table, column, file and sheet names, report paths that try to leave their
directory, and CSV exports of spreadsheet formulas: quoted, refused or neutralised, never
executed and never corrupting the workspace."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from tutela import audit, keyguard
from tutela.base import keys
from tutela.cli.app import app
from tutela.workspace import Workspace

pytestmark = pytest.mark.reliability

HOSTILE = [
    'quo"te',
    "single'quote",
    "semi;colon",
    "x; DROP TABLE victim; --",
    "select",
    "from",
    "table",
    "a/b\\c",
    "../../etc/passwd",
    "tab\tand\rcr",
    "bell\x07esc\x1b[31m",
    "ünïcödé ελληνικά",
    "L" * 300,
    " spaced  out ",
    "%s{0}$1",
]


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args])


def _victim(root: Path) -> None:
    with Workspace.open(root) as ws:
        ws.con.execute("CREATE TABLE victim AS SELECT 1 AS id")
    keys.init_keyset(root)


def _intact(root: Path) -> None:
    with Workspace.open(root) as ws:
        assert ws.query("SELECT * FROM victim") == [(1,)]
        assert audit.verify(ws.con, keyguard.workspace_key(ws)).ok


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_table_names_via_table_option(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ws"
    _victim(root)
    src = tmp_path / "in.csv"
    src.write_text("id,email\n1,a@example.com\n")
    r = _run(root, "load", str(src), "--table", name)
    if r.exit_code == 0:
        with Workspace.open(root) as ws:
            assert name in ws.user_tables()
        for args in (["show", name], ["scan", name, "--format", "json"], ["tables"]):
            assert _run(root, *args).exit_code in (0, 1), args
    else:
        assert "error[" in r.stderr and "Traceback" not in r.stderr
    _intact(root)


def test_hostile_file_and_column_names(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _victim(root)
    stems = [n for n in HOSTILE if "/" not in n and "\\" not in n and "\x00" not in n]
    files = []
    for i, stem in enumerate(stems):
        # a column per hostile name, the file named after one of them
        header = ",".join('"' + n.replace('"', '""') + '"' for n in HOSTILE)
        path = tmp_path / f"{stem[:100]}{i}.csv"
        path.write_text(header + "\n" + ",".join(str(j) for j in range(len(HOSTILE))) + "\n")
        files.append(str(path))
    r = _run(root, "load", *files, "--format", "json")
    assert r.exit_code in (0, 4), r.stderr
    assert "Traceback" not in r.stderr
    with Workspace.open(root) as ws:
        tables = [t for t in ws.user_tables() if t != "victim"]
        assert tables, r.stderr
        for t in tables:  # every name is a plain sanitised identifier
            assert t.isascii() and t.replace("_", "").isalnum() and len(t) <= 63
        loaded = [c.name for c in ws.columns(tables[0])]
    assert set(HOSTILE) - {" spaced  out "} <= set(loaded) | {n.strip() for n in loaded}
    assert _run(root, "scan", "--format", "json").exit_code in (0, 1)
    hostile_cols = ",".join(c for c in loaded if "," not in c and "=" not in c)
    r = _run(root, "pseudonymize", tables[0], "--columns", hostile_cols, "--apply")
    assert r.exit_code in (0, 2), r.stderr
    assert "Traceback" not in r.stderr
    _intact(root)


@pytest.mark.parametrize("sheet", ["'; DROP TABLE victim; --", 'x"y', "select", "Ü" * 31])
def test_hostile_sheet_names(tmp_path: Path, sheet: str) -> None:
    root = tmp_path / "ws"
    _victim(root)
    book = openpyxl.Workbook()
    ws0 = book.active
    assert ws0 is not None
    ws0.title = sheet
    ws0.append(["id", 'na"me'])
    ws0.append([1, "x"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    r = _run(root, "load", str(path), "--sheet", sheet)
    assert r.exit_code == 0, r.stderr
    _intact(root)


SHOP_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: email, kind: email}
tables:
  crm:
    columns:
      email: EMAIL_ADDRESS
      note: {personal: false}
purposes:
  billing:
    legal_basis: contract
    tables: [crm]
"""


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        ws.con.execute(
            "CREATE TABLE crm AS SELECT * FROM (VALUES "
            "('anna@example.com', '=HYPERLINK(\"http://evil\",\"x\")'), "
            "('b@example.com', '+1+cmd|'' /C calc''!A0'), ('c@example.com', '-2+3'), "
            "('d@example.com', '@SUM(A1:A2)'), ('e@example.com', '-12.5'), "
            "('f@example.com', '\tTAB'), ('g@example.com', 'plain')) t(email, note)"
        )
    keys.init_keyset(root)
    policy = tmp_path / "policy.yaml"
    policy.write_text(SHOP_POLICY)
    return root, policy


@pytest.mark.parametrize(
    "request_id", ["../../x", "/etc/passwd", "..", "a/../../b", "..\\..\\x", "\x00x", "." * 200]
)
def test_report_paths_stay_in_the_output_dir(
    shop: tuple[Path, Path], tmp_path: Path, request_id: str
) -> None:
    root, policy = shop
    out = tmp_path / "deep" / "reports"
    before = {p for p in tmp_path.rglob("*")}
    r = _run(root, "sar", "--email", "anna@example.com", "--request-id", request_id,
             "--out", str(out), "-p", str(policy), "--format", "json")  # fmt: skip
    assert r.exit_code in (0, 2), r.stderr
    assert "Traceback" not in r.stderr
    new = {p for p in tmp_path.rglob("*")} - before
    for p in new:
        if p.is_file() and root not in p.parents:  # the workspace writes its own files
            assert out.resolve() in p.resolve().parents, f"{p} escaped {out}"
            assert p.stat().st_mode & 0o077 == 0, f"{p} is not private"


def test_out_pointing_at_a_file_is_refused(shop: tuple[Path, Path], tmp_path: Path) -> None:
    root, policy = shop
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("keep me")
    for args in (
        ["sar", "--email", "anna@example.com", "--out", str(blocker)],
        ["erase", "--email", "anna@example.com", "--apply", "--out", str(blocker)],
    ):
        r = _run(root, *args, "-p", str(policy))
        assert r.exit_code != 0 and "error[" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert blocker.read_text() == "keep me"
    with Workspace.open(root) as ws:  # the refused erasure changed nothing
        assert ws.query("SELECT count(*) FROM crm") == [(7,)]


def test_csv_export_neutralises_formulas(shop: tuple[Path, Path], tmp_path: Path) -> None:
    root, policy = shop
    out = tmp_path / "x.csv"
    r = _run(root, "export", "crm", "--purpose", "billing", "--out", str(out), "-p", str(policy))
    assert r.exit_code == 0, r.stderr
    assert os.stat(out).st_mode & 0o077 == 0
    notes = [row["note"] for row in csv.DictReader(out.open(newline=""))]
    for value in notes:
        if value in ("plain", "-12.5"):
            continue  # plain text and negative numbers are data
        assert value.startswith("'"), f"formula not neutralised: {value!r}"
    assert "plain" in notes and "-12.5" in notes
    r = _run(root, "export", "crm", "--purpose", "billing", "--out", str(out), "-p", str(policy))
    assert r.exit_code != 0 and "error[" in r.stderr  # no silent overwrite without --force
    assert json.loads(_run(root, "audit", "verify", "--format", "json").stdout or "{}") is not None
