"""SIGKILL during `tutela erase --apply` leaves the data exactly as before or as after."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutela import audit
from tutela.protect.keys import load_master_key
from tutela.workspace import Workspace

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: orders, column: customer_id, kind: customer_id}
tables:
  crm: {columns: {customer_id: {}, email: {}}}
  orders: {columns: {customer_id: {}, address: {}}}
erasure:
  tables:
    orders: {action: anonymize, columns: [customer_id, address]}
"""


def _state(root: Path) -> dict[str, tuple[object, ...]]:
    ws = Workspace.open(root)
    try:
        out = {
            t: ws.con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{t}" t').fetchone()
            for t in ws.user_tables()
        }
        assert audit.verify(ws.con, load_master_key(ws.root)).ok
        return out  # type: ignore[return-value]
    finally:
        ws.close()


def _erase(root: Path, policy: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tutela",
            "-w",
            str(root),
            "erase",
            "--customer-id",
            "C7",
            "--apply",
            "-p",
            str(policy),
            "--out",
            str(root / "certs"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_kill_during_erase_apply(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    base = tmp_path / "base"
    ws = Workspace.open(base)
    ws.con.execute(
        "CREATE TABLE crm AS SELECT 'C' || i AS customer_id, "
        "'u' || i || '@example.com' AS email FROM range(1000) t(i)"
    )
    # customer C7 has 400,000 orders: the transaction takes long enough to be killed inside
    ws.con.execute(
        "CREATE TABLE orders AS SELECT i AS order_id, "
        "CASE WHEN i % 5 < 2 THEN 'C7' ELSE 'C' || (i % 1000) END AS customer_id, "
        "'Street ' || i AS address FROM range(1000000) t(i)"
    )
    load_master_key(base, create=True)
    ws.close()
    before = _state(base)
    done = tmp_path / "done"
    shutil.copytree(base, done)
    start = time.monotonic()
    assert _erase(done, policy).wait(120) == 0
    runtime = time.monotonic() - start
    after = _state(done)
    assert after != before

    rng = random.Random(8)
    outcomes = {"before": 0, "after": 0}
    for trial in range(8):
        root = tmp_path / f"t{trial}"
        shutil.copytree(base, root)
        proc = _erase(root, policy)
        time.sleep(rng.uniform(0.3, runtime))  # from start-up through the transaction
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = _state(root)
        assert state in (before, after), f"trial {trial}: data neither as before nor as after"
        outcomes["before" if state == before else "after"] += 1
        if state == before:  # re-running completes the work
            assert _erase(root, policy).wait(120) == 0
            assert _state(root) == after
        shutil.rmtree(root)
    assert outcomes["before"] > 0, outcomes  # kills landed before the commit
    assert outcomes["after"] > 0, outcomes  # and after it
