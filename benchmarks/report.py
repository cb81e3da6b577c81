"""Governance report speed: 50 tables x 40 columns (target: under 5 s to render).

A synthetic workspace: TABLES tables of COLUMNS columns and ROWS rows each, from ten source
systems, eleven personal-data columns per table (one in five tables with a column the policy
does not classify), stored scan results for every table, ten purposes (three consent-based,
transfers inside and outside the EEA), a retention rule with a legal hold per table, a
consent ledger, tracked requests and audit entries. Measured: building the report model
(every query), rendering the HTML (charts included, cold: the first chart starts the
renderer), and the whole `tutela report` command in a fresh process.

Usage: python benchmarks/report.py [--tables N] [--columns M] [--rows R]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tutela import audit
from tutela.detect import ColumnFinding, TableScan, store_scan, table_fingerprint
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.subjects import requests
from tutela.workspace import Workspace

SYSTEMS = ["CRM", "ERP", "Web shop", "Newsletter", "Call centre", "Billing", "Loyalty",
           "Survey", "Logistics", "Legacy archive"]  # fmt: skip
PERSONAL = {  # column -> (SQL over i, entity or None, policy classification)
    "customer_id": ("'C' || i", None, "user.unique_id"),
    "email": ("'user' || i || '@example.com'", "EMAIL_ADDRESS", "EMAIL_ADDRESS"),
    "phone": ("'+34 6' || lpad((i * 7919 % 100000000)::VARCHAR, 8, '0')", "PHONE_NUMBER",
              "PHONE_NUMBER"),
    "full_name": ("'Person ' || i", "PERSON", "PERSON"),
    "iban": ("'ES91' || lpad(i::VARCHAR, 20, '0')", "IBAN_CODE", "IBAN_CODE"),
    "birth_date": ("DATE '1950-01-01' + (i % 20000)::INTEGER", "DATE_OF_BIRTH", "DATE_OF_BIRTH"),
    "ip_address": ("'10.0.' || (i % 250) || '.' || (i % 200)", "IP_ADDRESS", "IP_ADDRESS"),
    "city": ("'City ' || (i % 40)", None, "user.contact.address.city"),
    "postcode": ("lpad((i % 52000)::VARCHAR, 5, '0')", None, "user.contact.address.postal_code"),
    "address": ("'Street ' || i", "POSTAL_ADDRESS", "POSTAL_ADDRESS"),
    "notes": ("'Call back about order ' || i", "PERSON", None),  # free text
}  # fmt: skip
COUNTRIES = ["ES", "FR", "DE", "US", "MA", "CH", "NL", "IN", "PL", "GB"]


def build_workspace(root: Path, tables: int, columns: int, rows: int) -> Path:
    names = [f"t{i:02d}_{SYSTEMS[i % len(SYSTEMS)].lower().replace(' ', '_')}"
             for i in range(tables)]  # fmt: skip
    extra = max(columns - len(PERSONAL) - 1, 0)
    with Workspace.open(root) as ws:
        for t in names:
            cols = [f"{sql} AS {name}" for name, (sql, _, _) in PERSONAL.items()]
            cols.append("DATE '2020-01-01' + (i % 2400)::INTEGER AS updated_at")
            cols += [f"(i * {k + 3}) % 997 AS attr_{k:02d}" for k in range(extra)]
            ws.con.execute(f"CREATE TABLE {t} AS SELECT {', '.join(cols)} FROM range({rows}) r(i)")
            scan = TableScan(t, rows, [
                ColumnFinding(name, "VARCHAR", entity=entity, confidence=0.9,
                              free_text=name == "notes", matched=rows if entity else 0,
                              non_empty=rows)
                for name, (_, entity, _) in PERSONAL.items()
            ])  # fmt: skip
            store_scan(ws.con, scan, fingerprint=table_fingerprint(ws.con, t))
        master = workspace_key(ws)
        for n in range(200):
            audit.append(ws.con, master, command="bench", arguments={"n": n}, tables=[names[0]],
                         counts={"rows": n}, result="ok")  # fmt: skip
        ws.con.execute(requests._DDL)
        today = date.today()
        ws.con.executemany(
            f"INSERT INTO {requests.TABLE} VALUES (?, ?, ?, ?, ?, NULL, 'h', '[]', ?)",
            [[f"REQ-{n}", "erasure" if n % 2 else "access", today - timedelta(days=n),
              requests.add_month(today - timedelta(days=n)),
              "received" if n % 3 else "done", datetime.now(UTC).replace(tzinfo=None)]
             for n in range(60)],
        )  # fmt: skip
    policy = root.parent / "policy.yaml"
    policy.write_text(_policy(names), encoding="utf-8")
    with Workspace.open(root) as ws:  # the consent tool's export, read with the ledger
        ws.con.execute(
            "CREATE TABLE consents AS SELECT 'user' || i || '@example.com' AS subject_email, "
            "'purpose_' || (i % 3) AS purpose, "
            "CASE WHEN i % 7 = 0 THEN 'withdrawn' ELSE 'granted' END AS status, "
            "TIMESTAMP '2024-01-01 10:00:00' + to_days((i % 300)::INTEGER) AS recorded_at "
            f"FROM range(0, {rows}, 2) r(i)"
        )
    return policy


def _policy(names: list[str]) -> str:
    lines = ["version: 1", "organisation: {name: Bench Corp, country: ES}", "subjects:",
             "  customer:", "    identifiers:"]  # fmt: skip
    lines += [f"      - {{table: {t}, column: email, kind: email}}" for t in names]
    lines.append("tables:")
    for i, t in enumerate(names):
        lines += [f"  {t}:", f"    source_system: {SYSTEMS[i % len(SYSTEMS)]}", "    columns:"]
        for name, (_, _, declared) in PERSONAL.items():
            if declared and not (i % 5 == 0 and name == "full_name"):
                lines.append(f"      {name}: {declared}")
        lines.append("      updated_at: not_personal")
    lines += ["  consents:", "    columns: {subject_email: EMAIL_ADDRESS, purpose: not_personal,"
              " status: user.privacy_preferences, recorded_at: not_personal}"]  # fmt: skip
    lines.append("purposes:")
    for p in range(10):
        basis = "consent" if p < 3 else "contract"
        members = ", ".join(names[p::10] + names[(p + 1) % 10 :: 10])
        c1, c2 = COUNTRIES[p], COUNTRIES[(p + 3) % len(COUNTRIES)]
        lines += [
            f"  purpose_{p}:",
            f"    legal_basis: {basis}",
            f"    tables: [{members}]",
            "    recipients:",
            f"      - {{name: Processor {p}, kind: processor, country: {c1}}}",
            f"      - {{name: Processor {p}b, kind: processor, country: {c2}, safeguard: sccs}}",
            "    storage:",
            f"      - {{location: Data centre {p}, country: {COUNTRIES[p % 3]}}}",
        ]
    lines += ["consent:", "  table: consents", "  subject_column: subject_email",
              "  purpose_column: purpose", "  status_column: status",
              "  timestamp_column: recorded_at"]  # fmt: skip
    lines.append("retention:")
    for t in names:
        lines += [f"  - table: {t}", "    period: 5 years", "    after: updated_at",
                  "    legal_hold: {column: city, equals: City 7}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--columns", type=int, default=40)
    parser.add_argument("--rows", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        start = time.perf_counter()
        policy = build_workspace(root, args.tables, args.columns, args.rows)
        print(f"set-up: {args.tables} tables x {args.columns} columns x {args.rows} rows "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip

        from tutela.report import governance
        from tutela.report.governance_html import render_html

        loaded = load_policy(policy)
        cpu, wall = time.process_time(), time.perf_counter()
        with Workspace.open(root, read_only=True) as ws:
            report = governance.build(ws, loaded.policy)
        built_cpu, built = time.process_time() - cpu, time.perf_counter() - wall
        page = render_html(report)
        total_cpu, total = time.process_time() - cpu, time.perf_counter() - wall
        s = report.to_dict()["summary"]
        print(f"model:  {built:5.2f} s ({built_cpu:.2f} s CPU)  {json.dumps(s)}")
        print(
            f"render: {total - built:5.2f} s ({total_cpu - built_cpu:.2f} s CPU), "
            f"{len(page) / 1e6:.2f} MB of HTML"
        )
        print(f"build + render: {total:5.2f} s ({total_cpu:.2f} s CPU)  target < 5 s")
        out = Path(tmp) / "governance.html"
        wall = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tutela", "-w", str(root), "report", "-p", str(policy),
             "--out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        print(f"`tutela report` in a new process: {time.perf_counter() - wall:5.2f} s")


if __name__ == "__main__":
    main()
