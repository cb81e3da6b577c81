"""The workspace master key: a 0600 file (or $TUTELA_MASTER_KEY for CI), and keys derived from it.

Derived keys (HKDF-SHA256, one per purpose) keep uses apart: the audit-log chain key
cannot compute subject-identifier hashes and vice versa. Key material never leaves
this module in a printable form; only a key *id* (a fingerprint) is ever shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela.base.errors import KeyMaterialError

ENV_MASTER_KEY = "TUTELA_MASTER_KEY"
KEY_DIR = "keys"
MASTER_FILE = "master.key"
KEY_BYTES = 32


@dataclass(frozen=True)
class MasterKey:
    """Holds the secret; its repr never shows it."""

    _secret: bytes
    source: str

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id}, source={self.source})"

    @property
    def key_id(self) -> str:
        """A public fingerprint: safe to print and to record with every output."""
        return "k-" + hmac.new(self._secret, b"tutela key id", hashlib.sha256).hexdigest()[:12]

    def derive(self, purpose: str, length: int = KEY_BYTES) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=length, salt=b"tutela/v1", info=purpose.encode()
        ).derive(self._secret)


def _check_permissions(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMaterialError(
            f"key file {path} is readable by others (mode {stat.S_IMODE(mode):o})",
            hint=f"chmod 600 {path}",
        )


def _decode_env(value: str) -> bytes:
    value = value.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            raw = decode(value)
        except (ValueError, binascii.Error):
            continue
        if len(raw) >= KEY_BYTES:
            return raw
    raise KeyMaterialError(
        f"${ENV_MASTER_KEY} must hold at least {KEY_BYTES} bytes, hex or base64 encoded"
    )


def load_master_key(workspace_root: Path, *, create: bool = False) -> MasterKey:
    """The master key from $TUTELA_MASTER_KEY, else the workspace key file (made if asked)."""
    env = os.environ.get(ENV_MASTER_KEY)
    if env:
        return MasterKey(_decode_env(env), "environment")
    path = workspace_root / KEY_DIR / MASTER_FILE
    if not path.exists():
        if not create:
            raise KeyMaterialError(
                f"no master key in {path.parent}", hint="run `tutela keys init` first"
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(KEY_BYTES))
    _check_permissions(path)
    secret = path.read_bytes()
    if len(secret) != KEY_BYTES:
        raise KeyMaterialError(f"key file {path} is damaged (expected {KEY_BYTES} bytes)")
    return MasterKey(secret, "file")


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a value, hex: how identifiers are stored where clear text must not be."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# -- the protection key set: versioned data keys wrapped under the master key ----------
#
# The master key stays fixed (it also keys the audit-log chain, which must stay
# verifiable). Pseudonymization uses *versions*: random 32-byte keys stored in
# keys/keyset.json (0600), each encrypted (wrapped) with AES-SIV under a key derived from
# the master key. Rotation adds a version; retiring one deletes its wrapped key, after
# which nothing it encrypted can be decrypted again (crypto-shredding of a key version).

KEYSET_FILE = "keyset.json"
KEYSET_FORMAT = 1
_WRAP_PURPOSE = "keyset-wrap"


class KeyStatus(StrEnum):
    active = "active"  # new outputs use it
    readable = "readable"  # older version: still decrypts, re-keys and re-issues tokens
    retired = "retired"  # key material destroyed; what it encrypted is unreadable


@dataclass(frozen=True)
class KeyVersion:
    """One version's public record (never its secret)."""

    version: int
    key_id: str
    status: KeyStatus
    created_at: str
    retired_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "key_id": self.key_id,
            "status": str(self.status),
            "created_at": self.created_at,
            "retired_at": self.retired_at,
        }


@dataclass(frozen=True)
class KeySet:
    """The unwrapped key set of a workspace: public records plus the live secrets."""

    master_key_id: str
    versions: tuple[KeyVersion, ...]
    _secrets: dict[int, MasterKey] = field(repr=False, compare=False)
    path: Path | None = None

    def __repr__(self) -> str:
        return f"KeySet(master={self.master_key_id}, versions={[v.version for v in self.versions]})"

    @property
    def active(self) -> KeyVersion:
        return next(v for v in self.versions if v.status is KeyStatus.active)

    def record(self, version: int) -> KeyVersion:
        for v in self.versions:
            if v.version == version:
                return v
        known = ", ".join(str(v.version) for v in self.versions)
        raise KeyMaterialError(f"no key version {version} (versions: {known})")

    def key(self, version: int | None = None) -> MasterKey:
        """The secret of a version (default: the active one), as a derivable key."""
        rec = self.active if version is None else self.record(version)
        if rec.status is KeyStatus.retired:
            raise KeyMaterialError(
                f"key version {rec.version} ({rec.key_id}) was retired on {rec.retired_at}; "
                "what it encrypted can no longer be read"
            )
        return self._secrets[rec.version]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _wrapper(master: MasterKey) -> AESSIV:
    return AESSIV(master.derive(_WRAP_PURPOSE, 64))


