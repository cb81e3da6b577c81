"""The scan's whole-column statistics and samples on Spark equal DuckDB's.

The statements are the ones `detect.engine.scan_table` really runs on DuckDB (recorded
through a connection that passes them on), translated by `to_spark_sql`, run on Spark over
the same rows, and compared result by result: counts exactly, averages to float rounding,
approximate distinct counts within three standard errors of Spark's HyperLogLog (the
two engines' sketches differ).
"""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from tutela.base.normalize import key_sql
from tutela.detect.engine import SAMPLE_ORDER, SAMPLE_ROWS, _raw_expr, scan_table
from tutela.detect.evidence import Column
from tutela.engine import Connection, connect
from tutela.engine import spark as engine_spark
from tutela.workspace import LocalTables

sqlglot = pytest.importorskip("sqlglot", reason="SPARK TESTS SKIPPED: sqlglot is not installed")


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def _dni(rng: random.Random) -> str:
    number = rng.randrange(10_000_000, 99_999_999)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def _rows(seed: int, n: int) -> list[tuple[Any, ...]]:
    """Generated people, with the mess real drops have: placeholders, NULL, empty, stray
    whitespace, trailing newlines, unicode (ß, accents, Greek), typos, wrong checksums."""
    rng = random.Random(seed)
    given = ["Anna", "Joan", "Laura", "Josep", "Jürgen", "Ελένη", "Zoë", "María José"]
    family = ["Gómez", "Pujol", "Straße", "Müller", "Παπαδοπούλου", "O'Neil", "Soler Roca"]
    mess = [None, "", "  ", "N/A", "-", "unknown", "NULL", "ΑΓΝΩΣΤΟ", "café\n", "x\u2028y"]
    out = []
    for i in range(n):
        name = f"{rng.choice(given)} {rng.choice(family)}"
        domain = rng.choice(["example.com", "ÉXAMPLE.es", "mail.co"])
        email = f"{_letters(rng, 6)}.{rng.randint(1, 99)}@{domain}"
        form = rng.random()  # as mail tools export addresses, now and then
        if form < 0.04:
            email = f"{name} <{email}>"
        elif form < 0.06:
            email = f"mailto:{email}"
        elif form < 0.07:
            email = f'"{email}" <{email}>'  # as Outlook writes it
        phone = rng.choice(["+34 6", "0034 6", "6", "+30 69", "(+44) 7"]) + "".join(
            rng.choice("0123456789 -.") for _ in range(rng.randint(6, 12))
        )
        if rng.random() < 0.04:  # an office line's extension
            phone += rng.choice([" ext. 12", " x7", " #204", ", Durchwahl: 3"])
        ident = _dni(rng) if rng.random() < 0.8 else _dni(rng)[:-1] + "A"
        ip = ".".join(str(rng.randint(0, 300)) for _ in range(4))
        address = rng.choice(["Calle Mayor", "Carrer de Pau", "Hauptstraße", "Οδός Ερμού"]) + (
            f" {rng.randint(1, 200)}, {rng.randint(10000, 52999)}"
        )
        when = f"{rng.randint(1900, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lat = round(rng.uniform(-95, 95), rng.choice([2, 3, 6]))
        row = [name, email, phone, ident, ip, address, when, f"{lat}", f"{_letters(rng, 3)}{i}"]
        for j in range(len(row)):
            if rng.random() < 0.06:
                row[j] = rng.choice(mess)
            elif rng.random() < 0.03:
                row[j] = f" {row[j]}\n"
        out.append(tuple(row))
    return out


COLUMNS = ["nombre", "email", "telefono", "dni", "ip", "direccion", "fecha_nacimiento",
           "latitude", "c9"]  # fmt: skip


def _duckdb_table(rows: list[tuple[Any, ...]]) -> Connection:
    con = connect(":memory:")
    con.execute(f"CREATE TABLE t ({', '.join(f'{c} VARCHAR' for c in COLUMNS)})")
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
    return con


