"""Cost of physical erasure: the workspace rewrite and the byte-level check, against the
logical erasure they follow, on the subjects benchmark's workspace (6 tables x N rows).

One erasure, then a batch of 1,000 (which rewrites the file once). Reported: each step's
time, the physical steps as a ratio to the logical ones, and the file size before and
after each rewrite.
Usage: python benchmarks/purge.py [ROWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from subjects import POLICY, build  # the same 6 x N workspace as benchmarks/subjects.py
from tutela.policy.loader import load_policy
from tutela.subjects import erase, physical, service, systems
from tutela.workspace import DB_FILE, Workspace


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def erase_with_breakdown(
    ctx: service.Context, batch: dict[str, dict[str, list[str]]]
) -> dict[str, Any]:
    """service.apply_erasures, step by step, timed."""
    db = ctx.ws.root / DB_FILE
    (clean, plans), t_plan = timed(lambda: service.plan_erasures(ctx, batch))
    erased, t_values = timed(lambda: physical.erased_values(ctx.ws, ctx.space, plans))
    _, t_systems = timed(
        lambda: systems.erasure_systems(ctx.ws, ctx.policy, ctx.space, plans, ctx.master)
    )
    _, t_apply = timed(lambda: erase.apply_plans(ctx.ws, ctx.master, plans, clean))
    ctx.ws.con.execute("CHECKPOINT")
    size_before = db.stat().st_size
    report, t_purge = timed(ctx.ws.purge)
    _, t_verify = timed(lambda: erase.verify(ctx.ws, ctx.space, plans))
    checks, t_bytes = timed(lambda: physical.verify_bytes(ctx.ws, erased, report))
    assert all(c["ok"] for c in checks.values()), checks
    logical = t_plan + t_apply + t_verify
    phys = t_values + t_purge + t_bytes
    return {
        "requests": len(plans),
        "logical_s": logical,
        "plan_s": t_plan,
        "apply_s": t_apply,
        "verify_s": t_verify,
        "read_values_s": t_values,
        "systems_s": t_systems,
        "rewrite_s": t_purge,
        "byte_check_s": t_bytes,
        "physical_s": phys,
        "ratio": phys / logical,
        "size_before": size_before,
        "size_after": db.stat().st_size,
        "values": sum(c["values_searched"] for c in checks.values()),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        pol = Path(tmp) / "p.yaml"
        pol.write_text(POLICY)
        policy = load_policy(pol).policy
        ws = Workspace.open(Path(tmp) / "ws")
        build(ws, n)
        ctx = service.context(ws, policy)
        one = erase_with_breakdown(ctx, {"E1": {"email": ["user43@example.com"]}})
        batch = {f"B{i}": {"customer_id": [f"C{1000 + i * 7}"]} for i in range(1000)}
        many = erase_with_breakdown(ctx, batch)
        ws.close()
    print(f"6 tables x {n:,} rows")
    for label, r in (("one erasure", one), ("1,000 erasures, one batch", many)):
        print(
            f"{label}: logical {r['logical_s']:.2f} s (plan {r['plan_s']:.2f}, apply "
            f"{r['apply_s']:.2f}, verify {r['verify_s']:.2f}); physical {r['physical_s']:.2f} s "
            f"(read values {r['read_values_s']:.2f}, rewrite {r['rewrite_s']:.2f}, byte check "
            f"{r['byte_check_s']:.2f}, {r['values']:,} values) = {r['ratio']:.2f}x the logical; "
            f"systems section {r['systems_s']:.2f} s; file {r['size_before'] / 1e6:.1f} MB -> "
            f"{r['size_after'] / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
