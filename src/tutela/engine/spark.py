"""Apache Spark, the scale-out engine (#19): the only module importing pyspark.

Used by `lake_spark.SparkLake` (what runs where: docs/scale-out.md). What is here, each part
checked against DuckDB by the differential tests in tests/spark/:

* `StandaloneCluster`: a Spark standalone master and workers on 127.0.0.1, started from
  pyspark's own distribution (`SPARK_HOME` = the installed pyspark package; no downloads),
  and `session()` for a SparkSession on it or on `local[N]`, with small JVM settings.
* Keyed tokens bit-for-bit equal to DuckDB's (`protect/sqlhmac.py`): HMAC-SHA256 spelled out
  with Spark's `sha2` over binary (RFC 2104), the padded keys bound as parameters, never in
  SQL text; and the same as an Arrow-vectorized UDF over the padded keys (the one
  pseudonymization uses).
* `to_spark_sql`: the scan's DuckDB SQL (per-column counts, shape matches, samples)
  translated for Spark through sqlglot, with the dialect traps sqlglot leaves in fixed here:
  RE2 regular expressions rewritten for Java's engine (case-insensitive flags kept and made
  Unicode-aware, `$`, `\\s`, `\\b`, character classes) in `regexp_matches`,
  `regexp_replace` (with its flags; a first-match-only one only when one match is
  certain) and `regexp_full_match` (anchored); `trim` told DuckDB's characters (every
  Unicode space separator); and DuckDB's reservoir sample (taken from the FROM relation,
  before WHERE) as a seeded random order with a limit. A function without a known
  translation is an error, never a silently different query.
* `with_addresses`: a table's rows numbered as DuckDB numbers the rows of the same files,
  so the scan's sample (the rows whose address hashes lowest) is the same rows.

pyspark and sqlglot are optional (`pip install 'tutela[spark]'`); they are imported lazily,
so Tutela without them never pays for them.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tutela.base.errors import EngineError

T = TypeVar("T")
JAVA_MIN = 17
LOOPBACK = "127.0.0.1"
_BLOCK = 64  # SHA-256 block size (RFC 2104)
TOKEN_PREFIX = "tok_"

# Small JVMs: the machines this runs on in tests have 2 cores shared with other work.
DRIVER_MEMORY = "512m"
EXECUTOR_MEMORY = "512m"  # Spark refuses less than ~450 MB per executor
DAEMON_MEMORY = "128m"  # master and worker daemons


class SparkUnavailableError(EngineError):
    """pyspark or a Java runtime is missing, or a cluster could not be started."""

    slug = "spark-unavailable"


class TranslationError(EngineError):
    """A DuckDB statement has no faithful Spark translation."""

    slug = "spark-translation"


# -- the runtime ----------------------------------------------------------------------


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SparkUnavailableError(
            f"cannot import {name} ({exc}); install it with pip install 'tutela[spark]'"
        ) from exc


def java_major() -> int | None:
    """The major version of `java` on PATH (or under JAVA_HOME), None when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def unavailable() -> str | None:
    """Why Spark cannot run here (a sentence), or None when it can."""
    try:
        importlib.import_module("pyspark")
    except ImportError:
        return "pyspark is not installed (pip install 'tutela[spark]')"
    major = java_major()
    if major is None:
        return "no Java runtime (java) found; Spark needs Java 17 or newer"
    if major < JAVA_MIN:
        return f"Java {major} found; Spark needs Java {JAVA_MIN} or newer"
    return None


def spark_home() -> Path:
    """pyspark's own distribution: its package directory holds bin/spark-class and jars/."""
    pyspark = _module("pyspark")
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-class").exists() or not (home / "jars").is_dir():
        raise SparkUnavailableError(f"pyspark at {home} has no bin/spark-class or jars/")
    return home


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": LOOPBACK,
            "SPARK_LOCAL_HOSTNAME": "localhost",
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
            # daemons only route work: the quick JIT tier and one GC thread start them faster
            "SPARK_DAEMON_JAVA_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            "SPARK_NO_DAEMONIZE": "1",
        }
    )
    env.update(extra or {})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) * 1024 if found else 0


