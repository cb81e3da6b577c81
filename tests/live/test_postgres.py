"""Live PostgreSQL: attach, scan, SAR and erasure against a real server (tests/live/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import erase_the_garcias, family_policy, json_out
from tests.live.conftest import PASSWORD, USER, PgServer

POLICY = """\
version: 1
organisation: {name: Test Org, country: PL, contact: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: crm.public.customers, column: email, kind: email}
      - {table: crm.public.customers, column: phone, kind: phone, region: PL}
      - {table: crm.public.customers, column: full_name, kind: name}
      - {table: shop, column: email, kind: email}
tables:
  crm.public.customers:
    columns:
      id: not_personal
      full_name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      notes: {entity: PERSON, free_text: true}
  crm.public.orders:
    columns:
      order_id: not_personal
      customer_email: EMAIL_ADDRESS
      address: user.contact.address
  shop:
    columns:
      email: EMAIL_ADDRESS
      item: not_personal
"""

SETUP = """
CREATE TABLE customers (id serial PRIMARY KEY, full_name text, email text, phone text, notes text);
INSERT INTO customers (full_name, email, phone, notes) VALUES
  ('Anna Nowak', 'anna@example.com', '+48 601 234 567', 'called about order 7'),
  ('Jan Kowalski', 'jan@example.pl', '+48 601 999 000', 'friend of anna@example.com'),
  ('Ewa Zielińska', 'ewa@example.pl', '+48 602 111 222', NULL);
CREATE TABLE orders (order_id int, customer_email text, address text);
INSERT INTO orders VALUES (1, 'anna@example.com', 'ul. Długa 1'),
  (2, 'ewa@example.pl', 'ul. Krótka 2');
