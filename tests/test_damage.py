"""A damaged workspace file (issue #15 item 2): a clear error[workspace-damaged] naming the
file and what to do, and `audit verify` reads every block it vouches for."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import Result

from tutela.base.errors import ExitCode
from tutela.workspace import DB_FILE, Workspace


def _damage(ws_path: Path) -> None:
    """64 KiB of random bytes in the middle of the file, inside the big table's blocks."""
    with Workspace.open(ws_path) as ws:
        ws.con.execute(
            "CREATE TABLE big AS SELECT i AS id, md5(CAST(i AS VARCHAR)) || md5(CAST(-i AS "
            "VARCHAR)) AS note FROM range(300000) t(i)"
        )
        ws.con.execute("CHECKPOINT")
    db = ws_path / DB_FILE
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(os.urandom(65536))
    con = duckdb.connect(str(db), read_only=True)
    try:  # the test is only meaningful if the damage hit a block in use
        with pytest.raises(duckdb.Error, match="checksum"):
            con.execute("SELECT bit_xor(hash(t)) FROM big AS t").fetchall()
    finally:
        con.close()


def test_damaged_file_is_reported_as_such(cli: Callable[..., Result], ws_path: Path) -> None:
    assert cli("keys", "init").exit_code == 0
    _damage(ws_path)
    verify = cli("audit", "verify")
    assert verify.exit_code == ExitCode.DATA, verify.output
    assert verify.stderr.startswith("error[workspace-damaged]: "), verify.stderr
    assert str(ws_path / DB_FILE) in verify.stderr and "table main.big" in verify.stderr
    assert "backup" in verify.stderr and "audit log OK" not in verify.stdout
    shown = cli("show", "big", "--limit", "1000000")
    assert shown.exit_code == ExitCode.DATA
    assert shown.stderr.startswith("error[workspace-damaged]: ")
    assert str(ws_path / DB_FILE) in shown.stderr and "internal" not in shown.stderr


def test_intact_workspace_reads_back(cli: Callable[..., Result], ws_path: Path) -> None:
    assert cli("keys", "init").exit_code == 0
    result = cli("audit", "verify")
    assert result.exit_code == 0 and "read back intact" in result.stdout