@dataclass
class StandaloneCluster:
    """A Spark standalone master and workers on 127.0.0.1 (stop() ends them).

    Each daemon runs in the foreground of its own `spark-class` process (which execs
    java), so the processes started here are exactly the JVMs, ended by their pids."""

    master_url: str
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    startup_seconds: float = 0.0

    @classmethod
    def start(
        cls,
        workers: int = 2,
        *,
        cores: int = 1,
        memory: str = "768m",
        timeout: float = 180.0,
    ) -> StandaloneCluster:
        """Start a master and `workers` workers (each offering `cores` and `memory` to
        executors); returns once every worker has registered with the master."""
        reason = unavailable()
        if reason is not None:
            raise SparkUnavailableError(reason)
        began = time.monotonic()
        workdir = Path(tempfile.mkdtemp(prefix="tutela-spark-"))
        port = _free_port()
        cluster = cls(f"spark://{LOOPBACK}:{port}", workdir)
        env = _env({"SPARK_LOG_DIR": str(workdir), "SPARK_WORKER_DIR": str(workdir / "work")})
        spark_class = str(spark_home() / "bin" / "spark-class")
        try:
            cluster._spawn(
                "master",
                [spark_class, "org.apache.spark.deploy.master.Master",
                 "--host", LOOPBACK, "--port", str(port), "--webui-port", "0"],
                env,
            )  # fmt: skip
            cluster._wait_for("master", r"Starting Spark master at|I have been elected leader", 1,
                              began + timeout)  # fmt: skip
            for i in range(workers):
                cluster._spawn(
                    f"worker{i + 1}",
                    [spark_class, "org.apache.spark.deploy.worker.Worker",
                     "--host", LOOPBACK, "--port", "0", "--webui-port", "0",
                     "--cores", str(cores), "--memory", memory,
                     "--work-dir", str(workdir / f"work{i + 1}"), cluster.master_url],
                    env,
                )  # fmt: skip
            cluster._wait_for("master", r"Registering worker", workers, began + timeout)
        except BaseException:
            cluster.stop()
            raise
        atexit.register(cluster.stop)  # daemons never outlive the process that started them
        cluster.startup_seconds = time.monotonic() - began
        return cluster

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str]) -> None:
        with self._log(name).open("wb") as log:
            self.processes[name] = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )

    def _wait_for(self, name: str, pattern: str, count: int, deadline: float) -> None:
        rx = re.compile(pattern)
        while True:
            text = self._log(name).read_text(errors="replace")
            if sum(1 for line in text.splitlines() if rx.search(line)) >= count:
                return
            for proc_name, proc in self.processes.items():
                if proc.poll() is not None:
                    tail = self._log(proc_name).read_text(errors="replace")[-2000:]
                    raise SparkUnavailableError(
                        f"Spark {proc_name} exited ({proc.returncode}) while starting: {tail}"
                    )
            if time.monotonic() > deadline:
                raise SparkUnavailableError(f"Spark {name} did not report {pattern!r} in time")
            time.sleep(0.25)

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.processes.items()}

    def memory(self) -> dict[str, int]:
        """Resident bytes of each daemon JVM (executors are children of the workers)."""
        out = {name: rss_bytes(pid) for name, pid in self.pids().items()}
        for name, pid in self.pids().items():
            for child in _children(pid):
                out[f"{name}/executor{child}"] = rss_bytes(child)
        return out

    def stop(self, timeout: float = 30.0) -> None:
        """End the workers, then the master (SIGTERM, SIGKILL after `timeout`)."""
        for name in sorted(self.processes, key=lambda n: n == "master"):
            proc = self.processes[name]
            if proc.poll() is None:
                for child in _children(proc.pid):
                    with _ignore_gone():
                        os.kill(child, signal.SIGTERM)
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout)
        self.processes.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> StandaloneCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ignore_gone() -> AbstractContextManager[None]:
    return suppress(ProcessLookupError)


def _children(pid: int) -> list[int]:
    """Child processes of `pid` (any of its threads may have started one)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return out


def session(
    master: str = "local[2]", *, app: str = "tutela", conf: Mapping[str, str] | None = None
) -> Any:
    """A SparkSession on `master` (`local[N]` or `spark://host:port`), small and quiet:
    no web UI, loopback only, UTC, a few shuffle partitions. Only one runs per process;
    stop it (`.stop()`) before opening another."""
    reason = unavailable() or reachable(master)
    if reason is not None:
        raise SparkUnavailableError(reason)
    for key, value in _env().items():
        if key.startswith(("SPARK_", "PYSPARK_")):
            os.environ[key] = value
    sql = _module("pyspark.sql")
    settings = {
        "spark.driver.memory": DRIVER_MEMORY,
        "spark.executor.memory": EXECUTOR_MEMORY,
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.python.worker.reuse": "true",
        "spark.eventLog.enabled": "false",
        "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        "spark.executor.extraJavaOptions": "-XX:+UseSerialGC",
    }
    settings.update(conf or {})
    _quiet_gateway(settings)
    builder = sql.SparkSession.builder.master(master).appName(app)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # py4j and Spark raise many kinds; all mean "no session"
        raise SparkUnavailableError(f"cannot start Spark on {master}: {exc}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    _quiet_query_loggers()
    return spark


def _quiet_query_loggers() -> None:
    """pyspark writes a failed query's whole Java stack trace to stderr, as JSON, before
    raising; Tutela reports the failure itself (`error[spark-job]`), so the record goes to
    `JVM_LOG` with the JVM's own output."""
    with suppress(ImportError, AttributeError):  # pyspark 3 has no such loggers
        make = importlib.import_module("pyspark.logger").PySparkLogger.getLogger
        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            logger = make(name)
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.addHandler(logging.FileHandler(JVM_LOG, delay=True))
            logger.propagate = False


