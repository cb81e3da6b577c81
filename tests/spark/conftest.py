"""Spark for the differential tests: `local[2]`, and a standalone master with two workers on
127.0.0.1 started from pyspark's own distribution (tutela.engine.spark), stopped after.

One SparkContext runs per process and each JVM costs tens of seconds to start, so:

* every test here carries `xdist_group("spark")`: under `make test` (`--dist loadgroup`)
  they all run, in one block, on one pytest-xdist worker, which starts one JVM;
* they run in an order that opens each kind of session once: tests needing no session
  first, then the `spark` ones (`local[2]`), then the `cluster` ones (one standalone
  cluster for all), then the test that stops that cluster (`stopping_cluster`);
* the manager of the session and the cluster is package-scoped: both are stopped as soon
  as the last test here has run, not when the worker's whole share of the suite ends.

Without pyspark or Java 17+ every test here skips with a reason starting "SPARK TESTS
SKIPPED", and the session summary says so in capitals (tests/conftest.py). Spark talks to
its JVMs over loopback TCP: here, and only here, connections to 127.0.0.1 are allowed;
anything else still fails the run.
"""

from __future__ import annotations

import _socket
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _pytest.nodes
import pytest

from tutela.engine import spark as engine_spark

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_HERE = Path(__file__).parent
GROUP = "spark"
SKIP = "SPARK TESTS SKIPPED"

# the order the tests here run in: the first fixture of this list a test uses decides
_ORDER = ("stopping_cluster", "cluster_spark", "spark")  # `cluster` needs `cluster_spark`


def _rank(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    for rank, name in enumerate(_ORDER):
        if name in names:
            return len(_ORDER) - rank
    return 0


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test of this directory is in the `spark` group. Under `--dist loadgroup`
    pytest-xdist's worker appends `@group` to the node ids it reports, by setting
    `item._nodeid`; pytest 9 reads node ids from `item._id`, so that silently groups
    nothing (measured: the tests spread over both workers). Done here the same way."""
    if _HERE not in item.path.parents:
        return
    item.add_marker(pytest.mark.xdist_group(GROUP))
    if getattr(item.config.option, "loadgroup", False) and "@" not in item.nodeid:
        coerce = getattr(_pytest.nodes, "coerce_node_id", None)
        grouped = f"{item.nodeid}@{GROUP}"
        if coerce is not None and hasattr(item, "_id"):
            item._id = coerce(grouped)
        else:
            item._nodeid = grouped


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the tests of this directory (see above). They keep their places among the
    suite's tests; only their order among themselves changes."""
    places = [i for i, item in enumerate(items) if _HERE in item.path.parents]
    ours = sorted((items[i] for i in places), key=_rank)  # stable: file order within a rank
    for place, item in zip(places, ours, strict=True):
        items[place] = item


@pytest.fixture(autouse=True, scope="package")
def _no_network() -> Iterator[None]:
    """As tests/conftest.py's guard, but loopback is allowed (py4j, Spark's RPC); only
    while the tests of this directory run (the guard before them is put back after)."""
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


class _Sparks:
    """The one SparkSession of this process, on `local[2]` or on the standalone cluster."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.spark: Any = None
        self.cluster: engine_spark.StandaloneCluster | None = None
        self._reason: tuple[str | None] | None = None

    def reason(self) -> str | None:
        """Why Spark cannot run here (None: it can); asked once (it starts `java`)."""
        if self._reason is None:
            self._reason = (engine_spark.unavailable(),)
        return self._reason[0]

    def require(self) -> None:
        reason = self.reason()
        if reason is not None:
            pytest.skip(f"{SKIP}: {reason}")

    def get(self, kind: str) -> Any:
        self.require()
        if self.kind == kind:
            return self.spark
        self.close_session()
        master = self.start_cluster().master_url if kind == "cluster" else "local[2]"
        self.spark = engine_spark.session(master, app=f"tutela-tests-{kind}")
        self.kind = kind
        return self.spark

    def start_cluster(self) -> engine_spark.StandaloneCluster:
        self.require()
        if self.cluster is None:
            try:
                self.cluster = engine_spark.StandaloneCluster.start(workers=2)
            except engine_spark.SparkUnavailableError as exc:
                pytest.skip(f"{SKIP}: cannot start a standalone cluster: {exc}")
        return self.cluster

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


@pytest.fixture(scope="package")
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
    """The standalone cluster (master and two workers), with `cluster_spark` running on it."""
    assert sparks.cluster is not None
    return sparks.cluster


@pytest.fixture
def stopping_cluster(sparks: _Sparks, cluster: engine_spark.StandaloneCluster) -> _Sparks:
    """For a test that stops the shared cluster: such tests run after every other one here
    (a test asking for `cluster` after it would start a new cluster)."""
    return sparks


@pytest.fixture
def no_session(sparks: Any) -> Any:
    """Spark available, and no session open in this process: the CLI opens its own."""
    reason = engine_spark.unavailable()
    if reason is not None:
        pytest.skip(f"{SKIP}: {reason}")
    sparks.close_session()
    return sparks
