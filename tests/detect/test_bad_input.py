"""Bad input: the scan completes, explains what it skipped, and never crashes."""

from __future__ import annotations

import duckdb
import pytest

from tests.detect import synth
from tests.detect.conftest import MakeTable, scan_columns
from tutela.base.errors import TableNotFoundError
from tutela.detect import scan_table


def test_empty_table(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    make_table("empty", {"email": [], "dni": []})
    scan = scan_table(con, "empty")
    assert scan.rows == 0
    assert [(c.column, c.entity, c.non_empty) for c in scan.columns] == [
        ("email", None, 0),
        ("dni", None, 0),
    ]


def test_all_null_column(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    make_table("t", {"email": [None] * 50, "dni": synth.dni(50)})
    cols = scan_columns(con, "t")
    assert cols["email"].entity is None and cols["email"].non_empty == 0
    assert cols["dni"].entity == "NATIONAL_ID"


def test_blank_strings_count_as_empty(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"email": ["", "  ", None] * 30 + ["ana@example.com"] * 10})
    found = scan_columns(con, "t")["email"]
    assert found.non_empty == 10
    assert found.entity == "EMAIL_ADDRESS"


def test_ten_megabyte_cell(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    big = "x" * (10 * 1024 * 1024)
    make_table("t", {"blob_text": [big] + ["hola"] * 9, "email": ["a@example.com"] * 10})
    cols = scan_columns(con, "t")
    assert cols["email"].entity == "EMAIL_ADDRESS"
    assert cols["blob_text"].entity is None


def test_binary_and_nested_columns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE t AS SELECT
            '\\xDE\\xAD'::BLOB AS payload,
            ['ana@example.com', 'x'] AS emails,
            {'name': 'Ana', 'mail': 'ana@example.com'} AS contact,
            MAP {'k': 'v'} AS attrs,
            i AS n
        FROM range(20) t(i)"""
    )
    cols = scan_columns(con, "t")
    assert cols["payload"].skipped == "binary"
    assert cols["emails"].skipped is None
    assert cols["emails"].entity == "EMAIL_ADDRESS" and cols["emails"].free_text
    assert cols["contact"].entity == "EMAIL_ADDRESS"
    assert cols["attrs"].entity is None
    assert cols["n"].entity is None


def test_mixed_values_in_one_column(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    values = synth.dni(20) + ["ana@example.com"] * 20 + ["12.5"] * 20 + [None] * 20 + ["Gold"] * 20
    make_table("t", {"misc": values})
    found = scan_columns(con, "t")["misc"]
    # No entity holds a majority, but a quarter of the values are personal data: the column
    # is reported as free text holding mentions, with the share (issue #18: sparse PII).
    assert found.evidence["value_fractions"]["NATIONAL_ID"] == pytest.approx(0.25)
    assert found.entity in ("NATIONAL_ID", "EMAIL_ADDRESS") and found.free_text
    assert found.evidence["sparse"]["share"] == pytest.approx(0.25)
    assert found.confidence < 0.9


def test_five_hundred_columns(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"'v' || (i % {k + 2})::VARCHAR AS \"c{k}\"" for k in range(498))
    con.execute(
        f"CREATE TABLE wide AS SELECT {cols}, 'user' || i::VARCHAR || '@example.com' AS email, "
        "i AS id FROM range(100) t(i)"
    )
    scan = scan_table(con, "wide")
    assert len(scan.columns) == 500
    assert [c.column for c in scan.columns if c.entity] == ["email"]


def test_awkward_identifiers_are_quoted(con: duckdb.DuckDBPyConnection) -> None:
    con.execute('CREATE TABLE "we""ird table" ("e-mail ""x""" VARCHAR, "select" VARCHAR)')
    con.execute(
        "INSERT INTO \"we\"\"ird table\" SELECT 'p' || i::VARCHAR || '@example.com', 'x' "
        "FROM range(10) t(i)"
    )
    cols = scan_columns(con, 'we"ird table')
    assert cols['e-mail "x"'].entity == "EMAIL_ADDRESS"


def test_values_with_quotes_and_regex_metacharacters(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"x": ["O'Brien", "a'); DROP TABLE t; --", "(.*)+[", "\\", "%_"] * 10})
    scan = scan_table(con, "t")
    assert scan.rows == 50
    assert con.execute("SELECT count(*) FROM t").fetchone() == (50,)


def test_unknown_table(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(TableNotFoundError):
        scan_table(con, "nope")


def test_progress_is_reported(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    make_table("t", {"email": ["a@example.com"] * 10, "x": ["1"] * 10})
    seen: list[float] = []
    scan_table(con, "t", progress=lambda label, fraction: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


@pytest.mark.parametrize("own_rowid", [False, True])
def test_the_sample_is_spread_over_the_table_not_its_first_rows(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, own_rowid: bool
) -> None:
    """6,000 DNIs, the last 1,500 with a wrong letter: the checks run on a sample of 4,000
    rows, which must hold about a quarter of wrong ones (the first 4,000 rows hold none).
    Also when the table has a column named rowid (a constant here), which hides DuckDB's
    row address that the sample is drawn by."""
    values = synth.dni(4500) + synth.dni_invalid(1500)
    columns: dict[str, list[object]] = {"dni": list(values)}
    if own_rowid:
        columns = {"rowid": [7] * len(values), **columns}
    make_table("t", columns)
    validated = scan_columns(con, "t")["dni"].evidence["validated"]["ES_DNI"]
    share = validated["valid"] / validated["checked"]
    assert 0.65 < share < 0.85, validated


def test_a_view_is_scanned_with_a_sample_of_its_own(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    """A view has no row address to draw the sample by (a user may create one in the
    workspace with DuckDB itself): it gets a reservoir sample, not an error."""
    make_table("t", {"dni": synth.dni(4500) + synth.dni_invalid(1500)})
    con.execute("CREATE VIEW v AS SELECT * FROM t")
    validated = scan_columns(con, "v")["dni"].evidence["validated"]["ES_DNI"]
    assert 0.65 < validated["valid"] / validated["checked"] < 0.85, validated