JVM_LOG = Path(tempfile.gettempdir()) / f"tutela-spark-{os.getuid()}.log"


def _quiet_gateway(settings: Mapping[str, str]) -> None:
    """Start this process's Spark JVM with its console output going to `JVM_LOG`, not to
    the user's terminal (log4j's banner, JDK notices). The JVM options need the settings
    at launch; a JVM already running in this process is kept."""
    context = _module("pyspark").SparkContext
    if context._gateway is not None:
        return
    java_gateway = _module("pyspark.java_gateway")
    spark_conf = _module("pyspark").SparkConf(loadDefaults=True)
    for key, value in settings.items():
        spark_conf.set(key, value)
    log = JVM_LOG.open("ab")
    try:
        gateway = java_gateway.launch_gateway(
            spark_conf, popen_kwargs={"stdout": log, "stderr": log}
        )
    except Exception as exc:
        raise SparkUnavailableError(
            f"cannot start Spark's JVM ({first_line(exc)}; see {JVM_LOG})"
        ) from None
    finally:
        log.close()
    context._ensure_initialized(gateway=gateway)


def reachable(master: str, timeout: float = 5.0) -> str | None:
    """Why the master of a `spark://host:port` URL cannot be reached (a sentence), or None
    (also for `local[N]`, which needs no master). Checked before a session is made: Spark's
    own client retries an absent master for a minute before it gives up."""
    if not master.startswith("spark://"):
        return None
    host, _, port = master[len("spark://") :].partition(":")
    try:
        with socket.create_connection((host, int(port or 7077)), timeout=timeout):
            return None
    except ValueError:
        return "its port is not a number"
    except OSError as exc:
        return f"cannot reach the Spark master at {master} ({exc.strerror or exc})"


def wait_for_executors(spark: Any, timeout: float = 90.0) -> None:
    """Return once the cluster gave the application an executor; a master without live
    workers would otherwise leave every job waiting for ever."""
    if str(spark.sparkContext.master).startswith("local"):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        infos = spark.sparkContext.statusTracker().getExecutorInfos()
        if len(infos) > 1:  # the driver is listed too
            return
        time.sleep(0.5)
    raise SparkUnavailableError(
        f"the Spark master at {spark.sparkContext.master} gave no executor within "
        f"{timeout:.0f} s (no live workers, or none with free cores and memory)"
    )


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a Spark or py4j error, without the JVM stack."""
    text = str(exc).strip()
    lines = text.splitlines()
    if "Traceback (most recent call last):" in lines:
        # a Python worker's error: the exception it ended with, not pyspark's preamble
        after = lines[lines.index("Traceback (most recent call last):") + 1 :]
        raised = [line for line in after if line.strip() and not line[0].isspace()]
        if raised:
            return raised[0].strip()[:400]
    for line in lines:
        line = line.strip()
        skip = ("An error occurred while calling", "at ", "JVM stacktrace")
        if line and not line.startswith(skip):
            return line[:400]
    return type(exc).__name__


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class SparkQueries:
    """Where a table's read plans run when the table lives behind Spark: each DuckDB-dialect
    SELECT the plans send (`execute`, as on a DuckDB connection) is translated by
    `to_spark_sql`, its table names mapped to the Spark views holding the data, and run as a
    Spark job; the job's tasks drive the progress callback under `label`. Bound parameters
    are refused (the read plans bind none), `SET` statements meant for DuckDB are ignored."""

    def __init__(
        self,
        spark: Any,
        tables: Mapping[str, str],
        *,
        label: str = "Spark job",
        progress: Callable[[str, float], None] | None = None,
        what: str = "",
    ) -> None:
        self.spark = spark
        self.tables = dict(tables)
        self.label = label
        self.progress = progress
        self.what = what

    def execute(self, sql: str, parameters: Any = None, /) -> _Rows:
        if sql.lstrip().upper().startswith("SET "):
            return _Rows([])
        if parameters:
            raise TranslationError("a statement with bound parameters cannot run on Spark")
        translated = to_spark_sql(sql, self.tables)
        where = f" on {self.what}" if self.what else ""
        rows = run_job(
            self.spark,
            lambda: [tuple(r) for r in self.spark.sql(translated).collect()],
            failed=f"a Spark job failed{where}",
            label=self.label,
            progress=self.progress,
        )
        return _Rows(rows)

    def map_texts(self, work: Callable[[list[str]], list[str]], texts: Sequence[str]) -> list[str]:
        """`work` over `texts` on the executors, as an Arrow-vectorized UDF (batches of
        values, not one call per value), spread over the cluster's cores; the results in
        the order of `texts`. `work` must be importable on the executors (a module-level
        function, or a partial of one): each Python worker imports what it needs once and
        keeps it for every batch it is given (`spark.python.worker.reuse`)."""
        if not texts:
            return []
        spark = self.spark
        pa = _module("pyarrow")
        parts = max(1, min(len(texts), int(spark.sparkContext.defaultParallelism)))
        rows = spark.sparkContext.parallelize(list(enumerate(texts)), parts)
        frame = spark.createDataFrame(rows, "i long, t string")
        udf = _string_udf(lambda values: pa.array(work(values.to_pylist()), pa.string()))
        where = f" on {self.what}" if self.what else ""
        found = run_job(
            spark,
            lambda: frame.select("i", udf("t")).collect(),
            failed=f"a Spark job failed{where}",
            label=self.label,
            progress=self.progress,
        )
        out: list[str] = [""] * len(texts)
        for row in found:
            out[int(row[0])] = str(row[1])
        return out


def _case_insensitive(flags: str) -> bool:
    """DuckDB's regex options: 'i' insensitive, 'c' sensitive, the last one given wins."""
    return "i" in flags.replace("c", "") and flags.rfind("i") > flags.rfind("c")


