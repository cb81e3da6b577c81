"""Benchmark the scan engine on a deterministic synthetic data drop generated in DuckDB.

    python benchmarks/scan.py [ROWS] [--presidio-structured]

Builds `customers` (ROWS x 15 columns: names, e-mails, Spanish phones, DNIs, IPs, birth
dates, event timestamps, amounts, SKUs, order UUIDs, cookie ids, cities, postcodes and
multilingual notes) and a small `orders` table, times `scan_table` on each, and prints
rows/s. With `--presidio-structured` (or when `presidio_structured` is importable) it also
runs presidio-structured's `PandasAnalysisBuilder` over a slice, offline on blank spaCy
pipelines, and prints the speed ratio. Synthetic people only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import duckdb

from tutela.detect import scan_table

FIRST = [
    "María",
    "José",
    "Núria",
    "Jordi",
    "Łukasz",
    "Zofia",
    "Γιώργος",
    "Ελένη",
    "Oliver",
    "Emily",
    "Lucía",
    "Pau",
    "Małgorzata",
    "Νίκος",
    "James",
    "Carmen",
]
LAST = [
    "García",
    "Martínez",
    "Puig",
    "Serra",
    "Nowak",
    "Kowalska",
    "Παπαδόπουλος",
    "Ρίζος",
    "Smith",
    "Taylor",
    "López",
    "Vila",
    "Wiśniewska",
    "Οικονόμου",
    "Brown",
    "Sánchez",
]
CITIES = [
    "Madrid",
    "Barcelona",
    "Kraków",
    "Warszawa",
    "Αθήνα",
    "Θεσσαλονίκη",
    "Dublin",
    "Girona",
    "València",
    "Gdańsk",
]


def _pick(values: list[str], salt: int) -> str:
    items = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{items}][(hash(i * {salt}) % {len(values)})::INTEGER + 1]"


def build_drop(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    first, last = _pick(FIRST, 3), _pick(LAST, 5)
    phone_num = "(600000000 + hash(i * 7) % 99999999)::VARCHAR"
    dni_num = "(hash(i * 11) % 100000000)"
    con.execute(f"""
    CREATE OR REPLACE TABLE customers AS
    SELECT
        i AS customer_id,
        {first} || ' ' || {last} AS full_name,
        lower(strip_accents(replace({first}, 'Ł', 'L'))) || '.' || i::VARCHAR
            || '@example.com' AS email,
        substr({phone_num}, 1, 3) || ' ' || substr({phone_num}, 4, 3) || ' '
            || substr({phone_num}, 7, 3) AS telefono,
        lpad({dni_num}::VARCHAR, 8, '0')
            || substr('TRWAGMYFPDXBNJZSQVHLCKE', ({dni_num} % 23)::INTEGER + 1, 1) AS dni,
        (hash(i) % 223 + 1)::VARCHAR || '.' || (hash(i * 13) % 256)::VARCHAR || '.'
            || (hash(i * 17) % 256)::VARCHAR || '.' || (hash(i * 19) % 254 + 1)::VARCHAR
            AS ip_address,
        DATE '1940-01-01' + (hash(i * 23) % 25000)::INTEGER AS fecha_nacimiento,
        TIMESTAMP '2024-01-01' + to_seconds((hash(i * 29) % 31536000)::BIGINT) AS created_at,
        ((hash(i * 31) % 100000) / 100.0)::DECIMAL(10, 2) AS amount,
        'SKU-' || lpad((hash(i * 37) % 1000000)::VARCHAR, 6, '0') AS sku,
        regexp_replace(md5('o' || i::VARCHAR),
            '^(.{{8}})(.{{4}})(.{{4}})(.{{4}})(.{{12}})$', '\\1-\\2-\\3-\\4-\\5') AS order_uuid,
        regexp_replace(md5('c' || i::VARCHAR),
            '^(.{{8}})(.{{4}})(.{{4}})(.{{4}})(.{{12}})$', '\\1-\\2-\\3-\\4-\\5') AS cookie_id,
        {_pick(CITIES, 41)} AS city,
        lpad((hash(i * 43) % 52000 + 1000)::VARCHAR, 5, '0') AS postcode,
        CASE i % 10
            WHEN 0 THEN 'Llamar al cliente Sr. ' || {last} || ' al ' || {phone_num}
            WHEN 1 THEN 'Pani ' || {first} || ' prosi o fakturę na adres '
                || lower(strip_accents(replace({first}, 'Ł', 'L'))) || i::VARCHAR || '@example.pl'
            WHEN 2 THEN 'Ο κ. ' || {last} || ' ζήτησε επιστροφή χρημάτων για την παραγγελία'
            ELSE 'Pedido entregado sin incidencias, lote ' || (i % 500)::VARCHAR
        END AS notes
    FROM range({rows}) t(i)
    """)
    con.execute(f"""
    CREATE OR REPLACE TABLE orders AS
    SELECT i AS order_id, 'ORD-' || lpad(i::VARCHAR, 8, '0') AS order_number,
           ((hash(i) % 100000) / 100.0)::DECIMAL(10, 2) AS total,
           TIMESTAMP '2024-01-01' + to_seconds((hash(i * 3) % 31536000)::BIGINT) AS ordered_at,
           ['paid', 'shipped', 'returned'][(i % 3)::INTEGER + 1] AS status
    FROM range({max(1, rows // 10)}) t(i)
    """)


def run_presidio_structured(con: duckdb.DuckDBPyConnection, rows: int) -> float | None:
    """rows/s of presidio-structured's PandasAnalysisBuilder on a slice, offline; None if absent."""
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_structured import PandasAnalysisBuilder
    except ImportError as exc:
        print(f"presidio-structured not available ({exc}); skipping comparison", file=sys.stderr)
        return None

    from tutela.detect.freetext import _offline_tldextract

    _offline_tldextract()

    class Blank(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = Blank(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    frame = con.execute(f"SELECT * FROM customers LIMIT {rows}").df()
    frame = frame.astype(str)
    start = time.perf_counter()
    config = PandasAnalysisBuilder(analyzer=analyzer).generate_analysis(
        frame, n=len(frame), language="en"
    )
    elapsed = time.perf_counter() - start
    print(
        f"presidio-structured: {rows} rows in {elapsed:.2f} s -> "
        f"{rows / elapsed:,.0f} rows/s; mapping {config.entity_mapping}"
    )
    return rows / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument(
        "--slice", type=int, default=2000, help="rows given to presidio-structured (default 2000)"
    )
    parser.add_argument("--json", action="store_true", help="print the scan results as JSON")
    args = parser.parse_args(argv)

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    build_drop(con, args.rows)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")

    # Build presidio once outside the timing: it is a per-process cost, not per-table.
    from tutela.detect.freetext import analyzer

    t0 = time.perf_counter()
    analyzer()
    print(f"presidio analyzer built in {time.perf_counter() - t0:.1f} s (once per process)")

    results: dict[str, Any] = {}
    tutela_rate = 0.0
    for table in ("customers", "orders"):
        t0 = time.perf_counter()
        scan = scan_table(con, table)
        elapsed = time.perf_counter() - t0
        ncols = len(scan.columns)
        rate = scan.rows / elapsed if elapsed else 0.0
        if table == "customers":
            tutela_rate = rate
        print(
            f"scan_table({table}): {scan.rows:,} rows x {ncols} columns in {elapsed:.2f} s "
            f"-> {rate:,.0f} rows/s"
        )
        for col in scan.columns:
            print(
                f"    {col.column:18} {col.entity or '-':15} {col.subtype or '':9} "
                f"{col.confidence:.2f}{' free-text' if col.free_text else ''}"
                f"{' quasi-id' if col.quasi_identifier else ''}"
                f"{' skipped: ' + col.skipped if col.skipped else ''}"
            )
        results[table] = scan.to_dict()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    other = run_presidio_structured(con, min(args.slice, args.rows))
    if other:
        print(
            f"ratio: tutela {tutela_rate:,.0f} rows/s vs presidio-structured "
            f"{other:,.0f} rows/s = {tutela_rate / other:,.0f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
