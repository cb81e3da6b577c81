"""`tutela attach lake spark://… --warehouse`, then scan and pseudonymize from the CLI: the same
findings and the same keyed tokens as DuckDB gives over the same files, and clear errors when
the master is unreachable, a table is missing, a type cannot be read, or the workers die.

The CLI runs in this process and starts its own Spark session on the JVM the other Spark
tests use (one SparkContext per process: the fixture's is stopped first)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import Result

from tests.conftest import json_out
from tests.spark.test_scan import COLUMNS, _rows
from tutela.engine import spark as engine_spark

# the files of a table split in three: one of them in a sub-folder, with a name Spark
# spells percent-encoded in its URIs
_PARTS = ("part-00000.parquet", "more/part 00001 %+é.parquet", "part-00002.parquet")


def _warehouse(root: Path, rows: list[tuple[Any, ...]], files: int = 1) -> Path:
    """A Spark-layout warehouse: crm.db/people/ as Parquet (in `files` files), written by
    DuckDB."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({', '.join(f'{c} VARCHAR' for c in COLUMNS)})")
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
    folder = root / "crm.db" / "people"
    (folder / "more").mkdir(parents=True)
    step = -(-len(rows) // files)
    for i, name in enumerate(_PARTS[:files]):
        con.execute(
            f"COPY (SELECT * FROM t WHERE rowid >= {i * step} AND rowid < {(i + 1) * step}) "
            f"TO '{folder / name}' (FORMAT parquet)"
        )
    con.close()
    return root


def _tickets(root: Path, seed: int, n: int) -> None:
    """crm.db/tickets/: call-centre notes in several languages, some naming a person, a
    phone number or an e-mail, most not (free text: presidio's work)."""
    rng = random.Random(seed)
    people = ["Anna Gómez", "Josep Pujol", "Laura Müller", "Ελένη Παπαδοπούλου", "John Smith"]
    notes = [
        "Llamar a {p} al {t} por la factura {i}",
        "Customer {p} asked for a refund, mail {e}",
        "Rückruf bei {p} unter {t} erbeten",
        "Pedido {i} entregado sin incidencias",
        "Sin incidencias",
        "Client {e} demana la baixa del butlletí",
        "El client ha trucat per l'enviament {i}",
        "No answer; try again tomorrow",
    ]
    rows = []
    for i in range(n):
        note = rng.choice(notes).format(
            p=rng.choice(people),
            t=f"6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            e=f"{rng.choice(['anna', 'jp', 'laura'])}{rng.randint(1, 999)}@example.com",
            i=rng.randint(10000, 99999),
        )
        rows.append((f"T{i}", note if rng.random() > 0.05 else None))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (ticket VARCHAR, notas VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    (root / "crm.db" / "tickets").mkdir(parents=True)
    con.execute(f"COPY t TO '{root}/crm.db/tickets/part-00000.parquet' (FORMAT parquet)")
    con.close()


def _findings(result: Result) -> dict[str, tuple[Any, ...]]:
    assert result.exit_code == 0, result.output
    (table,) = json_out(result)["tables"]
    found = {}
    for c in table["columns"]:
        evidence = json.loads(json.dumps(c.get("evidence", {})))
        evidence.get("free_text", {}).pop("presidio_ran_on", None)  # where, not what
        found[c["column"]] = (
            c["entity"], c.get("subtype"), c.get("matched"), c.get("non_empty"),
            c.get("confidence"), evidence,
        )  # fmt: skip
    return found


def test_spark_lake_scans_and_tokens_equal_duckdb(
    cli: Callable[..., Result], tmp_path: Path, no_session: Any
) -> None:
    # more rows than the scan samples (4,000), in three files: the samples are the same
    # rows on both engines (the rows whose address in the files hashes lowest)
    wh = _warehouse(tmp_path / "wh", _rows(seed=23, n=5000), files=3)
    assert cli("keys", "init").exit_code == 0
    attached = cli("attach", "lake", "local[2]", "--warehouse", str(wh), "-f", "json")
    assert attached.exit_code == 0, attached.output
    assert json_out(attached)["tables"] == ["lake.crm.people"]
    _tickets(wh, seed=5, n=3000)  # added after attaching: listed on the next command
    # the same files read by DuckDB: a plain Parquet attachment of the database folder
    assert cli("attach", "duck", f"parquet:{wh / 'crm.db'}").exit_code == 0
    listed = cli("tables", "-f", "json")
    assert {"lake.crm.people", "lake.crm.tickets", "duck.main.people"} <= {
        t["table"] for t in json_out(listed)["tables"]
    }

    on_spark = cli("scan", "lake.crm.people", "-f", "json")
    assert json_out(on_spark)["tables"][0]["engine"] == "spark"
    on_duckdb = cli("scan", "duck.main.people", "-f", "json")
    spark_found, duck_found = _findings(on_spark), _findings(on_duckdb)
    assert spark_found == duck_found  # the sampled checks and examples too
    assert json_out(on_duckdb)["tables"][0]["rows"] == 5000
    assert spark_found["dni"][5]["validated"]["ES_DNI"]["valid"] > 0  # checks on the sample
    assert {spark_found[c][0] for c in ("email", "dni", "ip")} == {
        "EMAIL_ADDRESS", "NATIONAL_ID", "IP_ADDRESS"
    }  # fmt: skip

    # free text: presidio on the executors (one analyzer per Python worker, not per row),
    # the same entities and counts as presidio in this process over the same notes
    spark_notes = _free_text(cli("scan", "lake.crm.tickets", "-f", "json"))
    duck_notes = _free_text(cli("scan", "duck.main.tickets", "-f", "json"))
    placed = spark_notes.pop("presidio_ran_on")
    assert "presidio_ran_on" not in duck_notes
    assert spark_notes == duck_notes
    # more candidates than the cap: the same 1,000 are analysed on both engines
    assert spark_notes["candidates_distinct"] > spark_notes["analysed_distinct"] == 1000
    assert spark_notes["presidio_entities"]
    assert placed["engine"] == "executors"
    assert 1 <= placed["analyzer_builds"] <= placed["python_workers"] <= 2

    columns = "email=hmac,telefono=hmac,nombre=email,direccion=mask,fecha_nacimiento=drop"
    out = cli("pseudonymize", "lake.crm.people", "--columns", columns,
              "--out", "lake.crm.people_tok")  # fmt: skip
    assert out.exit_code == 0, out.output
    local = cli("pseudonymize", "duck.main.people", "--columns", columns,
                "--out", str(tmp_path / "local.parquet"))  # fmt: skip
    assert local.exit_code == 0, local.output
    written = sorted(wh.joinpath("crm.db", "people_tok").glob("*.parquet"))
    assert written and not list(wh.joinpath("crm.db").glob(".tutela-*"))  # staged, renamed
    con = duckdb.connect()
    query = "SELECT * EXCLUDE (c9), c9 FROM read_parquet({}) ORDER BY ALL"
    spark_rows = con.execute(query.format([str(p) for p in written])).fetchall()
    duck_rows = con.execute(query.format(f"'{tmp_path / 'local.parquet'}'")).fetchall()
    assert len(spark_rows) == 5000
    assert spark_rows == duck_rows  # bit-for-bit the same tokens, masks and columns
    tokens = [r[1] for r in spark_rows if r[1] is not None]
    assert tokens and all(t.startswith("tok_") and len(t) == 28 for t in tokens)
    assert cli("tables", "-f", "json").stdout.count("lake.crm.people_tok") == 1
    log = cli("audit", "show", "-f", "json")
    assert "written lake table lake.crm.people_tok on Spark" in log.stdout


def test_spark_reads_every_file_duckdb_reads(
    cli: Callable[..., Result], tmp_path: Path, no_session: Any
) -> None:
    """A table's files in a sub-folder that is not a partition, one file with a column the
    others lack, and a name Spark would read as a glob: Spark scans every row and column
    DuckDB does (it skipped the sub-folder and the extra column: 100 rows of 160 scanned)."""
    folder = tmp_path / "wh" / "crm.db" / "contacts"
    (folder / "2025 export").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || i AS id, 'user' || i || '@example.com' AS email FROM range(100) "
        f"t(i)) TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)"
    )
    con.execute(
        "COPY (SELECT 'C' || i AS id, 'user' || i || '@example.com' AS email, "
        "'+34 6' || (10000000 + i * 7919) AS telefono FROM range(100, 160) t(i)) "
        f"TO '{folder / '2025 export' / 'late[1].parquet'}' (FORMAT parquet)"
    )
    con.close()
    assert cli("attach", "lake", "local[1]", "--warehouse", str(tmp_path / "wh")).exit_code == 0
    assert cli("attach", "duck", f"parquet:{tmp_path / 'wh' / 'crm.db'}").exit_code == 0
    on_spark = cli("scan", "lake.crm.contacts", "-f", "json")
    on_duckdb = cli("scan", "duck.main.contacts", "-f", "json")
    assert json_out(on_spark)["tables"][0]["rows"] == 160
    spark_found = _findings(on_spark)
    assert spark_found == _findings(on_duckdb)
    assert spark_found["telefono"][0] == "PHONE_NUMBER"
    assert spark_found["email"][3] == 160


def _free_text(result: Result) -> dict[str, Any]:
    """The free-text evidence of the notes column, and its finding."""
    assert result.exit_code == 0, result.output
    (table,) = json_out(result)["tables"]
    (notes,) = [c for c in table["columns"] if c["column"] == "notas"]
    evidence = dict(notes["evidence"]["free_text"])
    evidence["finding"] = (notes["entity"], notes.get("matched"), notes.get("confidence"))
    return evidence


def test_spark_errors_name_the_attachment_and_table(
    cli: Callable[..., Result], tmp_path: Path, no_session: Any
) -> None:
    wh = _warehouse(tmp_path / "wh", _rows(seed=3, n=50))
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = cli("attach", "lake", f"spark://127.0.0.1:{port}", "--warehouse", str(wh))
    assert refused.exit_code != 0
    assert "error[live-source]" in refused.output
    assert f"cannot reach the Spark master at spark://127.0.0.1:{port}" in refused.output
    assert "Traceback" not in refused.output
    secret = cli("attach", "lake", "local[1]", "--warehouse", str(wh),
                 "--spark-conf", "spark.hadoop.fs.s3a.secret.key=abc")  # fmt: skip
    assert secret.exit_code != 0 and "looks like a secret" in secret.output
    assert "abc" not in cli("attachments").output

    # a TIME column: DuckDB writes it, Spark cannot read it
    con = duckdb.connect()
    (wh / "crm.db" / "shifts").mkdir()
    con.execute(
        "COPY (SELECT 'Anna' AS name, TIME '08:30:00' AS starts) "
        f"TO '{wh}/crm.db/shifts/part-0.parquet' (FORMAT parquet)"
    )
    assert cli("attach", "lake", "local[1]", "--warehouse", str(wh)).exit_code == 0
    missing = cli("scan", "lake.crm.nobody")
    assert missing.exit_code != 0 and "lake.crm.nobody" in missing.output
    unreadable = cli("scan", "lake.crm.shifts")
    assert unreadable.exit_code != 0, unreadable.output
    assert "cannot read lake.crm.shifts on Spark" in unreadable.output
    assert "Traceback" not in unreadable.output
    # refused on Spark as DuckDB reading the files refuses them: a column named rowid (the
    # row address's name), partition folders beside a file outside them (Spark read none
    # of its rows)
    (wh / "crm.db" / "own_rowid").mkdir()
    con.execute(
        "COPY (SELECT 7 AS rowid, 'anna@example.com' AS email) "
        f"TO '{wh}/crm.db/own_rowid/part-0.parquet' (FORMAT parquet)"
    )
    (wh / "crm.db" / "mixed" / "country=ES").mkdir(parents=True)
    for name in ("country=ES/part-0.parquet", "part-1.parquet"):
        con.execute(
            f"COPY (SELECT 'anna@example.com' AS email) TO '{wh}/crm.db/mixed/{name}' "
            "(FORMAT parquet)"
        )
    assert cli("attach", "duck", f"parquet:{wh / 'crm.db'}").exit_code == 0
    for table, says in [("own_rowid", "has a column named rowid"),
                        ("mixed", "part-1.parquet is not")]:  # fmt: skip
        for attachment in ("lake.crm", "duck.main"):
            refused = cli("scan", f"{attachment}.{table}")
            assert refused.exit_code == 4, refused.output
            assert says in refused.output and "Traceback" not in refused.output
    report = cli("scan", "lake.crm.people", "-f", "json")  # the rest still scans
    assert report.exit_code == 0, report.output


def test_a_scan_survives_a_killed_worker_and_fails_cleanly_without_any(
    cli: Callable[..., Result],
    tmp_path: Path,
    stopping_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = stopping_cluster.cluster  # the shared standalone master and two workers
    stopping_cluster.close_session()  # keep the cluster, free the process's SparkContext
    try:
        _kill_workers_during_scans(cli, tmp_path, cluster, monkeypatch)
    finally:
        stopping_cluster.close()  # its workers are dead: a later test starts a fresh one


def _kill_workers_during_scans(
    cli: Callable[..., Result], tmp_path: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = _warehouse(tmp_path / "wh", _rows(seed=7, n=1500))
    _tickets(wh, seed=8, n=400)
    assert cli("attach", "lake", cluster.master_url, "--warehouse", str(wh)).exit_code == 0
    # first, with both workers: presidio runs on the cluster's executors, built once each
    notes = _free_text(cli("scan", "lake.crm.tickets", "-f", "json"))
    placed = notes["presidio_ran_on"]
    assert placed["engine"] == "executors", placed
    assert 1 <= placed["analyzer_builds"] <= placed["python_workers"] <= 2
    assert notes["presidio_entities"]
    pids = cluster.pids()
    workers = sorted(n for n in pids if n.startswith("worker"))
    assert len(workers) == 2

    def kill_when_running(name: str) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:  # the CLI's context may be starting or stopping
                running = bool(_active_context().statusTracker().getActiveJobsIds())
            except Exception:
                running = False
            if running:
                # the machine is gone: the worker daemon and the executor it started
                for pid in [*engine_spark._children(pids[name]), pids[name]]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_when_running, args=(workers[0],))
    killer.start()
    survived = cli("scan", "lake.crm.people", "-f", "json")
    killer.join()
    assert survived.exit_code == 0, survived.output  # the other worker ran the lost tasks
    first = _findings(survived)
    assert first["email"][0] == "EMAIL_ADDRESS"

    monkeypatch.setenv("TUTELA_SPARK_LOST_SECONDS", "5")
    killer = threading.Thread(target=kill_when_running, args=(workers[1],))
    killer.start()
    failed = cli("scan", "lake.crm.people", "--force")
    killer.join()
    assert failed.exit_code != 0
    assert "error[spark-job]" in failed.output and "lake.crm.people" in failed.output
    assert "no executor left" in failed.output and "Traceback" not in failed.output
    # nothing of the failed run was stored: the scan on record is still the first one
    again = cli("scan", "lake.crm.people", "-f", "json")
    assert json_out(again)["tables"][0]["cached"] is True
    assert _findings(again) == first


def _active_context() -> Any:
    from pyspark import SparkContext

    return SparkContext._active_spark_context