def _one_match(pattern: str, replacement: str) -> bool:
    """Whether replacing the first match (DuckDB without 'g') and every match (Spark) must
    give the same text: a pattern anchored at the start, or at the end with an empty
    replacement (an empty match after the removed one changes nothing), and no
    alternative outside a group that could match elsewhere."""
    depth, escaped, top_bar = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            top_bar = True
    if top_bar:
        return False
    if pattern.startswith("^"):
        return True
    ends_unescaped = pattern.endswith("$") and not pattern.endswith("\\$")
    return ends_unescaped and replacement == ""


class SparkJobError(EngineError):
    """A Spark job failed (a lost cluster, a missing file, a type Spark cannot read)."""

    slug = "spark-job"


def run_job(
    spark: Any,
    work: Callable[[], T],
    *,
    failed: str,
    label: str = "Spark job",
    progress: Callable[[str, float], None] | None = None,
) -> T:
    """Run `work` (which starts Spark jobs) under `_watch`: progress reported, cancelled when
    the cluster has no executor left; any failure is a `SparkJobError` starting `failed`."""
    with _watch(spark, label, progress) as lost:
        try:
            return work()
        except Exception as exc:  # py4j and Spark raise many kinds: the job failed
            reason = lost[0] if lost else first_line(exc)
            raise SparkJobError(f"{failed}: {reason}") from None


def lost_after() -> float:
    """Seconds a job may wait with no executor left before Tutela cancels it
    (TUTELA_SPARK_LOST_SECONDS, default 120): Spark itself would wait for ever."""
    try:
        return max(1.0, float(os.environ.get("TUTELA_SPARK_LOST_SECONDS", "120")))
    except ValueError:
        return 120.0


@contextmanager
def _watch(
    spark: Any, label: str, progress: Callable[[str, float], None] | None
) -> Iterator[list[str]]:
    """While the block runs: report the running jobs' finished share of tasks, and cancel
    them when the cluster has had no executor for `lost_after()` seconds (every worker
    gone). The yielded list receives the reason when that happened."""
    stop = threading.Event()
    lost: list[str] = []
    context = spark.sparkContext
    cluster = not str(context.master).startswith("local")
    patience = lost_after()

    def poll() -> None:
        tracker = context.statusTracker()
        alone_since: float | None = None
        while not stop.wait(0.5):
            with suppress(Exception):  # the context may be stopping
                stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
                total = sum(s.numTasks for s in stages if s is not None)
                done = sum(s.numCompletedTasks for s in stages if s is not None)
                if total and progress is not None:
                    progress(label, done / total)
                if not cluster:
                    continue
                if len(tracker.getExecutorInfos()) > 1:  # the driver is listed too
                    alone_since = None
                    continue
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since >= patience:
                    lost.append(
                        f"the cluster at {context.master} had no executor left for "
                        f"{patience:.0f} s (its workers stopped or were killed); the job "
                        "was cancelled"
                    )
                    context.cancelAllJobs()
                    return

    thread = threading.Thread(target=poll, name="tutela-spark-watch", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=2)
        if progress is not None:
            progress(label, 1.0)


# -- keyed tokens (HMAC-SHA256), bit-for-bit as in DuckDB -----------------------------------


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104's inner and outer padded keys, exactly as `protect/sqlhmac.HmacKey`."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def hmac_hex_sql(expr: str, key: bytes, args: dict[str, Any]) -> str:
    """Spark SQL for the hex HMAC-SHA256 of the text expression `expr` (NULL stays NULL).

    The padded keys go into `args` (named parameters for `spark.sql(text, args=args)`), so
    they never appear in the SQL text."""
    inner, outer = _pads(key)
    n = len(args)
    args[f"hk{n}"], args[f"hk{n + 1}"] = bytearray(inner), bytearray(outer)
    return (
        f"sha2(concat(:hk{n + 1}, unhex(sha2(concat(:hk{n}, encode({expr}, 'UTF-8')), 256))), 256)"
    )


