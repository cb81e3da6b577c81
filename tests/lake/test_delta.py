"""Delta tables in place: attach, scan, SAR, erasure with one commit per table, the purge
that makes it physical, and the bad inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from deltalake import DeltaTable, write_deltalake
from typer.testing import Result

from tests.conftest import erase_the_garcias, family_policy, json_out
from tests.lake.conftest import ANNA, files_holding, parquet_holding, read_table


def _erase(cli: Callable[..., Result], tmp_path: Path, *extra: str, rid: str = "E1") -> Result:
    return cli("erase", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
               "-o", str(tmp_path / "certs"), "--request-id", rid, *extra)  # fmt: skip


def _cert(tmp_path: Path, rid: str = "E1") -> dict[str, Any]:
    return json.loads((tmp_path / "certs" / f"erasure-{rid}.json").read_text())


def test_attach_lists_scans_and_answers_access(
    cli: Callable[..., Result], lake: Path, tmp_path: Path
) -> None:
    result = cli("attach", "lake", f"delta:{lake}", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json_out(result)["tables"] == ["lake.main.customers", "lake.sales.orders"]
    assert json_out(cli("attachments", "-f", "json"))["attachments"][0]["kind"] == "delta"
    scan = json_out(cli("scan", "lake.main.customers", "-f", "json"))
    entities = {c["column"]: c["entity"] for c in scan["tables"][0]["columns"]}
    assert entities["email"] == "EMAIL_ADDRESS" and entities["phone"] == "PHONE_NUMBER"
    sar = cli("sar", "--email", "anna.puig@example.com", "-p", str(tmp_path / "policy.yaml"),
              "--out", str(tmp_path / "sar"), "--request-id", "S1")  # fmt: skip
    assert sar.exit_code == 0, sar.output
    report = json.loads((tmp_path / "sar" / "sar-S1.json").read_text())
    rows = {t["table"]: len(t["rows"]) for t in report["tables"]}
    assert rows == {"lake.main.customers": 1, "lake.sales.orders": 2}


def test_erasure_is_one_commit_per_table_then_purged_and_verified(
    cli: Callable[..., Result], lake: Path, tmp_path: Path
) -> None:
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    assert files_holding(lake, ANNA)  # the person is in the files before
    assert _erase(cli, tmp_path).exit_code == 0
    assert DeltaTable(str(lake / "customers")).version() == 0  # a dry run changes nothing
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 0, result.output
    # the rows: Anna's customer row gone, her orders kept without her id and address, the
    # mention of her in Pau's note redacted; everybody else's values untouched
    customers = read_table(lake / "customers")
    assert [r[0] for r in customers] == ["C50322", "C50323"]
    assert customers[0][4] == "cousin of [REDACTED]"
    orders = read_table(lake / "sales" / "orders")
    assert sorted((r[0], r[1], r[2]) for r in orders) == [
        (10, None, None), (11, "C50322", "Plaça Nova 3, Vic"), (12, None, None),
        (13, "C50323", "Rambla 8, Reus"),
    ]  # fmt: skip
    # physically: no file under the lake folder holds any of her identifiers
    assert files_holding(lake, ANNA) == {}
    assert parquet_holding(lake, ANNA) == []
    # time travel to the version before the erasure fails
    for table in ("customers", "sales/orders"):
        with pytest.raises(Exception):  # noqa: B017 - delta-rs: no log (or no files) left
            read_table(lake / table, version=0)
    cert = _cert(tmp_path)
    assert cert["verification"]["ok"] is True
    by_table = {e["table"]: e for e in cert["live_sources"]}
    orders_e = by_table["lake.sales.orders"]
    assert orders_e["done"] is True and orders_e["kind"] == "delta"
    assert (orders_e["version_before"], orders_e["version_after"]) == (0, 1)
    assert len(orders_e["files_removed"]) == 2  # the book and lamp partitions' files only
    assert "fails" in orders_e["time_travel"]
    assert orders_e["residue_files"] == [] and orders_e["files_checked"] > 0
    checked = orders_e["files_checked"]
    assert orders_e["file_check"].startswith("files rewritten; 0 of ")
    assert orders_e["file_check"].endswith(f" values found in {checked} files")
    # the systems and the workspace's own byte check (main's wording) sit beside it
    assert [s["system"] for s in cert["systems"]] == ["lake"]
    assert cert["systems"][0]["mode"] == "in_place" and cert["systems"][0]["state"] == "erased"
    md = (tmp_path / "certs" / "erasure-E1.md").read_text()
    assert "files of the table: files rewritten; 0 of " in md and "time travel: reading" in md
    # each table's commit is audited
    audit = json_out(cli("audit", "show", "-f", "json"))
    entries = audit["entries"] if isinstance(audit, dict) else audit
    commits = [e for e in entries if e["result"] == "committed"]
    assert sorted(e["tables"][0] for e in commits) == ["lake.main.customers", "lake.sales.orders"]
    assert cli("audit", "verify").exit_code == 0
    # the log from before the erasure is gone (its statistics held her values)
    history = DeltaTable(str(lake / "customers")).history()
    assert min(int(h["version"]) for h in history) > 1


def test_read_only_attachment_and_read_only_path(
    cli: Callable[..., Result], lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("attach", "lake", f"delta:{lake}", "--read-only").exit_code == 0
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 4 and "read-only" in result.output
    assert cli("attach", "lake", f"delta:{lake}", "--replace").exit_code == 0
    import tutela.lake

    monkeypatch.setattr(tutela.lake, "_writable", lambda path: False)  # root writes anywhere
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 4 and "read-only path" in result.output
    assert DeltaTable(str(lake / "customers")).version() == 0


def _newer_protocol(root: Path) -> Path:
    table = root / "future"
    write_deltalake(str(table), duckdb.connect().sql("SELECT 1 AS id, 'a@example.com' AS email"))
    log = table / "_delta_log" / f"{0:020d}.json"
    lines = []
    for line in log.read_text().splitlines():
        action = json.loads(line)
        if "protocol" in action:
            action["protocol"] = {"minReaderVersion": 3, "minWriterVersion": 7,
                                  "readerFeatures": ["fancyFutureFeature"],
                                  "writerFeatures": ["fancyFutureFeature"]}  # fmt: skip
        lines.append(json.dumps(action))
    log.write_text("\n".join(lines) + "\n")
    return table


def _iceberg(root: Path) -> Path:
    (root / "ice" / "metadata").mkdir(parents=True)
    (root / "ice" / "metadata" / "v1.metadata.json").write_text("{}")
    return root / "ice"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root, "not a Delta table"),
        (lambda root: root / "missing", "not a folder"),
        (_newer_protocol, "newer"),
        (_iceberg, "is not readable Iceberg table metadata"),
    ],
    ids=["empty-folder", "missing", "newer-protocol", "iceberg"],
)
def test_bad_lake_targets(
    cli: Callable[..., Result], tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    target = make(root)
    kind = "" if target.name == "ice" else "delta:"
    result = cli("attach", "lake", f"{kind}{target}")
    assert result.exit_code in (2, 4), result.output
    assert message in result.output and "Traceback" not in result.output
    assert json_out(cli("attachments", "-f", "json"))["attachments"] == []


def test_concurrent_writer_retried_and_purge_waits_for_readers(
    cli: Callable[..., Result], lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits to the table between Tutela's read and its MERGE: delta-rs's
    conflict error makes Tutela check the rows again and retry. The other writer's commit
    removed a file within the table's retention window, which readers may still use: the
    purge is refused (the certificate says so, exit 1) until `--purge-now`, and that run
    finds the purge owed although nothing is left to erase."""
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    real_merge = DeltaTable.merge
    calls: list[str] = []

    def merge(self: DeltaTable, *args: Any, **kwargs: Any) -> Any:
        mine = self.table_uri.rstrip("/").endswith("customers")
        if mine and not any(c.rstrip("/").endswith("customers") for c in calls):
            other = DeltaTable(self.table_uri)  # another writer, same file
            other.update(updates={"note": "'called back'"}, predicate="customer_id = 'C50323'")
        calls.append(self.table_uri)
        return real_merge(self, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "merge", merge)
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 1, result.output
    assert len([c for c in calls if c.rstrip("/").endswith("customers")]) == 2  # retried
    rows = read_table(lake / "customers")
    assert [(r[0], r[4]) for r in rows] == [
        ("C50322", "cousin of [REDACTED]"), ("C50323", "called back")
    ]  # fmt: skip
    entry = {e["table"]: e for e in _cert(tmp_path)["live_sources"]}["lake.main.customers"]
    assert entry["done"] is False and "--purge-now" in entry["note"]
    assert files_holding(lake / "customers", ANNA)  # not purged yet
    monkeypatch.setattr(DeltaTable, "merge", real_merge)
    result = _erase(cli, tmp_path, "--apply", "--purge-now", rid="E2")
    assert result.exit_code == 0, result.output
    entry = {e["table"]: e for e in _cert(tmp_path, "E2")["live_sources"]}["lake.main.customers"]
    assert entry["done"] is True
    assert files_holding(lake, ANNA) == {}
    assert [r[4] for r in read_table(lake / "customers")] == ["cousin of [REDACTED]", "called back"]