def _to_spark(spark: Any, con: Connection) -> None:
    """The same rows as the Spark view `t`, with DuckDB's row addresses as `rowid` (as a
    lake table's view has them), through Arrow. Read on a cursor of its own: the scan
    leaves its last result unfinished on `con`, which blocks `con.sql` (DuckDB 2.0)."""
    rows = con.cursor().sql("SELECT rowid, * FROM t").to_arrow_table()
    spark.createDataFrame(rows).createOrReplaceTempView("t")


def _equal(duck: Any, spark: Any, projection: str) -> bool:
    if duck is None or spark is None:
        return duck is spark
    if "APPROX" in projection.upper():
        # two different sketches: Spark's errs by 5 % (one sd), DuckDB's by ~1.6 %
        return abs(duck - spark) <= max(2, 0.16 * duck)
    if isinstance(duck, float) or isinstance(spark, float):
        return abs(float(duck) - float(spark)) <= 1e-9 * max(1.0, abs(float(duck)))
    return bool(duck == spark)


def _compare(con: Connection, spark: Any, statement: str) -> list[str]:
    """Differences between DuckDB's and Spark's results of one statement (empty: same)."""
    translated = engine_spark.to_spark_sql(statement, tables={"main.t": "t"})
    duck_rows = con.execute(statement).fetchall()
    spark_rows = [tuple(r) for r in spark.sql(translated).collect()]
    if SAMPLE_ORDER in statement or "USING SAMPLE" in statement.upper():
        key = lambda row: tuple("" if v is None else str(v) for v in row)  # noqa: E731
        if sorted(duck_rows, key=key) != sorted(spark_rows, key=key):
            return [f"samples differ: {statement[:200]}"]
        return []
    if len(duck_rows) != len(spark_rows):
        return [f"{len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark"]
    select = sqlglot.parse_one(statement, read="duckdb")
    projections = [p.sql() for p in select.expressions]
    problems = []
    for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
        for projection, d, s in zip(projections, duck_row, spark_row, strict=True):
            if not _equal(d, s, projection):
                problems.append(f"{projection[:300]}: DuckDB {d!r}, Spark {s!r}")
    return problems


@pytest.fixture(scope="module")
def people() -> list[tuple[Any, ...]]:
    return _rows(seed=19, n=3000)  # under SAMPLE_ROWS: the samples hold every row


def test_scan_statements_give_the_same_results_on_spark(spark: Any, people: Any) -> None:
    assert len(people) < SAMPLE_ROWS
    con = _duckdb_table(people)
    recording = engine_spark.Recording(con)
    # its tables named (the recorder is no DuckDB connection): the statements it records
    # are the scan's, not those that look up the columns
    scan = scan_table(recording, "t", tables=LocalTables(con))  # type: ignore[arg-type]
    found = {c.column: c.entity for c in scan.columns if c.entity}
    assert {"email", "dni", "ip"} <= set(found), found  # the data exercises the shapes
    _to_spark(spark, con)
    statements = [
        s
        for s in recording.statements
        if s.lstrip().upper().startswith("SELECT") and "information_schema" not in s
    ]
    aggregates = [s for s in statements if "FILTER" in s.upper()]
    samples = [s for s in statements if SAMPLE_ORDER in s]
    assert aggregates and samples
    compared = sum(len(sqlglot.parse_one(s, read="duckdb").expressions) for s in aggregates)
    assert compared >= 40  # every column's counts and shape matches, not a handful
    problems = [p for s in statements for p in _compare(con, spark, s)]
    assert problems == [], "\n".join(problems)


def test_sample_of_a_large_table_is_the_same_rows_on_spark(spark: Any) -> None:
    rows = _rows(seed=5, n=SAMPLE_ROWS + 1500)
    con = _duckdb_table(rows)
    _to_spark(spark, con)
    statement = (
        f'SELECT "email", "dni" FROM (SELECT * FROM "main"."t" ORDER BY {SAMPLE_ORDER} '
        f"LIMIT {SAMPLE_ROWS})"
    )
    got = [
        tuple(r) for r in spark.sql(engine_spark.to_spark_sql(statement, {"main.t": "t"})).collect()
    ]
    expected = con.execute(statement).fetchall()
    assert len(got) == SAMPLE_ROWS
    assert sorted(got, key=str) == sorted(expected, key=str)  # the same rows
    first = con.execute('SELECT "email", "dni" FROM "main"."t" ORDER BY rowid LIMIT 4000')
    assert set(expected) != set(first.fetchall())  # not the first rows


