"""A small workspace for the governance report, built so that every count is known by hand.

As of 2026-11-15 (synthetic people only):
- customers (crm): 6 rows; `notes` holds names per the scan but the policy does not declare it.
  Retention 2 years after last_order, legal hold on legal_hold = true: C1 (2020) is past
  retention, C2 (2021) is held, C4 (2024-11-20) becomes due in November 2026, C3
  (2024-12-10) in December 2026, C5 (2026) after the horizon, C6 has no date.
- newsletter: 5 rows; ' Cy@Shop.example ' is cy@shop.example.
- consents (the policy's consent table) + one withdrawal in the ledger. For `marketing`
  (consent-based; customers and newsletter): current ana, out (out is not processed);
  withdrawn bo, di, zed (zed by the ledger); never asked cy, ed, fay, yan.
- requests: R1 overdue (failed), R2 open with 2 possible matches to review, R3 done but
  owing a task in `billing`, R4 done.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from tutela import audit
from tutela.detect import ColumnFinding, TableScan, store_scan, table_fingerprint
from tutela.enforce import consent
from tutela.ingest.load import load_files
from tutela.keyguard import workspace_key
from tutela.policy.loader import load_policy
from tutela.subjects import review, tasks
from tutela.workspace import Workspace

AS_OF = date(2026, 11, 15)

CUSTOMERS = """customer_id,name,email,phone,country,last_order,legal_hold,notes
C1,Ana Test,ana@shop.example,+34 600 000 001,ES,2020-01-01,false,Ana Test called twice
C2,Bo Test,bo@shop.example,+34 600 000 002,ES,2021-05-01,true,
C3,Cy Test,cy@shop.example,+34 600 000 003,PT,2024-12-10,false,
C4,Di Test,di@shop.example,,ES,2024-11-20,false,wrote from di.private@mail.example
C5,Ed Test,ed@shop.example,+34 600 000 005,ES,2026-01-01,false,
C6,Fay Test,fay@shop.example,+34 600 000 006,IN,,false,
"""
NEWSLETTER = """email,signed_up
ana@shop.example,2024-01-01
bo@shop.example,2024-01-01
zed@shop.example,2024-02-01
yan@shop.example,2024-03-01
 Cy@Shop.example ,2024-04-01
"""
CONSENTS = """subject_email,purpose,status,recorded_at
ana@shop.example,marketing,granted,2024-01-01T10:00:00
bo@shop.example,marketing,granted,2024-01-01T10:00:00
bo@shop.example,marketing,withdrawn,2025-01-01T10:00:00
zed@shop.example,marketing,granted,2024-02-01T10:00:00
out@shop.example,marketing,granted,2024-02-01T10:00:00
di@shop.example,marketing,withdrawn,2024-06-01T10:00:00
"""
EXTRA = "x\n1\n2\n"

# every value a person could be recognised by: none may appear in a report
PERSONAL_VALUES = [
    "Ana Test", "Bo Test", "Fay Test", "ana@shop.example", "fay@shop.example",
    "zed@shop.example", "out@shop.example", "600 000 001", "called twice",
    "di.private@mail.example",
]  # fmt: skip
MASKED_EXAMPLE = "a***@s***.example"

POLICY = """version: 1
organisation: {name: Shop Test S.L., country: ES, dpo: dpo@shop.example}
subjects:
  customer:
    identifiers:
      - {table: customers, column: customer_id, kind: customer_id}
      - {table: customers, column: email, kind: email}
      - {table: newsletter, column: email, kind: email}
      - {table: consents, column: subject_email, kind: email}
tables:
  customers:
    source_system: CRM
    columns:
      customer_id: user.unique_id
      name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      country: {category: user.contact.address.country, quasi_identifier: true}
      last_order: not_personal
      legal_hold: not_personal
  newsletter:
    columns: {email: EMAIL_ADDRESS, signed_up: not_personal}
  consents:
    columns: {subject_email: EMAIL_ADDRESS, purpose: not_personal,
              status: user.privacy_preferences, recorded_at: not_personal}
  archive:
    columns: {id: not_personal}
purposes:
  marketing:
    legal_basis: consent
    tables: [newsletter, customers]
    categories: [user.contact.email]
    recipients: [{name: Mailer SAS, kind: processor, country: FR}]
  support:
    legal_basis: contract
    tables: [customers]
    recipients:
      - {name: Offshore Calls Ltd, kind: processor, country: IN}
      - {name: Cloud Desk Inc, kind: processor, country: US, safeguard: sccs}
    storage: [{location: Frankfurt DC, country: DE}]
  records:
    legal_basis: legal_obligation
    tables: [consents]
retention:
  - table: customers
    period: 2 years
    after: last_order
    legal_hold: {column: legal_hold, equals: true}
consent:
  table: consents
  subject_column: subject_email
  purpose_column: purpose
  status_column: status
  timestamp_column: recorded_at
