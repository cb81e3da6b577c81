"""Load throughput: a synthetic customer CSV of N rows (default 1,000,000) through `tutela load`.

Prints rows/s and the peak resident memory of the loading process.
Usage: python benchmarks/load.py [ROWS]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def make_csv(path: Path, rows: int) -> None:
    duckdb.connect().execute(
        f"""
        COPY (
          SELECT 'C' || lpad(i::VARCHAR, 7, '0') AS customer_id,
                 'Persona ' || (i % 9973) AS nombre,
                 'user' || i || '@example.com' AS email,
                 '6' || lpad(((i * 7919) % 100000000)::VARCHAR, 8, '0') AS telefono,
                 lpad((i % 52000)::VARCHAR, 5, '0') AS codigo_postal,
                 DATE '1950-01-01' + (i % 20000)::INTEGER AS fecha_nacimiento,
                 round((i % 100000) / 100.0, 2) AS saldo,
                 TIMESTAMP '2024-01-01' + to_seconds(i) AS creado,
                 CASE i % 3 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'bronze' END AS segmento,
                 'Calle Mayor ' || (i % 300) || ', Madrid' AS direccion
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ';')
        """
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "customers.csv"
        make_csv(csv_path, rows)
        size_mb = csv_path.stat().st_size / 1e6
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tutela", "-w", str(Path(tmp) / "ws"), "load", str(csv_path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rows: {rows:,}  file: {size_mb:.0f} MB  time: {elapsed:.2f} s")
    print(f"throughput: {rows / elapsed:,.0f} rows/s  peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
