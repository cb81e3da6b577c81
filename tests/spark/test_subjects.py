"""Subject search and access reports over a lake behind Spark: the rows of each lake table are
picked by a Spark job over the whole table (subjects/narrow.py), and the answers are the ones
DuckDB gives reading the same files whole. Data: the generated households drop (shared
e-mails and landlines, NAT, reused ids, placeholders, typos), as Parquet in a warehouse."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner, Result

from tests.conftest import json_out
from tutela.cli.app import app

HOUSEHOLDS = Path(__file__).resolve().parents[2] / "examples" / "households"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("households_generate", HOUSEHOLDS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _drop(root: Path, seed: int) -> tuple[list[str], list[dict[str, str]]]:
    """The drop as Parquet twice: a Spark warehouse (`shop.db/<table>/`) and the same files
    in a plain folder (`shop/<table>/`) DuckDB reads as `parquet:`. Returns the tables and
    one access request per person asked about (by e-mail, or customer id, or both)."""
    generate = _generator()
    drop = generate.generate(120, seed)
    csvs = root / "csv"
    requests = generate.requests_for(drop, random.Random(seed), 14)
    # a guest's order under her name with one letter changed in each word of 4+ letters,
    # and nothing else of hers: found by the name alone (a possible match), so the lake
    # must pick rows holding any one word of her name, not only all of them
    people = {p.pid: p for p in drop.people}
    for i, r in enumerate(requests[:4]):
        name = " ".join(
            w[:2] + ("x" if w[2] != "x" else "y") + w[3:] if len(w) >= 4 else w
            for w in people[str(r["person"])].name.split()
        )
        row = dict(drop.tables["orders"][0])
        row.update(order_id=f"G{i:07d}", phone=None, iban=None, name=name,
                   email=f"guest{i}@shop.example")  # fmt: skip
        drop.tables["orders"].append(row)
    generate.write(drop, csvs, requests)
    con = duckdb.connect()
    for table in drop.tables:
        for folder in (root / "wh" / "shop.db" / table, root / "plain" / "shop" / table):
            folder.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT * FROM read_csv('{csvs / (table + '.csv')}', header = true)) "
                f"TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)"
            )
    for table, select in EXTRA.items():  # the cases a review found (see EXTRA)
        partitioned = table == "visits"
        for folder in (root / "wh" / "shop.db" / table, root / "plain" / "shop" / table):
            folder.mkdir(parents=True)
            target = folder if partitioned else folder / "part-00000.parquet"
            how = "FORMAT parquet, PARTITION_BY (cid)" if partitioned else "FORMAT parquet"
            con.execute(f"COPY ({select}) TO '{target}' ({how})")
    con.close()
    asked = [
        {"request_id": f"X-{i}", "type": "access", "email": email, "customer_id": cid}
        for i, (email, cid) in enumerate(EXTRA_ASKED)
    ]
    for i, r in enumerate(requests):
        row = {"request_id": str(r["request_id"]), "type": "access", "email": "", "customer_id": ""}
        which = i % 3  # by e-mail, by customer id, by both
        if which != 1 or not r["customer_id"]:
            row["email"] = str(r["email"])
        if which != 0 and r["customer_id"]:
            row["customer_id"] = str(r["customer_id"])
        asked.append(row)
    return [*drop.tables, *EXTRA], asked


# Cases a review of the first version found, each a difference between the engines: a phone
# stored as a DOUBLE (Spark writes 6.1234567E8), a partition `cid=00123` (Spark read it as
# the number 123), names in Greek capitals (Spark lower-cases a final Σ to ς), in kana with
# voicing marks and in Hangul (folded apart), a namesake whose own e-mail another row
# carries (that row was never picked), consent recorded under the customer id (the consent
# table was read as picked rows) and instants (TIMESTAMPTZ, read in the wrong time zone).
EXTRA = {
    "members": """SELECT * FROM (VALUES
        ('00123', 'Quim Roca Vidal', 'quim@x.es', '612345670',
         TIMESTAMPTZ '1980-03-07 00:30:00+01'),
        ('C91', 'ΝΙΚΟΛΑΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ', 'nikos@x.gr', NULL, NULL),
        ('C92', 'ガルシア ダビド', 'garcia@x.jp', NULL, NULL),
        ('C93', '김민수', 'minsu@x.kr', NULL, NULL),
        ('C94', 'Berta Solé Puig', 'berta@x.es', NULL, NULL)
        ) t(cid, name, email, phone, birth)""",
    "calls": """SELECT * FROM (VALUES (1, 612345670.0::DOUBLE), (2, 699888770.0::DOUBLE))
        t(call_id, phone)""",
    "visits": """SELECT * FROM (VALUES ('00123', '/home'), ('00456', '/cart')) t(cid, page)""",
    "guests": """SELECT * FROM (VALUES
        (10, 'Berta Solé Puig', 'bsole@y.com', TIMESTAMPTZ '1980-03-07 00:30:00+01'),
        (11, '김민수', 'kms@z.kr', NULL), (12, 'ガルシア ダビド', 'gd@y.jp', NULL),
        (13, 'ΝΙΚΟΛΑΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ', 'np@y.gr', NULL)) t(guest_id, name, email, birth)""",
    "mailing": """SELECT * FROM (VALUES ('bsole@y.com'), ('other@z.kr')) t(email)""",
    "notes": """SELECT * FROM (VALUES (20, 'Called by ΝΙΚΟΛΑΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ about a refund'),
        (21, 'お客様 ガルシア ダビド から電話'), (22, 'nothing here')) t(note_id, note)""",
    "consents": """SELECT * FROM (VALUES
        ('00123', NULL, 'newsletter', 'granted', TIMESTAMPTZ '2024-01-01 10:00:00+00'),
        ('00123', 'quim@x.es', 'customer_service', 'granted',
         TIMESTAMPTZ '2024-02-01 10:00:00+00'))
        t(customer_id, email, purpose, status, recorded_at)""",
}
EXTRA_ASKED = [
    ("quim@x.es", ""), ("", "00123"), ("nikos@x.gr", ""), ("garcia@x.jp", ""),
    ("minsu@x.kr", ""), ("berta@x.es", ""),
]  # fmt: skip
EXTRA_POLICY = """
identifiers:
  - {table: members, column: cid, kind: customer_id}
  - {table: members, column: name, kind: name}
  - {table: members, column: email, kind: email}
  - {table: members, column: phone, kind: phone, region: ES}
  - {table: members, column: birth, kind: birth_date}
  - {table: calls, column: phone, kind: phone, region: ES}
  - {table: visits, column: cid, kind: customer_id}
  - {table: guests, column: name, kind: name}
  - {table: guests, column: email, kind: email}
  - {table: guests, column: birth, kind: birth_date}
  - {table: mailing, column: email, kind: email}
  - {table: consents, column: email, kind: email}
