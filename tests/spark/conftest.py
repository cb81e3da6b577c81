"""Spark for the differential tests: `local[2]`, and a standalone master with two workers on
127.0.0.1 started from pyspark's own distribution (tutela.engine.spark), stopped after.

One SparkContext runs per process, so one session-wide manager hands out the kind a test asks
for, stopping the other first. Without pyspark or Java 17+ every test here skips, and the
session summary says so in capitals. Spark talks to its JVMs over loopback TCP: here, and
only here, connections to 127.0.0.1 are allowed; anything else still fails the run.
"""

from __future__ import annotations

import _socket
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tutela.engine import spark as engine_spark

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """As tests/conftest.py's guard, but loopback is allowed (py4j, Spark's RPC)."""
    previous = socket.socket.connect

    def loopback_only(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX or (
            isinstance(address, tuple) and str(address[0]) in _LOOPBACK
        ):
            return _socket.socket.connect(self, address)
        raise AssertionError(f"network access attempted: {address!r}")

    socket.socket.connect = loopback_only  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = previous  # type: ignore[method-assign]


SKIP = "SPARK TESTS SKIPPED"


class _Sparks:
    """The one SparkSession of this process, on `local[2]` or on the standalone cluster."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.spark: Any = None
        self.cluster: engine_spark.StandaloneCluster | None = None

    def get(self, kind: str) -> Any:
        reason = engine_spark.unavailable()
        if reason is not None:
            pytest.skip(f"{SKIP}: {reason}")
        if self.kind == kind:
            return self.spark
        self.close_session()
        if kind == "cluster":
            if self.cluster is None:
                try:
                    self.cluster = engine_spark.StandaloneCluster.start(workers=2)
                except engine_spark.SparkUnavailableError as exc:
                    pytest.skip(f"{SKIP}: cannot start a standalone cluster: {exc}")
            master = self.cluster.master_url
        else:
            master = "local[2]"
        self.spark = engine_spark.session(master, app=f"tutela-tests-{kind}")
        self.kind = kind
        return self.spark

    def close_session(self) -> None:
        if self.spark is not None:
            self.spark.stop()
        self.spark = None
        self.kind = None

    def close(self) -> None:
        self.close_session()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


@pytest.fixture(scope="session")
def sparks(_no_network: None) -> Iterator[_Sparks]:
    manager = _Sparks()
    try:
        yield manager
    finally:
        manager.close()


@pytest.fixture
def spark(sparks: _Sparks) -> Any:
    """A SparkSession on local[2]."""
    return sparks.get("local")


@pytest.fixture
def cluster_spark(sparks: _Sparks) -> Any:
    """A SparkSession on the standalone master with two workers."""
    return sparks.get("cluster")


@pytest.fixture
def cluster(sparks: _Sparks, cluster_spark: Any) -> engine_spark.StandaloneCluster:
    assert sparks.cluster is not None
    return sparks.cluster


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reasons = {
        str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        for rep in terminalreporter.stats.get("skipped", [])
    }
    skipped = sorted(r for r in reasons if SKIP in r)
    if skipped:
        terminalreporter.write_sep("!", "SPARK TESTS DID NOT RUN", red=True, bold=True)
        for reason in skipped:
            terminalreporter.write_line(reason, red=True, bold=True)
