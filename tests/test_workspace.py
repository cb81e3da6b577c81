"""The workspace: locking against a concurrent writer, quoting, transactions."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutela.base.errors import WorkspaceLockedError
from tutela.workspace import Workspace, quote_ident

HOLD = """
import sys, time
from tutela.workspace import Workspace
ws = Workspace.open(sys.argv[1])
print("ready", flush=True)
time.sleep(30)
"""


def test_second_writer_gets_a_clear_error(ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the default wait is ten minutes here: giving up within the holder's 30 s life shows that
    # `wait_seconds` was honoured, with no bound on how fast a busy machine runs
    monkeypatch.setenv("TUTELA_LOCK_WAIT", "600")
    Workspace.open(ws_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(ws_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WorkspaceLockedError, match="in use by another tutela process"):
            Workspace.open(ws_path, wait_seconds=0.5)
        assert holder.poll() is None  # it gave up while the lock was still held
    finally:
        holder.kill()
        holder.wait()
    Workspace.open(ws_path).close()  # usable again once the other process is gone


def test_transaction_rolls_back_everything(workspace: Workspace) -> None:
    workspace.con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), workspace.transaction() as con:
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("CREATE TABLE u (y INTEGER)")
        raise RuntimeError("crash half-way")
    assert workspace.row_count("t") == 0
    assert not workspace.has_table("u")


@settings(deadline=None)  # no test may depend on wall-clock speed (a busy CI machine)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=40,
    )
)
def test_any_identifier_round_trips_through_quoting(name: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {quote_ident(name)} ({quote_ident(name)} INTEGER)")
    con.execute(f"INSERT INTO {quote_ident(name)} VALUES (42)")
    assert con.execute(f"SELECT {quote_ident(name)} FROM {quote_ident(name)}").fetchall() == [(42,)]
    described = con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()
    assert described[0][0] == name


def test_damaged_workspace_file_is_reported_at_once_not_as_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged database file (here: a changed header; a newer DuckDB's file gets its own
    message) is an error naming the file, at once, not a 5 s wait for a lock."""
    import struct

    from tutela.base.errors import WorkspaceError

    Workspace.open(tmp_path / "ws").close()
    db = tmp_path / "ws" / "tutela.duckdb"
    data = bytearray(db.read_bytes())
    assert data[8:12] == b"DUCK"
    data[12:20] = struct.pack("<Q", 12_345_678)
    db.write_bytes(bytes(data))
    waits: list[float] = []
    real_sleep, here = time.sleep, threading.get_ident()

    def sleep(seconds: float) -> None:  # "at once": no pause to retry a lock, in this thread
        if threading.get_ident() == here:  # (other threads, e.g. py4j's left by the Spark
            waits.append(seconds)  # tests in this worker process, keep their own sleeps)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(
        WorkspaceError, match=r"cannot open workspace database|newer DuckDB release"
    ) as caught:
        Workspace.open(tmp_path / "ws")
    assert not isinstance(caught.value, WorkspaceLockedError)
    assert waits == []