def hmac_hex_column(column: Any, key: bytes) -> Any:
    """The same HMAC as a DataFrame column expression over a string column."""
    functions = _module("pyspark.sql.functions")
    inner, outer = _pads(key)
    encoded = functions.encode(column, "UTF-8")
    first = functions.unhex(functions.sha2(functions.concat(functions.lit(inner), encoded), 256))
    return functions.sha2(functions.concat(functions.lit(outer), first), 256)


def hmac_hex_udf(key: bytes) -> Any:
    """The same HMAC as an Arrow-vectorized UDF, from the key itself (`pads_hex_udf`, which
    pseudonymization uses, over RFC 2104's padded keys)."""
    return pads_hex_udf(*_pads(key))


def token_column(hex_column: Any, length: int = 24) -> Any:
    """`tok_` and the first `length` hex digits, as `protect/sqlhmac.token_sql`."""
    functions = _module("pyspark.sql.functions")
    return functions.concat(
        functions.lit(TOKEN_PREFIX), functions.left(hex_column, functions.lit(length))
    )


def pads_hex_udf(inner: bytes, outer: bytes) -> Any:
    """HMAC-SHA256 from RFC 2104's padded keys (`protect/sqlhmac.HmacKey.pads`) as an
    Arrow-vectorized UDF: sha256(outer || sha256(inner || value)), hex, as DuckDB's SQL
    spells it. The padded keys travel in the pickled function, never in a query plan."""
    pa = _module("pyarrow")

    def digest(value: str | None) -> str | None:
        if value is None:
            return None
        first = hashlib.sha256(inner + value.encode("utf-8")).digest()
        return hashlib.sha256(outer + first).hexdigest()

    return _string_udf(
        lambda values: pa.array([digest(v) for v in values.to_pylist()], pa.string())
    )


def _string_udf(batch: Callable[[Any], Any]) -> Any:
    """`batch` (an Arrow array of values -> an Arrow string array) as a scalar Arrow UDF."""
    functions = _module("pyspark.sql.functions")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "It is preferred to specify type hints", UserWarning)
        return functions.arrow_udf(batch, "string", functions.ArrowUDFType.SCALAR)


@dataclass(frozen=True)
class Keyed:
    """A column replaced by a keyed token of its (normalised) value: `tok_` + hex digits."""

    pads: tuple[bytes, bytes] = field(repr=False)
    length: int = 24
    suffix: str = ""

    def __repr__(self) -> str:  # never print the key
        return f"Keyed(length={self.length}, suffix={self.suffix!r})"


def write_parquet(
    spark: Any,
    duckdb_select: str,
    tables: Mapping[str, str],
    keyed: Mapping[str, Keyed],
    out: Path,
    *,
    what: str,
) -> int:
    """Run a DuckDB-dialect SELECT on Spark (translated), replace each `keyed` column by
    its token (the UDF over the column's value as the SELECT gives it), and write the rows
    as Parquet files into the new folder `out` (the table `what`). Returns the rows written."""
    functions = _module("pyspark.sql.functions")
    translated = to_spark_sql(duckdb_select, tables)
    return run_job(
        spark,
        lambda: _write(spark, functions, translated, keyed, out),
        failed=f"writing {what} failed",
    )


def _write(spark: Any, functions: Any, sql: str, keyed: Mapping[str, Keyed], out: Path) -> int:
    def col(name: str) -> Any:
        return functions.col("`" + name.replace("`", "``") + "`")

    frame = spark.sql(sql)
    names = list(frame.columns)
    for name, key in keyed.items():
        digest = pads_hex_udf(*key.pads)(col(name))
        value = token_column(digest, key.length)
        if key.suffix:
            value = functions.concat(value, functions.lit(key.suffix))
        frame = frame.withColumn(name, value)
    frame = frame.select(*[col(n) for n in names])
    frame.write.mode("errorifexists").parquet(str(out))
    return int(spark.read.parquet(str(out)).count())


# -- the subject search over a lake (subjects/narrow.py) -----------------------------------


def _col(name: str) -> Any:
    return _module("pyspark.sql.functions").col("`" + name.replace("`", "``") + "`")


def folded_sql(column: str) -> str:
    """Spark SQL: a column's text lower-cased, accents stripped and only letters and digits
    kept, the engine's side of `base.text.letters_and_digits` (the same accent table)."""
    from tutela.base.text import accents

    accented, base = (_letters_literal(part) for part in accents())
    return (
        f"regexp_replace(translate(lower(CAST({column} AS STRING)), {accented}, {base}), "
        "'[^\\\\p{L}\\\\p{N}]+', '')"
    )


def _letters_literal(text: str) -> str:
    """A Spark SQL string literal of letters and digits only (nothing to escape)."""
    if not all(c.isalnum() for c in text):
        raise ValueError("only letters and digits may be written into a fold test")
    return f"'{text}'"


