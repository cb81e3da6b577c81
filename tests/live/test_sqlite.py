"""Live SQLite files: attach, scan, erase in the file's own transaction, read-only mode."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import json_out

POLICY = """\
version: 1
organisation: {name: Test Org, country: ES, contact: dpo@example.com}
subjects:
  customer:
    identifiers:
      - {table: legacy.main.clients, column: email, kind: email}
      - {table: legacy.main.clients, column: nombre, kind: name}
      - {table: shop, column: email, kind: email}
tables:
  legacy.main.clients:
    columns:
      nombre: PERSON
      email: EMAIL_ADDRESS
      nota: {entity: PERSON, free_text: true}
  shop:
    columns:
      email: EMAIL_ADDRESS
      item: not_personal
"""


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    db = tmp_path / "legacy.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE clients (nombre TEXT, email TEXT, nota TEXT);"
        "INSERT INTO clients VALUES ('Núria Puig', 'nuria@example.cat', 'VIP'),"
        "('Pau Vidal', 'pau@example.cat', 'cosí de nuria@example.cat'),"
        "('Marta Soler', 'marta@example.cat', NULL);"
    )
    con.commit()
    con.close()
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "shop.csv").write_text("email,item\nnuria@example.cat,llibre\n")
    return db


def _rows(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT nombre, nota FROM clients ORDER BY rowid").fetchall()


def test_sqlite_scan_and_erase(cli: Callable[..., Result], legacy: Path, tmp_path: Path) -> None:
    assert cli("load", str(tmp_path / "shop.csv")).exit_code == 0
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    scan = json_out(cli("scan", "legacy.main.clients", "-f", "json"))
    entities = {c["column"]: c["entity"] for c in scan["tables"][0]["columns"]}
    assert entities["email"] == "EMAIL_ADDRESS"
    args = ["erase", "--email", "nuria@example.cat", "-p", str(tmp_path / "policy.yaml"),
            "-o", str(tmp_path / "certs"), "--request-id", "S1"]  # fmt: skip
    assert cli(*args).exit_code == 0
    assert len(_rows(legacy)) == 3  # dry run
    result = cli(*args, "--apply")
    assert result.exit_code == 0, result.output
    assert _rows(legacy) == [("Pau Vidal", "cosí de [REDACTED]"), ("Marta Soler", None)]
    assert json_out(cli("show", "shop", "-f", "json"))["rows"] == []
    cert = json.loads((tmp_path / "certs" / "erasure-S1.json").read_text())
    assert cert["verification"]["ok"] is True


def test_sqlite_read_only_is_never_written(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    assert cli("attach", "legacy", str(legacy), "--read-only").exit_code == 0
    before = legacy.read_bytes()
    result = cli("erase", "--email", "nuria@example.cat", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--apply")  # fmt: skip
    assert result.exit_code == 4 and "read-only" in result.output
    assert legacy.read_bytes() == before


def test_live_tables_refused_by_commands_that_rewrite_loaded_tables(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    result = cli("pseudonymize", "legacy.main.clients", "--column", "email", "--apply")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len(_rows(legacy)) == 3


def test_detach_forgets_the_database_not_its_data(cli: Callable[..., Result], legacy: Path) -> None:
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    assert cli("attach", "legacy", str(legacy)).exit_code == 2  # exists: needs --replace
    assert cli("attach", "legacy", str(legacy), "--replace", "--read-only").exit_code == 0
    assert json_out(cli("attachments", "-f", "json"))["attachments"][0]["read_only"] is True
    assert cli("detach", "legacy").exit_code == 0
    assert json_out(cli("tables", "-f", "json"))["tables"] == []
    assert len(_rows(legacy)) == 3
    assert cli("detach", "legacy").exit_code == 2


def test_batch_of_requests_erases_in_the_live_file(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    assert cli("load", str(tmp_path / "shop.csv")).exit_code == 0
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    batch = tmp_path / "requests.csv"
    batch.write_text(
        "request_id,type,email,received_at\n"
        "B1,access,pau@example.cat,2026-11-01T09:00:00\n"
        "B2,erasure,marta@example.cat,2026-11-02T09:00:00\n"
    )
    result = cli("requests", "run", str(batch), "-p", str(tmp_path / "policy.yaml"),
                 "--apply", "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [name for name, _ in _rows(legacy)] == ["Núria Puig", "Pau Vidal"]
    sar = json.loads((tmp_path / "out" / "sar-B1.json").read_text())
    assert {t["table"] for t in sar["tables"]} == {"legacy.main.clients"}


def _wal_database(path: Path) -> sqlite3.Connection:
    """A WAL-mode copy of the fixture data, with an index on email; the connection returned
    stays open (idle), so SQLite keeps the -wal file instead of folding it in at close."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.executescript(
        "CREATE TABLE clients (nombre TEXT, email TEXT, nota TEXT);"
        "CREATE INDEX clients_email ON clients (email);"
        "INSERT INTO clients VALUES ('Núria Puig', 'nuria@example.cat', 'trucada sobre la "
        "factura 2231 de la Núria'), ('Pau Vidal', 'pau@example.cat', 'cosí de "
        "nuria@example.cat'), ('Marta Soler', 'marta@example.cat', NULL);"
    )
    return con


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def test_erased_values_are_in_no_byte_of_the_sqlite_files(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    """secure_delete overwrites what the erasure deletes or rewrites, and the WAL is
    checkpointed and truncated: her values are in no byte of the file or its WAL."""
    gone = [b"nuria@example.cat", "Núria Puig".encode(), b"factura 2231"]
    # control: a plain DELETE (secure_delete off) leaves her bytes in the files
    (tmp_path / "control").mkdir()
    control = tmp_path / "control" / "crm.sqlite"
    keep = _wal_database(control)
    plain = sqlite3.connect(control, isolation_level=None)
    plain.execute("PRAGMA secure_delete = OFF")
    plain.execute("DELETE FROM clients WHERE email = 'nuria@example.cat'")
    plain.execute("UPDATE clients SET nota = 'cosí de [REDACTED]' WHERE email = 'pau@example.cat'")
    plain.close()
    assert all(v in _file_bytes(control) for v in gone)
    keep.close()

    (tmp_path / "live").mkdir()
    db = tmp_path / "live" / "crm.sqlite"
    reader = _wal_database(db)  # another program holds the database open meanwhile
    try:
        assert cli("attach", "legacy", str(db)).exit_code == 0
        assert all(v in _file_bytes(db) for v in gone)
        result = cli("erase", "--email", "nuria@example.cat", "-p", str(tmp_path / "policy.yaml"),
                     "-o", str(tmp_path / "certs"), "--request-id", "W1", "--apply")  # fmt: skip
        assert result.exit_code == 0, result.output
        data = _file_bytes(db)
        assert not [v for v in gone if v in data]
        assert (tmp_path / "live" / "crm.sqlite-wal").stat().st_size == 0
        assert reader.execute("SELECT nombre, nota FROM clients ORDER BY rowid").fetchall() == [
            ("Pau Vidal", "cosí de [REDACTED]"),
            ("Marta Soler", None),
        ]
    finally:
        reader.close()
    cert = json.loads((tmp_path / "certs" / "erasure-W1.json").read_text())
    (entry,) = cert["live_sources"]
    assert entry["table"] == "legacy.main.clients" and entry["done"] is True
    assert "secure_delete" in entry["method"] and "WAL checkpointed" in entry["method"]
    assert any("backups" in r for r in entry["remaining"])


def test_a_missing_driver_is_a_clear_error(
    cli: Callable[..., Result], legacy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite", None)  # import fails
    result = cli("attach", "legacy", str(legacy))
    assert result.exit_code == 4
    assert "error[live-source]" in result.output and "adbc-driver-sqlite" in result.output
    assert "Traceback" not in result.output


def test_requests_run_purge_vacuums_the_sqlite_file(
    cli: Callable[..., Result], legacy: Path, tmp_path: Path
) -> None:
    assert cli("attach", "legacy", str(legacy)).exit_code == 0
    batch = tmp_path / "requests.csv"
    batch.write_text("request_id,type,email,received_at\nV1,erasure,marta@example.cat,2026-11-02\n")
    result = cli("requests", "run", str(batch), "-p", str(tmp_path / "policy.yaml"),
                 "--apply", "--purge", "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 0, result.output
    (entry,) = json.loads((tmp_path / "out" / "erasure-V1.json").read_text())["live_sources"]
    assert entry["done"] is True and "VACUUM" in entry["method"]
    assert [name for name, _ in _rows(legacy)] == ["Núria Puig", "Pau Vidal"]


def test_a_new_process_opens_the_stored_attachment(legacy: Path, tmp_path: Path) -> None:
    """`tutela attach` in one process, `tutela scan`/`tables` in the next (as a user runs
    them): the stored attachment is opened again without the attach command's modules."""
    env = {**os.environ, "TUTELA_WORKSPACE": str(tmp_path / "ws")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tutela", *args], env=env, capture_output=True, text=True
        )

    assert run("attach", "legacy", str(legacy)).returncode == 0
    scan = run("scan", "legacy.main.clients", "--format", "json")
    assert scan.returncode in (0, 1), scan.stderr
    assert "EMAIL_ADDRESS" in scan.stdout
    assert "legacy.main.clients" in run("tables").stdout
