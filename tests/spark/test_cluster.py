"""The standalone cluster and local[2]: start, run a job on the executors, stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tutela.engine import spark as engine_spark


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_local_session_runs_a_job(spark: Any) -> None:
    assert spark.sparkContext.master == "local[2]"
    assert spark.range(10_000).selectExpr("sum(id)").first()[0] == 49_995_000


def test_cluster_runs_jobs_on_both_workers(
    cluster: engine_spark.StandaloneCluster, cluster_spark: Any
) -> None:
    assert cluster.master_url.startswith("spark://127.0.0.1:")
    assert cluster_spark.sparkContext.master == cluster.master_url
    # one task per partition; the executors of both workers take part
    hosts = (
        cluster_spark.sparkContext.parallelize(range(8), 8)
        .map(lambda _: __import__("pyspark").TaskContext.get().getLocalProperty("x"))
        .count()
    )
    assert hosts == 8
    executors = cluster_spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size()
    assert executors == 3  # the driver and one executor per worker
    daemons = cluster.pids()
    assert set(daemons) == {"master", "worker1", "worker2"}
    assert all(_alive(pid) for pid in daemons.values())


def test_an_unreachable_master_is_a_clear_error(sparks: Any) -> None:
    sparks.require()
    sparks.close_session()  # one SparkContext per process
    with pytest.raises(engine_spark.SparkUnavailableError, match=r"spark://127\.0\.0\.1:9"):
        engine_spark.session(
            "spark://127.0.0.1:9",
            conf={"spark.deploy.maxExecutorRetries": "0"},
        )


def test_a_stopped_cluster_leaves_no_process(stopping_cluster: Any) -> None:
    """The shared cluster, after its jobs ran (a session still on it): stopping it ends the
    master and the workers and removes its work directory."""
    cluster = stopping_cluster.cluster
    daemons = cluster.pids()
    assert set(daemons) == {"master", "worker1", "worker2"}
    workdir = cluster.workdir
    assert workdir.exists() and all(_alive(pid) for pid in daemons.values())
    stopping_cluster.close()  # the session, then the cluster
    assert not any(_alive(pid) for pid in daemons.values())
    assert not workdir.exists()
