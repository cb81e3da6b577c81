"""A 200 MB CSV streams through DuckDB: memory stays bounded by the engine's limit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest


@pytest.mark.slow
def test_200mb_csv_loads_within_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    duckdb.connect().execute(
        "COPY (SELECT i AS id, 'user' || i || '@example.com' AS email, "
        "'Calle Mayor ' || (i % 300) || ', 28001 Madrid' AS address, "
        "lpad((i % 99999)::VARCHAR, 5, '0') AS postcode, repeat('x', 40) AS note "
        f"FROM range(1900000) t(i)) TO '{big}' (HEADER)"
    )
    assert big.stat().st_size > 200e6
    env = {**os.environ, "TUTELA_MEMORY_LIMIT": "256MB"}
    # a fresh parent, so the peak is this load's alone, not any earlier test's subprocess
    measure = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print('peak-kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
        "file=sys.stderr); sys.exit(r.returncode)"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            measure,
            sys.executable,
            "-m",
            "tutela",
            "-w",
            str(tmp_path / "ws"),
            "load",
            str(big),
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"rows": 1900000' in done.stdout
    peak_mb = int(done.stderr.rsplit("peak-kb", 1)[1].split()[0]) / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 480, f"peak RSS {peak_mb:.0f} MB for a {big.stat().st_size / 1e6:.0f} MB file"
