"""Two `tutela` processes writing to one workspace: the second waits for the lock or fails
with `error[workspace-locked]`; the workspace always opens afterwards and the audit log
verifies."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutela.base import keys
from tutela.workspace import Workspace

from .conftest import table_state, tutela

pytestmark = pytest.mark.reliability

HOLD = """
import sys
from tutela.workspace import Workspace
ws = Workspace.open(sys.argv[1], command="tutela hold-test")
print("locked", flush=True)
sys.stdin.read()  # hold the workspace until the test closes our stdin
ws.close()
"""


def _workspace(root: Path, rows: int = 200_000) -> None:
    with Workspace.open(root) as ws:
        ws.con.execute(
            "CREATE TABLE crm AS SELECT i AS id, 'u' || i || '@example.com' AS email, "
            f"'+34 6' || lpad(CAST(i AS VARCHAR), 8, '0') AS phone FROM range({rows}) t(i)"
        )
    keys.init_keyset(root)


def _writer(root: Path, column: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tutela",
            "-w",
            str(root),
            "pseudonymize",
            "crm",
            "--columns",
            column,
            "--apply",
            "--force",  # round two protects `phone` again: this test is about the lock
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_writers_at_once(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root)
    outcomes = []
    for round_ in range(2):
        a = _writer(root, "email" if round_ == 0 else "id")
        time.sleep(0.05 * round_)
        b = _writer(root, "phone")
        for proc in (a, b):
            _, err = proc.communicate(timeout=300)  # generous: a busy machine
            if proc.returncode == 0:
                outcomes.append("ok")
            else:  # the only acceptable failure: a clear lock message, no traceback
                assert "error[workspace-locked]" in err, err
                assert "Traceback" not in err
                outcomes.append("locked")
        table_state(root)  # opens, and the audit log verifies
    assert "ok" in outcomes
    r = tutela(root, "audit", "verify")
    assert r.returncode == 0, r.stderr


def _holder(root: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(30)


def test_second_writer_fails_clearly_while_lock_is_held(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root, rows=10)
    before = table_state(root)
    holder = _holder(root)
    try:
        start = time.monotonic()
        r = tutela(root, "pseudonymize", "crm", "--columns", "email", "--apply")
        waited = time.monotonic() - start
        assert r.returncode == 4, r.stderr
        assert "error[workspace-locked]" in r.stderr and "in use by another" in r.stderr
        # it names the command holding the lock, and its pid
        assert "`tutela hold-test` (pid " + str(holder.pid) in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        assert waited >= 4  # it waited for the lock before giving up
    finally:
        _release(holder)
    assert table_state(root) == before  # nothing was half-written
    assert tutela(root, "pseudonymize", "crm", "--columns", "email", "--apply").returncode == 0


def test_a_reader_waits_for_a_writer_and_names_it(tmp_path: Path) -> None:
    """#15 item 4: `tables` while another command writes waits briefly, then says which
    command holds the workspace; once it is released, reading works at once."""
    root = tmp_path / "ws"
    _workspace(root, rows=10)
    holder = _holder(root)
    try:
        r = tutela(root, "tables")
        assert r.returncode == 4, r.stderr
        assert "error[workspace-locked]" in r.stderr
        assert f"`tutela hold-test` (pid {holder.pid}" in r.stderr, r.stderr
    finally:
        _release(holder)
    r = tutela(root, "tables")
    assert r.returncode == 0 and "crm" in r.stdout, r.stderr


def test_readers_share_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root, rows=10)
    with Workspace.open(root, read_only=True, command="tutela tables"):
        r = tutela(root, "tables")  # a second reader gets in while the first reads
        assert r.returncode == 0, r.stderr
        w = tutela(root, "pseudonymize", "crm", "--columns", "email", "--apply",
                   env={"TUTELA_LOCK_WAIT": "0.5"})  # fmt: skip
        assert w.returncode == 4 and "`tutela tables`" in w.stderr, w.stderr