def with_addresses(frame: Any, files: Sequence[Path]) -> Any:
    """`frame` (the Parquet `files`, read one by one) with each row's address as `rowid`:
    the number DuckDB gives the row (`lake.addressed_parquet`: the file's 1-based place in
    `files`, the sorted listing, shifted 32 bits, plus the row's number in its file). The
    scan samples the rows whose address hashes lowest, so both engines sample the same
    rows. A file Spark reads that is not in `files` is refused."""
    from urllib.parse import unquote, urlparse

    functions = _module("pyspark.sql.functions")
    place = {str(f): i for i, f in enumerate(files, start=1)}
    # Spark names a file by its URI: `file:///...` in the listing, `file:/...` in the rows,
    # both percent-encoded; keyed here by the path part as the rows spell it
    spelled: dict[str, int] = {}
    for uri in frame.inputFiles():
        local = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
        if local not in place:
            raise EngineError(f"Spark reads a file that is not one of the table's: {uri}")
        spelled[re.sub(r"^file:(//)?", "", uri)] = place[local]
    if not spelled:
        return frame.withColumn("rowid", functions.lit(None).cast("long"))
    index = functions.create_map(*[functions.lit(x) for item in spelled.items() for x in item])
    bare = functions.regexp_replace(functions.col("_metadata.file_path"), "^file:(//)?", "")
    at = functions.element_at(index, bare).cast("long")
    return frame.withColumn(
        "rowid", functions.shiftleft(at, 32) + functions.col("_metadata.row_index")
    )


def rows_holding(
    frame: Any, tests: Mapping[str, Sequence[Sequence[str]]], columns: Sequence[str]
) -> Any:
    """The rows of `frame` (a file-based DataFrame) in which a column of `tests`, folded,
    holds every fragment of one of its anchors; with their file (`_tutela_file`) and row
    number in it (`_tutela_row`) and the `columns` asked for. The test is one SQL
    expression (built column by column through py4j it took ~1 s per table): the fragments
    are letters and digits only (folded identifiers), checked before they are written."""
    functions = _module("pyspark.sql.functions")
    types = {f.name: f.dataType.typeName() for f in frame.schema.fields}
    folded: dict[str, str] = {}
    tested = []
    for column, anchors in tests.items():
        if not anchors:
            continue
        name = "`" + column.replace("`", "``") + "`"
        texts = [folded_sql(name)]
        if types.get(column) in ("double", "float"):
            # Spark writes 612345670.0 as 6.1234567E8, DuckDB as 612345670.0: its digits are
            # also read from the exact decimal (beyond 10^16 DuckDB writes an exponent too)
            texts.append(folded_sql(f"CAST(CAST({name} AS DOUBLE) AS DECIMAL(38, 10))"))
        for text in texts:
            alias = f"_tutela_f{len(folded)}"
            folded[alias] = text
            tested += [
                "(" + " AND ".join(f"contains({alias}, {_letters_literal(f)})" for f in a) + ")"
                for a in anchors
                if a
            ]
    where = " OR ".join(tested) if tested else "false"
    out = [
        functions.col("_metadata.file_path").alias("_tutela_file"),
        functions.col("_metadata.row_index").alias("_tutela_row"),
        *[_col(c) for c in columns],
    ]
    with_text = frame.select(*out, *[functions.expr(sql).alias(a) for a, sql in folded.items()])
    return with_text.where(functions.expr(where)).drop(*folded)


def all_different(frame: Any, column: str) -> bool:
    """Whether a column has values and no value twice, over the whole frame (one job)."""
    functions = _module("pyspark.sql.functions")
    row = frame.agg(
        functions.count(_col(column)).alias("n"),
        functions.countDistinct(_col(column)).alias("d"),
    ).collect()[0]
    return bool(row["n"]) and row["n"] == row["d"]


# -- DuckDB SQL -> Spark SQL --------------------------------------------------------------

_WORD = "[0-9A-Za-z_]"
_RE2_SPACE = r"\t\n\f\r "  # RE2's \s (Java's also holds \x0B)
_OUTSIDE = {
    "s": f"[{_RE2_SPACE}]",
    "S": f"[^{_RE2_SPACE}]",
    "b": f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",  # RE2's \b is ASCII
    "B": f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))",
}
_INSIDE = {"s": _RE2_SPACE, "S": f"[^{_RE2_SPACE}]"}  # Java allows a class inside a class


_SIMPLE_GROUP = re.compile(r"\(\?:([^()]*)\)")
_TOKEN = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[^\\\[\]|*+?{}.^$]")
_TRIE_MIN = 20  # alternatives: below this, Java's backtracking over them is cheap
_END = ""


def _tokens(alternative: str) -> list[str] | None:
    """An alternative as a sequence of single-character tokens (a literal, an escape, a
    class), or None when it holds anything else (quantifiers, anchors, dots)."""
    tokens = _TOKEN.findall(alternative)
    return tokens if "".join(tokens) == alternative else None


