"""Subject-rights speed: 6 tables x N rows (default 1,000,000 each).

Measures: SAR for one subject, erasure of one subject (plan + apply + verify), and a batch
of 1,000 erasure requests in one set-based pass. Targets: < 1 s, < 2 s, < 60 s.

Then the identity shapes (issue: finding one person must not depend on how shared the
data's values are): 300,000 customers and 1,500,000 orders carrying a phone and no
customer id, once with every customer's phone their own and once with only 1,000 distinct
phones (each shared by 300 customers, like a placeholder or a call-centre number). Planning
one erasure in the shared shape must take no more than 2x the unique shape; a batch of 1,000
requests in the shared shape stays one set-based pass.

Usage: python benchmarks/subjects.py [ROWS] [--shapes-only]
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


SHAPES_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: email, kind: email}
tables:
  crm: {columns: {customer_id: {}, email: {}, phone: {}}}
  orders: {columns: {order_id: {}, phone: {}, email: {}}}
"""


def build_shape(ws: Workspace, customers: int, orders: int, phones: int | None) -> None:
    """`phones` distinct numbers shared by all customers, or None: one number each."""
    phone = "i" if phones is None else f"(i % {phones})"
    c = ws.con
    c.execute(f"""CREATE TABLE crm AS SELECT 'C' || i AS customer_id,
        'user' || i || '@example.com' AS email,
        '6' || lpad(({phone})::VARCHAR, 8, '0') AS phone FROM range({customers}) t(i)""")
    c.execute(f"""CREATE TABLE orders AS SELECT 'O' || j AS order_id,
        '+34 6' || lpad(({phone.replace("i", "(j % " + str(customers) + ")")})::VARCHAR, 8, '0')
          AS phone,
        CASE WHEN j % 3 = 0 THEN 'user' || (j % {customers}) || '@example.com' END AS email
        FROM range({orders}) t(j)""")


def shapes(customers: int = 300_000, orders: int = 1_500_000) -> None:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pol = Path(tmp) / "p.yaml"
        pol.write_text(SHAPES_POLICY)
        policy = load_policy(pol).policy
        for label, phones in (("unique phones", None), ("1,000 shared phones", 1000)):
            ws = Workspace.open(Path(tmp) / label.replace(" ", "_").replace(",", ""))
            build_shape(ws, customers, orders, phones)
            ctx = service.context(ws, policy)
            best = float("inf")
            for attempt in range(3):
                t = time.perf_counter()
                _, plans = service.plan_erasures(
                    ctx, {f"E{attempt}": {"email": [f"user{4242 + attempt}@example.com"]}}
                )
                best = min(best, time.perf_counter() - t)
                assert plans[0].tables, "the person's own rows must be found"
            timings[label] = best
            if phones:
                batch = {f"B{i}": {"email": [f"user{10_000 + i * 37}@example.com"]}
                         for i in range(1000)}  # fmt: skip
                t = time.perf_counter()
                _, plans = service.plan_erasures(ctx, batch)
                timings["batch of 1,000, shared phones"] = time.perf_counter() - t
                held = sum(1 for p in plans if p.match.held_back)
                assert held == 1000, held
            ws.close()
    ratio = timings["1,000 shared phones"] / timings["unique phones"]
    print(f"{customers:,} customers, {orders:,} orders (phone, no customer id)")
    for label, seconds in timings.items():
        print(f"plan one erasure, {label}:{' ' * max(1, 30 - len(label))}{seconds:6.2f} s")
    print(f"ratio shared / unique: {ratio:.2f}x (target <= 2x)")


def main() -> None:
    if "--shapes-only" in sys.argv:
        shapes()
        return
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
    shapes()


if __name__ == "__main__":
    main()
