"""A real PostgreSQL server for the live-source tests.

Started once per test session: `initdb` in a temporary directory, `pg_ctl start` on a free
loopback port, as the unprivileged user `nobody` when the tests run as root (PostgreSQL
refuses to run as root). Password authentication (scram-sha-256) is on, so credentials are
exercised for real. Each test gets its own database. When no server can be started the
tests skip with the reason, and the session summary prints it in capitals
(tests/conftest.py).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "Pg-test-s3cret-7f1c"
USER = "tutela"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    bindir: Path

    def url(self, db: str, *, password: bool = True) -> str:
        auth = f"{USER}:{PASSWORD}" if password else USER
        return f"postgresql://{auth}@{self.host}:{self.port}/{db}"

    def psql(self, db: str, sql: str) -> str:
        done = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
             "-h", self.host, "-p", str(self.port), "-U", USER, "-d", db, "-c", sql],
            capture_output=True, text=True, env={**os.environ, "PGPASSWORD": PASSWORD},
            timeout=60,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"psql failed: {done.stderr}")
        return done.stdout.strip()


def _bindir() -> Path | None:
    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(initdb).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> tuple[PgServer | None, str, list[str], Path | None]:
    bindir = _bindir()
    if bindir is None:
        return None, "PostgreSQL server binaries not found (Debian package postgresql)", [], None
    root = Path(tempfile.mkdtemp(prefix="tutela-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
    data = root / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
              f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale"]  # fmt: skip
    done = subprocess.run(as_user + initdb, capture_output=True, text=True, timeout=120)
    # Under pytest-xdist every worker starts its own server (its own directory and socket):
    # another worker may take the free port between `_free_port` and the start, so a failed
    # start is retried on a fresh port.
    port = 0
    for _attempt in range(3 if done.returncode == 0 else 0):
        port = _free_port()
        start = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                 "-t", "120", "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
                 "-c fsync=off -c max_connections=60", "start"]  # fmt: skip
        done = subprocess.run(as_user + start, capture_output=True, text=True, timeout=180)
        if done.returncode == 0:
            break
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    if done.returncode != 0:
        log = (root / "log").read_text()[-500:] if (root / "log").exists() else ""
        subprocess.run(stop, capture_output=True, timeout=60)  # a start that timed out
        shutil.rmtree(root, ignore_errors=True)
        return None, f"could not start PostgreSQL: {done.stderr[-300:]} {log}", [], None
    psql_dir = bindir if (bindir / "psql").exists() else Path(shutil.which("psql") or "").parent
    return PgServer("127.0.0.1", port, psql_dir), "", stop, root


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server, reason, stop, root = _start()
    if server is None:
        pytest.skip(f"LIVE POSTGRESQL TESTS SKIPPED: {reason}")
    try:
        yield server
    finally:
        subprocess.run(stop, capture_output=True, timeout=60)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[str]:
    """A fresh database for one test."""
    name = "t_" + uuid.uuid4().hex[:12]
    pg_server.psql("postgres", f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        pg_server.psql("postgres", f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def no_pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", tempfile.mkdtemp(prefix="tutela-home-"))  # no ~/.pgpass