def _emit(trie: dict[str, Any]) -> str:
    alts = [token + _emit(child) for token, child in trie.items() if token != _END]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if _END in trie else body


def _as_trie(group: re.Match[str]) -> str:
    """`(?:a|b|...)` of many literal alternatives as a prefix tree: the same strings, but
    Java's backtracking engine tries each first character once instead of every
    alternative at every position (RE2 builds an automaton; java.util.regex does not)."""
    content = group.group(1)
    alternatives = content.split("|")
    if len(alternatives) < _TRIE_MIN or content.endswith("\\"):
        return group.group(0)
    trie: dict[str, Any] = {}
    for alternative in alternatives:
        tokens = _tokens(alternative)
        if tokens is None:
            return group.group(0)
        node = trie
        for token in tokens:
            node = node.setdefault(token, {})
        node[_END] = {}
    return "(?:" + _emit(trie) + ")"


def java_regex(pattern: str, *, case_insensitive: bool = False, full: bool = False) -> str:
    """An RE2 pattern (as DuckDB runs it) rewritten to mean the same for java.util.regex.

    `.` and anchors follow RE2 (only \\n ends a line; `$` is the end of the text, not
    "before a final newline"); `\\s` and `\\b` are RE2's ASCII ones; inside a class `[` and
    `&&` are literal as in RE2; a case-insensitive match folds Unicode case as RE2 does
    (Java's `(?i)` alone folds ASCII only). `full` anchors the whole pattern
    (`regexp_full_match`)."""
    pattern = _SIMPLE_GROUP.sub(_as_trie, pattern)
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if in_class:
            if ch == "]":  # a `]` first in the class was taken as a literal on `[`
                in_class = False
                out.append("]")
            elif ch == "[" and pattern.startswith("[:", i):
                raise TranslationError(f"POSIX class in regular expression {pattern!r}")
            elif ch in "[]" or (ch == "&" and pattern.startswith("&&", i)):
                out.append("\\" + ch)
            else:
                out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append("[")
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # a `]` first in the class is a literal
                out.append("\\]")
                i += 1
            continue
        if ch == "$":
            out.append("\\z")
        elif ch == "(" and pattern.startswith("(?", i):
            flags = re.match(r"\(\?([a-zA-Z]+)([:)])", pattern[i:])
            if flags:
                letters = flags.group(1)
                if "i" in letters and "u" not in letters:
                    letters += "u"
                out.append(f"(?{letters}{flags.group(2)}")
                i += len(flags.group(0))
                continue
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    body = "".join(out)
    if full:
        body = f"^(?:{body})\\z"
    mode = "d" + ("iu" if case_insensitive else "")
    return f"(?{mode}){body}"


_SPACE_SEPARATORS = (
    " \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
)
"""Unicode category Zs: what DuckDB's trim() strips."""

# Functions sqlglot writes for Spark that Spark has under the same name and meaning.
_SPARK_FUNCTIONS = frozenset(
    {"CONTAINS", "LEFT", "RIGHT", "LENGTH", "REPLACE", "UPPER", "LOWER", "TRIM", "NULLIF",
     "YEAR", "ABS", "COUNT", "AVG", "MAX", "MIN", "SUM", "STDDEV_POP", "APPROX_COUNT_DISTINCT",
     "COALESCE", "RAND", "REGEXP_EXTRACT", "CONCAT", "SUBSTRING", "SHA2", "UNHEX", "ENCODE"}
)  # fmt: skip


