"""A full disk (issue #15 item 3): "no space left on device" with the path, exit 4; commands
that write nothing keep working, and one that must write (an audit entry) says so.

The disk is a real 6 MB tmpfs, mounted in a private mount namespace (`unshare -m`, as root,
as `make test` runs on CI). Where that is not possible, the same commands run under a file
size limit (RLIMIT_FSIZE), which DuckDB meets as EFBIG instead of ENOSPC."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DROP = ROOT / "examples" / "drop"

DRIVER = r"""
import json, os, resource, subprocess, sys
mode, mnt, big = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "tmpfs":
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt], check=True)
ws = os.path.join(mnt, "ws")

def tutela(*args, limit=None):
    def cap():
        if limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = subprocess.run([sys.executable, "-m", "tutela", "-w", ws, *args],
                       capture_output=True, text=True, preexec_fn=cap)
    return {"rc": r.returncode, "err": r.stderr}

out = {"ws": ws}
out["small"] = tutela("load", sys.argv[4])
size = os.path.getsize(os.path.join(ws, "tutela.duckdb"))
cap = None if mode == "tmpfs" else size + 2_000_000
out["big"] = tutela("load", big, limit=cap)
if mode == "tmpfs":  # fill what is left
    with open(os.path.join(mnt, "filler"), "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
wal_cap = None if mode == "tmpfs" else 1
for name, args in (("tables", ["tables"]), ("verify", ["audit", "verify"]),
                   ("show", ["show", "crm_customers", "-n", "1"])):
    out[name] = tutela(*args, limit=wal_cap)
print(json.dumps(out))
"""


def _run(tmp_path: Path, force_rlimit: bool = False) -> tuple[str, dict[str, dict[str, object]]]:
    big = tmp_path / "big.csv"
    import duckdb

    duckdb.connect().execute(
        f"COPY (SELECT i AS id, 'user' || i || '@example.com' AS email, md5(CAST(i AS VARCHAR)) "
        f"AS note FROM range(400000) t(i)) TO '{big}' (FORMAT csv, HEADER true)"
    )
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    small = str(DROP / "crm_customers.csv")
    args = [sys.executable, "-c", DRIVER]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if os.geteuid() == 0 and shutil.which("unshare") and not force_rlimit:
        done = subprocess.run(
            ["unshare", "-m", "--", *args, "tmpfs", str(mnt), str(big), small],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return "tmpfs", json.loads(done.stdout)
    done = subprocess.run(
        [*args, "rlimit", str(mnt), str(big), small],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return "rlimit", json.loads(done.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="tmpfs and RLIMIT_FSIZE are Linux's")
def test_full_disk(tmp_path: Path) -> None:
    mode, out = _run(tmp_path)
    ws = out["ws"]
    assert out["small"]["rc"] == 0, out
    big = out["big"]
    assert big["rc"] == 4, big
    reasons = ["no space left on device"]
    if mode == "rlimit":  # DuckDB reports EFBIG either way, depending on where it writes
        reasons.append("the file size limit was reached")
    assert any(
        str(big["err"]).startswith(f"error[no-space]: {r} while writing {ws}/") for r in reasons
    ), big
    assert "internal" not in str(big["err"])
    assert out["tables"]["rc"] == 0, out["tables"]  # reads need no space
    assert out["verify"]["rc"] == 0, out["verify"]
    show = out["show"]
    assert show["rc"] == 4 and "`show` needs an audit entry" in str(show["err"]), show
    assert f"while writing {ws}/tutela.duckdb" in str(show["err"])
