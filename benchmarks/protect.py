"""Protection throughput: every method over synthetic columns in a temp workspace.

The headline is HMAC tokens over N e-mail values (default 10,000,000) computed in DuckDB,
measured two ways: the SQL expression alone, and a whole in-place `pseudonymize --apply`
(rewrite of the table in one transaction plus the audit entry). Other methods run over
`--other` rows (default 1,000,000; every value distinct, the worst case for the methods
that work on distinct values in Python).

Usage: python benchmarks/protect.py [--rows N] [--other M]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tutela.base import keys
from tutela.base.normalize import key_sql
from tutela.protect import pseudonymize as ps
from tutela.protect.methods import parse_columns
from tutela.protect.sqlhmac import Binder, token_sql
from tutela.workspace import Workspace

OTHER_METHODS = [
    ("email", "email=email"),
    ("mask", "card=mask"),
    ("age_band", "dob=age_band"),
    ("truncate", "cp=truncate:2"),
    ("date_shift", "dob=date_shift:id"),
    ("freetext", "note=freetext"),
    ("encrypt (AES-SIV)", "email=encrypt"),
    ("phone", "phone=phone"),
    ("iban", "iban=iban"),
    ("card", "card=card"),
]


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds / 1e6:5.2f} M values/s ({seconds:6.2f} s for {n:,})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--other", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        ws = Workspace.open(root)
        keyset, _ = keys.init_keyset(root)
        master = keys.load_master_key(root)
        ws.con.execute(
            "CREATE TABLE emails AS SELECT i AS id, 'User' || i || '@Example.com' AS email "
            f"FROM range({args.rows}) t(i)"
        )
        ws.con.execute(
            f"""CREATE TABLE people AS SELECT i AS id,
                'user' || i || '@example.com' AS email,
                '+34 6' || lpad(((i * 7919) % 100000000)::VARCHAR, 8, '0') AS phone,
                'ES91' || lpad(i::VARCHAR, 20, '0') AS iban,
                '4' || lpad((i * 31)::VARCHAR, 15, '0') AS card,
                DATE '1950-01-01' + (i % 20000)::INTEGER AS dob,
                lpad((i % 52000)::VARCHAR, 5, '0') AS cp,
                'Call ' || '6' || lpad(i::VARCHAR, 8, '0') || ' or mail user' || i
                    || '@example.com about order ' || (i % 1000) AS note
            FROM range({args.other}) t(i)"""
        )

        # 1. the HMAC expression alone (sum of a hash forces every token to be computed)
        hkey = ps.hmac_key(keyset, keyset.active.version, ps.DEFAULT_PURPOSE)
        binder = Binder()
        expr = token_sql(hkey.sql(key_sql("email", "email"), binder))
        start = time.perf_counter()
        ws.con.execute(f"SELECT sum(hash({expr})) FROM emails", binder.params).fetchone()
        print(f"hmac, SQL expression only        {_rate(args.rows, time.perf_counter() - start)}")

        # 2. the whole in-place command
        plan = ps.plan(ws, "emails", parse_columns("email"), keyset=keyset)
        start = time.perf_counter()
        ps.apply_in_place(ws, plan, keyset, master)
        print(f"hmac, pseudonymize --apply       {_rate(args.rows, time.perf_counter() - start)}")

        # 3. to a Parquet file with manifest
        out = Path(tmp) / "emails.parquet"
        ws.con.execute(
            "CREATE OR REPLACE TABLE emails AS SELECT i AS id, 'User' || i || '@Example.com' "
            f"AS email FROM range({args.rows}) t(i)"
        )
        plan = ps.plan(ws, "emails", parse_columns("email"), keyset=keyset, target=str(out))
        start = time.perf_counter()
        ps.write_file(ws, plan, keyset, master)
        print(f"hmac, pseudonymize --out parquet {_rate(args.rows, time.perf_counter() - start)}")

        for label, spec in OTHER_METHODS:
            target = Path(tmp) / "other.parquet"
            plan = ps.plan(ws, "people", parse_columns(spec), keyset=keyset, target=str(target))
            start = time.perf_counter()
            ps.write_file(ws, plan, keyset, master, overwrite=True)
            print(f"{label:<32} {_rate(args.other, time.perf_counter() - start)}")
        ws.close()


if __name__ == "__main__":
    main()
