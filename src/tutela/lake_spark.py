"""Lake tables behind an Apache Spark cluster: `tutela attach lake spark://host:7077
--warehouse /data/warehouse` (or `local[N]`, Spark inside this process).

The warehouse is a folder laid out as Spark lays out its managed tables: `<db>.db/<table>/`
(and `<table>/` for the `default` database), each table a folder of Parquet files. Its tables
are `lake.<db>.<table>`. Tutela lists them and reads their schemas from the files' footers
without starting Spark, so `tutela tables` stays quick; a Spark session starts only for work
that runs there, once per command.

What runs on Spark (`placement`): the scan's whole-column plans (counts, shape matches,
samples, free-text candidates), sent as DuckDB SQL and translated (`engine/spark.py`), and
`pseudonymize ... --out lake.db.table` for keyed tokens, masks and blanks, written to a
staging folder and renamed into place. The subject search, access reports, erasure and
policy checks read the table's Parquet files through DuckDB on this machine, as for a
`parquet:` attachment (erasure rewrites the affected files and renames them into place).

Connection settings (master URL, warehouse, extra Spark settings) are stored like other
attachments; a setting whose name looks like a secret is refused (give it in Spark's own
configuration, `spark-defaults.conf`, instead).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shlex
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tutela.base.errors import EngineError, UsageError
from tutela.base.progress import ProgressCallback
from tutela.base.sql import quote_ident
from tutela.engine import SqlError
from tutela.lake import (
    _children,
    _has_parquet,
    _Parquet,
    _refuse_rowid_column,
    _stamp,
    hive_partitioned,
    prime_pyarrow,
    staged_swap,
)
from tutela.sources import LiveSourceError, LiveTable, Placement, register_kind

KIND = "spark"
_MASTER = re.compile(r"^(spark://[A-Za-z0-9_.\-\[\]:]+|local(\[(\d+|\*)\])?)$")
_SECRET_WORDS = ("secret", "password", "token", "credential", "key")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Settings:
    master: str
    warehouse: Path
    conf: tuple[tuple[str, str], ...] = ()

    def target(self) -> str:
        """How the attachment is stored and shown: no secrets in it (refused before)."""
        parts = [self.master, f"warehouse={self.warehouse}"]
        parts += [f"conf={k}={v}" for k, v in self.conf]
        return shlex.join(parts)


def claims(text: str) -> bool:
    """Whether an attach target is a Spark master (`spark://host:port`, `local[N]`)."""
    return bool(_MASTER.match(text.strip()))


def parse_target(
    text: str, warehouse: str | None, conf: Mapping[str, str] | None = None
) -> tuple[str, str, None]:
    """(kind, stored target, no password) from what the user typed."""
    master = text.strip()
    if not claims(master):
        raise UsageError(f"{master}: not a Spark master (spark://host:port or local[N])")
    if not warehouse:
        raise UsageError(
            f"attaching {master} needs --warehouse: the folder holding the lake's tables "
            "(<database>.db/<table>/ folders of Parquet files)"
        )
    path = Path(warehouse).expanduser()
    if not path.is_dir():
        raise UsageError(f"--warehouse {warehouse}: not a folder")
    items = tuple(sorted((conf or {}).items()))
    for key, _ in items:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise UsageError(
                f"--spark-conf {key}: looks like a secret, and Tutela stores attachment "
                "settings in the workspace",
                hint="put it in Spark's own configuration (spark-defaults.conf) or the "
                "environment instead",
            )
    from tutela.engine import spark as engine_spark

    reason = engine_spark.unavailable() or engine_spark.reachable(master)
    if reason is not None:
        raise LiveSourceError(f"cannot attach {master}: {reason}")
    settings = Settings(master, path.resolve(), items)
    if not warehouse_tables(settings.warehouse):
        raise UsageError(
            f"--warehouse {warehouse}: no tables (folders of .parquet files) here or in "
            "its <database>.db folders"
        )
    return KIND, settings.target(), None


def settings_of(target: str) -> Settings:
    words = shlex.split(target)
    master, rest = words[0], words[1:]
    warehouse = Path()
    conf: list[tuple[str, str]] = []
    for word in rest:
        key, _, value = word.partition("=")
        if key == "warehouse":
            warehouse = Path(value)
        elif key == "conf":
            name, _, setting = value.partition("=")
            conf.append((name, setting))
    return Settings(master, warehouse, tuple(conf))


def warehouse_tables(root: Path) -> dict[tuple[str, str], Path]:
    """(database, table) -> folder, as Spark lays out a warehouse: `<db>.db/<table>`, and
    `<table>` for the default database (a plain `<db>/<table>` folder is read too)."""
    found: dict[tuple[str, str], Path] = {}
    for child in _children(root):
        if _has_parquet(child):
            found[("default", child.name)] = child
            continue
        database = child.name[:-3] if child.name.endswith(".db") else child.name
        for table in _children(child):
            if _has_parquet(table):
                found[(database, table.name)] = table
    return {k: v for k, v in found.items() if _NAME.match(k[0]) and _NAME.match(k[1])}


class SparkLake(_Parquet):
    """A Spark warehouse: Parquet tables, with the scan and pseudonymization running as
    Spark jobs (see the module docstring)."""

    def connect(self, password: str | None) -> None:
        self._init_lake()
        self.settings = settings_of(self.att.target)
        self.check_root()  # Spark itself is checked when attached and when a job needs it
        self.paths = warehouse_tables(self.root)
        self.stamps: dict[str, dict[str, tuple[int, int]]] = {}
        self.spark: Any = None
        self.views: dict[str, str] = {}
        self.frames: dict[str, Any] = {}
        self.listed: dict[str, list[Path]] = {}
        self.addressed: dict[str, str] = {}
        """Views with DuckDB's row addresses as `rowid` (`addressed_view`)."""
        self.pick_frames: dict[str, Any] = {}
        """DataFrames of tables whose partition values are read as text (`narrow_many`)."""
        self.narrowed: set[str] = set()

    @property
    def root(self) -> Path:
        return settings_of(self.att.target).warehouse

    def list_tables(self) -> list[tuple[str, str]]:
        return sorted(self.paths)

    def new_table_path(self, schema: str, table: str) -> Path:
        """Where a new table `lake.<schema>.<table>` goes, as Spark would put it."""
        if schema in ("default", "main"):
            return self.root / table
        plain = self.root / schema
        return plain / table if plain.is_dir() else self.root / f"{schema}.db" / table

    def fingerprint(self, live: LiveTable) -> str:
        """The table's files (names, sizes, change times): a scan of an unchanged table is
        reused without a Spark job."""
        path = self.path_of(live)
        stamps = [[str(f.relative_to(path)), *_stamp(f)] for f in self._files(path)]
        text = json.dumps([self.columns(live), stamps])
        return "files:" + hashlib.sha256(text.encode()).hexdigest()

    # -- Spark
    def session(self) -> Any:
        """This command's Spark session (started on first use) and the table views."""
        if self.spark is None:
            from tutela.engine import spark as engine_spark

            conf = dict(self.settings.conf)
            conf.setdefault("spark.sql.warehouse.dir", str(self.root))
            try:
                self.spark = engine_spark.session(
                    self.settings.master, app=f"tutela-{self.att.name}", conf=conf
                )
                engine_spark.wait_for_executors(self.spark)
            except engine_spark.SparkUnavailableError as exc:
                self._stop()
                raise LiveSourceError(f"{self.att.name}: {exc.message}") from None
        return self.spark

    def view(self, live: LiveTable) -> str:
        """The Spark view over one table's files (made once per command)."""
        if live.name not in self.views:
            from tutela.engine import spark as engine_spark

            spark = self.session()
            name = f"tutela_{uuid.uuid4().hex[:10]}"
            path = self.path_of(live)
            files = self._files(path)
            if not files:
                raise LiveSourceError(f"{live.name}: no .parquet files in {path}")
            hive_partitioned(path, files)  # a mixed layout is refused, as DuckDB refuses it
            # The files DuckDB reads, named one by one: Spark given the folder skips files
            # in sub-folders that are not `key=value` partitions and takes one file's
            # columns (a column only some files have was not scanned). Partitions are
            # still read from the folder names under `basePath`.
            reader = spark.read.option("basePath", str(path)).option("mergeSchema", "true")
            paths = [_literal_path(f) for f in files]
            # reading the schema is a job too: watched like the scan's (a folder gone since
            # it was listed, files Spark cannot read, a cluster without executors)
            frame = engine_spark.run_job(
                spark, lambda: reader.parquet(*paths), failed=f"cannot read {live.name} on Spark"
            )
            frame.createOrReplaceTempView(name)
            self.views[live.name] = name
            self.frames[live.name] = frame
            self.listed[live.name] = files
        return self.views[live.name]

    def addressed_view(self, live: LiveTable) -> str:
        """`view` with each row's address as `rowid`, as DuckDB numbers the rows of the files
        (the scan samples by it). A table with a column named rowid is refused, as DuckDB
        reading the files refuses it."""
        from tutela.engine import spark as engine_spark

        plain = self.view(live)
        frame = self.frames[live.name]
        _refuse_rowid_column(live.name, list(frame.columns))
        if live.name not in self.addressed:
            try:
                addressed = engine_spark.with_addresses(frame, self.listed[live.name])
            except EngineError as exc:
                raise LiveSourceError(f"cannot read {live.name} on Spark: {exc.message}") from None
            addressed.createOrReplaceTempView(f"{plain}_addr")
            self.addressed[live.name] = f"{plain}_addr"
        return self.addressed[live.name]

    # -- the subject search (subjects/narrow.py)
    def narrow_many(
        self, items: Sequence[tuple[LiveTable, Mapping[str, Sequence[Sequence[str]]]]]
    ) -> dict[str, int | LiveSourceError]:
        """For each (table, tests): copy here, for this command, only the rows of the table
        where some column of `tests`, folded (`base.text.letters_and_digits`), holds every
        fragment of one of its anchors. One Spark job per table over the whole table, the
        jobs run side by side (most of a small job is Spark's own latency); the copy stands
        in for the table (`relation`) with the same columns, types and row addresses as
        DuckDB's reading of the files, until `invalidate`. Returns the rows copied per
        table, or the error that kept Spark from picking them."""
        from concurrent.futures import ThreadPoolExecutor

        from tutela.engine import spark as engine_spark

        out: dict[str, int | LiveSourceError] = {}
        plans = []
        for live, tests in items:
            self.invalidate(live.name)
            try:
                plans.append((live, tests, *self._pick_plan(live)))
            except LiveSourceError as exc:
                out[live.name] = exc
        if not plans:
            return out
        prime_pyarrow()
        try:  # Spark out of reach: DuckDB reads these tables whole, as before Spark picked
            if self.spark is None:
                master = self.settings.master
                reason = engine_spark.unavailable() or engine_spark.reachable(master)
                if reason is not None:
                    raise LiveSourceError(f"{self.att.name}: {reason}")
            spark = self.session()
        except LiveSourceError as exc:
            return out | {live.name: exc for live, *_ in plans}
        # partition values as text (`cid=00123` stays 00123; cast after to DuckDB's type);
        # timestamps as text in the time zone DuckDB writes them in (its TimeZone setting)
        zone = str(self.con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
        settings = {
            "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
            "spark.sql.session.timeZone": zone,
        }
        before = {key: spark.conf.get(key) for key in settings}
        for key, value in settings.items():
            with contextlib.suppress(Exception):  # a zone Spark does not know: UTC, as set
                spark.conf.set(key, value)

        def pick(plan: tuple[Any, ...]) -> Any:
            live, tests, files, types = plan
            paths = [_literal_path(f) for f in files]

            def job() -> Any:
                frame = self.pick_frames.get(live.name)
                if frame is None:  # read once per command (merging the files' schemas is a job)
                    reader = spark.read.option("basePath", str(self.path_of(live)))
                    frame = reader.option("mergeSchema", "true").parquet(*paths)
                    self.pick_frames[live.name] = frame
                names = [name for name, _ in types]
                return engine_spark.rows_holding(frame, tests, names).toArrow()

            failed = f"cannot search {live.name} on Spark"
            try:
                return engine_spark.run_job(spark, job, failed=failed)
            except engine_spark.SparkJobError as exc:
                return LiveSourceError(exc.message)

        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                tables = list(pool.map(pick, plans))
        finally:
            for key, value in before.items():
                spark.conf.set(key, value)
        for (live, _, files, types), table in zip(plans, tables, strict=True):
            try:
                if isinstance(table, LiveSourceError):
                    raise table
                out[live.name] = self._keep_picked(live, files, types, table)
            except LiveSourceError as exc:
                out[live.name] = exc
        return out

    def _pick_plan(self, live: LiveTable) -> tuple[list[Path], list[tuple[str, str]]]:
        """The table's files and the (name, DuckDB type) of its columns as DuckDB reads them."""
        files, types = self.described(live)
        _refuse_rowid_column(live.name, [name for name, _ in types])
        return files, types

    def _keep_picked(
        self, live: LiveTable, files: list[Path], types: list[tuple[str, str]], table: Any
    ) -> int:
        """Keep the rows Spark picked (an Arrow table) as the table's copy: DuckDB's types
        and row addresses (file place << 32 + row number in the file)."""
        place = {str(f): i for i, f in enumerate(files, start=1)}
        positions = []
        for uri in sorted(set(table.column("_tutela_file").to_pylist())):
            local = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
            if local not in place:
                raise LiveSourceError(
                    f"cannot search {live.name} on Spark: it read {local}, which is not one "
                    "of the table's files here"
                )
            positions.append((uri, place[local]))
        temp = f"_tutela_lake_{uuid.uuid4().hex[:12]}"
        arrow, where = f"{temp}_arrow", f"{temp}_files"
        columns = []
        for name, duck_type in types:
            value = f"a.{quote_ident(name)}"
            field = table.schema.field(name)
            if getattr(field.type, "tz", None) and duck_type == "TIMESTAMP":
                value = f"timezone('UTC', {value})"  # an instant; the files' clock time (UTC)
            columns.append(f"CAST({value} AS {duck_type}) AS {quote_ident(name)}")
        try:
            self.con.register(arrow, table)
            self.con.execute(f"CREATE TEMP TABLE {quote_ident(where)} (uri VARCHAR, pos BIGINT)")
            if positions:
                self.con.executemany(f"INSERT INTO {quote_ident(where)} VALUES (?, ?)", positions)
            self.con.execute(
                f"CREATE TEMP TABLE {quote_ident(temp)} AS SELECT "
                f"(f.pos << 32) + a._tutela_row AS rowid, {', '.join(columns)} "
                f"FROM {quote_ident(arrow)} a JOIN {quote_ident(where)} f ON f.uri = a._tutela_file"
            )
        except SqlError as exc:
            raise LiveSourceError(f"cannot search {live.name}: {str(exc).splitlines()[0]}") from exc
        finally:
            with contextlib.suppress(SqlError):
                self.con.unregister(arrow)
            with contextlib.suppress(SqlError):
                self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(where)}")
        self.copies[live.name] = temp
        self.narrowed.add(live.name)
        return int(table.num_rows)

    def column_unique(self, live: LiveTable, column: str) -> bool:
        """Whether the column's values are all different over the whole table (a Spark job),
        and it has one."""
        from tutela.engine import spark as engine_spark

        self.view(live)
        frame = self.frames[live.name]
        return engine_spark.run_job(
            self.session(),
            lambda: engine_spark.all_different(frame, column),
            failed=f"cannot read {live.name} on Spark",
        )

    def invalidate(self, name: str) -> None:
        self.narrowed.discard(name)
        super().invalidate(name)

    def placement(self, live: LiveTable, progress: ProgressCallback) -> Placement:
        """Where the scan's plans for this table run: Spark, over a view of its files."""
        from tutela.engine import spark as engine_spark

        relation = spark_relation(live)
        queries = engine_spark.SparkQueries(
            self.session(),
            {live.name: self.addressed_view(live)},
            label=f"Spark jobs on {live.name}",
            progress=progress,
            what=live.name,
        )
        return Placement("spark", queries, _SparkTables(self, live, relation))

    def write_protected(
        self,
        live: LiveTable,
        select: str,
        keyed: Mapping[str, Any],
        out: Path,
        name: str,
        *,
        overwrite: bool,
    ) -> int:
        """Write `select` (DuckDB SQL over this table, named as `spark_relation` names it),
        the `keyed` columns turned into tokens, as the new table `name` in the folder `out`:
        staged beside it and renamed into place (`lake.staged_swap`). Returns the rows
        written."""
        from tutela.engine import spark as engine_spark

        tables = {live.name: self.view(live)}
        written: list[int] = []

        def write(stage: Path) -> None:
            rows = engine_spark.write_parquet(
                self.session(), select, tables, keyed, stage, what=name
            )
            written.append(rows)

        staged_swap(out, name, write, overwrite=overwrite)
        rows = written[0]
        self._tables = None
        self.paths = warehouse_tables(self.root)
        return rows

    def _stop(self) -> None:
        if self.spark is not None:
            with contextlib.suppress(Exception):
                self.spark.stop()
        self.spark = None
        self.views = {}
        self.frames = {}
        self.addressed = {}
        self.pick_frames = {}

    def close(self) -> None:
        self._stop()
        super().close()


class _SparkTables:
    """The `TableReader` of a Spark placement: the table under its dotted name (mapped to
    the Spark view by the query runner), its columns from the files."""

    def __init__(self, source: SparkLake, live: LiveTable, relation: str) -> None:
        self.source = source
        self.live = live
        self._relation = relation

    def relation(self, table: str) -> str:
        return self._relation

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        return self.source.columns(self.live)

    def unique_addresses(self, table: str) -> bool:
        return True  # the view's rowid is DuckDB's address of the row in the files


def _literal_path(path: Path) -> str:
    """A file name for Spark's reader, which reads paths as Hadoop globs: `[`, `{`, `*`,
    `?` and `\\` in a name are escaped so the file itself is read."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", str(path))


def spark_relation(live: LiveTable) -> str:
    """How the plans sent to Spark name a table (mapped to its view by the query runner)."""
    return ".".join(quote_ident(p) for p in (live.attachment.name, live.schema, live.table))


def spark_conf(items: Sequence[str]) -> dict[str, str]:
    """`--spark-conf key=value` options as a mapping (a clear error for a malformed one)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf {item!r}: write key=value")
        out[key.strip()] = value.strip()
    return out


register_kind(KIND, lambda att, con: SparkLake(att, con))
