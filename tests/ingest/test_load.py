"""Loading every supported format and encoding, provenance, and every bad input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import asset, json_out
from tutela.base.errors import InputFileError, TableExistsError, WorkspaceError
from tutela.ingest import load_files, table_name_for
from tutela.workspace import Workspace
from tutela.workspace import local_ident as table_ident

Cli = Callable[..., Result]


def rows(ws: Workspace, table: str) -> list[tuple[object, ...]]:
    return ws.con.execute(f"SELECT * FROM {table_ident(table)} ORDER BY ALL").fetchall()


@pytest.mark.parametrize(
    ("name", "encoding", "expected"),
    [
        ("utf8.csv", "utf-8", ("C002", "Paweł Żółkiewski")),
        ("utf8_bom_semicolon.csv", "utf-8-sig", ("C003", "Γιώργος Ρίζος")),
        ("utf16.csv", "utf-16", ("C001", "Núria Puig i Soler")),
    ],
)
def test_unicode_csv_round_trips(
    workspace: Workspace, name: str, encoding: str, expected: tuple[str, str]
) -> None:
    [result] = load_files(workspace, [asset("ingest", name)])
    assert result.error is None, result.error
    assert result.encoding == encoding
    assert result.rows == 4
    table = result.table
    assert table is not None
    got = workspace.con.execute(
        f"SELECT id, full_name, postcode, birth_date FROM {table_ident(table)} WHERE id = ?",
        [expected[0]],
    ).fetchone()
    assert got is not None
    assert got[:2] == expected
    # postcodes keep their leading zeros; ISO dates become DATE
    types = {c["name"]: c["type"] for c in result.columns}
    assert types["postcode"] == "VARCHAR"
    assert types["birth_date"] == "DATE"


@pytest.mark.parametrize(
    ("name", "encoding", "column", "expected"),
    [
        ("cp1250_pl.csv", "cp1250", "miasto", ["Gdańsk", "Kraków", "Łódź"]),
        ("cp1253_gr.tsv", "cp1253", "πόλη", ["Αθήνα", "Θεσσαλονίκη"]),
        ("iso8859_7_gr.csv", "iso8859_7", "επώνυμο", ["Παπαδοπούλου", "Ρίζος"]),
        ("cp1252_es.csv", "cp1252", "ciudad", ["Lleida", "Logroño"]),
    ],
)
def test_legacy_encodings_are_detected_and_decoded_exactly(
    workspace: Workspace, name: str, encoding: str, column: str, expected: list[str]
) -> None:
    [result] = load_files(workspace, [asset("ingest", name)])
    assert result.error is None, result.error
    assert result.encoding in (encoding, "cp1253" if encoding == "iso8859_7" else encoding)
    assert result.table is not None
    values = workspace.con.execute(
        f'SELECT "{column}" FROM {table_ident(result.table)} ORDER BY 1'
    ).fetchall()
    assert [v[0] for v in values] == expected


def test_json_array_and_ndjson_are_flattened(workspace: Workspace) -> None:
    results = load_files(
        workspace, [asset("ingest", "array.json"), asset("ingest", "lines.ndjson")]
    )
    for result in results:
        assert result.error is None, result.error
        names = [c["name"] for c in result.columns]
        assert names == ["id", "customer.name", "customer.contact.email", "tags"]
        assert result.rows == 4
    email = workspace.con.execute(
        'SELECT "customer.contact.email" FROM lines WHERE id = ?', ["C003"]
    ).fetchone()
    assert email == ("g.rizos@example.gr",)


def test_parquet_with_struct(workspace: Workspace) -> None:
    [result] = load_files(workspace, [asset("ingest", "nested.parquet")])
    assert result.error is None
    assert rows(workspace, "nested") == [
        (1, "Núria", "Vic", "08500"),
        (2, "Γιώργος", "Αθήνα", "10558"),
    ]


def test_excel_every_sheet_or_one(workspace: Workspace) -> None:
    results = load_files(workspace, [asset("ingest", "book.xlsx")])
    assert [(r.table, r.rows) for r in results] == [("book_orders", 2), ("book_returns", 1)]
    assert rows(workspace, "book_returns") == [("R-1", "ORD-2", "talla incorrecta")]
    types = {c["name"]: c["type"] for c in results[0].columns}
    assert types["amount"] == "DECIMAL(3,1)"
    [only] = load_files(workspace, [asset("ingest", "book.xlsx")], sheet="returns", table="ret")
    assert (only.table, only.rows) == ("ret", 1)


def test_provenance_is_recorded(workspace: Workspace) -> None:
    [result] = load_files(workspace, [asset("ingest", "utf8.csv")], source="crm")
    record = workspace.con.execute(
        "SELECT source_system, path, sha256, size_bytes, row_count, format, encoding, delimiter, "
        "tool_version FROM _tutela.sources WHERE table_name = 'utf8'"
    ).fetchone()
    assert record is not None
    source, path, sha, size, count, fmt, enc, delim, version = record
    assert source == "crm"
    assert path == str(asset("ingest", "utf8.csv").resolve())
    assert sha == result.sha256 and len(sha) == 64
    assert size == asset("ingest", "utf8.csv").stat().st_size
    assert (count, fmt, enc, delim) == (4, "csv", "utf-8", ",")
    assert version


def test_reload_same_file_is_a_noop_and_changed_file_needs_replace(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("id,email\n1,a@example.com\n", encoding="utf-8")
    assert load_files(workspace, [path])[0].status == "loaded"
    assert load_files(workspace, [path])[0].status == "unchanged"
    path.write_text("id,email,phone\n1,a@example.com,600000000\n2,b@example.com,\n", "utf-8")
    [refused] = load_files(workspace, [path])
    assert isinstance(refused.error, TableExistsError)
    assert workspace.row_count("crm") == 1  # untouched
    [replaced] = load_files(workspace, [path], replace=True)
    assert replaced.status == "replaced" and replaced.rows == 2
    assert replaced.schema_change is not None
    assert replaced.schema_change.added == ["phone"]
    path.write_text("id,email\nX1,a@example.com\n", "utf-8")
    [retyped] = load_files(workspace, [path], replace=True)
    assert retyped.schema_change is not None
    assert retyped.schema_change.removed == ["phone"]
    assert retyped.schema_change.retyped == [{"column": "id", "from": "BIGINT", "to": "VARCHAR"}]


def test_quotes_and_sql_in_file_and_header_names(workspace: Workspace) -> None:
    [result] = load_files(workspace, [asset("ingest", 'we"ird;name.csv')])
    assert result.error is None, result.error
    assert result.table == "we_ird_name"
    assert [c["name"] for c in result.columns] == ['a"b', "drop table x;--", "SELECT * FROM t"]
    assert rows(workspace, "we_ird_name") == [(1, 2, 3)]


def test_table_names_are_sanitised() -> None:
    assert table_name_for("Clientes 2024 (ES)") == "clientes_2024_es"
    assert table_name_for("2024-orders") == "t_2024_orders"
    assert table_name_for("Łódź;DROP TABLE x") == "lodz_drop_table_x"
    assert table_name_for('";--').startswith("table_")  # issue #15 item 8: a unique name


BAD_INPUTS = [
    ("missing.csv", "no such file"),
    ("empty.csv", "file is empty"),
    ("junk.csv", "binary data, not a text file"),
    ("ragged.csv", "ragged.csv:3: expected 2 columns, found 3"),
    ("bad_utf8.csv", "bad_utf8.csv:3: bytes that are not valid UTF-8"),
    ("duplicate_columns.csv", "duplicate column name 'email'"),
    ("empty_column_name.csv", "column 2 has an empty name"),
    ("not_parquet.parquet", "not a Parquet file"),
    ("broken.json", "broken.json"),
    ("not_excel.xlsx", "not a readable .xlsx workbook"),
]


@pytest.mark.parametrize(("name", "message"), BAD_INPUTS)
def test_bad_input_gives_one_clear_error_and_loads_nothing(
    cli: Cli, name: str, message: str
) -> None:
    result = cli("load", str(asset("ingest", name)))
    assert result.exit_code == 4
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.lstrip().startswith("error[")
    tables = cli("tables", "--format", "json")
    assert json_out(tables)["tables"] == []


def test_unreadable_file(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.csv"
    path.write_text("a\n1\n")
    real_open = Path.open

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == "secret.csv":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", deny)  # chmod 000 does not stop root, who runs CI
    result = cli("load", str(path))
    assert result.exit_code == 4
    assert "secret.csv: cannot read file (Permission denied)" in result.stderr


def test_header_only_file_loads_empty_table(workspace: Workspace) -> None:
    [result] = load_files(workspace, [asset("ingest", "header_only.csv")])
    assert result.error is None
    assert result.rows == 0


def test_good_files_load_even_when_one_fails(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "load",
        str(asset("ingest", "utf8.csv")),
        str(asset("ingest", "ragged.csv")),
        "--format",
        "json",
    )
    assert result.exit_code == 4
    statuses = {r["path"].rsplit("/", 1)[-1]: r["status"] for r in json_out(result)["results"]}
    assert statuses == {"utf8.csv": "loaded", "ragged.csv": "failed"}


def test_cli_json_equals_library(cli: Cli, ws_path: Path) -> None:
    result = cli("load", str(asset("ingest", "utf8.csv")), "--source", "crm", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [loaded] = json_out(result)["results"]
    assert loaded["table"] == "utf8" and loaded["rows"] == 4 and loaded["status"] == "loaded"
    sources = json_out(cli("sources", "--format", "json"))["sources"]
    assert sources[0]["sha256"] == loaded["sha256"]
    assert sources[0]["source_system"] == "crm"
    tables = json_out(cli("tables", "--format", "json"))["tables"]
    assert tables == [
        {
            "table": "utf8",
            "rows": 4,
            "columns": 5,
            "source": "crm",
            "path": str(asset("ingest", "utf8.csv").resolve()),
        }
    ]
    shown = json_out(cli("show", "utf8", "--limit", "1", "--format", "json"))
    assert shown["rows"][0]["id"] == "C001"


def test_show_unknown_table(cli: Cli) -> None:
    cli("load", str(asset("ingest", "utf8.csv")))
    result = cli("show", "nope")
    assert result.exit_code == 2
    assert "no table named 'nope'" in result.stderr


def test_commands_on_missing_workspace_fail_clearly(cli: Cli) -> None:
    result = cli("tables")
    assert result.exit_code == 4
    assert "no workspace" in result.stderr


def test_explicit_encoding_override(workspace: Workspace, tmp_path: Path) -> None:
    copy = tmp_path / "pl.csv"
    shutil.copy(asset("ingest", "cp1250_pl.csv"), copy)
    [result] = load_files(workspace, [copy], encoding="cp1250")
    assert result.error is None and result.encoding == "cp1250"
    [bad] = load_files(workspace, [copy], encoding="utf-8", table="again")
    assert isinstance(bad.error, InputFileError)


def test_export_quirks(workspace: Workspace, tmp_path: Path) -> None:
    """Shapes real exports take: a delimiter ending every line, old Mac line ends, a JSON
    wrapper object around the records, and JSON fields whose type varies by record."""
    files = {
        "trailing.csv": b"a;b;c;\n1;2;3;\n4;5;6;\n",
        "mac.csv": b"a,b\r1,2\r3,4\r",
        "wrapped.json": b'{"data": [{"id": 1, "name": "Anna"}, {"id": 2, "name": "Joan"}]}',
        "mixed.jsonl": b'{"id": 1, "v": "x"}\n{"id": "A2", "v": 3}\n',
        "quoted.csv": b'name,city\n"Puig, Anna",Vic\n"Soler\nJoan",Reus\n',
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    results = load_files(workspace, [tmp_path / n for n in files])
    assert [r.error for r in results] == [None] * len(files)
    assert rows(workspace, "trailing") == [(1, 2, 3), (4, 5, 6)]
    assert rows(workspace, "mac") == [(1, 2), (3, 4)]
    assert rows(workspace, "wrapped") == [(1, "Anna"), (2, "Joan")]
    assert rows(workspace, "mixed") == [("1", "x"), ("A2", "3")]
    assert rows(workspace, "quoted") == [("Puig, Anna", "Vic"), ("Soler\nJoan", "Reus")]
    (tmp_path / "full.csv").write_bytes(b"a;b;\n1;2;3\n")
    [bad] = load_files(workspace, [tmp_path / "full.csv"])
    assert bad.error is not None and "column 3 has an empty name but holds values" in str(bad.error)


def test_debug_shows_the_traceback(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tutela.cli.app import app

    result = CliRunner().invoke(app, ["--debug", "-w", "/nonexistent/ws", "tables"])
    assert result.exit_code != 0
    assert isinstance(result.exception, WorkspaceError)  # raised, not swallowed


def test_numbers_are_typed_without_loss(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("a,b,c\n1.10,123456789012.123456789,0012\n-3.5,1,7\n", encoding="utf-8")
    [result] = load_files(workspace, [path])
    types = {c["name"]: c["type"] for c in result.columns}
    assert types == {"a": "DECIMAL(3,2)", "b": "DECIMAL(21,9)", "c": "VARCHAR"}
    got = workspace.con.execute(
        "SELECT CAST(a AS VARCHAR), CAST(b AS VARCHAR), c FROM n ORDER BY c"
    ).fetchall()
    assert got == [("1.10", "123456789012.123456789", "0012"), ("-3.50", "1.000000000", "7")]


def test_excel_formula_without_saved_value_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "totals"
    ws.append(["order", "amount", "with_tax"])
    ws.append(["O1", 10, "=B2*1.21"])  # openpyxl saves the formula, not its value
    wb.save(tmp_path / "f.xlsx")
    [result] = load_files(workspace, [tmp_path / "f.xlsx"])
    assert result.error is not None
    assert "cell C2 holds a formula whose value was never saved" in str(result.error)
