"""Lake erasure cost: one subject, then a batch of 1,000, from 6 Delta tables of ROWS rows.

Two lakes of the same rows: unpartitioned tables written as 10 appends (10 data files each,
as incremental loads leave them), and tables partitioned by month (24 partitions). Each
erasure is one MERGE commit per table, then the purge (zero-retention VACUUM, checkpoint,
log removal) and the check of every remaining file. Reported: wall time of plan and of
apply + purge + verify, data files rewritten, and bytes rewritten as a share of the tables'
size (from the audit entries of the lake commits).
Usage: python benchmarks/lake.py [ROWS] (default 1,000,000 per table).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from deltalake import write_deltalake

from tutela import audit, live
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.workspace import Workspace

TABLES = ["customers", "orders", "tickets", "events", "invoices", "payments"]
CUSTOMERS_PER_ROW = 5  # each customer has about 5 rows in each table


def policy(tables: list[str]) -> str:
    links = "\n".join(
        f"      - {{table: lake.main.{t}, column: email, kind: email}}\n"
        f"      - {{table: lake.main.{t}, column: customer_id, kind: customer_id}}"
        for t in tables
    )
    specs = "\n".join(
        f"  lake.main.{t}:\n    columns:\n      customer_id: user.unique_id\n"
        f"      email: EMAIL_ADDRESS\n      full_name: PERSON\n      phone: PHONE_NUMBER\n"
        f"      amount: not_personal\n      month: not_personal"
        for t in tables
    )
    return (
        "version: 1\norganisation: {name: Bench, country: ES, contact: dpo@example.com}\n"
        f"subjects:\n  customer:\n    identifiers:\n{links}\ntables:\n{specs}\n"
        "erasure:\n  default: delete\n"
    )


def rows_sql(n: int, salt: int, start: int, count: int) -> str:
    return (
        f"SELECT 'C' || lpad(c::VARCHAR, 7, '0') AS customer_id, "
        f"'user' || c || '@example.com' AS email, 'Person ' || c || ' Puig' AS full_name, "
        f"'+34 6' || lpad(c::VARCHAR, 8, '0') AS phone, ((i * 37) % 10000) / 100.0 AS amount, "
        f"'2025-' || lpad((1 + i % 12)::VARCHAR, 2, '0') || '-' || (i % 2) AS month "
        f"FROM (SELECT i, (hash(i + {salt}) % {max(n // CUSTOMERS_PER_ROW, 1000)}) + 1 AS c "
        f"FROM range({start}, {start + count}) t(i))"
    )


def make_lake(root: Path, rows: int, partitioned: bool) -> int:
    con = duckdb.connect()
    for k, table in enumerate(TABLES):
        path = str(root / table)
        if partitioned:
            write_deltalake(path, con.sql(rows_sql(rows, k, 0, rows)), partition_by=["month"])
        else:
            step = rows // 10
            for s in range(10):
                write_deltalake(path, con.sql(rows_sql(rows, k, s * step, step)), mode="append")
    con.close()
    return sum(p.stat().st_size for p in root.rglob("*.parquet"))


def timed(label: str, fn: Callable[[], Any]) -> Any:
    live.drop_copies()
    start = time.perf_counter()
    result = fn()
    print(f"  {label:<40} {time.perf_counter() - start:7.2f} s", flush=True)
    return result


def lake_commits(ws: Workspace, since: int) -> list[dict[str, Any]]:
    return [
        e.counts
        for e in audit.entries(ws.con)
        if e.seq > since and e.result == "committed" and "bytes_rewritten" in e.counts
    ]


def erase(ws: Workspace, ctx: Any, ids: dict[str, dict[str, list[str]]], label: str) -> None:
    last = max((e.seq for e in audit.entries(ws.con)), default=0)
    clean, plans = timed(f"{label}: plan", lambda: service.plan_erasures(ctx, ids))
    results = timed(
        f"{label}: apply + purge + verify",
        lambda: service.apply_erasures(ctx, clean, plans, None),
    )
    commits = lake_commits(ws, last)
    files = sum(int(c["files_rewritten"]) for c in commits)
    written = sum(int(c["bytes_rewritten"]) for c in commits)
    size = sum(int(c["table_bytes"]) for c in commits) or 1
    rows = sum(int(c["rows_deleted"]) + int(c["rows_updated"]) for c in commits)
    ok = all(cert["verification"]["ok"] for cert, _ in results)
    print(
        f"  {label}: {rows} rows in {len(commits)} commits; {files} data files rewritten, "
        f"{written / 1e6:.1f} MB = {100 * written / size:.1f}% of the tables; verified: {ok}"
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    for partitioned in (False, True):
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            kind = "partitioned by month (24)" if partitioned else "unpartitioned (10 files each)"
            start = time.perf_counter()
            size = make_lake(tmp / "lake", rows, partitioned)
            print(
                f"6 Delta tables x {rows:,} rows, {kind}: {size / 1e6:.0f} MB of Parquet "
                f"(written in {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
            (tmp / "policy.yaml").write_text(policy(TABLES))
            ws = Workspace.open(tmp / "ws")
            try:
                live.add(ws, workspace_key(ws), "lake", f"delta:{tmp / 'lake'}")
                ctx = service.context(ws, load_policy(tmp / "policy.yaml").policy)
                erase(ws, ctx, {"R1": {"email": ["user777@example.com"]}}, "one subject")
                batch = {f"B{i}": {"email": [f"user{1000 + i}@example.com"]} for i in range(1000)}
                erase(ws, ctx, batch, "1,000 subjects")
            finally:
                ws.close()


if __name__ == "__main__":
    main()
