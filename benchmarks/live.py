"""Live PostgreSQL speed: scan, SAR and erasure of one person on a table read in place.

Needs a PostgreSQL server you may write to: TUTELA_BENCH_PG="host=... port=... user=...
dbname=..." (password via PGPASSWORD or ~/.pgpass). Creates and drops the table
`tutela_bench_customers`. Usage: python benchmarks/live.py [ROWS] (default 200,000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tutela import live
from tutela.detect.service import scan_workspace
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.workspace import Workspace

TABLE = "tutela_bench_customers"
POLICY = f"""
version: 1
subjects:
  customer:
    identifiers:
      - {{table: bench.public.{TABLE}, column: email, kind: email}}
      - {{table: bench.public.{TABLE}, column: phone, kind: phone, region: PL}}
      - {{table: bench.public.{TABLE}, column: full_name, kind: name}}
tables:
  bench.public.{TABLE}:
    columns:
      id: not_personal
      full_name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      notes: {{entity: PERSON, free_text: true}}
"""


def timed(label: str, fn: object) -> object:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    print(f"{label:<28} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    dsn = os.environ.get("TUTELA_BENCH_PG")
    if not dsn:
        sys.exit("set TUTELA_BENCH_PG to a libpq connection string (see the docstring)")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        policy_file = Path(tmp) / "policy.yaml"
        policy_file.write_text(POLICY)
        ws = Workspace.open(Path(tmp) / "ws")
        try:
            timed("attach", lambda: live.add(ws, workspace_key(ws), "bench", dsn))
            ws.con.execute(
                "CALL postgres_execute('bench', ?)",
                [
                    f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} AS SELECT i AS id, "
                    "'Person ' || i || ' Nowak' AS full_name, 'user' || i || '@example.com' "
                    "AS email, '+48 6' || lpad(i::text, 8, '0') AS phone, "
                    "'note about user' || (i % 1000) || '@example.com' AS notes "
                    f"FROM generate_series(1, {rows}) i"
                ],
            )
            ws.con.execute("CALL pg_clear_cache()")  # the catalog was read before the table existed
            name = f"bench.public.{TABLE}"
            print(f"{rows:,} rows in {name}")
            timed("scan", lambda: scan_workspace(ws, [name], force=True))
            ctx = service.context(ws, load_policy(policy_file).policy)
            ids = {"R1": {"email": ["user777@example.com"]}}
            timed("sar (find + report)", lambda: service.access_reports(ctx, ids, Path(tmp)))
            clean, plans = timed("erase: plan", lambda: service.plan_erasures(ctx, ids))  # type: ignore[misc]
            timed("erase: apply + verify", lambda: service.apply_erasures(ctx, clean, plans, None))
        finally:
            ws.con.execute("CALL postgres_execute('bench', ?)", [f"DROP TABLE IF EXISTS {TABLE}"])
            ws.close()


if __name__ == "__main__":
    main()