def test_reservoir_sample_of_a_large_table_is_a_bounded_subset(spark: Any) -> None:
    """The sample of a table without its own row addresses (a column named rowid)."""
    rows = _rows(seed=5, n=SAMPLE_ROWS + 1500)
    con = _duckdb_table(rows)
    _to_spark(spark, con)
    statement = (
        'SELECT "email", "dni" FROM "main"."t" USING SAMPLE reservoir(4000 ROWS) REPEATABLE (42)'
    )
    got = [
        tuple(r) for r in spark.sql(engine_spark.to_spark_sql(statement, {"main.t": "t"})).collect()
    ]
    assert len(got) == len(con.execute(statement).fetchall()) == 4000
    assert set(got) <= {(r[1], r[3]) for r in rows}
    assert len(set(got)) > 3900  # distinct rows drawn, not one row repeated


def test_sqlglot_alone_drops_the_case_insensitive_flag(spark: Any) -> None:
    """The trap #19 warns about: `regexp_matches(x, 'abc', 'i')` transpiled by sqlglot
    becomes a case-sensitive RLIKE; `to_spark_sql` keeps the flag (and folds Unicode case,
    as RE2 does)."""
    values = ["ABC", "abc", "xAbCx", "ΟΔΌΣ", "οδός", "Straße", "none"]
    con = connect(":memory:")
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    spark.createDataFrame([(v,) for v in values], "v STRING").createOrReplaceTempView("t")
    statement = (
        "SELECT count(*) FILTER (regexp_matches(v, 'abc', 'i')), "
        "count(*) FILTER (regexp_matches(v, 'οδός', 'i')), "
        "count(*) FILTER (regexp_matches(v, 'STRASSE|straße', 'i')) FROM t"
    )
    expected = con.execute(statement).fetchone()
    assert expected == (3, 2, 1)
    naive = sqlglot.transpile(statement, read="duckdb", write="spark")[0]
    assert "'i'" not in naive  # the flag is gone ...
    assert tuple(spark.sql(naive).first()) != expected  # ... and the answer changes
    fixed = engine_spark.to_spark_sql(statement)
    assert tuple(spark.sql(fixed).first()) == expected


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        (r"^a.c$", ["abc", "a\nc", "abc\n", "a\rc", "a\u2028c"]),  # `.` and `$` as RE2
        (r"\bcaf\b", ["café", "caf é", "caf_", "caf"]),  # RE2's \b is ASCII
        (r"^\s+$", [" ", "\t", "\x0b", "\u00a0", "\n"]),  # RE2's \s has no \x0b
        (r"[[a]]", ["[a]", "a]", "[]"]),  # `[` inside a class is literal in RE2
        (r"[a&&b]", ["&", "a", "b", "c"]),  # and `&&` is no intersection
        (r"^[+]?[0-9]+[.]0$", ["+1.0", "1.0", "1x0", "+1", "1.0]"]),  # one-character classes
        (r"^[]]x[^]]$", ["]xa", "]x]", "ax"]),  # `]` first in a class is literal
        (r"^\pL+$", ["Ελένη", "Zoë", "x1"]),
    ],
)
def test_regular_expressions_mean_what_they_mean_in_duckdb(
    spark: Any, pattern: str, values: list[str]
) -> None:
    statement = (
        f"SELECT regexp_matches(v, '{pattern}'), regexp_full_match(v, '{pattern}') "
        "FROM t ORDER BY i"
    )
    _same_on_both(spark, statement, values)


def _same_on_both(spark: Any, statement: str, values: list[str | None]) -> None:
    """`statement` over a table t (i, v) of `values` gives the same rows on DuckDB and,
    translated, on Spark."""
    con = connect(":memory:")
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    spark.createDataFrame(list(enumerate(values)), "i INT, v STRING").createOrReplaceTempView("t")
    expected = con.execute(statement).fetchall()
    got = [tuple(r) for r in spark.sql(engine_spark.to_spark_sql(statement)).collect()]
    assert got == expected


