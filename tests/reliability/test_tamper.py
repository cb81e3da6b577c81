"""Random tampering with the audit log (edit, delete, reorder, forged appends) is always
caught by `audit.verify`; the one thing a hash chain alone cannot see, cutting entries off
the end, changes the head that `tutela audit verify` prints for anchoring elsewhere."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutela import audit
from tutela.base.keys import MasterKey

from .conftest import fuzz_examples

pytestmark = pytest.mark.reliability

MASTER = MasterKey(bytes(range(32)), "test")
FORGER = MasterKey(bytes(range(1, 33)), "attacker")  # a key that is not the workspace's
COLUMNS = ["logged_at", "command", "arguments", "tables", "counts", "result", "prev_hash",
           "entry_hash"]  # fmt: skip


def _log(n: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA _tutela")
    for i in range(n):
        audit.append(con, MASTER, command="erase", arguments={"subject": f"h{i}"},
                     tables=["crm"], counts={"deleted": i}, result="ok")  # fmt: skip
    return con


tamper = st.one_of(
    st.tuples(
        st.just("edit"), st.integers(1, 10**6), st.sampled_from(COLUMNS), st.text(max_size=20)
    ),
    st.tuples(st.just("delete"), st.sets(st.integers(1, 10**6), min_size=1, max_size=3)),
    st.tuples(st.just("reorder"), st.integers(1, 10**6), st.integers(1, 10**6)),
    st.tuples(st.just("forge"), st.sampled_from(["copy", "attacker-key", "random-hash"])),
    st.tuples(st.just("renumber"), st.integers(1, 10**6), st.integers(-3, 3)),
)


def _size(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT count(*) FROM {audit.TABLE}").fetchone()
    return int(row[0]) if row else 0


def _apply(con: duckdb.DuckDBPyConnection, op: tuple[object, ...]) -> None:
    t = audit.TABLE
    seqs = [r[0] for r in con.execute(f"SELECT seq FROM {t} ORDER BY seq").fetchall()]
    pick = lambda i: seqs[int(i) % len(seqs)]  # noqa: E731 - an existing sequence number
    free_low, free_high = seqs[0] - 1000, seqs[-1] + 1
    kind = op[0]
    if kind == "edit":
        _, i, col, value = op
        con.execute(f"UPDATE {t} SET {col} = ? WHERE seq = ?", [value, pick(i)])
    elif kind == "delete":
        chosen = sorted({pick(i) for i in op[1]})  # type: ignore[attr-defined]
        con.execute(f"DELETE FROM {t} WHERE seq IN ({','.join(map(str, chosen))})")
    elif kind == "reorder":
        a, b = pick(op[1]), pick(op[2])
        con.execute(f"UPDATE {t} SET seq = ? WHERE seq = ?", [free_low, a])
        con.execute(f"UPDATE {t} SET seq = ? WHERE seq = ?", [a, b])
        con.execute(f"UPDATE {t} SET seq = ? WHERE seq = ?", [b, free_low])
    elif kind == "forge":
        how = op[1]
        last = con.execute(f"SELECT seq, entry_hash FROM {t} ORDER BY seq DESC LIMIT 1").fetchone()
        assert last is not None
        if how == "attacker-key":  # a well-formed entry hashed with the wrong key
            audit.append(con, FORGER, command="erase", arguments={}, tables=[], counts={},
                         result="ok")  # fmt: skip
        else:  # a copy of the last entry chained after it, with its hash or a made-up one
            con.execute(
                f"INSERT INTO {t} SELECT seq + 1, logged_at, command, arguments, tables, counts, "
                f"result, ?, ? FROM {t} WHERE seq = ?",
                [last[1], "f" * 64 if how == "random-hash" else last[1], last[0]],
            )
    elif kind == "renumber":
        seq, delta = pick(op[1]), int(op[2])  # type: ignore[call-overload]
        target = free_high + abs(delta) if delta >= 0 else free_low - 1000 + delta
        con.execute(f"UPDATE {t} SET seq = ? WHERE seq = ?", [target, seq])


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {audit.TABLE} ORDER BY seq").fetchall()


@settings(max_examples=fuzz_examples(50), deadline=None, database=None, derandomize=True)
@given(n=st.integers(2, 8), ops=st.lists(tamper, min_size=1, max_size=3))
def test_random_tampering_is_always_caught(n: int, ops: list[tuple[object, ...]]) -> None:
    con = _log(n)
    original = _rows(con)
    assert audit.verify(con, MASTER).ok
    for op in ops:
        if _size(con):
            _apply(con, op)
    tampered = _rows(con)
    if tampered == original:
        return  # the operations cancelled out
    report = audit.verify(con, MASTER)
    if report.ok:  # only allowed for a cut tail: what is left is a prefix, the head moved
        assert tampered == original[: len(tampered)], ops
        assert report.head != audit.verify(_log(n), MASTER).head or not tampered
        return
    assert report.problems and all(p.startswith("entry ") for p in report.problems)


def test_truncation_changes_the_head() -> None:
    con = _log(5)
    head = audit.verify(con, MASTER).head
    con.execute(f"DELETE FROM {audit.TABLE} WHERE seq = 5")
    report = audit.verify(con, MASTER)
    assert report.ok  # a bare hash chain cannot see a cut tail ...
    assert report.head != head  # ... but the head an auditor noted down no longer matches


def test_wrong_key_fails_every_entry() -> None:
    con = _log(4)
    report = audit.verify(con, FORGER)
    assert not report.ok and len(report.problems) == 4
