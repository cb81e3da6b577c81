"""Scale-out figures (#19): the scan's statistics and keyed tokens on DuckDB, on Spark
`local[2]` and on a standalone cluster of two one-core workers on 127.0.0.1.

One generated drop of ROWS rows (people with the usual mess: placeholders, NULL, typos) is
written once as Parquet. DuckDB runs `scan_table` on it (timed whole, and the statements it
ran timed alone); Spark runs the very same statements, translated by `to_spark_sql`, over
the Parquet file. HMAC: every value of the e-mail column hashed (Spark SQL `sha2` over
binary, and the Arrow UDF) and the largest token taken, so every value is computed.
Reported: seconds and rows/s each, start-up time and resident memory of the cluster's JVMs.
Usage: python benchmarks/spark.py [ROWS] (default 1,000,000). Needs `pip install -e .[spark]`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tutela.detect.engine import scan_table
from tutela.engine import Connection, connect
from tutela.engine import spark as engine_spark
from tutela.protect.sqlhmac import Binder, HmacKey

KEY = b"benchmark key, not a secret"

# Generated in DuckDB (fast): names, e-mails, phones, Spanish DNIs (some with a wrong
# letter), IPs, addresses, birth dates, latitudes, and 4 % placeholders/NULLs per column.
GENERATE = """
CREATE TABLE t AS
WITH g AS (
  SELECT i, CAST(hash(i) % 1000000007 AS BIGINT) AS h,
    CAST(hash(i * 7 + 3) % 1000000009 AS BIGINT) AS h2
  FROM range({rows}) r(i))
SELECT
  CASE WHEN h % 25 = 0 THEN 'N/A' ELSE
    ['Anna','Joan','Laura','Josep','Jürgen','Ελένη','Zoë','María José'][1 + h % 8] || ' ' ||
    ['Gómez','Pujol','Straße','Müller','Παπαδοπούλου','O''Neil','Soler Roca'][1 + h2 % 7]
  END AS nombre,
  CASE WHEN h % 27 = 0 THEN NULL ELSE
    'user' || i || '.' || (h2 % 97) || '@' || ['example.com','correo.es','mail.co'][1 + h % 3]
  END AS email,
  CASE WHEN h % 29 = 0 THEN '-' ELSE
    '+34 6' || lpad(CAST(h2 % 100000000 AS VARCHAR), 8, '0')
  END AS telefono,
  CASE WHEN h % 31 = 0 THEN '' ELSE
    CAST(10000000 + h2 % 89999999 AS VARCHAR) ||
    substr('TRWAGMYFPDXBNJZSQVHLCKE',
      CAST(((10000000 + h2 % 89999999) % 23 + CASE WHEN h % 11 = 0 THEN 1 ELSE 0 END) % 23
        AS INTEGER) + 1, 1)
  END AS dni,
  (h % 256) || '.' || (h2 % 256) || '.' || (h % 199) || '.' || (h2 % 211) AS ip,
  ['Calle Mayor','Carrer de Pau','Hauptstraße','Οδός Ερμού'][1 + h2 % 4] || ' ' ||
    (1 + h % 200) || ', ' || (10000 + h2 % 42999) AS direccion,
  CAST(DATE '1940-01-01' + CAST(h % 25000 AS INTEGER) AS VARCHAR) AS fecha_nacimiento,
  CAST(round(((h2 % 18000000) / 100000.0) - 90, 5) AS VARCHAR) AS latitude,
  'note ' || (h % 1000) AS c9
FROM g
"""


def _seconds(fn: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def _scan_statements(statements: list[str]) -> list[str]:
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "information_schema" not in s
    ]


def duckdb_figures(con: Connection, rows: int) -> tuple[dict[str, Any], list[str]]:
    recording = engine_spark.Recording(con)
    whole, _ = _seconds(lambda: scan_table(recording, "t"))  # type: ignore[arg-type]
    statements = _scan_statements(recording.statements)
    alone, _ = _seconds(lambda: [con.execute(s).fetchall() for s in statements])
    binder = Binder()
    h = HmacKey(KEY).sql("email", binder)
    hmac_s, _ = _seconds(lambda: con.execute(f"SELECT max({h}) FROM t", binder.params).fetchall())
    return {
        "scan_table_s": round(whole, 2),
        "scan_statements_s": round(alone, 2),
        "scan_rows_per_s": round(rows / alone),
        "hmac_s": round(hmac_s, 2),
        "hmac_values_per_s": round(rows / hmac_s),
        "statements": len(statements),
    }, statements


def spark_figures(spark: Any, parquet: Path, statements: list[str], rows: int) -> dict[str, Any]:
    spark.read.parquet(str(parquet)).createOrReplaceTempView("t")
    translated = [engine_spark.to_spark_sql(s, tables={"main.t": "t"}) for s in statements]
    spark.sql(translated[0]).collect()  # warm-up: executors up, the file listed
    scan_s, _ = _seconds(lambda: [spark.sql(s).collect() for s in translated])
    args: dict[str, Any] = {}
    h = engine_spark.hmac_hex_sql("email", KEY, args)
    hmac_s, _ = _seconds(lambda: spark.sql(f"SELECT max({h}) FROM t", args=args).collect())
    frame = spark.table("t")
    udf = engine_spark.hmac_hex_udf(KEY)
    from pyspark.sql import functions

    udf_s, _ = _seconds(lambda: frame.select(functions.max(udf(frame["email"]))).collect())
    return {
        "scan_statements_s": round(scan_s, 2),
        "scan_rows_per_s": round(rows / scan_s),
        "hmac_sql_s": round(hmac_s, 2),
        "hmac_sql_values_per_s": round(rows / hmac_s),
        "hmac_udf_s": round(udf_s, 2),
        "hmac_udf_values_per_s": round(rows / udf_s),
    }


def _driver_rss(spark: Any) -> int:
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    return engine_spark.rss_bytes(proc.pid) if proc is not None else 0


def main(rows: int) -> None:
    mib = 2**20
    out: dict[str, Any] = {"rows": rows, "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="tutela-spark-bench-") as tmp:
        parquet = Path(tmp) / "t.parquet"
        con = connect(":memory:")
        con.execute("SET threads = 2")
        gen_s, _ = _seconds(lambda: con.execute(GENERATE.format(rows=int(rows))))
        con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")
        out["generate_s"] = round(gen_s, 2)
        out["duckdb"], statements = duckdb_figures(con, rows)
        con.close()
        print(json.dumps(out), flush=True)

        start_s, spark = _seconds(lambda: engine_spark.session("local[2]", app="bench-local"))
        out["local"] = {"session_start_s": round(start_s, 2)}
        out["local"] |= spark_figures(spark, parquet, statements, rows)
        out["local"]["driver_rss_mib"] = _driver_rss(spark) // mib
        spark.stop()
        print(json.dumps(out), flush=True)

        cluster = engine_spark.StandaloneCluster.start(workers=2)
        try:
            out["cluster"] = {"cluster_start_s": round(cluster.startup_seconds, 2)}
            start_s, spark = _seconds(lambda: engine_spark.session(cluster.master_url))
            out["cluster"]["session_start_s"] = round(start_s, 2)
            out["cluster"] |= spark_figures(spark, parquet, statements, rows)
            out["cluster"]["rss_mib"] = {k: v // mib for k, v in cluster.memory().items()}
            out["cluster"]["driver_rss_mib"] = _driver_rss(spark) // mib
            spark.stop()
        finally:
            cluster.stop()
    out["load_average_at_end"] = os.getloadavg()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