def _ad(version: int) -> list[bytes]:
    return [f"tutela keyset version {version}".encode()]


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write atomically with mode 0600 (temp file in the same directory, then rename)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def keyset_path(workspace_root: Path) -> Path:
    return workspace_root / KEY_DIR / KEYSET_FILE


def _new_version(master: MasterKey, version: int) -> tuple[dict[str, Any], MasterKey]:
    secret = os.urandom(KEY_BYTES)
    wrapped = _wrapper(master).encrypt(secret, _ad(version))
    key = MasterKey(secret, f"key set v{version}")
    entry = {
        "version": version,
        "key_id": key.key_id,
        "status": KeyStatus.active.value,
        "created_at": _now(),
        "retired_at": None,
        "wrapped": base64.urlsafe_b64encode(wrapped).decode("ascii"),
    }
    return entry, key


def _read_raw(path: Path) -> dict[str, Any]:
    _check_permissions(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyMaterialError(f"key set {path} cannot be read: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("format") != KEYSET_FORMAT:
        raise KeyMaterialError(f"key set {path} has an unknown format")
    return data


def _unwrap(master: MasterKey, data: dict[str, Any], path: Path) -> KeySet:
    if data.get("master_key_id") != master.key_id:
        raise KeyMaterialError(
            f"key set {path} belongs to master key {data.get('master_key_id')}, "
            f"but the master key in use is {master.key_id}",
            hint=f"use the master key the key set was made with (${ENV_MASTER_KEY} or "
            f"{KEY_DIR}/{MASTER_FILE})",
        )
    wrapper = _wrapper(master)
    versions: list[KeyVersion] = []
    secrets: dict[int, MasterKey] = {}
    try:
        for item in data["versions"]:
            rec = KeyVersion(
                int(item["version"]),
                str(item["key_id"]),
                KeyStatus(item["status"]),
                str(item["created_at"]),
                item.get("retired_at"),
            )
            versions.append(rec)
            if rec.status is KeyStatus.retired:
                continue
            secret = wrapper.decrypt(base64.urlsafe_b64decode(item["wrapped"]), _ad(rec.version))
            key = MasterKey(secret, f"key set v{rec.version}")
            if key.key_id != rec.key_id:
                raise InvalidTag
            secrets[rec.version] = key
    except InvalidTag:
        raise KeyMaterialError(f"key set {path} is damaged or was altered") from None
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise KeyMaterialError(f"key set {path} is damaged (malformed entry)") from None
    if sum(v.status is KeyStatus.active for v in versions) != 1:
        raise KeyMaterialError(f"key set {path} must have exactly one active version")
    return KeySet(str(data["master_key_id"]), tuple(versions), secrets, path)


def init_keyset(workspace_root: Path) -> tuple[KeySet, bool]:
    """Create the master key and the key set if missing; returns (key set, created?)."""
    master = load_master_key(workspace_root, create=True)
    path = keyset_path(workspace_root)
    if path.exists():
        return _unwrap(master, _read_raw(path), path), False
    entry, _ = _new_version(master, 1)
    data = {"format": KEYSET_FORMAT, "master_key_id": master.key_id, "versions": [entry]}
    _write_private(path, data)
    return _unwrap(master, data, path), True


def load_keyset(workspace_root: Path, master: MasterKey | None = None) -> KeySet:
    """The workspace key set, unwrapped with the master key."""
    master = master or load_master_key(workspace_root)
    path = keyset_path(workspace_root)
    if not path.exists():
        raise KeyMaterialError(f"no key set in {path.parent}", hint="run `tutela keys init` first")
    return _unwrap(master, _read_raw(path), path)


def rotate_keyset(workspace_root: Path) -> KeySet:
    """Add a new active version; the previous active one stays readable."""
    master = load_master_key(workspace_root)
    path = keyset_path(workspace_root)
    load_keyset(workspace_root, master)  # validates before changing anything
    data = _read_raw(path)
    for item in data["versions"]:
        if item["status"] == KeyStatus.active.value:
            item["status"] = KeyStatus.readable.value
    entry, _ = _new_version(master, max(int(i["version"]) for i in data["versions"]) + 1)
    data["versions"].append(entry)
    _write_private(path, data)
    return _unwrap(master, data, path)


def retire_version(workspace_root: Path, version: int) -> KeySet:
    """Destroy one non-active version's key material (irreversible)."""
    master = load_master_key(workspace_root)
    path = keyset_path(workspace_root)
    keyset = load_keyset(workspace_root, master)
    rec = keyset.record(version)
    if rec.status is KeyStatus.active:
        raise KeyMaterialError(
            f"key version {version} is the active one", hint="run `tutela keys rotate` first"
        )
    if rec.status is KeyStatus.retired:
        return keyset
    data = _read_raw(path)
    for item in data["versions"]:
        if int(item["version"]) == version:
            item["status"] = KeyStatus.retired.value
            item["retired_at"] = _now()
            item.pop("wrapped", None)
    _write_private(path, data)
    return _unwrap(master, data, path)
