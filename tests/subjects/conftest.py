"""A small synthetic three-system workspace and its policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tutela.policy.loader import load_policy
from tutela.policy.models import Policy
from tutela.workspace import Workspace

POLICY = """
version: 1
organisation: {name: Test Shop, country: ES, dpo: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: crm, column: full_name, kind: name}
      - {table: tickets, column: caller, kind: phone, region: ES}
      - {table: tickets, column: caller_name, kind: name}
      - {table: orders, column: customer_id, kind: customer_id}
      - {table: newsletter, column: mail, kind: email}
tables:
  crm:
    columns:
      customer_id: {personal: true, category: user.unique_id}
      email: {entity: EMAIL_ADDRESS}
      phone: {entity: PHONE_NUMBER}
      full_name: {entity: PERSON}
  tickets:
    columns:
      caller: {entity: PHONE_NUMBER}
      caller_name: {entity: PERSON}
      notes: {entity: PERSON, free_text: true}
  orders:
    columns:
      customer_id: {personal: true, category: user.unique_id}
      address: {entity: POSTAL_ADDRESS}
  newsletter:
    columns:
      mail: {entity: EMAIL_ADDRESS}
      purpose: {personal: false}
      status: {personal: false}
      at: {personal: false}
purposes:
  order_fulfilment:
    legal_basis: contract
    tables: [crm, orders]
  support:
    legal_basis: legitimate_interests
    legitimate_interest: answering customers
    tables: [tickets]
  newsletter:
    legal_basis: consent
    consent_required: true
    tables: [newsletter]
consent:
  table: newsletter
  subject_column: mail
  purpose_column: purpose
  status_column: status
  timestamp_column: at
erasure:
  default: delete
  tables:
    orders:
      action: anonymize
      columns: [customer_id, address]
"""


def build(ws: Workspace) -> None:
    con = ws.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('C1', 'Anna.Puig@Example.com', '612 345 678', 'Anna Puig i Ferrer'), "
        "('C2', 'joan@example.com', '622 000 111', 'Joan Soler'), "
        "('C3', 'zofia@example.pl', '+48 601 234 567', 'Zofia Nowak')"
        ") t(customer_id, email, phone, full_name)"
    )
    con.execute(
        "CREATE TABLE tickets AS SELECT * FROM (VALUES "
        "('T1', '+34612345678', 'Anna Puig', 'La Sra. Anna Puig i Ferrer truca; correu "
        "anna.puig@example.com'), "
        "('T2', '0034 622 000 111', 'Joan Soler', 'Sin datos'), "
        "('T3', '699 999 999', 'Ana Puig Ferrer', 'cliente nueva, dice que escribió a "
        "anna.puig@example.com'), "
        "('T4', '699 888 777', 'Anna Puig Ferer', 'llama por un pedido')"
        ") t(ticket, caller, caller_name, notes)"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM (VALUES "
        "('O1', 'C1', 'C. Mayor 1, Barcelona'), ('O2', 'C1', 'C. Mayor 1, Barcelona'), "
        "('O3', 'C2', 'C. Pelayo 2, Madrid')) t(order_id, customer_id, address)"
    )
    con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES "
        "('ANNA.PUIG@example.com', 'newsletter', 'granted', '2024-01-01 10:00:00'), "
        "('anna.puig@example.com', 'newsletter', 'withdrawn', '2025-03-01 10:00:00'), "
        "('someone@example.com', 'newsletter', 'granted', '2024-02-01 10:00:00')"
        ') t(mail, purpose, status, "at")'
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def policy(policy_file: Path) -> Policy:
    return load_policy(policy_file).policy


@pytest.fixture
def shop(workspace: Workspace) -> Iterator[Workspace]:
    build(workspace)
    yield workspace
