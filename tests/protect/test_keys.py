"""The key set: 0600 files, rotation keeps old versions readable, retiring destroys them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutela.base import keys
from tutela.base.errors import KeyMaterialError
from tutela.protect.reversible import Decryptor, Encryptor, parse_token


def test_init_creates_private_files_and_is_idempotent(tmp_path: Path) -> None:
    ks, created = keys.init_keyset(tmp_path)
    assert created and ks.active.version == 1
    for name in ("master.key", "keyset.json"):
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600
    again, created = keys.init_keyset(tmp_path)
    assert not created and again.active.key_id == ks.active.key_id
    text = (tmp_path / "keys" / "keyset.json").read_text()
    assert "wrapped" in text and ks.active.key_id in text


def test_rotation_keeps_old_versions_readable_until_retired(tmp_path: Path) -> None:
    ks, _ = keys.init_keyset(tmp_path)
    old = Encryptor(ks, "p").encrypt("anna@example.com")
    ks = keys.rotate_keyset(tmp_path)
    assert [v.status for v in ks.versions] == [keys.KeyStatus.readable, keys.KeyStatus.active]
    new = Encryptor(ks, "p").encrypt("anna@example.com")
    assert old.startswith("enc:v1:") and new.startswith("enc:v2:") and old != new
    assert Decryptor(ks, "p").decrypt(old) == Decryptor(ks, "p").decrypt(new) == "anna@example.com"
    with pytest.raises(KeyMaterialError, match="active"):
        keys.retire_version(tmp_path, 2)
    ks = keys.retire_version(tmp_path, 1)
    assert ks.record(1).status is keys.KeyStatus.retired
    assert "wrapped" not in json.dumps(
        json.loads(keys.keyset_path(tmp_path).read_text())["versions"][0]
    )
    with pytest.raises(KeyMaterialError, match="retired"):
        ks.key(1)


def test_a_different_master_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys.init_keyset(tmp_path)
    monkeypatch.setenv(keys.ENV_MASTER_KEY, "ab" * 32)
    with pytest.raises(KeyMaterialError, match="belongs to master key"):
        keys.load_keyset(tmp_path)


def test_a_tampered_key_set_is_refused(tmp_path: Path) -> None:
    keys.init_keyset(tmp_path)
    path = keys.keyset_path(tmp_path)
    data = json.loads(path.read_text())
    wrapped = data["versions"][0]["wrapped"]
    data["versions"][0]["wrapped"] = ("B" if wrapped[0] != "B" else "C") + wrapped[1:]
    path.write_text(json.dumps(data))
    with pytest.raises(KeyMaterialError, match="damaged or was altered"):
        keys.load_keyset(tmp_path)


def test_a_readable_by_others_key_set_is_refused(tmp_path: Path) -> None:
    keys.init_keyset(tmp_path)
    keys.keyset_path(tmp_path).chmod(0o644)
    with pytest.raises(KeyMaterialError, match="readable by others"):
        keys.load_keyset(tmp_path)


def test_missing_key_set_says_how_to_make_one(tmp_path: Path) -> None:
    keys.load_master_key(tmp_path, create=True)
    with pytest.raises(KeyMaterialError) as info:
        keys.load_keyset(tmp_path)
    assert "tutela keys init" in (info.value.hint or "")


@pytest.fixture(scope="module")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> keys.KeySet:
    root = tmp_path_factory.mktemp("ks")
    keys.init_keyset(root)
    return keys.rotate_keyset(root)


@settings(max_examples=80, deadline=None)
@given(value=st.text(min_size=1, max_size=60), purpose=st.sampled_from(["a", "b", "dpo"]))
def test_aes_siv_round_trip_and_determinism(keyset: keys.KeySet, value: str, purpose: str) -> None:
    enc = Encryptor(keyset, purpose)
    tok = enc.encrypt(value)
    assert tok == enc.encrypt(value)
    assert Decryptor(keyset, purpose).decrypt(tok) == value
    parsed = parse_token(tok)
    assert parsed is not None and parsed[1] == keyset.active.version
    older = Encryptor(keyset, purpose, version=1).encrypt(value)
    assert older != tok and Decryptor(keyset, purpose).decrypt(older) == value


@settings(max_examples=30, deadline=None)
@given(value=st.text(min_size=1, max_size=30))
def test_aes_siv_tokens_do_not_decrypt_under_another_purpose(
    keyset: keys.KeySet, value: str
) -> None:
    from tutela.protect.reversible import DecryptError

    tok = Encryptor(keyset, "billing").encrypt(value)
    with pytest.raises(DecryptError):
        Decryptor(keyset, "marketing").decrypt(tok)