tables:
  members: {columns: {cid: user.unique_id, name: PERSON, email: EMAIL_ADDRESS,
                      phone: PHONE_NUMBER, birth: DATE_OF_BIRTH}}
  calls: {columns: {call_id: not_personal, phone: PHONE_NUMBER}}
  visits: {columns: {cid: user.unique_id, page: not_personal}}
  guests: {columns: {guest_id: not_personal, name: PERSON, email: EMAIL_ADDRESS,
                     birth: DATE_OF_BIRTH}}
  mailing: {columns: {email: EMAIL_ADDRESS}}
  notes: {columns: {note_id: not_personal, note: {entity: PERSON, free_text: true}}}
  consents: {columns: {customer_id: user.unique_id, email: EMAIL_ADDRESS,
                       purpose: not_personal, status: not_personal, recorded_at: not_personal}}
consent:
  table: consents
  subject_column: customer_id
  subject_kind: customer_id
  purpose_column: purpose
  status_column: status
  timestamp_column: recorded_at
  granted: [granted]
  withdrawn: [withdrawn]
"""


def _policy(path: Path, tables: list[str]) -> Path:
    """The households policy (and the extra cases') with its tables as `lake.shop.<table>`."""
    policy = yaml.safe_load((HOUSEHOLDS / "policy.yaml").read_text(encoding="utf-8"))
    extra = yaml.safe_load(EXTRA_POLICY)
    policy["subjects"]["customer"]["identifiers"] += extra["identifiers"]
    policy["tables"] |= extra["tables"]
    policy["consent"] = extra["consent"]

    def lake(name: str) -> str:
        return f"lake.shop.{name}" if name in tables else name

    for subject in policy["subjects"].values():
        for link in subject["identifiers"]:
            link["table"] = lake(link["table"])
    policy["tables"] = {lake(t): v for t, v in policy["tables"].items()}
    for purpose in policy.get("purposes", {}).values():
        purpose["tables"] = [lake(t) for t in purpose["tables"]]
    policy["consent"]["table"] = lake(policy["consent"]["table"])
    erasure = policy.get("erasure", {})
    if "tables" in erasure:
        erasure["tables"] = {lake(t): v for t, v in erasure["tables"].items()}
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


def _reports(folder: Path) -> dict[str, Any]:
    """What each access report says of the person (not when, or by which engine)."""
    out = {}
    for path in sorted(folder.glob("sar-*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        out[report["request_id"]] = {
            k: report[k]
            for k in (
                "summary", "tables", "free_text_mentions", "held_back", "possible_matches",
                "consent", "identifiers_searched",
            )
        }  # fmt: skip
    return out


def _cli(workspace: Path) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["-w", str(workspace), *args])

    return run


@pytest.fixture
def madrid_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in Madrid's time zone (DuckDB writes instants in it), then back."""
    monkeypatch.setenv("TZ", "Europe/Madrid")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_access_reports_over_a_spark_lake_equal_duckdb_reading_it_whole(
    tmp_path: Path, no_session: Any, madrid_time: None
) -> None:
    tables, asked = _drop(tmp_path, seed=11)
    policy = _policy(tmp_path / "policy.yaml", tables)
    requests = tmp_path / "requests.csv"
    with requests.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asked[0]))
        writer.writeheader()
        writer.writerows(asked)

    answers = {}
    for engine, target in (
        ("spark", ["local[2]", "--warehouse", str(tmp_path / "wh")]),
        ("duckdb", [f"parquet:{tmp_path / 'plain'}"]),
    ):
        cli = _cli(tmp_path / f"ws-{engine}")
        assert cli("keys", "init").exit_code == 0
        attached = cli("attach", "lake", *target)
        assert attached.exit_code == 0, attached.output
        out = tmp_path / f"reports-{engine}"
        ran = cli("requests", "run", str(requests), "-p", str(policy), "--out", str(out),
                  "-f", "json")  # fmt: skip
        assert ran.exit_code in (0, 1), ran.output  # 1: some need review
        states = {r["request_id"]: r["state"] for r in json_out(ran)["requests"]}
        assert set(states) == {r["request_id"] for r in asked}
        assert "failed" not in states.values(), ran.output
        spark_read = {json.dumps(r.get("read_on_spark")) for r in json_out(ran)["requests"]}
        assert len(spark_read) == 1  # one search for the whole batch
        answers[engine] = (states, _reports(out), json.loads(spark_read.pop()))

    spark_states, spark_reports, _ = answers["spark"]
    duck_states, duck_reports, _ = answers["duckdb"]
    assert spark_states == duck_states
    assert spark_reports == duck_reports
    found = [r for r in spark_reports.values() if r["summary"]["rows"]]
    assert len(found) >= 10  # the people are found, not merely nothing on both sides
    assert any(r["possible_matches"] for r in spark_reports.values())  # ambiguity is there
    by_name = [
        p for r in duck_reports.values() for p in r["possible_matches"]
        if p["table"] == "lake.shop.orders" and "similar name" in p["reason"]
    ]  # fmt: skip
    assert by_name, "the guests' orders under a changed name are possible matches"
    assert any(r["free_text_mentions"] for r in spark_reports.values())
    # the review's cases are there: her call (a DOUBLE), her visits (partition cid=00123),
    # both consents (recorded under her customer id), the namesakes in other scripts
    x0 = duck_reports["X-0"]
    assert {"lake.shop.members", "lake.shop.calls", "lake.shop.visits"} <= {
        t["table"] for t in x0["tables"]
    }
    assert len(x0["consent"]) == 2
    for req in ("X-2", "X-3", "X-4"):
        assert any(p["table"] == "lake.shop.guests" for p in duck_reports[req]["possible_matches"])

    # the batch says how many rows Spark picked of each table: fewer than they hold (the
    # 14 people's names share words with most customers of this small drop, whose names come
    # from short lists; the web events, which hold no name, are picked by identifiers alone)
    picked = answers["spark"][2]
    sizes = {
        f"lake.shop.{t}": duckdb.sql(
            f"SELECT count(*) FROM '{tmp_path / 'plain' / 'shop' / t}/**/*.parquet'"
        ).fetchall()[0][0]
        for t in tables
    }
    assert set(picked["rows_picked"]) == set(sizes)
    assert sum(picked["rows_picked"].values()) < sum(sizes.values()), (picked, sizes)
    events = "lake.shop.web_events"
    assert picked["rows_picked"][events] * 5 < sizes[events], (picked, sizes)
    assert picked["passes"] >= 2  # what the first pass found was followed
    assert answers["duckdb"][2] is None  # DuckDB read the files whole


