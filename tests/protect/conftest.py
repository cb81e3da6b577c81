"""Fixtures: a workspace with a key set and a small synthetic customer table; the CLI with
the `tutela` app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tutela.base import keys
from tutela.cli.app import app as base_app
from tutela.workspace import Workspace

CUSTOMERS = """
CREATE TABLE crm AS SELECT * FROM (VALUES
 (1, 'Anna.Puig@Example.com ', '+34 612 345 678', 'ES9121000418450200051332',
  '4111 1111 1111 1111', DATE '1985-04-02', '08001', 'F',
  'call 612345678 or write to anna.puig@example.com', TIMESTAMP '2024-01-02 10:00:00'),
 (2, 'anna.puig@example.com', '612345678', 'GB29NWBK60161331926819',
  '5500-0000-0000-0004', DATE '2001-12-31', '28080', 'M', 'nothing here',
  TIMESTAMP '2024-03-02 10:00:00'),
 (3, 'jan.kowalski@example.org', '0048 501 234 567', 'PL61109010140000071219812874',
  '4000056655665556', DATE '1970-07-15', '00-950', 'M', 'PESEL 44051401359 on file',
  TIMESTAMP '2023-11-20 08:30:00'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) t(id, email, phone, iban, card, dob, cp, gender, notes, ts)
"""

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
tables:
  crm:
    subject: customer
    columns:
      id: user.unique_id
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      iban: IBAN_CODE
      card: CREDIT_CARD
      dob: DATE_OF_BIRTH
      cp: {category: user.contact.address.postal_code, quasi_identifier: true}
      gender: {category: user.demographic.gender, quasi_identifier: true}
      notes: {category: user.content.private, free_text: true}
      ts: not_personal
roles:
  dpo:
    default: clear
  analyst:
    default: hidden
    tables:
      crm:
        pseudonymized: [id, email]
        masked: [card]
        clear: [cp, gender, ts]
"""


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        ws.con.execute(CUSTOMERS)
    keys.init_keyset(root)
    return root


@pytest.fixture
def ws(ws_root: Path) -> Iterator[Workspace]:
    w = Workspace.open(ws_root)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def protect_app() -> typer.Typer:
    return base_app


@pytest.fixture
def cli(ws_root: Path, protect_app: typer.Typer) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(protect_app, ["-w", str(ws_root), *args], input=input)

    return run