"""


@pytest.fixture
def crm(pg_server: PgServer, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pg_server.psql(pg_db, SETUP)
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "shop.csv").write_text("email,item\nanna@example.com,book\nzed@example.com,pen\n")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    return pg_db


def _attach(cli: Callable[..., Result], pg: PgServer, db: str, *extra: str) -> Result:
    result = cli("attach", "crm", pg.url(db), *extra)
    assert result.exit_code == 0, result.output
    return result


def _count(pg: PgServer, db: str, sql: str) -> int:
    return int(pg.psql(db, sql))


def test_attach_lists_tables_and_stores_no_password(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, ws_path: Path, no_pg_env: None
) -> None:
    result = _attach(cli, pg_server, crm)
    assert "crm.public.customers" in result.output
    assert PASSWORD not in result.output
    assert "not stored" in result.output  # said once, when the password came in the URL
    listed = json_out(cli("attachments", "-f", "json"))["attachments"]
    assert listed == [
        {
            "name": "crm",
            "kind": "postgres",
            "target": f"host=127.0.0.1 port={pg_server.port} user={USER} dbname={crm}",
            "read_only": False,
        }
    ]
    # the workspace file, the audit log and every later output are free of the password
    audit = cli("audit", "show", "-f", "json")
    assert PASSWORD not in audit.output
    for path in ws_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    # later commands need libpq's own credentials: a clear error without them
    missing = cli("tables")
    assert missing.exit_code == 4
    assert "PGPASSWORD" in missing.output and "Traceback" not in missing.output
    assert PASSWORD not in missing.output


def test_credentials_from_pgpass_file(
    cli: Callable[..., Result],
    pg_server: PgServer,
    crm: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_pg_env: None,
) -> None:
    result = cli("attach", "crm", pg_server.url(crm, password=False))
    assert result.exit_code == 4  # no password anywhere yet
    assert "no password supplied" in result.output
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:{USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert cli("attach", "crm", pg_server.url(crm, password=False)).exit_code == 0
    tables = json_out(cli("tables", "-f", "json"))["tables"]
    rows = {t["table"]: t["rows"] for t in tables}
    assert rows == {"crm.public.customers": 3, "crm.public.orders": 2}


def test_scan_reads_the_live_table_in_place(
    cli: Callable[..., Result], pg_server: PgServer, crm: str
) -> None:
    _attach(cli, pg_server, crm)
    report = json_out(cli("scan", "crm.public.customers", "-f", "json"))
    (table,) = report["tables"]
    entities = {c["column"]: c["entity"] for c in table["columns"]}
    assert entities["email"] == "EMAIL_ADDRESS"
    assert entities["phone"] == "PHONE_NUMBER"
    assert entities["full_name"] == "PERSON"
    assert "rowid" not in entities  # the row address is not a column of the table
    # nothing was copied into the workspace
    assert [t["table"] for t in json_out(cli("tables", "-f", "json"))["tables"]] == [
        "crm.public.customers",
        "crm.public.orders",
    ]


def test_sar_finds_the_person_in_files_and_live_db(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    assert cli("load", str(tmp_path / "shop.csv")).exit_code == 0
    _attach(cli, pg_server, crm)
    out = tmp_path / "reports"
    result = cli(
        "sar", "--email", "anna@example.com", "-p", str(tmp_path / "policy.yaml"),
        "-o", str(out), "--request-id", "R1", "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "sar-R1.json").read_text())
    text = json.dumps(report)
    assert "Anna Nowak" in text and "book" in text
    tables = {t["table"] for t in report["tables"]}
    assert {"crm.public.customers", "shop"} <= tables
    assert "rowid" not in text  # PostgreSQL row addresses stay internal
    assert "Jan Kowalski" not in text  # only mentions are reported, not his record


def test_erase_applies_in_the_live_db_and_the_workspace(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    assert cli("load", str(tmp_path / "shop.csv")).exit_code == 0
    _attach(cli, pg_server, crm)
    args = ["erase", "--email", "anna@example.com", "-p", str(tmp_path / "policy.yaml"),
            "-o", str(tmp_path / "certs"), "--request-id", "E1"]  # fmt: skip
    dry = cli(*args)
    assert dry.exit_code == 0, dry.output
    assert _count(pg_server, crm, "SELECT count(*) FROM customers") == 3
    applied = cli(*args, "--apply", "-f", "json")
    assert applied.exit_code == 0, applied.output
    cert = json.loads((tmp_path / "certs" / "erasure-E1.json").read_text())
    assert cert["verification"]["ok"] is True
    # her customer row is gone, Jan's note about her is redacted, Ewa is untouched
    assert pg_server.psql(crm, "SELECT full_name FROM customers ORDER BY id") == (
        "Jan Kowalski\nEwa Zielińska"
    )
    assert pg_server.psql(crm, "SELECT notes FROM customers WHERE full_name = 'Jan Kowalski'") == (
        "friend of [REDACTED]"
    )
    shop = json_out(cli("show", "shop", "-f", "json"))["rows"]
    assert [r["email"] for r in shop] == ["zed@example.com"]
    # a second run finds nothing left anywhere
    again = json_out(cli("subject", "find", "--email", "anna@example.com",
                         "-p", str(tmp_path / "policy.yaml"), "-f", "json"))  # fmt: skip
    assert again["found"] is False


def test_live_db_refusal_rolls_back_both_sides(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    """A deferred trigger refuses at COMMIT time: neither the live DB nor the workspace
    changes, the error is clear, and the audit log says started/failed."""
    pg_server.psql(
        crm,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'legal hold on customers'; END $$; "
        "CREATE CONSTRAINT TRIGGER hold AFTER DELETE ON customers DEFERRABLE INITIALLY "
        "DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    assert cli("load", str(tmp_path / "shop.csv")).exit_code == 0
    _attach(cli, pg_server, crm)
    result = cli("erase", "--email", "anna@example.com", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--apply")  # fmt: skip
    assert result.exit_code == 4
    assert "legal hold on customers" in result.output and "Traceback" not in result.output
    assert _count(pg_server, crm, "SELECT count(*) FROM customers") == 3
    assert pg_server.psql(crm, "SELECT notes FROM customers WHERE id = 2") == (
        "friend of anna@example.com"
    )
    shop = json_out(cli("show", "shop", "-f", "json"))["rows"]
    assert len(shop) == 2
    assert not (tmp_path / "certs" / "erasure-E1.json").exists()
    entries = json_out(cli("audit", "show", "-f", "json"))["entries"]
    assert [e["result"] for e in entries if e["command"] == "erase"] == ["started", "failed"]


def test_read_only_attach_scans_but_never_writes(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    _attach(cli, pg_server, crm, "--read-only")
    assert cli("scan", "crm.public.customers").exit_code == 0
    result = cli("erase", "--email", "anna@example.com", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--apply")  # fmt: skip
    assert result.exit_code == 4
    assert "read-only" in result.output
    assert _count(pg_server, crm, "SELECT count(*) FROM customers") == 3


def test_rows_changed_after_planning_stop_the_erasure(
    pg_server: PgServer, crm: str, tmp_path: Path, ws_path: Path
) -> None:
    """A row updated by someone else between planning and applying has a new address
    (ctid): the erasure refuses rather than touching whatever sits at the old one."""
    from tutela import live
    from tutela.base.errors import TutelaError
    from tutela.keyguard import workspace_key
    from tutela.policy.loader import load_policy
    from tutela.subjects import service
    from tutela.workspace import Workspace

    ws = Workspace.open(ws_path)
    try:
        live.add(ws, workspace_key(ws), "crm", pg_server.url(crm))
        ctx = service.context(ws, load_policy(tmp_path / "policy.yaml").policy)
        clean, plans = service.plan_erasures(ctx, {"X1": {"email": ["anna@example.com"]}})
        pg_server.psql(crm, "UPDATE customers SET phone = phone WHERE id = 1")  # moves the row
        with pytest.raises(TutelaError, match="changed while the erasure"):
            service.apply_erasures(ctx, clean, plans, None)
    finally:
        ws.close()
    assert _count(pg_server, crm, "SELECT count(*) FROM customers") == 3


def test_bad_targets_get_clear_errors(
    cli: Callable[..., Result], pg_server: PgServer, tmp_path: Path
) -> None:
    closed = cli("attach", "crm", f"postgresql://{USER}:{PASSWORD}@127.0.0.1:1/none")
    assert closed.exit_code == 4 and "cannot attach crm" in closed.output
    assert PASSWORD not in closed.output and "Traceback" not in closed.output
    assert cli("attach", "crm", str(tmp_path / "missing.db")).exit_code == 2
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert "not an SQLite database" in cli("attach", "crm", str(junk)).output
    assert cli("attach", "Main", pg_server.url("x")).exit_code == 2
    assert (
        cli("attachments", "-f", "json").exit_code != 0
        or not json_out(cli("attachments", "-f", "json"))["attachments"]
    )


def test_password_with_spaces_and_quotes_in_key_value_form(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, no_pg_env: None
) -> None:
    odd = "it's a  p\\w"
    role = f"odd_{crm}"
    pg_server.psql(crm, f"CREATE ROLE {role} LOGIN PASSWORD 'it''s a  p\\w'")
    try:
        conninfo = (
            f"host=127.0.0.1 port={pg_server.port} user={role} dbname={crm} "
            "password='it\\'s a  p\\\\w'"
        )
        result = cli("attach", "crm", conninfo)
        assert result.exit_code == 0, result.output
        assert odd not in result.output
        assert "crm.public.customers" in result.output
        listed = json_out(cli("attachments", "-f", "json"))["attachments"]
        target = f"host=127.0.0.1 port={pg_server.port} user={role} dbname={crm}"
        assert listed[0]["target"] == target
    finally:
        pg_server.psql("postgres", f"DROP ROLE {role}")


def _table_file(pg: PgServer, db: str, table: str) -> bytes:
    """The bytes of a table's main data file, after a checkpoint wrote it out."""
    pg.psql(db, "CHECKPOINT")
    path = pg.psql(
        db, f"SELECT current_setting('data_directory') || '/' || pg_relation_filepath('{table}')"
    )
    return Path(path).read_bytes()


