"""The Spark lake end to end, as a user runs it (#19): `tutela scan`, `tutela pseudonymize
--out` and `tutela subject find` over one generated table of a Spark warehouse, on DuckDB (the
same files attached as `parquet:`), on Spark `local[2]` and on a standalone cluster of two
workers on 127.0.0.1. The subject search must give the same answer on every engine (checked).

Each command is run in a fresh process (as a user would: a Spark command pays its JVM and
session start); the scan is forced (no stored result reused). Reported: seconds and rows/s
per engine and command, and the load average.

Usage: python benchmarks/spark_cli.py [ROWS ...] [--no-cluster]   (default 100,000)
Needs `pip install -e '.[spark]'` and Java 17+.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tutela.engine import connect
from tutela.engine import spark as engine_spark

sys.path.insert(0, str(Path(__file__).parent))
from spark import GENERATE  # the same generated people as benchmarks/spark.py

TUTELA = str(Path(sys.executable).with_name("tutela"))  # this environment's, not PATH's


def _run(ws: Path, *args: str) -> float:
    return _output(ws, *args)[0]


def _output(ws: Path, *args: str) -> tuple[float, str]:
    env = dict(os.environ, TUTELA_WORKSPACE=str(ws))
    began = time.perf_counter()
    done = subprocess.run([TUTELA, *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"tutela {' '.join(args)} failed:\n{done.stderr}")
    return took, done.stdout


POLICY = """version: 1
subjects:
  customer:
    identifiers:
      - {{table: {t}, column: email, kind: email}}
      - {{table: {t}, column: telefono, kind: phone, region: ES}}
      - {{table: {t}, column: dni, kind: national_id}}
      - {{table: {t}, column: nombre, kind: name}}
tables:
  {t}:
    columns:
      email: EMAIL_ADDRESS
      telefono: PHONE_NUMBER
      dni: NATIONAL_ID
      nombre: PERSON
"""


def _person(wh: Path) -> str:
    """The e-mail of one generated person (a row in the middle of the table)."""
    con = connect(":memory:")
    row = con.execute(
        f"SELECT email FROM read_parquet('{wh}/crm.db/people/*.parquet') "
        "WHERE email IS NOT NULL AND email LIKE 'user%' ORDER BY email LIMIT 1 OFFSET 1000"
    ).fetchall()
    con.close()
    return str(row[0][0])


def _warehouse(root: Path, rows: int) -> Path:
    con = connect(":memory:")
    con.execute("SET threads = 2")
    con.execute(GENERATE.format(rows=rows))
    (root / "crm.db" / "people").mkdir(parents=True)
    con.execute(f"COPY t TO '{root}/crm.db/people/part-00000.parquet' (FORMAT parquet)")
    con.close()
    return root


def measure(rows: int, cluster_url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": rows, "load_average_at_start": os.getloadavg()}
    reference: dict[str, Any] = {}  # DuckDB's answer to the subject search
    with tempfile.TemporaryDirectory(prefix="tutela-spark-cli-") as tmp:
        wh = _warehouse(Path(tmp) / "wh", rows)
        engines = {"duckdb": None, "spark local[2]": "local[2]"}
        if cluster_url:
            engines["spark cluster (2 workers)"] = cluster_url
        for label, master in engines.items():
            ws = Path(tmp) / f"ws-{len(out)}"
            _run(ws, "keys", "init")
            if master is None:
                _run(ws, "attach", "lake", f"parquet:{wh / 'crm.db'}")
                table, target = "lake.main.people", "lake.main.people_tok"
            else:
                _run(ws, "attach", "lake", master, "--warehouse", str(wh))
                table, target = "lake.crm.people", "lake.crm.people_tok"
            policy = Path(tmp) / f"policy-{len(out)}.yaml"
            policy.write_text(POLICY.format(t=table), encoding="utf-8")
            email = _person(wh)
            find_s, found = _output(ws, "subject", "find", "--email", email, "-p", str(policy),
                                    "-f", "json")  # fmt: skip
            answer = json.loads(found)
            picked = answer.pop("read_on_spark", None)
            answer = json.loads(json.dumps(answer).replace(table, "T"))
            same = reference.setdefault("answer", answer) == answer
            scan = _run(ws, "scan", table, "--force", "-f", "json")
            protect = _run(ws, "pseudonymize", table, "--columns", "email=hmac,telefono=hmac",
                           "--out", target, "--force")  # fmt: skip
            out[label] = {
                "scan_s": round(scan, 1),
                "scan_rows_per_s": round(rows / scan),
                "pseudonymize_s": round(protect, 1),
                "pseudonymize_values_per_s": round(2 * rows / protect),
                "subject_find_s": round(find_s, 1),
                "subject_find_rows": answer["rows"],
                "subject_find_same_answer_as_duckdb": same,
                "subject_find_rows_picked_on_spark": picked,
            }
            print(json.dumps(out), flush=True)
    out["load_average_at_end"] = os.getloadavg()
    return out


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if not a.startswith("--")] or [100_000]
    cluster = None
    if "--no-cluster" not in argv:
        cluster = engine_spark.StandaloneCluster.start(workers=2)
    try:
        for rows in sizes:
            print(json.dumps(measure(rows, cluster.master_url if cluster else None)))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
