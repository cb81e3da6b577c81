"""The demo pipeline in child processes never touches the network: every child gets a
`sitecustomize` that logs and refuses socket connections, and runs under `unshare -n`
(no network namespace at all) when the system permits it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
SITECUSTOMIZE = """
import os, socket
_real = socket.socket.connect
def _refuse(self, address):
    if self.family == socket.AF_UNIX:
        return _real(self, address)
    with open(os.environ["TUTELA_NET_LOG"], "a") as fh:
        fh.write(repr(address) + "\\n")
    raise OSError("network access refused by the test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = lambda *a, **k: _refuse(socket.socket(), a[0] if a else None)
"""

STEPS = [
    ["load", "examples/drop/crm_customers.csv", "examples/drop/callcentre_tickets.jsonl",
     "examples/drop/orders.xlsx", "examples/drop/newsletter_subscribers.csv",
     "examples/drop/consents.csv"],
    ["scan", "crm_customers"],
    ["policy", "validate", "policies/acme.yaml"],
    ["sar", "--email", "anna.puig@example.com", "-p", "policies/acme.yaml", "--out", "{ws}/r"],
    ["erase", "--email", "anna.puig@example.com", "-p", "policies/acme.yaml", "--apply",
     "--out", "{ws}/r"],
    ["requests", "run", "examples/drop/requests.csv", "-p", "policies/acme.yaml", "--apply",
     "--out", "{ws}/r"],
    ["export", "newsletter_subscribers", "--purpose", "marketing_email", "-p",
     "policies/acme.yaml", "--out", "{ws}/send.csv"],
    ["audit", "verify"],
    ["report", "-p", "policies/acme.yaml", "--out", "{ws}/governance.html"],
]  # fmt: skip


def _unshare_works() -> bool:
    exe = shutil.which("unshare")
    if exe is None:
        return False
    return subprocess.run([exe, "-n", "true"], capture_output=True).returncode == 0


def _env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "TUTELA_NET_LOG": str(tmp_path / "net.log"),
        "TUTELA_WORKSPACE": str(tmp_path / "ws"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def test_pipeline_offline(tmp_path: Path) -> None:
    # Both layers when possible: no network namespace at all, and refused connections logged
    prefix = ["unshare", "-n"] if _unshare_works() else []
    env = _env(tmp_path)
    ws = tmp_path / "ws"
    for step in STEPS:
        args = [a.replace("{ws}", str(ws)) for a in step]
        r = subprocess.run([*prefix, sys.executable, "-m", "tutela", *args], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
        assert r.returncode in (0, 1), (step, r.stderr)
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()


def test_sitecustomize_guard_is_live(tmp_path: Path) -> None:
    """The guard the pipeline test relies on does refuse and log a connection attempt."""
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    r = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode != 0 and "refused by the test" in r.stderr
    assert "192.0.2.1" in (tmp_path / "net.log").read_text()


@pytest.mark.slow
def test_make_demo_offline(tmp_path: Path) -> None:
    """The whole `make demo` script, unchanged, in a network namespace of its own."""
    if not os.environ.get("TUTELA_RELIABILITY_LONG"):
        pytest.skip("long variant: set TUTELA_RELIABILITY_LONG=1 to run the whole demo")
    if not _unshare_works():
        pytest.skip("`unshare -n` is not available or not permitted here")
    env = _env(tmp_path)
    r = subprocess.run(["unshare", "-n", "bash", "examples/demo.sh"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "audit log OK" in r.stdout
    assert not (tmp_path / "net.log").exists()
