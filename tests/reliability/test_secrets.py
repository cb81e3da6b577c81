"""With the master key set to a known marker, no command of any group, run with --debug
(successes and failures), shows it in output, reports, logs or tracebacks; key files that
the group or others can read are refused."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tutela.base import keys
from tutela.workspace import Workspace

from .conftest import tutela_here

pytestmark = pytest.mark.reliability

SECRET = b"TUTELA-SECRET-MASTER-KEY-MARKER!"  # 32 bytes
MARKER = SECRET.hex()
NEEDLES = [MARKER, MARKER.upper(), SECRET.decode(), base64.b64encode(SECRET).decode()]

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: email, kind: email}
      - {table: crm, column: customer_id, kind: customer_id}
tables:
  crm:
    columns:
      customer_id: user.unique_id
      email: EMAIL_ADDRESS
      note: {personal: false}
purposes:
  billing:
    legal_basis: contract
    tables: [crm]
"""


def test_marker_key_never_leaks(tmp_path: Path) -> None:
    env = {keys.ENV_MASTER_KEY: MARKER}
    root = tmp_path / "ws"
    data = tmp_path / "crm.csv"
    data.write_text("customer_id,email,note\nC1,anna@example.com,hello\nC2,joan@example.com,=1+1\n")
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    broken_policy = tmp_path / "broken.yaml"
    broken_policy.write_text("version: [\n")
    reqs = tmp_path / "requests.csv"
    reqs.write_text("request_id,type,email,received_at\nR1,access,anna@example.com,2026-01-01\n"
                    "R2,erasure,joan@example.com,2026-01-01\nR3,bogus,,\n")  # fmt: skip
    out = tmp_path / "out"
    p = ["-p", str(policy)]
    runs = [
        ["load", str(data), "--source", "crm"],
        ["load", str(bad)],
        ["load", str(tmp_path / "missing.csv")],
        ["scan", "--format", "json"],
        ["scan", "nope"],
        ["keys", "list"],
        ["subject", "find", "--email", "anna@example.com", *p],
        ["sar", "--email", "anna@example.com", "--out", str(out), *p],
        ["sar", "--email", "anna@example.com", "-p", str(broken_policy)],
        ["erase", "--email", "anna@example.com", *p],
        ["erase", "--email", "anna@example.com", "--apply", "--out", str(out), *p],
        ["requests", "run", str(reqs), "--apply", "--out", str(out), *p],
        ["requests", "list", "--format", "json"],
        ["export", "crm", "--purpose", "billing", "--out", str(out / "x.csv"), *p],
        ["export", "crm", "--purpose", "nope", "--out", str(out / "y.csv"), *p],
        ["pseudonymize", "crm", "--columns", "email", "--apply"],
        ["audit", "show", "--format", "json"],
        ["audit", "verify"],
    ]
    blob = []
    codes = []
    for args in runs:
        r = tutela_here(root, "--debug", *args, env=env)
        codes.append(r.returncode)
        blob += [r.stdout, r.stderr]
    assert codes[0] == 0 and codes[3] in (0, 1) and codes[10] in (0, 1), codes
    assert codes[1] != 0 and codes[8] != 0 and codes[-1] == 0, codes
    # every file the commands wrote: reports, certificates, exports, the workspace itself
    for f in tmp_path.rglob("*"):
        if f.is_file():
            raw = f.read_bytes()
            assert SECRET not in raw, f
            blob.append(raw.decode("latin-1"))
    text = "\n".join(blob)
    for needle in NEEDLES:
        assert needle not in text
        assert needle.lower() not in text.lower()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o601])
def test_loose_key_files_are_refused(tmp_path: Path, mode: int) -> None:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        ws.con.execute("CREATE TABLE crm AS SELECT 'a@example.com' AS email")
    keys.init_keyset(root)
    key = root / "keys" / "master.key"
    os.chmod(key, mode)
    for args in (["audit", "verify"], ["keys", "list"], ["pseudonymize", "crm", "-c", "email"]):
        r = tutela_here(root, *args, env={keys.ENV_MASTER_KEY: ""})
        assert r.returncode == 3, (args, r.returncode, r.stderr)
        assert "readable by others" in r.stderr and "Traceback" not in r.stderr