def test_a_master_out_of_reach_leaves_the_search_to_duckdb_and_says_so(tmp_path: Path) -> None:
    """The cluster is down when a SAR is due: the lake's files are read whole on this
    machine (as before Spark picked rows), the answer is given, and the output says why."""
    from tutela.engine import spark as engine_spark

    reason = engine_spark.unavailable()
    if reason is not None:
        pytest.skip(f"SPARK TESTS SKIPPED: {reason}")
    wh = tmp_path / "wh" / "crm.db" / "customers"
    wh.mkdir(parents=True)
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES ('C1', 'Anna Puig', 'anna@x.es'), ('C2', 'Pau Vidal', "
        f"'pau@x.es')) t(cid, name, email)) TO '{wh / 'part-0.parquet'}' (FORMAT parquet)"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nsubjects:\n  customer:\n    identifiers:\n"
        "      - {table: lake.crm.customers, column: cid, kind: customer_id}\n"
        "      - {table: lake.crm.customers, column: email, kind: email}\n"
        "tables:\n  lake.crm.customers: {columns: {cid: user.unique_id, email: EMAIL_ADDRESS}}\n",
        encoding="utf-8",
    )
    cli = _cli(tmp_path / "ws")
    assert cli("attach", "lake", "local[2]", "--warehouse", str(tmp_path / "wh")).exit_code == 0
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    con = duckdb.connect(str(tmp_path / "ws" / "tutela.duckdb"))
    con.execute(
        "UPDATE _tutela.attachments SET target = replace(target, 'local[2]', ?)",
        [f"spark://127.0.0.1:{port}"],
    )
    con.close()
    found = cli("subject", "find", "--email", "anna@x.es", "-p", str(policy), "-f", "json")
    assert found.exit_code == 0, found.output
    out = json_out(found)
    assert out["tables"] == {"lake.crm.customers": 1}
    why = out["read_on_spark"]["read_whole_by_duckdb"]["lake.crm.customers"]
    assert f"127.0.0.1:{port}" in why
    shown = cli("subject", "find", "--email", "anna@x.es", "-p", str(policy))
    assert "read whole on this machine" in shown.output
