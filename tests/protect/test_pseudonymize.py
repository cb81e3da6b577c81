"""Pseudonymizing workspace tables: plan, in-place apply, file output, consistency."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from tutela import audit
from tutela.base import keys
from tutela.base.errors import UsageError
from tutela.policy.loader import load_policy
from tutela.protect import formats
from tutela.protect import pseudonymize as ps
from tutela.protect.methods import FREE_TEXT_PATTERN, parse_columns
from tutela.protect.reidentify import reidentify
from tutela.workspace import Workspace


def _setup(ws: Workspace) -> tuple[keys.KeySet, keys.MasterKey]:
    master = keys.load_master_key(ws.root)
    return keys.load_keyset(ws.root, master), master


def _col(ws: Workspace, table: str, column: str) -> list[object]:
    return [r[0] for r in ws.query(f'SELECT "{column}" FROM {table} ORDER BY rowid')]


def test_plan_changes_nothing(ws: Workspace) -> None:
    ks, _ = _setup(ws)
    before = ws.query("SELECT * FROM crm ORDER BY id")
    plan = ps.plan(ws, "crm", parse_columns("email,phone,id=encrypt"), keyset=ks)
    assert [c.values for c in plan.columns] == [3, 3, 4]
    assert plan.rows == 4 and plan.key_version == 1
    assert ws.query("SELECT * FROM crm ORDER BY id") == before
    assert audit.entries(ws.con) == []


def test_hmac_tokens_match_python_and_are_consistent(ws: Workspace) -> None:
    ks, master = _setup(ws)
    plan = ps.plan(ws, "crm", parse_columns("email,phone,notes=freetext"), keyset=ks)
    assert [c.normalize for c in plan.columns[:2]] == ["email", "e164"]
    ps.apply_in_place(ws, plan, ks, master)
    key = ks.key(1).derive("pseudonymize/hmac/pseudonymization")
    expected = "tok_" + hmac.new(key, b"anna.puig@example.com", hashlib.sha256).hexdigest()[:24]
    emails = _col(ws, "crm", "email")
    assert emails[0] == emails[1] == expected  # case and spaces normalised away
    phones = _col(ws, "crm", "phone")
    assert phones[0] == phones[1]  # +34 612 345 678 and 612345678
    note = str(_col(ws, "crm", "notes")[0])
    assert note == f"call {phones[0]} or write to {expected}"  # free text agrees with columns
    assert "PESEL tok_" in str(_col(ws, "crm", "notes")[2])
    report = audit.verify(ws.con, master)
    assert report.ok and report.entries == 1
    entry = audit.entries(ws.con)[0]
    assert entry.command == "pseudonymize" and entry.arguments["columns"]["email"] == "hmac:24"
    registry = {e["column_name"]: e for e in ps.registry_entries(ws.con, "crm")}
    assert registry["email"]["key_id"] == ks.active.key_id


def test_purposes_give_different_tokens(ws: Workspace, tmp_path: Path) -> None:
    ks, master = _setup(ws)
    outs = []
    for purpose in ("marketing", "analytics"):
        out = tmp_path / f"{purpose}.parquet"
        plan = ps.plan(ws, "crm", parse_columns("email"), keyset=ks, purpose=purpose,
                       target=str(out))  # fmt: skip
        ps.write_file(ws, plan, ks, master)
        outs.append([r[0] for r in ws.query(f"SELECT email FROM '{out}'")])
    assert outs[0][0] != outs[1][0] and outs[0][0] == outs[0][1]


def test_same_value_same_token_across_tables(ws: Workspace) -> None:
    ks, master = _setup(ws)
    ws.con.execute("CREATE TABLE newsletter AS SELECT 'ANNA.PUIG@example.com' AS adres_email")
    for table, column in (("crm", "email"), ("newsletter", "adres_email")):
        plan = ps.plan(ws, table, parse_columns(column), keyset=ks)
        ps.apply_in_place(ws, plan, ks, master)
    assert _col(ws, "newsletter", "adres_email")[0] == _col(ws, "crm", "email")[0]


def test_shaped_tokens_and_generalisation_in_place(ws: Workspace) -> None:
    ks, master = _setup(ws)
    spec = "email=email,phone=phone,iban=iban,card=card,dob=age_band,cp=postcode:2,ts=date_shift:id"
    plan = ps.plan(ws, "crm", parse_columns(spec), keyset=ks, as_of=None)
    types_before = dict(ws.query("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'crm'"))  # fmt: skip
    ts_before = _col(ws, "crm", "ts")
    ps.apply_in_place(ws, plan, ks, master)
    rows = ws.query("SELECT email, phone, iban, card, dob, cp, ts FROM crm ORDER BY rowid")
    assert rows[0][0] == rows[1][0] and str(rows[0][0]).endswith("@pseudo.invalid")
    assert str(rows[0][1]).startswith("+34 6") and str(rows[1][1]) == str(rows[0][1])[4:].replace(
        " ", ""
    )
    assert all(formats.iban_valid(str(r[2])) for r in rows[:3])
    assert [str(r[2])[:2] for r in rows[:3]] == ["ES", "GB", "PL"]
    assert all(formats.luhn_valid(str(r[3])) for r in rows[:3])
    assert rows[2][5] == "00" and rows[3] == (None,) * 7
    shifts = [(a - b).days for a, b in zip(_col(ws, "crm", "ts")[:3], ts_before[:3], strict=True)]
    assert all(s != 0 and abs(s) <= 30 for s in shifts)
    types_after = dict(ws.query("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = 'crm'"))  # fmt: skip
    assert types_after["ts"] == types_before["ts"] == "TIMESTAMP"


def test_date_shift_is_the_same_for_one_subject(ws: Workspace) -> None:
    ks, master = _setup(ws)
    ws.con.execute(
        "CREATE TABLE visits AS SELECT * FROM (VALUES (7, DATE '2024-01-01'), "
        "(7, DATE '2024-02-01'), (8, DATE '2024-01-01')) t(customer, day)"
    )
    plan = ps.plan(ws, "visits", parse_columns("day=date_shift:customer"), keyset=ks)
    ps.apply_in_place(ws, plan, ks, master)
    days = _col(ws, "visits", "day")
    assert (days[1] - days[0]).days == 31  # intervals within a subject are kept


def test_file_output_with_manifest_and_reidentify_round_trip(
    ws: Workspace, tmp_path: Path, policy_file: Path
) -> None:
    ks, master = _setup(ws)
    out = tmp_path / "crm_pseudo.parquet"
    plan = ps.plan(ws, "crm", parse_columns("email=encrypt,phone"), keyset=ks, target=str(out))
    result = ps.write_file(ws, plan, ks, master)
    manifest = json.loads(Path(str(result.manifest)).read_text())
    assert manifest["key"] == {"version": 1, "key_id": ks.active.key_id}
    assert manifest["columns"]["email"]["method"] == "encrypt"
    assert manifest["sha256"] == ps.sha256_file(out)
    assert out.stat().st_mode & 0o077 == 0
    assert _col(ws, "crm", "email")[0] == "Anna.Puig@Example.com "  # table untouched
    tokens = [r[0] for r in ws.query(f"SELECT email FROM '{out}'")]
    assert str(tokens[0]).startswith("enc:v1:") and tokens[3] is None
    policy = load_policy(policy_file).policy
    back = tmp_path / "back.csv"
    reidentify(ws, str(out), ["email"], role="dpo", policy=policy, keyset=ks, master=master,
               out=back)  # fmt: skip
    emails = [r[0] for r in ws.query(f"SELECT email FROM read_csv('{back}', all_varchar=true)")]
    assert emails == ["Anna.Puig@Example.com ", "anna.puig@example.com",
                      "jan.kowalski@example.org", None]  # fmt: skip
    assert [e.command for e in audit.entries(ws.con)] == ["pseudonymize", "reidentify"]


def test_policy_role_drives_methods(ws: Workspace, policy_file: Path) -> None:
    policy = load_policy(policy_file).policy
    reqs = ps.requests_from_policy(policy, "crm", [c.name for c in ws.columns("crm")], "analyst")
    methods = {r.column: str(r.method) for r, _ in reqs}
    assert methods == {"id": "hmac", "email": "hmac", "phone": "drop", "iban": "drop",
                       "card": "mask", "dob": "drop", "notes": "drop"}  # fmt: skip
    with pytest.raises(UsageError, match="unknown role"):
        ps.requests_from_policy(policy, "crm", ["email"], "ghost")


def test_unknown_columns_and_methods_are_usage_errors(ws: Workspace) -> None:
    ks, _ = _setup(ws)
    with pytest.raises(UsageError, match="no column 'nope'"):
        ps.plan(ws, "crm", parse_columns("nope"), keyset=ks)
    with pytest.raises(UsageError, match="unknown method"):
        parse_columns("email=sha1")
    with pytest.raises(UsageError, match="subject key column"):
        parse_columns("ts=date_shift")
    with pytest.raises(UsageError, match="listed twice"):
        parse_columns("email,email=mask")


def test_a_failure_rolls_everything_back(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ks, master = _setup(ws)
    before = ws.query("SELECT * FROM crm ORDER BY id")
    plan = ps.plan(ws, "crm", parse_columns("email,id=encrypt"), keyset=ks)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append", boom)
    with pytest.raises(RuntimeError):
        ps.apply_in_place(ws, plan, ks, master)
    assert ws.query("SELECT * FROM crm ORDER BY id") == before
    assert ps.registry_entries(ws.con) == []


def test_free_text_pattern_finds_identifiers() -> None:
    import re

    text = "mail Ana@X.com, card 4111 1111 1111 1111, ES91 2100 0418 4502 0005 1332, 12345678Z"
    assert len(re.findall(FREE_TEXT_PATTERN, text)) == 4
    assert re.findall(FREE_TEXT_PATTERN, "on 2024-01-05 order 1234") == []
