"""Tutela against the practical limit: DuckDB doing exactly the same work in hand-written SQL.

Issue #17's comparisons, measured side by side in one run (medians of 3 interleaved
rounds; ratios printed; the machine's load average is printed at the start and end):

  a. `tutela erase --apply` for one subject, 6 tables x N rows (default 1,000,000), against
     minimal SQL deleting / anonymizing / redacting the same rows in one transaction. The
     same subjects are erased in two copies of the workspace; afterwards every table must
     hold the same rows in both (order-independent hash of every row), so both did the
     same work. Shown twice: against the transaction alone, and against the transaction
     plus the file rewrite Tutela also does (`erase` makes erased values physically gone).
  b. 1,000 erasures in one `tutela requests run --apply` against one set-based statement
     per table (same check of the tables afterwards).
  c. `tutela sar` for one subject against the SELECTs that fetch the same rows (row counts
     compared).
  d. `tutela scan` of a small drop (15 columns x 1,000 rows: the fixed floor) and of
     15 columns x N rows against one full DuckDB pass over every column.
  e. `tutela pseudonymize --apply` (HMAC in place) of 2N e-mails against DuckDB rewriting
     the same column with one sha256 (speed ratio: limit time / Tutela time, target >= 0.5).
  f. start-up: `tutela --help` and `tutela tables` (target < 0.5 s).

Tutela runs as the CLI (a fresh process each time, as scripts run it), so its start-up
is included; the SQL side runs in this process on an open connection.

Usage: python benchmarks/limits.py [--small] [--only a,b,c,d,e,f] [--rows N]
  --small: 100,000 rows per table (a quick check that everything runs; ratios differ).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the 15-column drop of benchmarks/scan.py, the 6 x N workspace of benchmarks/subjects.py
from scan import build_drop

from subjects import POLICY, build
from tutela.workspace import DB_FILE, Workspace

TUTELA = str(Path(sys.executable).with_name("tutela"))
TABLES = ("crm", "orders", "tickets", "newsletter", "web", "invoices")
ROUNDS = 3
RESULTS: list[tuple[str, float, float | None, str]] = []


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def cli(ws: Path, *args: str, check: bool = True) -> tuple[float, str]:
    """Run the tutela CLI in a fresh process; (wall seconds, stdout)."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    t = time.perf_counter()
    proc = subprocess.run(
        [TUTELA, "-w", str(ws), *args], capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - t
    if check and proc.returncode not in (0, 1):
        raise SystemExit(f"tutela {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def record(label: str, tutela: list[float], limit: list[float] | None, note: str = "") -> None:
    t = statistics.median(tutela)
    lim = statistics.median(limit) if limit else None
    RESULTS.append((label, t, lim, note))
    ratio = f"{t / lim:6.2f}x" if lim else "      -"
    shown = f"{lim:7.2f} s" if lim is not None else "        -"
    print(
        f"{label:<46} tutela {t:7.2f} s  limit {shown}  ratio {ratio}  {note}"
        f"  (rounds: {', '.join(f'{x:.2f}' for x in tutela)}"
        + (f" | {', '.join(f'{x:.2f}' for x in limit)})" if limit else ")"),
        flush=True,
    )


def table_digest(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per table: row count and an order-independent hash of every row."""
    out = {}
    for t in TABLES:
        cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]
        row = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash({', '.join(cols)})), 0) FROM {t}"
        ).fetchone()
        assert row is not None
        out[t] = (int(row[0]), int(row[1]))
    return out


def rewrite_file(con: duckdb.DuckDBPyConnection, db: Path) -> duckdb.DuckDBPyConnection:
    """What making erased values physically gone minimally costs in DuckDB: copy the
    database into a fresh file and swap it in."""
    fresh = db.with_suffix(".fresh")
    fresh.unlink(missing_ok=True)
    con.execute(f"ATTACH '{fresh}' AS fresh")
    con.execute(f"COPY FROM DATABASE {db.stem} TO fresh")
    con.execute("DETACH fresh")
    con.close()
    os.replace(fresh, db)
    return duckdb.connect(str(db))


# -- (a) one erasure -------------------------------------------------------------------

# The person's rows, as the policy's identity links define them (crm -> customer id and
# phone -> orders, web, tickets; e-mail -> newsletter; free-text mentions of the e-mail
# redacted in tickets that stay). One transaction.
ERASE_SQL = [
    "CREATE OR REPLACE TEMP TABLE p AS SELECT customer_id, lower(email) AS email, "
    "phone FROM crm WHERE lower(email) IN (SELECT lower(e) FROM wanted)",
    "DELETE FROM web WHERE customer_id IN (SELECT customer_id FROM p) "
    "OR cookie IN (SELECT 'ck-' || substr(customer_id, 2) FROM p)",
    "UPDATE orders SET customer_id = NULL, address = NULL "
    "WHERE customer_id IN (SELECT customer_id FROM p)",
    "DELETE FROM tickets WHERE replace(replace(phone, ' ', ''), '+34', '') "
    "IN (SELECT phone FROM p)",
    # redact: only texts that mention the e-mail as a whole address
    "CREATE OR REPLACE TEMP TABLE m AS SELECT t.rowid AS rid, p.email FROM tickets t, p "
    "WHERE t.notes LIKE '%@%' AND contains(lower(t.notes), p.email)",
    "UPDATE tickets SET notes = regexp_replace(notes, '(?i)' || "
    "regexp_replace(m.email, '([.+])', '\\\\\\1', 'g'), '[REDACTED]', 'g') "
    "FROM m WHERE tickets.rowid = m.rid",
    "DELETE FROM newsletter WHERE lower(email) IN (SELECT email FROM p)",
    "DELETE FROM crm WHERE customer_id IN (SELECT customer_id FROM p)",
]

# The batch: the same, from customer ids; e-mail mentions found with one extraction pass.
BATCH_SQL = [
    "CREATE OR REPLACE TEMP TABLE p AS SELECT customer_id, lower(email) AS email, "
    "phone FROM crm WHERE customer_id IN (SELECT e FROM wanted)",
    ERASE_SQL[1],
    ERASE_SQL[2],
    ERASE_SQL[3],
    "CREATE OR REPLACE TEMP TABLE m AS SELECT DISTINCT rid, email FROM (SELECT rid, "
    "lower(unnest(regexp_extract_all(notes, '[A-Za-z0-9._%+\\-]+@[A-Za-z0-9.\\-]+'))) "
    "AS email FROM (SELECT rowid AS rid, notes FROM tickets WHERE notes LIKE '%@%')) "
    "JOIN p USING (email)",
    ERASE_SQL[5],
    ERASE_SQL[6],
    ERASE_SQL[7],
]


def run_sql(con: duckdb.DuckDBPyConnection, statements: list[str], wanted: list[str]) -> None:
    con.execute("BEGIN")
    con.execute("CREATE OR REPLACE TEMP TABLE wanted (e VARCHAR)")
    con.executemany("INSERT INTO wanted VALUES (?)", [[w] for w in wanted])
    for s in statements:
        con.execute(s)
    con.execute("COMMIT")


def bench_erasure(tmp: Path, n: int, policy: Path, only: set[str]) -> None:
    ws_t = tmp / "erase_tutela"
    ws = Workspace.open(ws_t)
    build(ws, n)
    ws.con.execute("CHECKPOINT")
    ws.close()
    cli(ws_t, "tables")  # creates the master key, as a first command would
    ws_s = tmp / "erase_sql"
    ws_s.mkdir()
    shutil.copy(ws_t / DB_FILE, ws_s / DB_FILE)
    con = duckdb.connect(str(ws_s / DB_FILE))
    out = tmp / "certs"

    # (a) one subject per round, different people each round
    t_runs, s_runs, s_rw_runs = [], [], []
    for r in range(ROUNDS if "a" in only else 0):
        email = f"user{43 + r * 1009}@example.com"

        def tut(email: str = email) -> None:
            t, stdout = cli(
                ws_t, "erase", "--email", email, "--apply", "-p", str(policy), "-o",
                str(out), "--format", "json",
            )  # fmt: skip
            cert = json.loads(stdout)["certificate"]
            assert cert["verification"]["ok"], cert["verification"]
            t_runs.append(t)

        def sql(email: str = email) -> None:
            nonlocal con
            s, _ = timed(lambda: run_sql(con, ERASE_SQL, [email]))
            s_runs.append(s)
            rw, con = timed(lambda: rewrite_file(con, ws_s / DB_FILE))
            s_rw_runs.append(s + rw)

        for step in (tut, sql) if r % 2 == 0 else (sql, tut):
            step()
    con.close()
    if "a" in only:
        check_same(ws_t, ws_s, "one erasure")
        record("a. erase --apply, one subject", t_runs, s_runs, "vs SQL transaction")
        record("a. erase --apply, one subject", t_runs, s_rw_runs, "vs SQL + file rewrite")

    # (b) a batch of 1,000 in one `requests run --apply`
    con = duckdb.connect(str(ws_s / DB_FILE))
    t_runs, s_runs, s_rw_runs = [], [], []
    for r in range(ROUNDS if "b" in only else 0):
        base = n // 3 + r * 7_013
        ids = [f"C{base + i * 7}" for i in range(1000)]
        batch = tmp / f"batch{r}.csv"
        with batch.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["request_id", "type", "received_at", "customer_id"])
            w.writerows([f"R{r}-{i}", "erasure", "2026-11-30", c] for i, c in enumerate(ids))

        def tut(batch: Path = batch, r: int = r) -> None:
            t, stdout = cli(
                ws_t, "requests", "run", str(batch), "--apply", "-p", str(policy), "-o",
                str(out), "--format", "json",
            )  # fmt: skip
            states: dict[str, int] = {}
            for row in json.loads(stdout)["requests"]:
                states[row["state"]] = states.get(row["state"], 0) + 1
            t_runs.append(t)
            print(f"   batch round {r}: request states {states}", flush=True)

        def sql(ids: list[str] = ids) -> None:
            nonlocal con
            s, _ = timed(lambda: run_sql(con, BATCH_SQL, ids))
            s_runs.append(s)
            rw, con = timed(lambda: rewrite_file(con, ws_s / DB_FILE))
            s_rw_runs.append(s + rw)

        for step in (tut, sql) if r % 2 == 0 else (sql, tut):
            step()
    con.close()
    if "b" in only:
        check_same(ws_t, ws_s, "batch")
        record("b. requests run --apply, 1,000 erasures", t_runs, s_runs, "vs set-based SQL")
        record("b. requests run --apply, 1,000 erasures", t_runs, s_rw_runs, "vs SQL + rewrite")

    # (c) SAR for one subject
    con = duckdb.connect(str(ws_s / DB_FILE), read_only=True)
    t_runs, s_runs = [], []
    for r in range(ROUNDS if "c" in only else 0):
        email = f"user{77 + r * 1013}@example.com"

        # the SELECTs' row counts are what the SAR must find
        s, counts = timed(lambda email=email: sar_sql(con, email))
        t, stdout = cli(
            ws_t, "sar", "--email", email, "-p", str(policy), "-o", str(tmp / "sar"),
            "--format", "json",
        )  # fmt: skip
        summary = json.loads(stdout)["summary"]
        got = (summary["rows"], summary["free_text_mentions"])
        assert got == counts, f"SAR found {got}, the SELECTs {counts}"
        t_runs.append(t)
        s_runs.append(s)
    con.close()
    if "c" in only:
        record("c. sar, one subject", t_runs, s_runs, "vs the SELECTs")


def sar_sql(con: duckdb.DuckDBPyConnection, email: str) -> tuple[int, int]:
    """Every row of the person (all columns fetched) and the texts that mention them."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE p AS SELECT customer_id, phone, lower(email) AS email "
        "FROM crm WHERE lower(email) = ?",
        [email.lower()],
    )
    rows = 0
    for q in (
        "SELECT * FROM crm WHERE customer_id IN (SELECT customer_id FROM p)",
        "SELECT * FROM orders WHERE customer_id IN (SELECT customer_id FROM p)",
        "SELECT * FROM tickets WHERE replace(replace(phone, ' ', ''), '+34', '') "
        "IN (SELECT phone FROM p)",
        "SELECT * FROM newsletter WHERE lower(email) IN (SELECT email FROM p)",
        "SELECT * FROM web WHERE customer_id IN (SELECT customer_id FROM p)",
        "SELECT * FROM invoices WHERE customer_id IN (SELECT customer_id FROM p)",
    ):
        rows += len(con.execute(q).fetchall())
    mentions = len(
        con.execute(
            "SELECT t.* FROM tickets t, p WHERE t.notes LIKE '%@%' "
            "AND contains(lower(t.notes), p.email)"
        ).fetchall()
    )
    return rows, mentions


def check_same(ws_t: Path, ws_s: Path, what: str) -> None:
    a = duckdb.connect(str(ws_t / DB_FILE), read_only=True)
    b = duckdb.connect(str(ws_s / DB_FILE), read_only=True)
    da, db = table_digest(a), table_digest(b)
    a.close()
    b.close()
    diff = {t: (da[t], db[t]) for t in TABLES if da[t] != db[t]}
    assert not diff, f"{what}: Tutela and the SQL left different tables: {diff}"
    print(f"   {what}: both left the same rows in all 6 tables ({da['crm'][0]:,} crm rows)")


# -- (d) scan --------------------------------------------------------------------------


def bench_scan(tmp: Path, n: int) -> None:
    small = tmp / "scan_small"
    big = tmp / "scan_big"
    for root, rows in ((small, 1000), (big, n)):
        ws = Workspace.open(root)
        build_drop(ws.con, rows)  # type: ignore[arg-type]
        ws.con.execute("DROP TABLE orders")  # the 15-column table only
        ws.close()
    with duckdb.connect(str(big / DB_FILE), read_only=True) as con:
        cols = [r[0] for r in con.execute("DESCRIBE customers").fetchall()]
    one_pass = "SELECT " + ", ".join(
        f"count({c}), approx_count_distinct({c}), min(length(CAST({c} AS VARCHAR))), "
        f"max(length(CAST({c} AS VARCHAR)))"
        for c in cols
    ) + " FROM customers"  # fmt: skip
    t_small, t_big, s_big = [], [], []
    for r in range(ROUNDS):
        steps: list[Callable[[], None]] = [
            # --force: every round scans (a stored result of the same data is reused otherwise)
            lambda: t_small.append(cli(small, "scan", "--force", "--format", "json")[0]),
            lambda: t_big.append(cli(big, "scan", "--force", "--format", "json")[0]),
            lambda: s_big.append(full_pass(big / DB_FILE, one_pass)),
        ]
        for step in steps if r % 2 == 0 else reversed(steps):
            step()
    record("d. scan 15 columns x 1,000 rows (floor)", t_small, None, "target <= ~2 s")
    record(f"d. scan 15 columns x {n:,} rows", t_big, s_big, "vs one full pass; target <= 5x")


def full_pass(db: Path, sql: str) -> float:
    """Seconds of one query on a connection opened (and closed) around it: the CLI must
    not find the file locked."""
    with duckdb.connect(str(db), read_only=True) as con:
        return timed(lambda: con.execute(sql).fetchall())[0]


# -- (e) pseudonymize --------------------------------------------------------------------


def bench_pseudonymize(tmp: Path, n: int) -> None:
    rows = 2 * n
    root_t, root_s = tmp / "ps_tutela", tmp / "ps_sql"
    ws = Workspace.open(root_t)
    ws.con.execute(
        "CREATE TABLE emails AS SELECT i AS id, 'User' || i || '@Example.com' AS email "
        f"FROM range({rows}) t(i)"
    )
    ws.con.execute("CHECKPOINT")
    ws.close()
    cli(root_t, "keys", "init", check=False)
    root_s.mkdir()
    pristine = tmp / "ps_pristine.duckdb"
    shutil.copy(root_t / DB_FILE, pristine)
    t_runs, s_runs, s_rw_runs = [], [], []
    for r in range(ROUNDS):

        def tut() -> None:
            shutil.copy(pristine, root_t / DB_FILE)  # fresh clear-text column each round
            t, _ = cli(root_t, "pseudonymize", "emails", "-c", "email", "--apply")
            t_runs.append(t)

        def sql() -> None:
            shutil.copy(pristine, root_s / DB_FILE)
            con = duckdb.connect(str(root_s / DB_FILE))
            s, _ = timed(
                lambda: (
                    con.execute("BEGIN"),
                    con.execute("UPDATE emails SET email = sha256(lower(email))"),
                    con.execute("COMMIT"),
                )
            )
            s_runs.append(s)
            rw, con = timed(lambda: rewrite_file(con, root_s / DB_FILE))
            s_rw_runs.append(s + rw)
            con.close()

        for step in (tut, sql) if r % 2 == 0 else (sql, tut):
            step()
    check = duckdb.connect(str(root_t / DB_FILE), read_only=True)
    row = check.execute("SELECT count(*) FROM emails WHERE email LIKE '%@Example.com'").fetchone()
    check.close()
    assert row is not None and row[0] == 0, f"{row} clear e-mails left after pseudonymize"
    record(f"e. pseudonymize --apply {rows:,} e-mails", t_runs, s_runs, "vs UPDATE sha256")
    record(f"e. pseudonymize --apply {rows:,} e-mails", t_runs, s_rw_runs, "vs sha256 + rewrite")
    print("   (speed = limit / tutela; target: at least 0.5x the speed, i.e. ratio <= 2x)")


# -- (f) start-up ------------------------------------------------------------------------


def bench_startup(tmp: Path) -> None:
    root = tmp / "startup"
    ws = Workspace.open(root)
    ws.con.execute("CREATE TABLE t AS SELECT 1 AS a")
    ws.close()
    cli(root, "tables")
    helps, tables = [], []
    for _ in range(5):
        helps.append(cli(root, "--help")[0])
        tables.append(cli(root, "tables")[0])
    record("f. tutela --help", helps, None, "target < 0.5 s")
    record("f. tutela tables", tables, None, "target < 0.5 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100,000 rows per table")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--only", default="abcdef", help="which comparisons (letters)")
    args = parser.parse_args()
    n = args.rows or (100_000 if args.small else 1_000_000)
    only = set(args.only.replace(",", ""))
    print(f"{os.cpu_count()} cores, {load()}, {n:,} rows per table", flush=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        policy = tmp / "policy.yaml"
        policy.write_text(POLICY)
        if only & set("abc"):
            bench_erasure(tmp, n, policy, only)
        if "d" in only:
            bench_scan(tmp, n)
        if "e" in only:
            bench_pseudonymize(tmp, n)
        if "f" in only:
            bench_startup(tmp)
    print(f"\n{load()}")
    print("| work | tutela | limit | ratio |\n|---|---|---|---|")
    for label, t, lim, note in RESULTS:
        shown = f"{lim:.2f} s ({note})" if lim is not None else note
        ratio = f"{t / lim:.2f}x" if lim else "-"
        print(f"| {label[3:]} | {t:.2f} s | {shown} | {ratio} |")


if __name__ == "__main__":
    main()
