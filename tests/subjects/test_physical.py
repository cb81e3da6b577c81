"""Physical erasure (#14): after `erase --apply` no byte of the person is left in any file
under the workspace; the certificate names every source system and what is owed there;
`requests confirm` closes the request; a purge interrupted after the commit is redone."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutela import purge
from tutela.base.errors import PurgeError, TutelaError
from tutela.cli.app import app
from tutela.policy.models import Policy
from tutela.subjects import physical, requests, service, tasks
from tutela.workspace import PURGE_TABLE, Workspace

REPO = Path(__file__).resolve().parents[2]
DROP = REPO / "examples" / "drop"
POLICY = REPO / "policies" / "acme.yaml"
SOURCES = [
    (["crm_customers.csv", "crm_greece_legacy.csv"], "crm"),
    (["newsletter_subscribers.csv"], "newsletter"),
    (["callcentre_tickets.jsonl"], "callcentre"),
    (["web_events.parquet"], "web-analytics"),
    (["orders.xlsx"], "orders"),
    (["support_survey_utf16.csv"], "survey"),
    (["consents.csv"], "consent-ledger"),
]
# Anna Puig i Ferrer in the example drop (her e-mail stays: the consent records are kept
# under a legal obligation, see policies/acme.yaml)
ANNA = [
    "C000123",
    "Anna Puig i Ferrer",
    "73240967C",
    "612 345 678",
    "+34612345678",
    "ES8330583787548709753372",
    "Carrer de Mallorca 214",
    "TCK-2024-004402",
]

runner = CliRunner()


def _cli(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    return result.exit_code, result.stdout + (result.stderr or "")


def _grep(root: Path, text: str) -> list[str]:
    """`grep -r -a -l TEXT ROOT`: every file under the workspace holding the bytes."""
    needle = text.encode("utf-8")
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("examples") / "ws"
    for files, source in SOURCES:
        code, out = _cli(root, "load", *(str(DROP / f) for f in files), "--source", source)
        assert code == 0, out
    return root


def test_erase_leaves_no_byte_of_the_person_and_names_every_system(
    examples: Path, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(examples, root)
    before = {v: _grep(root, v) for v in ANNA}
    assert any(before.values()), "the raw bytes held her data before: the check can fail"
    out = tmp_path / "certs"  # outside the workspace
    code, text = _cli(
        root, "erase", "--email", "anna.puig@example.com", "--apply", "-p", str(POLICY),
        "--out", str(out), "--request-id", "DEMO-1",
    )  # fmt: skip
    assert code == 0, text
    assert {v: _grep(root, v) for v in ANNA} == {v: [] for v in ANNA}
    cert = json.loads((out / "erasure-DEMO-1.json").read_text())
    phys = cert["physical"]
    assert phys["ok"] and phys["rewritten"] and phys["values_found"] == 0
    assert phys["values_searched"] >= len(ANNA)
    assert phys["values_kept_under_legal_basis"] >= 1  # the e-mail in the consent records
    assert "files rewritten; 0 of" in phys["summary"]
    systems = {s["system"]: s for s in cert["systems"]}
    assert set(systems) >= {"crm", "newsletter", "callcentre", "web-analytics", "orders"}
    assert systems["consent-ledger"]["state"] == "kept"
    crm = systems["crm"]
    assert crm["mode"] == "copy" and crm["state"] == "owed"
    [table] = crm["tables"]
    assert table["file"].endswith("crm_customers.csv") and len(table["sha256"]) == 64
    assert {"column": "id_cliente", "kind": "customer_id", "values": ["C000123"]} in table[
        "record_keys"
    ]
    hashed_kinds = {h["kind"] for h in table["identifiers_hashed"]}
    assert {"email", "phone", "national_id"} <= hashed_kinds
    assert "id_cliente = C000123" in crm["action_owed"]
    tickets = systems["callcentre"]["tables"][0]["record_keys"]
    assert {"TCK-2024-004402"} <= set(
        next(k for k in tickets if k["column"] == "ticket_id")["values"]
    )
    md = (out / "erasure-DEMO-1.md").read_text()
    assert "## Systems" in md and "### crm: what to do at the source" in md
    # direct identifiers never in clear, in either file
    for f in out.iterdir():
        body = f.read_text()
        assert "anna.puig" not in body.lower() and "73240967C" not in body
        assert "612345678" not in body.replace(" ", "")

    # a request is done when every system is (and, here, when a human has looked at the two
    # tickets reached only through the phone her household shares: needs_review comes first)
    code, text = _cli(root, "requests", "list", "-f", "json")
    [req] = [r for r in json.loads(text)["requests"] if r["request_id"] == "DEMO-1"]
    assert req["state"] == "needs_review" and "crm" in req["owed_at"]
    for system in req["owed_at"]:
        code, text = _cli(root, "requests", "confirm", "DEMO-1", "--system", system,
                          "--note", f"deleted in {system} ticket 4411")  # fmt: skip
        assert code == 0, text
    code, text = _cli(root, "requests", "list", "-f", "json")
    [req] = [r for r in json.loads(text)["requests"] if r["request_id"] == "DEMO-1"]
    assert req["state"] == "needs_review" and req["owed_at"] == []
    assert {t["state"] for t in req["systems"]} == {"confirmed"}
    assert any(t["note"] == "deleted in crm ticket 4411" for t in req["systems"])
    code, text = _cli(root, "audit", "show", "-f", "json")
    assert "requests confirm" in text


def test_the_byte_check_catches_what_a_skipped_rewrite_leaves(
    examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the rewrite, the deleted rows' bytes are still in the file: the check finds
    them, the certificate says so and the verification fails (exit 1)."""
    root = tmp_path / "ws"
    shutil.copytree(examples, root)

    def refuse(self: Workspace, *, resumed: bool = False) -> object:
        raise PurgeError("disk full (simulated)")

    monkeypatch.setattr(Workspace, "purge", refuse)
    code, text = _cli(
        root, "erase", "--email", "anna.puig@example.com", "--apply", "-p", str(POLICY),
        "--out", str(tmp_path / "certs"), "--request-id", "R",
    )  # fmt: skip
    assert code == 1, text
    cert = json.loads((tmp_path / "certs" / "erasure-R.json").read_text())
    assert cert["verification"]["ok"] is False and cert["verification"]["tables_ok"] is True
    phys = cert["physical"]
    assert not phys["rewritten"] and phys["residue"], phys
    assert "disk full" in phys["rewrite_error"]
    assert any("crm_customers" in f for r in phys["residue"] for f in r["from"])
    monkeypatch.undo()
    # the purge stayed pending: the next command that writes completes it, and says so
    with Workspace.open(root) as ws:
        assert ws.resumed_purge is not None and ws.resumed_purge.commands == ["erase"]
        assert ws.con.execute(f"SELECT count(*) FROM {PURGE_TABLE}").fetchone() == (0,)
    assert _grep(root, "C000123") == [] and _grep(root, "73240967C") == []


