"""Start-up: the wall time of `tutela --help` and `tutela tables` (issue #17: under 0.5 s).

A script runs Tutela once per request or per drop, so every command pays the start-up.
`tables` runs on a workspace holding the files of examples/drop (loaded once, not timed).
Prints the median over N runs of each command (default 10) against the target, with the
load average (2 shared cores: a busy machine adds to every figure), and `python -c pass`
as the floor of any Python program.

Byte code: an installed Tutela runs from compiled .pyc files. The children get a private
PYTHONPYCACHEPREFIX (filled by untimed runs, nothing written into the checkout), so an
editable checkout is measured the same way even where PYTHONDONTWRITEBYTECODE=1 is set.
--no-bytecode-cache measures what such a checkout pays instead: every module without a .pyc
(Tutela's own) compiled from source on every run.

Usage: python benchmarks/startup.py [RUNS] [--workspace DIR] [--no-bytecode-cache]
       (without --workspace a temporary one is made and loaded from examples/drop)
To see where the time goes: python -X importtime -m tutela tables 2> imports.txt
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
DROP = Path(__file__).resolve().parent.parent / "examples" / "drop"


def tutela_command() -> list[str]:
    """The `tutela` console script next to this interpreter (what users run), else -m."""
    script = Path(sys.executable).parent / "tutela"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tutela"]


def medians(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of one run of `argv`. On a busy
    machine the wall time waits for a core; the CPU time is what the command itself costs."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def load_drop(tutela: list[str], workspace: Path, env: dict[str, str]) -> None:
    files = sorted(str(p) for p in DROP.iterdir() if p.is_file())
    subprocess.run(
        [*tutela, "-w", str(workspace), "load", *files],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=10)
    parser.add_argument("--workspace", type=Path, help="a loaded workspace (default: examples)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every run")
    args = parser.parse_args()
    tutela = tutela_command()
    tmp = tempfile.mkdtemp(prefix="tutela-startup-")
    unset = ("TUTELA_WORKSPACE", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["COLUMNS"] = "100"  # the table is laid out the same way on every terminal
    if args.no_bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")  # filled by the warm-up
    workspace = args.workspace
    if workspace is None:
        workspace = Path(tmp) / "ws"
        load_drop(tutela, workspace, env)
    try:
        medians([*tutela, "-w", str(workspace), "tables"], 1, env)  # warm-ups, not timed
        medians([*tutela, "--help"], 1, env)
        figures = [
            ("python -c pass", medians([sys.executable, "-c", "pass"], args.runs, env)),
            ("tutela --help", medians([*tutela, "--help"], args.runs, env)),
            ("tutela tables", medians([*tutela, "-w", str(workspace), "tables"], args.runs, env)),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1, load5, _ = os.getloadavg()
    cache = "compiled every run" if args.no_bytecode_cache else "byte code cached"
    print(f"medians over {args.runs} runs ({cache})")
    print(f"load average {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")
    print(f"{'':<16} {'wall':>7} {'cpu':>7}   target: wall < {TARGET_S} s")
    for name, (wall, cpu) in figures:
        verdict = "" if name.startswith("python") else ("ok" if wall < TARGET_S else "OVER")
        print(f"{name:<16} {wall:6.3f}s {cpu:6.3f}s   {verdict}")


if __name__ == "__main__":
    main()
