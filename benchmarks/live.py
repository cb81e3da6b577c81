"""Live source speed: scan, SAR and erasure of one person on a table read in place.

SQLite always (a temporary file); PostgreSQL when TUTELA_BENCH_PG is set to a libpq
connection string of a server you may write to ("host=... port=... user=... dbname=...",
password via PGPASSWORD or ~/.pgpass): creates and drops the table `tutela_bench_customers`.
Each step starts from no copy of the table, as a separate command would.
Usage: python benchmarks/live.py [ROWS] (default 200,000).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutela import live
from tutela.detect.service import scan_workspace
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.workspace import Workspace

TABLE = "tutela_bench_customers"
POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {{table: {t}, column: email, kind: email}}
      - {{table: {t}, column: phone, kind: phone, region: PL}}
      - {{table: {t}, column: full_name, kind: name}}
tables:
  {t}:
    columns:
      id: not_personal
      full_name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      notes: {{entity: PERSON, free_text: true}}
"""
# the same rows in both databases (notes mention one of 1,000 users: free-text redactions)
SELECT = (
    "SELECT i AS id, 'Person ' || i || ' Nowak' AS full_name, 'user' || i || '@example.com' "
    "AS email, '+48 6' || {pad} AS phone, 'note about user' || (i % 1000) || '@example.com' "
    "AS notes FROM {series}"
)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    live.drop_copies()  # every step reads the table afresh, as its own command would
    start = time.perf_counter()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - start:7.2f} s", flush=True)
    return result


def pg_execute(dsn: str, sql: str) -> None:
    from adbc_driver_manager import AdbcConnection, AdbcStatement
    from adbc_driver_postgresql import connect

    with connect(dsn) as db, AdbcConnection(db) as conn, AdbcStatement(conn) as st:
        st.set_sql_query(sql)
        st.execute_update()


def bench(ws: Workspace, tmp: Path, name: str, target: str) -> None:
    attachment = name.split(".")[0]
    timed("attach", lambda: live.add(ws, workspace_key(ws), attachment, target))
    policy_file = tmp / f"{attachment}.yaml"
    policy_file.write_text(POLICY.format(t=name))
    timed("scan", lambda: scan_workspace(ws, [name], force=True))
    ctx = service.context(ws, load_policy(policy_file).policy)
    ids = {"R1": {"email": ["user777@example.com"]}}
    timed("sar (find + report)", lambda: service.access_reports(ctx, ids, tmp))
    clean, plans = timed("erase: plan", lambda: service.plan_erasures(ctx, ids))
    timed("erase: apply + verify", lambda: service.apply_erasures(ctx, clean, plans, None))
    ids = {"R2": {"email": ["user778@example.com"]}}
    clean, plans = timed("erase --purge: plan", lambda: service.plan_erasures(ctx, ids))
    timed(
        "erase --purge: apply + purge + verify",
        lambda: service.apply_erasures(ctx, clean, plans, None, purge=True),
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    dsn = os.environ.get("TUTELA_BENCH_PG")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        ws = Workspace.open(tmp / "ws")
        try:
            if dsn:
                series = f"generate_series(1, {rows}) i"
                pg_execute(
                    dsn,
                    f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} AS "
                    + SELECT.format(pad="lpad(i::text, 8, '0')", series=series),
                )
                try:
                    print(f"{rows:,} rows in PostgreSQL (pg.public.{TABLE})")
                    bench(ws, tmp, f"pg.public.{TABLE}", dsn)
                finally:
                    pg_execute(dsn, f"DROP TABLE IF EXISTS {TABLE}")
            else:
                print("PostgreSQL: skipped (set TUTELA_BENCH_PG, see the docstring)")
            db = tmp / "bench.sqlite"
            with sqlite3.connect(db) as con:
                series = (
                    f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                    f"WHERE i < {rows}) SELECT i FROM s)"
                )
                pad = "substr('00000000' || i, -8)"
                con.execute(f"CREATE TABLE {TABLE} AS " + SELECT.format(pad=pad, series=series))
            print(f"{rows:,} rows in SQLite (sqlite.main.{TABLE})")
            bench(ws, tmp, f"sqlite.main.{TABLE}", str(db))
        finally:
            ws.close()


if __name__ == "__main__":
    main()