def test_purge_vacuums_the_changed_tables_and_the_certificate_says_so(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    """Without --purge the deleted row version stays in the table's file, and the
    certificate says so; with it, VACUUM (FULL) rewrites the table without them."""
    _attach(cli, pg_server, crm)
    args = ["-p", str(tmp_path / "policy.yaml"), "-o", str(tmp_path / "certs"), "--apply"]
    assert cli("erase", "--email", "anna@example.com", "--request-id", "P1", *args).exit_code == 0
    cert = json.loads((tmp_path / "certs" / "erasure-P1.json").read_text())
    (entry,) = cert["live_sources"]
    assert entry["table"] == "crm.public.customers" and entry["done"] is False
    assert "--purge" in entry["note"]
    assert b"anna@example.com" in _table_file(pg_server, crm, "customers")  # a dead version

    result = cli("erase", "--email", "ewa@example.pl", "--request-id", "P2", "--purge", *args)
    assert result.exit_code == 0, result.output
    assert "physical removal done" in result.output
    cert = json.loads((tmp_path / "certs" / "erasure-P2.json").read_text())
    (entry,) = cert["live_sources"]
    assert entry["done"] is True and "VACUUM (FULL)" in entry["method"]
    assert any("write-ahead log" in r for r in entry["remaining"])
    data = _table_file(pg_server, crm, "customers")
    assert b"anna@example.com" not in data and b"ewa@example.pl" not in data
    assert b"Jan Kowalski" in data  # the file read is the live table's
    md = (tmp_path / "certs" / "erasure-P2.md").read_text()
    assert "VACUUM (FULL)" in md and "physical removal done" in md


def test_purge_without_ownership_is_reported_not_hidden(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    role = f"clerk_{crm}"
    pg_server.psql(
        crm,
        f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'; "
        f"GRANT SELECT, UPDATE, DELETE ON customers, orders TO {role}",
    )
    try:
        url = f"postgresql://{role}@127.0.0.1:{pg_server.port}/{crm}"
        assert cli("attach", "crm", url).exit_code == 0
        result = cli("erase", "--email", "anna@example.com", "-p", str(tmp_path / "policy.yaml"),
                     "-o", str(tmp_path / "certs"), "--request-id", "P3",
                     "--apply", "--purge")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert _count(pg_server, crm, "SELECT count(*) FROM customers") == 2
        (entry,) = json.loads((tmp_path / "certs" / "erasure-P3.json").read_text())["live_sources"]
        assert entry["done"] is False
        assert f"owner ({USER})" in entry["note"] and role in entry["note"]
    finally:
        pg_server.psql(crm, f"DROP OWNED BY {role}")
        pg_server.psql("postgres", f"DROP ROLE {role}")


def test_a_row_redacted_then_anonymized_in_one_erasure(
    cli: Callable[..., Result], pg_server: PgServer, crm: str, tmp_path: Path
) -> None:
    """Redacting her own note gives her row a new ctid; blanking its columns next must
    follow it (the erasure's own move), not stop as if someone else had changed it."""
    pg_server.psql(crm, "UPDATE customers SET notes = 'call anna@example.com back' WHERE id = 1")
    policy = tmp_path / "anonymize.yaml"
    policy.write_text(
        POLICY + "erasure:\n  tables:\n    crm.public.customers:\n"
        "      action: anonymize\n      columns: [email, phone, full_name]\n"
    )
    _attach(cli, pg_server, crm)
    result = cli("erase", "--email", "anna@example.com", "-p", str(policy),
                 "-o", str(tmp_path / "certs"), "--apply")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pg_server.psql(
        crm, "SELECT id, coalesce(email, '-'), coalesce(full_name, '-'), notes FROM customers "
        "ORDER BY id"
    ).splitlines() == [
        "1|-|-|call [REDACTED] back",
        "2|jan@example.pl|Jan Kowalski|friend of [REDACTED]",
        "3|ewa@example.pl|Ewa Zielińska|",
    ]  # fmt: skip


FAMILY_SETUP = """
CREATE TABLE people (customer_id text, first_name text, last_name text, email text);
INSERT INTO people VALUES ('C1', 'Maria', 'Garcia', 'maria@example.com'),
  ('C2', 'Pedro', 'Garcia', 'pedro@example.com');
CREATE TABLE newsletter (subscriber_id text, email text, first_name text, last_name text);
INSERT INTO newsletter VALUES ('N1', 'family.garcia@example.com', 'Maria', 'Garcia'),
  ('N2', 'family.garcia@example.com', 'Pedro', 'Garcia'),
  ('N4', 'maria@example.com', 'Maria', 'Garcia');
"""


def test_a_name_over_two_live_columns_keeps_siblings_apart(
    cli: Callable[..., Result], pg_server: PgServer, pg_db: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Maria and her brother Pedro share a family address on a live newsletter table whose
    names are in first_name and last_name. An erasure by the family address deletes
    nothing in the database: both rows are questions for a human. Maria's erasure by her
    id deletes her record and her own subscription, and leaves the family rows."""
    pg_server.psql(pg_db, FAMILY_SETUP)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    policy = tmp_path / "family.yaml"
    policy.write_text(family_policy("fam.public"))
    assert cli("attach", "fam", pg_server.url(pg_db)).exit_code == 0
    cert = erase_the_garcias(cli, policy, tmp_path / "certs")
    assert pg_server.psql(pg_db, "SELECT customer_id FROM people ORDER BY 1") == "C2"
    assert pg_server.psql(pg_db, "SELECT subscriber_id FROM newsletter ORDER BY 1") == "N1\nN2"
    assert cert["verification"]["ok"] is True
