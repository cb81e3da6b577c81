"""Odd input a new user met (issue #15 items 6, 6b, 7, 8, 10b): never garbled, never
silently re-typed, sane limits with line numbers, readable names, escaped display."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tutela.ingest import load_files, table_name_for
from tutela.workspace import Workspace
from tutela.workspace import local_ident as table_ident

Cli = Callable[..., Result]


def _one(ws: Workspace, path: Path) -> object:
    [result] = load_files(ws, [path])
    return result


def test_mixed_cp1252_and_utf8_lines_are_refused_with_the_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "id,name\n1,José Núñez\n2,Anaïs Lefèvre\n".encode("cp1252")
        + "3,Zoë Müller\n".encode()
        + "4,Göran Åström\n".encode("cp1252")
    )
    result = _one(workspace, path)
    assert result.error is not None, "mixed encodings loaded silently"  # type: ignore[attr-defined]
    message = result.error.message  # type: ignore[attr-defined]
    assert f"{path}:4: this line is UTF-8" in message and "line 2" in message
    assert not workspace.has_table("mixed")


def test_one_legacy_encoding_still_loads(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "caps.csv"
    path.write_bytes("id,miasto\n1,WÓŁCZYŃSKI\n2,Łódź\n3,Gdańsk\n".encode("cp1250"))
    result = _one(workspace, path)
    assert result.error is None, result.error  # type: ignore[attr-defined]
    names = {r[0] for r in workspace.query(f"SELECT miasto FROM {table_ident('caps')}")}
    assert names == {"WÓŁCZYŃSKI", "Łódź", "Gdańsk"}


def test_typed_sources_keep_their_types(workspace: Workspace, tmp_path: Path) -> None:
    """Parquet VARCHAR and JSON strings stay text; only all-text CSV is inferred."""
    pq = tmp_path / "phones.parquet"
    workspace.con.execute(f"COPY (SELECT '600000030' AS phone, 7 AS n) TO '{pq}' (FORMAT parquet)")
    js = tmp_path / "phones_json.jsonl"
    js.write_text('{"phone": "600000031", "n": 8}\n', encoding="utf-8")
    csv = tmp_path / "phones_csv.csv"
    csv.write_text("phone,n\n600000032,9\n", encoding="utf-8")
    for path in (pq, js, csv):
        assert _one(workspace, path).error is None  # type: ignore[attr-defined]
    types = {
        t: {r[0]: r[1] for r in workspace.con.execute(f"DESCRIBE {table_ident(t)}").fetchall()}
        for t in ("phones", "phones_csv")
    }
    assert types["phones"]["phone"] == "VARCHAR" and types["phones"]["n"] == "INTEGER"
    assert types["phones_csv"]["phone"] == "BIGINT"


def test_excel_text_cells_stay_text(workspace: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["phone", "amount"])
    sheet.append(["600000030", 12])
    sheet.append(["600000031", 13])
    path = tmp_path / "cells.xlsx"
    book.save(path)
    assert _one(workspace, path).error is None  # type: ignore[attr-defined]
    types = {r[0]: r[1] for r in workspace.con.execute("DESCRIBE cells").fetchall()}
    assert types == {"phone": "VARCHAR", "amount": "BIGINT"}


def test_a_file_without_line_breaks_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "oneline.csv"
    path.write_text("x" * 200_000, encoding="utf-8")
    result = _one(workspace, path)
    assert result.error is not None  # type: ignore[attr-defined]
    assert f"{path}:1: no line break" in result.error.message  # type: ignore[attr-defined]


def test_an_overlong_column_name_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("id," + "n" * 1000 + "\n1,2\n", encoding="utf-8")
    result = _one(workspace, path)
    assert result.error is not None  # type: ignore[attr-defined]
    assert "column 2 has a name of 1,000 characters" in result.error.message  # type: ignore[attr-defined]


def test_an_overlong_data_line_names_its_line(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,note\n1,short\n2,short\n")
        fh.write("3," + "y" * (50 * 1024 * 1024) + "\n4,short\n")
    result = _one(workspace, path)
    assert result.error is not None  # type: ignore[attr-defined]
    assert f"{path}:4:" in result.error.message, result.error.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stem", "expected"),
    [("לקוחות", "lkvhvt"), ("عملاء 2024", "ml_2024"), ("Πελάτες", "pelates"), ("客户", "kehu")],
)
def test_table_names_in_other_scripts_stay_readable(stem: str, expected: str) -> None:
    assert table_name_for(stem) == expected
    assert table_name_for("לקוחות") != table_name_for("ספקים")  # distinct, not all `table`


def test_names_without_letters_do_not_collide() -> None:
    a, b = table_name_for("★★"), table_name_for("☆☆")
    assert a != b and a.startswith("table_") and b.startswith("table_")
    assert "\u202e" not in table_name_for("invoice\u202eslx.csv")


def test_control_characters_are_shown_escaped(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "evil\u202etxt.csv"
    path.write_text("name\u202e,x\nA\u202eB,1\n", encoding="utf-8")
    loaded = cli("load", str(path))
    assert loaded.exit_code == 0, loaded.output
    for args in (["tables"], ["sources"], ["show", table_name_for(path.stem)]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert "\u202e" not in result.output, args  # never the raw override
        if args != ["sources"]:  # (eleven columns: the path is folded over lines there)
            assert "\\u202e" in result.output, args


def test_pandas_index_header_gets_a_generated_name(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pandas.csv"
    path.write_text(",name,city\n0,Anna,Vic\n1,Joan,Reus\n", encoding="utf-8")
    result = cli("load", str(path))
    assert result.exit_code == 0, result.output
    assert "column 1 has no name in the header; loaded as 'column_1'" in result.stderr
    shown = cli("show", "pandas", "--format", "json")
    assert shown.exit_code == 0
    assert '"column_1": 0' in shown.stdout.replace("\n", "").replace("  ", " ") or (
        '"column_1"' in shown.stdout
    )