def test_interrupted_between_tables_then_finished_by_a_rerun(
    cli: Callable[..., Result], lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    real_merge = DeltaTable.merge

    def merge(self: DeltaTable, *args: Any, **kwargs: Any) -> Any:
        if "customers" in self.table_uri:
            raise OSError("disk went away")
        return real_merge(self, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "merge", merge)
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 4
    # tables that only change rows commit first; the customer record (the link from her
    # e-mail to her orders) last, so the re-run still finds her
    assert "lake.sales.orders had already committed" in result.output
    assert "run the same erasure again" in result.output
    assert DeltaTable(str(lake / "sales" / "orders")).version() == 1  # landed
    assert DeltaTable(str(lake / "customers")).version() == 0  # not
    monkeypatch.setattr(DeltaTable, "merge", real_merge)
    result = _erase(cli, tmp_path, "--apply", rid="E2")
    assert result.exit_code == 0, result.output
    done = {e["table"]: e["done"] for e in _cert(tmp_path, "E2")["live_sources"]}
    assert done == {"lake.main.customers": True, "lake.sales.orders": True}
    assert files_holding(lake, ANNA) == {}


def test_table_with_deletion_vectors_enabled_is_purged_too(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """delta-rs rewrites files instead of writing deletion vectors, even where the table
    allows them: nothing of the person is left in a file hidden only by a vector."""
    from tests.lake.conftest import CUSTOMERS, POLICY

    lake = tmp_path / "lake"
    write_deltalake(str(lake / "customers"), duckdb.connect().sql(CUSTOMERS),
                    configuration={"delta.enableDeletionVectors": "true"})  # fmt: skip
    assert "deletionVectors" in (
        DeltaTable(str(lake / "customers")).protocol().reader_features or []
    )
    (tmp_path / "policy.yaml").write_text(
        POLICY.replace(
            "      - {table: lake.sales.orders, column: customer_id, kind: customer_id}\n", ""
        ).split("  lake.sales.orders:")[0]
        + "erasure:\n  default: delete\n"
    )
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    result = _erase(cli, tmp_path, "--apply")
    assert result.exit_code == 0, result.output
    assert files_holding(lake, ANNA) == {} and parquet_holding(lake, ANNA) == []
    assert [r[0] for r in read_table(lake / "customers")] == ["C50322", "C50323"]


def test_rows_gone_since_the_plan_change_nothing_in_that_table(
    lake: Path, tmp_path: Path, workspace: Any
) -> None:
    """Between the plan and the apply another writer deletes the person's customer row:
    the table's version moved and a planned row is gone, so nothing is changed there."""
    from tutela import live
    from tutela.keyguard import workspace_key
    from tutela.policy.loader import load_policy
    from tutela.subjects import service

    live.add(workspace, workspace_key(workspace), "lake", f"delta:{lake}")
    ctx = service.context(workspace, load_policy(tmp_path / "policy.yaml").policy)
    clean, plans = service.plan_erasures(ctx, {"R1": {"email": ["anna.puig@example.com"]}})
    workspace.attachments.drop_copies()  # as a later command would: the table is read again
    DeltaTable(str(lake / "customers")).delete("customer_id = 'C50321'")
    with pytest.raises(live.LiveSourceError, match="changed while the erasure was being prepared"):
        service.apply_erasures(ctx, clean, plans, None)
    customers = DeltaTable(str(lake / "customers"))
    assert customers.version() == 1  # the other writer's delete only
    assert "cousin of anna.puig@example.com" in [r[4] for r in read_table(lake / "customers")]


def test_a_second_erasure_on_the_same_table_is_purged_too(
    cli: Callable[..., Result], lake: Path, tmp_path: Path
) -> None:
    """The log keeps tombstones of the files the first purge deleted; they are not files a
    reader could still use, so the next erasure's purge is not refused for them."""
    assert cli("attach", "lake", f"delta:{lake}").exit_code == 0
    assert _erase(cli, tmp_path, "--apply").exit_code == 0
    pau = ["pau.vidal@example.com", "Pau Vidal", "Plaça Nova 3", "C50322"]
    assert files_holding(lake, pau)
    second = cli("erase", "--email", "pau.vidal@example.com", "-p", str(tmp_path / "policy.yaml"),
                 "-o", str(tmp_path / "certs"), "--request-id", "E2", "--apply")  # fmt: skip
    assert second.exit_code == 0, second.output
    cert = _cert(tmp_path, "E2")
    assert cert["verification"]["ok"] is True
    assert {e["table"]: e["done"] for e in cert["live_sources"]} == {
        "lake.main.customers": True, "lake.sales.orders": True,
    }  # fmt: skip
    assert files_holding(lake, pau) == {} and parquet_holding(lake, pau) == []
    customers = next(e for e in cert["live_sources"] if e["table"] == "lake.main.customers")
    removed = len(customers["files_removed"])  # the files on disk, not old tombstones
    assert f"deleted {removed} file(s)" in customers["method"]
    assert [r[0] for r in read_table(lake / "customers")] == ["C50323"]


def test_a_name_over_two_columns_keeps_siblings_apart_in_the_lake(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Maria and her brother Pedro share a family address on a Delta newsletter table whose
    names are in first_name and last_name. An erasure by the family address changes no
    table; Maria's erasure by her id removes her record and her own subscription from the
    files, and leaves the family rows."""
    con = duckdb.connect()
    root = tmp_path / "fam"
    write_deltalake(str(root / "people"), con.sql(
        "SELECT * FROM (VALUES ('C1', 'Maria', 'Garcia', 'maria@example.com'), "
        "('C2', 'Pedro', 'Garcia', 'pedro@example.com')) t(customer_id, first_name, "
        "last_name, email)"))  # fmt: skip
    write_deltalake(str(root / "newsletter"), con.sql(
        "SELECT * FROM (VALUES ('N1', 'family.garcia@example.com', 'Maria', 'Garcia'), "
        "('N2', 'family.garcia@example.com', 'Pedro', 'Garcia'), "
        "('N4', 'maria@example.com', 'Maria', 'Garcia')) t(subscriber_id, email, "
        "first_name, last_name)"))  # fmt: skip
    con.close()
    policy = tmp_path / "family.yaml"
    policy.write_text(family_policy("fam.main"))
    assert cli("attach", "fam", f"delta:{root}").exit_code == 0
    cert = erase_the_garcias(cli, policy, tmp_path / "certs")
    assert [r[0] for r in read_table(root / "people")] == ["C2"]
    assert [r[0] for r in read_table(root / "newsletter")] == ["N1", "N2"]
    assert cert["verification"]["ok"] is True
    assert not parquet_holding(root, ["maria@example.com"])