class Recording:
    """A DuckDB connection that records the unparameterised statements it runs (those a
    scan sends) and passes everything on: what `to_spark_sql` is checked and measured on."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        if params is None:
            self.statements.append(sql)
            return self.con.execute(sql)
        return self.con.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def to_spark_sql(duckdb_sql: str, tables: Mapping[str, str] | None = None) -> str:
    """Translate one of the scan's DuckDB statements to Spark SQL (see the module docstring).

    `tables` maps a workspace table as the statement names it (`main.customers`) to the
    Spark table or view holding the same data (`lake.sales.customers`).

    Raises `TranslationError` for anything without a faithful translation: a regular
    expression that is not a literal, an unknown function, a sample not in rows."""
    sqlglot = _module("sqlglot")
    exp = sqlglot.exp
    try:
        tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"cannot parse the statement: {exc}") from exc

    def literal(node: Any, what: str) -> str:
        if not isinstance(node, exp.Literal) or not node.is_string:
            raise TranslationError(f"{what}: the regular expression must be a literal")
        return str(node.this)

    def rlike(this: Any, pattern: str) -> Any:
        return exp.RegexpLike(this=this, expression=exp.Literal.string(pattern))

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.RegexpLike):  # regexp_matches: a match anywhere
            flag = node.args.get("flag")
            flags = "" if flag is None else literal(flag, "regexp_matches flags")
            if set(flags) - {"i", "c", "s"}:
                raise TranslationError(f"regexp_matches flags {flags!r} have no translation")
            insensitive = _case_insensitive(flags)
            pattern = literal(node.expression, "regexp_matches")
            return rlike(node.this, java_regex(pattern, case_insensitive=insensitive))
        if isinstance(node, exp.RegexpFullMatch):
            if set(node.args) - {"this", "expression"}:
                raise TranslationError("regexp_full_match with options has no translation")
            pattern = literal(node.expression, "regexp_full_match")
            return rlike(node.this, java_regex(pattern, full=True))
        if isinstance(node, exp.RegexpExtract):
            pattern = literal(node.expression, "regexp_extract")
            group = node.args.get("group")
            return exp.RegexpExtract(
                this=node.this,
                expression=exp.Literal.string(java_regex(pattern)),
                group=group if group is not None else exp.Literal.number(0),
            )
        if isinstance(node, exp.RegexpReplace):
            # DuckDB replaces the first match unless 'g'; Spark every match. Both agree
            # when 'g' is given or the pattern is anchored (one match at most)
            flag = node.args.get("modifiers")
            flags = "" if flag is None else literal(flag, "regexp_replace flags")
            if set(flags) - {"g", "i", "c"}:
                raise TranslationError(f"regexp_replace flags {flags!r} have no translation")
            pattern = literal(node.expression, "regexp_replace")
            replacement = literal(node.args["replacement"], "regexp_replace replacement")
            if "g" not in flags and not _one_match(pattern, replacement):
                raise TranslationError(
                    "regexp_replace of the first match only has no Spark translation"
                )
            # group references: RE2's \\1 is Java's $1 (not \\1 before a digit: Java would
            # read $10 as group 10); anything else escaped has no translation
            if "$" in replacement or re.search(r"\\[^1-9]|\\$|\\[1-9][0-9]", replacement):
                raise TranslationError("regexp_replace with this replacement has no translation")
            insensitive = _case_insensitive(flags)
            return exp.RegexpReplace(
                this=node.this,
                expression=exp.Literal.string(java_regex(pattern, case_insensitive=insensitive)),
                replacement=exp.Literal.string(re.sub(r"\\([1-9])", r"$\1", replacement)),
            )
        if isinstance(node, exp.Trim) and node.args.get("expression") is None:
            # DuckDB's trim strips every Unicode space separator (NBSP, U+3000...), Spark's
            # only ' ': Spark's own trim, told those characters (linear, no regex)
            spark_trim = node.copy()
            spark_trim.set("expression", exp.Literal.string(_SPACE_SEPARATORS))
            return spark_trim
        if isinstance(node, exp.Upper):  # DuckDB maps ß to ẞ, Java to SS
            inner = exp.func("REPLACE", node.this, exp.Literal.string("ß"), exp.Literal.string("ẞ"))
            return exp.Upper(this=inner)
        if isinstance(node, exp.Select) and node.args.get("sample") is not None:
            return _sample_as_order(node, exp)
        if isinstance(node, exp.Table) and tables:
            dotted = ".".join(part.name for part in node.parts)
            if dotted in tables:
                target = exp.to_table(tables[dotted], dialect="spark")
                if node.alias:
                    target.set("alias", node.args["alias"].copy())
                return target
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
            # only orders rows (which free-text values are analysed first): any stable
            # 64-bit hash does; Spark's is xxHash64
            return exp.func("XXHASH64", *[e.copy() for e in node.expressions])
        if isinstance(node, exp.Anonymous):
            raise TranslationError(f"no Spark translation for the function {node.name}()")
        return node

    # children before parents, so a rewritten node keeps its rewritten arguments
    spark_tree = tree
    for node in reversed(list(tree.walk())):
        new = rewrite(node)
        if new is not node:
            if node is spark_tree:
                spark_tree = new
            else:
                node.replace(new)
    for table_sample in spark_tree.find_all(exp.TableSample):
        raise TranslationError(f"no Spark translation for the sample {table_sample.sql()}")
    text: str = spark_tree.sql(dialect="spark")
    return text


def _sample_as_order(select: Any, exp: Any) -> Any:
    """DuckDB's `USING SAMPLE reservoir(N ROWS) REPEATABLE (s)` draws N rows of the FROM
    relation (before WHERE): in Spark, the FROM relation in a seeded random order, first N."""
    sample = select.args["sample"]
    size = sample.args.get("size")
    seed = sample.args.get("seed")
    if size is None or sample.args.get("percent") is not None:
        raise TranslationError("only a sample of a number of rows has a Spark translation")
    source = select.args["from_"].this if "from_" in select.args else select.args["from"].this
    inner = (
        exp.select("*")
        .from_(source.copy())
        .order_by(exp.func("RAND", seed.copy() if seed is not None else exp.Literal.number(42)))
        .limit(size.copy())
    )
    out = select.copy()
    out.set("sample", None)
    out.set(
        "from_" if "from_" in select.args else "from", exp.From(this=inner.subquery("_sampled"))
    )
    return out
