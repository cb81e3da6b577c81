"""Per-subject crypto-shredding: round trip, erasure destroys the key (also for earlier
exports), no clear subject ids in the key store or the audit log, transactional rewrite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tutela.base import keys
from tutela.base.errors import InputFileError, UsageError
from tutela.policy.loader import load_policy
from tutela.protect import reidentify as rid
from tutela.protect import shred
from tutela.protect.reversible import DecryptError
from tutela.subjects import service
from tutela.workspace import Workspace

COLUMNS = ["phone", "iban", "card"]
ANNA = "anna.puig@example.com"


def _shred(ws: Workspace, policy_file: Path, target: str = "in-place") -> shred.ShredResult:
    keyset = keys.load_keyset(ws.root)
    master = keys.load_master_key(ws.root)
    pol = load_policy(policy_file).policy
    p = shred.plan(ws, "crm", COLUMNS, "email", keyset=keyset, policy=pol, target=target)
    assert p.subject.kind == "email" and p.subject.normalize == "email"
    assert p.subjects == 2  # the two spellings of Anna's address are one subject
    if p.in_place:
        return shred.apply_in_place(ws, p, keyset, master)
    return shred.write_file(ws, p, keyset, master)


def _clear(ws: Workspace) -> list[tuple[object, ...]]:
    return ws.query("SELECT id, phone, iban, card FROM crm ORDER BY id")


def test_round_trip_for_an_authorised_role(ws: Workspace, policy_file: Path) -> None:
    before = _clear(ws)
    result = _shred(ws, policy_file)
    assert result.applied and result.keys_created == 2
    after = _clear(ws)
    for row in after[:3]:
        assert all(str(v).startswith("shred:v1:") for v in row[1:])
    assert after[3][1:] == (None, None, None)
    # the same phone of the same subject gives the same token; another subject another one
    assert after[0][1] != after[2][1]
    pol = load_policy(policy_file).policy
    keyset, master = keys.load_keyset(ws.root), keys.load_master_key(ws.root)
    got = rid.reidentify(
        ws, "crm", ["phone", "iban"], role="dpo", policy=pol, keyset=keyset, master=master
    )
    assert got.data is not None
    assert [(r["id"], r["phone"], r["iban"]) for r in got.data] == [b[:3] for b in before]
    with pytest.raises(rid.AccessDeniedError):
        rid.reidentify(ws, "crm", ["phone"], role="analyst", policy=pol, keyset=keyset,
                       master=master)  # fmt: skip
    entries = {e["column_name"]: e["method"] for e in rid.registry_entries(ws.con, "crm")}
    assert entries == {"phone": "shred", "iban": "shred", "card": "shred"}
    # a later run over the same subjects reuses their keys
    again = shred.plan(ws, "crm", ["cp"], "email", keyset=keyset, policy=pol)
    assert shred.apply_in_place(ws, again, keyset, master).keys_created == 0
    assert ws.query(f"SELECT count(*) FROM {shred.SUBJECT_KEYS}")[0][0] == 2


def test_erasure_destroys_the_key_also_for_an_earlier_export(
    ws: Workspace, policy_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export.parquet"
    result = _shred(ws, policy_file, target=str(out))
    assert result.out and Path(str(result.manifest)).exists()
    manifest = rid.read_manifest(out)
    assert manifest["subject_shredded_columns"] == COLUMNS
    assert manifest["columns"]["phone"]["method"] == "shred"
    keyset, master = keys.load_keyset(ws.root), keys.load_master_key(ws.root)
    pol = load_policy(policy_file).policy
    ok = rid.reidentify(ws, str(out), ["phone"], role="dpo", policy=pol, keyset=keyset,
                        master=master)  # fmt: skip
    assert ok.data is not None and ok.data[2]["phone"] == "0048 501 234 567"

    ctx = service.context(ws, pol)
    clean, plans = service.plan_erasures(ctx, {"r1": {"email": [ANNA]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    assert cert["subject_keys_destroyed"] == 1
    row = ws.query(
        "SELECT count(*) FILTER (WHERE wrapped_key IS NULL AND destroyed_at IS NOT NULL), "
        f"count(*) FROM {shred.SUBJECT_KEYS}"
    )[0]
    assert row == (1, 2)

    exported = ws.query(f"SELECT id, phone FROM read_parquet('{out}') ORDER BY id")
    dec = shred.ShredDecryptor(ws.con, keyset, "pseudonymization")
    for _, token in exported[:2]:  # Anna's rows: unreadable now
        with pytest.raises(DecryptError, match="key destroyed"):
            dec.decrypt(str(token))
    assert dec.decrypt(str(exported[2][1])) == "0048 501 234 567"  # Jan's: still readable
    with pytest.raises(InputFileError, match=r"key destroyed \(erased subject\)"):
        rid.reidentify(ws, str(out), ["phone"], role="dpo", policy=pol, keyset=keyset,
                       master=master)  # fmt: skip


def test_no_subject_value_in_clear_in_the_key_store_or_audit_log(
    ws: Workspace, policy_file: Path
) -> None:
    secrets = ["anna.puig", "jan.kowalski", "612345678", "ES9121000418450200051332"]
    _shred(ws, policy_file)
    pol = load_policy(policy_file).policy
    ctx = service.context(ws, pol)
    clean, plans = service.plan_erasures(ctx, {"r1": {"email": [ANNA]}})
    service.apply_erasures(ctx, clean, plans, None)
    dumps = [
        str(ws.query(f"SELECT * FROM {shred.SUBJECT_KEYS}")),
        str(ws.query("SELECT * FROM _tutela.audit_log")),
    ]
    for text in dumps:
        for secret in secrets:
            assert secret.lower() not in text.lower()
    hashes = [r[0] for r in ws.query(f"SELECT subject_hash FROM {shred.SUBJECT_KEYS}")]
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)


def test_in_place_is_transactional(
    ws: Workspace, policy_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _clear(ws)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash after the rewrite")

    monkeypatch.setattr(shred.audit, "append", boom)
    with pytest.raises(RuntimeError):
        _shred(ws, policy_file)
    assert _clear(ws) == before
    assert not shred.keys_by_version(ws.con)
    assert rid.registry_entries(ws.con, "crm") == []


def test_values_without_a_subject_are_refused(ws: Workspace, policy_file: Path) -> None:
    ws.con.execute("UPDATE crm SET email = NULL WHERE id = 3")
    keyset = keys.load_keyset(ws.root)
    p = shred.plan(ws, "crm", ["phone"], "email", keyset=keyset,
                   policy=load_policy(policy_file).policy)  # fmt: skip
    assert p.columns[0].no_subject == 1 and p.warnings
    with pytest.raises(UsageError, match="no email"):
        shred.apply_in_place(ws, p, keyset, keys.load_master_key(ws.root))
    with pytest.raises(UsageError, match="cannot be shredded itself"):
        shred.plan(ws, "crm", ["email"], "email", keyset=keyset)


def test_cli(cli: Callable[..., Result], policy_file: Path) -> None:
    dry = cli("pseudonymize", "crm", "-c", "phone=shred:email", "--policy", str(policy_file))
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    mixed = cli("pseudonymize", "crm", "-c", "phone=shred:email,iban=hmac")
    assert mixed.exit_code != 0 and "cannot be combined" in mixed.output
    applied = cli(
        "pseudonymize", "crm", "-c", "phone,iban", "--method", "shred",
        "--subject-column", "email", "--policy", str(policy_file), "--apply",
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    assert "shredded in place" in applied.output
    shown = cli("reidentify", "crm", "-c", "phone", "--role", "dpo", "--policy",
                str(policy_file), "--format", "json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "0048 501 234 567" in shown.output
    retire = cli("keys", "rotate")
    assert retire.exit_code == 0, retire.output
    refused = cli("keys", "retire", "1", "--apply")
    assert refused.exit_code != 0 and "subject_keys" in refused.output
