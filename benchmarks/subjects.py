"""Subject-rights speed: 6 tables x N rows (default 1,000,000 each).

Measures: SAR for one subject, erasure of one subject (plan + apply + verify), and a batch
of 1,000 erasure requests in one set-based pass. Targets: < 1 s, < 2 s, < 60 s.
Usage: python benchmarks/subjects.py [ROWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.workspace import Workspace

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: crm, column: name, kind: name}
      - {table: orders, column: customer_id, kind: customer_id}
      - {table: tickets, column: phone, kind: phone, region: ES}
      - {table: newsletter, column: email, kind: email}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: cookie, kind: cookie_id}
      - {table: invoices, column: customer_id, kind: customer_id}
tables:
  crm: {columns: {customer_id: {}, email: {}, phone: {}, name: {}}}
  orders: {columns: {customer_id: {}, address: {}}}
  tickets: {columns: {phone: {}, notes: {free_text: true}}}
  newsletter: {columns: {email: {}}}
  web: {columns: {customer_id: {}, cookie: {}}}
  invoices: {columns: {customer_id: {}}}
erasure:
  tables:
    invoices: {action: keep, legal_basis: legal_obligation, reason: tax law}
    orders: {action: anonymize, columns: [customer_id, address]}
"""


def build(ws: Workspace, n: int) -> None:
    c = ws.con
    c.execute(f"""CREATE TABLE crm AS SELECT 'C' || i AS customer_id,
        'user' || i || '@example.com' AS email, '6' || lpad(i::VARCHAR, 8, '0') AS phone,
        ['Anna', 'Joan', 'Maria', 'Pau', 'Zofia', 'Piotr', 'Eleni', 'Nikos', 'John', 'Mary']
          [i % 10 + 1] || ' ' || upper(substr(md5((i % 5000)::VARCHAR), 1, 1))
          || substr(md5((i % 5000)::VARCHAR), 2, 6) AS name FROM range({n}) t(i)""")
    c.execute(f"""CREATE TABLE orders AS SELECT 'O' || i AS order_id,
        'C' || (i % {n}) AS customer_id, 'Street ' || i AS address FROM range({n}) t(i)""")
    c.execute(f"""CREATE TABLE tickets AS SELECT 'T' || i AS ticket,
        '+34 6' || lpad((i * 7 % {n})::VARCHAR, 8, '0') AS phone,
        CASE WHEN i % 10 = 0 THEN 'call from user' || (i * 3 % {n}) || '@example.com'
             ELSE 'no personal data here' END AS notes FROM range({n}) t(i)""")
    c.execute(f"""CREATE TABLE newsletter AS SELECT 'USER' || (i * 11 % {n}) || '@EXAMPLE.COM'
        AS email FROM range({n}) t(i)""")
    c.execute(f"""CREATE TABLE web AS SELECT 'C' || (i % {n}) AS customer_id,
        'ck-' || (i % {n}) AS cookie FROM range({n}) t(i)""")
    c.execute(f"""CREATE TABLE invoices AS SELECT 'C' || (i % {n}) AS customer_id,
        i AS invoice FROM range({n}) t(i)""")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        pol = Path(tmp) / "p.yaml"
        pol.write_text(POLICY)
        policy = load_policy(pol).policy
        ws = Workspace.open(Path(tmp) / "ws")
        build(ws, n)
        ctx = service.context(ws, policy)

        t = time.perf_counter()
        service.access_reports(ctx, {"S1": {"email": ["user42@example.com"]}}, Path(tmp) / "r")
        sar = time.perf_counter() - t

        t = time.perf_counter()
        clean, plans = service.plan_erasures(ctx, {"E1": {"email": ["user43@example.com"]}})
        [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
        one = time.perf_counter() - t
        assert cert["verification"]["ok"], cert["verification"]

        batch = {f"B{i}": {"customer_id": [f"C{1000 + i * 7}"]} for i in range(1000)}
        t = time.perf_counter()
        clean, plans = service.plan_erasures(ctx, batch)
        results = service.apply_erasures(ctx, clean, plans, None)
        many = time.perf_counter() - t
        assert all(c["verification"]["ok"] for c, _ in results)
        ws.close()
    print(f"6 tables x {n:,} rows")
    print(f"SAR, one subject:            {sar:6.2f} s (target < 1 s)")
    print(f"erasure, one subject:        {one:6.2f} s (target < 2 s)")
    print(f"erasure, 1,000 in one batch: {many:6.2f} s (target < 60 s)")


if __name__ == "__main__":
    main()