"""

REQUESTS_DDL = """CREATE TABLE IF NOT EXISTS _tutela.requests (
    request_id VARCHAR PRIMARY KEY, type VARCHAR, received_at DATE, deadline DATE,
    state VARCHAR NOT NULL, reason VARCHAR, subject_hash VARCHAR, outputs VARCHAR,
    updated_at TIMESTAMP NOT NULL)"""


def _finding(column: str, entity: str | None, matched: int, non_empty: int,
             **more: object) -> ColumnFinding:  # fmt: skip
    return ColumnFinding(
        column,
        "VARCHAR",
        entity=entity,
        confidence=0.9,
        matched=matched,
        non_empty=non_empty,
        **more,
    )  # type: ignore[arg-type]


def build(root: Path, *, tracked: bool = True) -> Path:
    """The workspace at `root`; returns the policy file. `tracked`: the request-task and
    review-queue tables exist."""
    files = root.parent / "files"
    files.mkdir(parents=True, exist_ok=True)
    for name, text in [("customers", CUSTOMERS), ("newsletter", NEWSLETTER),
                       ("consents", CONSENTS), ("archive", EXTRA)]:  # fmt: skip
        (files / f"{name}.csv").write_text(text, encoding="utf-8")
    policy_path = root.parent / "policy.yaml"
    policy_path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(policy_path).policy
    with Workspace.open(root) as ws:
        for name, source in [("customers", "crm"), ("newsletter", "newsletter-tool"),
                             ("consents", "consent-tool"), ("archive", None)]:  # fmt: skip
            [result] = load_files(ws, [files / f"{name}.csv"], source=source)
            assert result.error is None, result.error
        ws.con.execute("CREATE TABLE extra AS SELECT 1 AS x")  # loaded, not in the policy
        scans = {
            "customers": [
                _finding("customer_id", None, 0, 6),
                _finding("name", "PERSON", 6, 6, category="user.name"),
                _finding("email", "EMAIL_ADDRESS", 6, 6, category="user.contact.email",
                         evidence={"examples": [MASKED_EXAMPLE]}),
                _finding("phone", "PHONE_NUMBER", 4, 5, category="user.contact.phone_number"),
                _finding("notes", "PERSON", 2, 2, category="user.name", free_text=True,
                         evidence={"free_text": {"presidio_entities": {"PERSON": 1,
                                                                       "EMAIL_ADDRESS": 1}},
                                   "examples": ["PERSON: A** T***"]}),
            ],
            "newsletter": [_finding("email", "EMAIL_ADDRESS", 5, 5, category="user.contact.email")],
        }  # fmt: skip
        for table, columns in scans.items():
            rows = ws.row_count(table)
            store_scan(ws.con, TableScan(table, rows, columns),
                       fingerprint=table_fingerprint(ws.con, table))  # fmt: skip
        consent.withdraw(ws, policy, "zed@shop.example", "marketing", datetime(2025, 3, 1))
        master = workspace_key(ws)
        for n in range(3):
            audit.append(ws.con, master, command=f"test {n}", arguments={}, tables=["customers"],
                         counts={"n": n}, result="ok")  # fmt: skip
        ws.con.execute(REQUESTS_DDL)
        now = datetime(2026, 11, 1)
        ws.con.executemany(
            "INSERT INTO _tutela.requests VALUES (?, ?, ?, ?, ?, ?, 'h', '[]', ?)",
            [["R1", "access", date(2026, 10, 1), date(2026, 11, 1), "failed",
              "malformed e-mail address", now],
             ["R2", "erasure", date(2026, 11, 1), date(2026, 12, 1), "received", None, now],
             ["R3", "erasure", date(2026, 10, 10), date(2026, 11, 10), "done", None, now],
             ["R4", "access", date(2026, 10, 12), date(2026, 11, 12), "done", None, now]],
        )  # fmt: skip
        if tracked:
            tasks.ensure_table(ws.con)
            ws.con.executemany(
                "INSERT INTO _tutela.request_tasks (request_id, system, mode, state, note, "
                "updated_at) VALUES (?, ?, ?, ?, 'ticket 7', ?)",
                [["R3", "workspace", "in_place", "erased", now],
                 ["R3", "billing", "copy", "owed", now],
                 ["R4", "workspace", "in_place", "erased", now]],
            )  # fmt: skip
            review.ensure_table(ws.con)
            ws.con.executemany(
                "INSERT INTO _tutela.review_queue (request_id, item, table_name, row_ref, "
                "fingerprint, reason, score, decision, found_at) "
                "VALUES (?, 1, 'customers', ?, 'fp' || ?, 'similar name', ?, ?, now())",
                [
                    ["R2", "4", "4", 0.91, None],
                    ["R2", "5", "5", 0.95, None],
                    ["R2", "6", "6", 0.97, "rejected"],
                ],
            )
    return policy_path


@pytest.fixture(scope="session")
def report_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report") / "ws"
    build(root)
    return root


@pytest.fixture
def report_ws(report_template: Path, tmp_path: Path) -> Path:
    """A private copy of the report workspace (its policy is beside it)."""
    target = tmp_path / "ws"
    shutil.copytree(report_template, target)
    shutil.copy(report_template.parent / "policy.yaml", tmp_path / "policy.yaml")
    return target
