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
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela.errors import KeyMaterialError

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