@pytest.mark.parametrize("kind", ["e164", "email", "compact"])
def test_identifier_keys_are_the_same_on_spark(spark: Any, kind: str) -> None:
    """The keys tokens and subject search are made of (`normalize.key_sql`), including the
    regexp_replace flags and anchors they use (an extension written in capitals, a
    trailing newline, `\x0b`, NBSP)."""
    values = [
        "+34 612 345 678 EXT. 12", "612 345 678, Durchwahl: 3", "612345678 X7\n",
        "612 345 678 (Ext. 12)", "612 345 678 Max 12", "0049 151 2345678-0", "+30\x0b6912345678",
        "612 345 678 x\u00a012", '"Anna@X.es" <anna@x.es>', "Anna <mailto:ANNA@x.es?subject=hi>",
        "ES91 2100 0418 4502 0005 1332\n", " a@b.c ", None, "", "\u00a0anna@x.es\u3000",
        "\u2007612 345 678\u00a0", "\t12345678Z ", "612345678.0", " +34612345678.00 ",
        "612.345.678", "6.0", "'Maria@X.es'.", "'m@x.es.'", ".@x.es", "maria\u200b@x.es",
        '"anna@x.es" ', "'mailto:anna@x.es'", "Anna <a@x.es\u200b>", '"a@x.es" <a@x.es>.',
        "<mariajose?@x.es>",
    ]  # fmt: skip
    _same_on_both(spark, f"SELECT {key_sql('v', kind)} FROM t ORDER BY i", values)


def test_a_function_without_translation_is_an_error() -> None:
    with pytest.raises(engine_spark.TranslationError, match=r"(?i)strip_accents"):
        engine_spark.to_spark_sql("SELECT strip_accents(v) FROM t")
    with pytest.raises(engine_spark.TranslationError, match="literal"):
        engine_spark.to_spark_sql("SELECT regexp_matches(v, w) FROM t")
    # DuckDB replaces the first match only without 'g'; Spark would replace every one
    with pytest.raises(engine_spark.TranslationError, match="first match"):
        engine_spark.to_spark_sql("SELECT regexp_replace(v, 'a', 'b') FROM t")
    # RE2's \1 is Java's $1, but \10 (group 1, then 0) would be Java's group 10
    assert "'$1'" in engine_spark.to_spark_sql("SELECT regexp_replace(v, '^(a)b', '\\1') FROM t")
    for replacement in ("\\10", "$1", "\\\\"):
        with pytest.raises(engine_spark.TranslationError, match="replacement"):
            engine_spark.to_spark_sql(f"SELECT regexp_replace(v, '^(a)', '{replacement}') FROM t")


def test_a_number_stored_as_float_is_the_same_text_on_spark(spark: Any) -> None:
    """The scan reads a FLOAT or DOUBLE column with an identifier's header (a phone, a tax
    number exported from a spreadsheet) as text: DuckDB writes 612345678.0, Spark would
    write 6.12345678E8, and the shapes would see different values."""
    values = [612345678.0, 12345678.0, 34612345678.0, 40.4168, -3.7038, 0.0, 7.0, None]
    con = connect(":memory:")
    con.execute("CREATE TABLE t (movil DOUBLE, nif FLOAT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(v, v) for v in values])
    _to_spark(spark, con)
    exprs = [
        _raw_expr(Column(0, "movil", "DOUBLE", [], "text", None)),
        _raw_expr(Column(1, "nif", "FLOAT", [], "text", None)),
    ]
    statement = f'SELECT {", ".join(exprs)} FROM "main"."t" ORDER BY rowid'
    expected = con.execute(statement).fetchall()
    assert expected[0][0] == "612345678.0"  # as DuckDB writes it
    translated = engine_spark.to_spark_sql(statement, {"main.t": "t"})
    assert [tuple(r) for r in spark.sql(translated).collect()] == expected