def test_a_purge_interrupted_after_the_commit_is_redone_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        ws.con.execute(
            "CREATE TABLE t AS SELECT i, 'secret-value-' || i || '-' || md5(i::VARCHAR) AS s "
            "FROM range(5000) r(i)"
        )
        ws.con.execute("CHECKPOINT")
        gone = ws.con.execute("SELECT s FROM t WHERE i = 4242").fetchone()[0]  # type: ignore[index]
        with ws.transaction(purge_after="erase") as con:
            con.execute("DELETE FROM t WHERE i = 4242")
        # killed here: committed, not rewritten (a half-written copy lies around too)
        purge.rewrite_path(root / "tutela.duckdb").write_bytes(b"half a copy")
    with Workspace.open(root, read_only=True) as ws:  # a reader completes it when it can
        assert ws.resumed_purge is not None and ws.resumed_purge.resumed
        assert ws.resumed_purge.commands == ["erase"]
        assert ws.con.execute("SELECT count(*) FROM t").fetchone() == (4999,)
    assert not purge.rewrite_path(root / "tutela.duckdb").exists()
    assert _grep(root, gone) == []
    with Workspace.open(root) as ws:
        assert ws.resumed_purge is None and not ws.pending_purge


def test_cli_warns_when_it_completes_an_earlier_purge(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Workspace.open(root) as ws:
        ws.con.execute("CREATE TABLE t AS SELECT 1 AS x")
        with ws.transaction(purge_after="retention apply") as con:
            con.execute("DELETE FROM t")
    code, text = _cli(root, "tables")
    assert code == 0, text
    assert "earlier command (retention apply)" in text and "completed now" in text


def test_spill_and_leftovers_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.open(root).close()
    leftover = root / "spill" / "duckdb_temp_storage-0.tmp"
    leftover.write_bytes(b"x" * 4096)  # a killed command's temporary file
    Workspace.open(root).close()
    assert not leftover.exists()


def test_batch_rewrites_once_and_tracks_each_system(
    shop: Workspace, policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = Workspace.purge

    def counting(self: Workspace, *, resumed: bool = False) -> object:
        calls.append(resumed)
        return real(self, resumed=resumed)

    monkeypatch.setattr(Workspace, "purge", counting)
    path = tmp_path / "b.csv"
    path.write_text(
        "request_id,type,email,phone,received_at\n"
        "A,erasure,anna.puig@example.com,,2026-01-05\n"
        "B,erasure,,622 000 111,2026-01-06\n",
        encoding="utf-8",
    )
    ctx = service.context(shop, policy)
    result = requests.run_batch(ctx, path, apply=True, out_dir=tmp_path / "out")
    assert calls == [False]  # one rewrite for the whole batch
    # Anna has a possible namesake to review first; Joan is owed at his systems
    assert {r["request_id"]: r["state"] for r in result.rows} == {
        "A": "needs_review",
        "B": "awaiting_systems",
    }
    listed = {r["request_id"]: r for r in requests.list_requests(shop)}
    assert listed["B"]["owed_at"] == ["table:crm", "table:orders", "table:tickets"]
    assert {t["mode"] for t in listed["B"]["systems"]} == {"copy"}
    overdue = requests.list_requests(shop, overdue=True, today=date(2027, 1, 1))
    assert {r["request_id"] for r in overdue} == {"A", "B"}
    assert all(t["overdue"] for r in overdue for t in r["systems"] if t["state"] == "owed")
    with pytest.raises(TutelaError, match="no task for system"):
        tasks.confirm(shop, ctx.master, "B", "nope", None)
    for system in listed["B"]["owed_at"]:
        done = tasks.confirm(shop, ctx.master, "B", system, "deleted at source")
    assert done.request_state == "done" and done.still_owed == []
    assert {r["request_id"]: r["state"] for r in requests.list_requests(shop)}["B"] == "done"
    # a re-run does not redo a finished request; one awaiting review is answered again
    again = {r["request_id"]: r for r in requests.run_batch(
        ctx, path, apply=True, out_dir=tmp_path / "out").rows}  # fmt: skip
    assert again["B"]["reason"] == "finished in an earlier run; not redone"
    assert again["A"]["state"] == "needs_review" and "possible match" in again["A"]["reason"]


def test_values_still_held_elsewhere_are_reported_not_counted_as_residue(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    """A value of the erased person that another table still holds (here: a copy in a
    schema of its own) is named with where it is held; it is not the rewrite's residue."""
    shop.con.execute("CREATE SCHEMA archive")
    shop.con.execute("CREATE TABLE archive.old AS SELECT 'Anna Puig i Ferrer' AS who")
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E": {"email": ["anna.puig@example.com"]}})
    erased = physical.erased_values(shop, ctx.space, plans)
    assert "Anna Puig i Ferrer" in erased["E"].values
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    phys = cert["physical"]
    assert phys["residue"] == []
    held = [h for h in phys["still_held"] if "archive.old" in h["held_in"]]
    assert held or phys["values_found"] == 0  # found only if DuckDB stored it uncompressed


def test_access_report_lists_the_systems_and_earlier_copies(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    ctx = service.context(shop, policy)
    shop.con.execute(
        "INSERT INTO _tutela.sources VALUES ('crm', 'crm-system', '/drop/crm.csv', NULL, 'csv', "
        "'utf-8', ',', 'ab12', 10, 3, '[]', TIMESTAMP '2026-01-01 10:00:00', 'test')"
    )
    first = service.access_reports(ctx, {"S1": {"email": ["anna.puig@example.com"]}}, tmp_path)
    systems = {s["system"]: s for s in first["S1"]["report"]["systems"]}
    assert systems["crm-system"]["mode"] == "copy"
    assert systems["crm-system"]["tables"][0]["file"] == "crm.csv"
    assert systems["table:orders"]["tables"][0]["rows"] == 2
    md = Path(next(f for f in first["S1"]["files"] if f.endswith(".md"))).read_text()
    assert "## Systems your data comes from" in md and "crm-system" in md
    # the erasure certificate lists that access report as a copy holding the person
    clean, plans = service.plan_erasures(ctx, {"E": {"email": ["anna.puig@example.com"]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    assert [c["request_id"] for c in cert["copies_written"] if c["kind"] == "access report"] == [
        "S1"
    ]


def test_exports_of_the_persons_tables_are_listed_as_copies(
    shop: Workspace, policy: Policy
) -> None:
    from tutela import audit

    ctx = service.context(shop, policy)
    with shop.transaction() as con:  # what `tutela export` records
        audit.append(con, ctx.master, command="export", arguments={"file": "send.csv",
                     "table": "newsletter", "purpose": "newsletter"}, tables=["newsletter"],
                     counts={"rows": 2}, result="written")  # fmt: skip
        audit.append(con, ctx.master, command="export", arguments={"file": "other.csv"},
                     tables=["unrelated"], counts={}, result="written")  # fmt: skip
    clean, plans = service.plan_erasures(ctx, {"E": {"email": ["anna.puig@example.com"]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    exports = [c for c in cert["copies_written"] if c["kind"] == "export"]
    assert [(c["file"], c["holds_person"]) for c in exports] == [("send.csv", "possibly")]
    assert "send.csv" in erase_markdown(cert)


def erase_markdown(cert: dict[str, object]) -> str:
    from tutela.report.certificate import certificate_markdown

    return certificate_markdown(cert)  # type: ignore[arg-type]


def test_a_value_held_in_another_case_is_found_whatever_its_bytes(tmp_path: Path) -> None:
    """The still-held check finds a value a table holds in another case, also when
    lowering changes its length in bytes ('İ', 2 bytes, lowers to 'i') or, in Python, in
    characters ('İLKER ÖZTÜRK' as the erased value: Python lowers 'İ' to 'i' and a dot), in
    columns of other types (a date and a timestamp are only compared whole), and not a
    value no table holds."""
    ws = Workspace.open(tmp_path / "ws")
    ws.con.execute(
        "CREATE TABLE kept AS SELECT * FROM (VALUES ('KİM Ünal'), ('ẞTRASSE 5'), "
        "('kim ünal x'), (NULL)) t(who)"
    )
    ws.con.execute("CREATE TABLE turkish AS SELECT 'İLKER ÖZTÜRK' AS who")
    ws.con.execute(
        "CREATE TABLE ids AS SELECT 42 AS n, DATE '1980-05-17' AS born, "
        "TIMESTAMP '2024-03-01 10:20:30' AS seen"
    )
    values = ["kim ünal", "ßtrasse 5", "42", "İLKER ÖZTÜRK", "1980-05-17", "2024-03-01 10:20:30"]
    held = physical._held_in(ws, [*values, "someone else"])
    ws.close()
    assert held == {
        "kim ünal": ["kept"],
        "ßtrasse 5": ["kept"],
        "42": ["ids"],
        "İLKER ÖZTÜRK": ["turkish"],
        "1980-05-17": ["ids"],
        "2024-03-01 10:20:30": ["ids"],
    }


def test_duckdb_lower_keeps_every_characters_length() -> None:
    """What the still-held check's length test relies on (`physical._held_in`): DuckDB's
    length() counts code points, as Python's len() does, and its lower() maps every code
    point to one code point, alone or between letters (a final sigma). A DuckDB release
    that changed this would make the check miss values; this fails first."""
    import duckdb

    chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
    con = duckdb.connect()
    con.execute("CREATE TABLE c AS SELECT unnest(?::VARCHAR[]) AS x", [chars])
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE length(x) <> 1), "
        "count(*) FILTER (WHERE length(lower(x)) <> 1), "
        "count(*) FILTER (WHERE length(lower('Ab' || x || 'Σ')) <> 4) FROM c"
    ).fetchone()
    assert row == (len(chars), 0, 0, 0)


def test_a_value_its_own_column_still_holds_is_held_there(tmp_path: Path) -> None:
    """A namesake's name in the erased name's own column explains the bytes in the file:
    the value is held in that table. A value its own column no longer holds is looked for
    in every table."""
    ws = Workspace.open(tmp_path / "ws")
    ws.con.execute("CREATE TABLE crm AS SELECT * FROM (VALUES ('Ana Puig', 'C1')) t(name, id)")
    ws.con.execute("CREATE TABLE notes AS SELECT 'ana puig' AS who, 'C7' AS ref")
    held = physical._held_in(
        ws, ["Ana Puig", "C7", "C9"], {"Ana Puig": "crm.name", "C7": "crm.id", "C9": "crm.id"}
    )
    ws.close()
    assert held == {"Ana Puig": ["crm"], "C7": ["notes"]}
