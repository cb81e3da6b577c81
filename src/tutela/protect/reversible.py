"""Reversible deterministic tokens: AES-SIV under a per-purpose key of one key version.

`enc:v<version>:<base64url>`: the version says which key decrypts it, so old tokens stay
readable after rotation until their version is retired. AES-SIV without a nonce is
deterministic (equal values give equal tokens, so joins still work) and authenticated
(a changed token fails to decrypt instead of decrypting to something else).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from tutela.base.errors import KeyMaterialError
from tutela.base.keys import KeySet

ENC_PREFIX = "enc"
_TOKEN = re.compile(r"(enc):v([0-9]{1,6}):([A-Za-z0-9_\-]+)")


def siv_purpose(purpose: str) -> str:
    return f"pseudonymize/aes-siv/{purpose}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_token(value: str) -> tuple[str, int, bytes] | None:
    """(kind, key version, ciphertext) of a reversible token, or None if it is not one."""
    m = _TOKEN.fullmatch(value)
    if not m:
        return None
    try:
        return m.group(1), int(m.group(2)), _unb64(m.group(3))
    except (binascii.Error, ValueError):
        return None


class Encryptor:
    """Encrypts under the given (default: active) version of the key set."""

    def __init__(self, keyset: KeySet, purpose: str, version: int | None = None) -> None:
        rec = keyset.active if version is None else keyset.record(version)
        self.version = rec.version
        self.key_id = rec.key_id
        self._siv = AESSIV(keyset.key(rec.version).derive(siv_purpose(purpose), 64))

    def __repr__(self) -> str:
        return f"Encryptor(version={self.version})"

    def encrypt(self, value: str) -> str:
        return (
            f"{ENC_PREFIX}:v{self.version}:{_b64(self._siv.encrypt(value.encode('utf-8'), None))}"
        )


class DecryptError(Exception):
    """A token that this key set cannot decrypt (kept free of the token and the key)."""


class Decryptor:
    """Decrypts tokens of any readable version."""

    def __init__(self, keyset: KeySet, purpose: str) -> None:
        self._keyset = keyset
        self._purpose = purpose
        self._sivs: dict[int, AESSIV] = {}

    def __repr__(self) -> str:
        return "Decryptor()"

    def _siv(self, version: int) -> AESSIV:
        if version not in self._sivs:
            try:
                key = self._keyset.key(version)
            except KeyMaterialError as exc:
                raise DecryptError(exc.message) from None
            self._sivs[version] = AESSIV(key.derive(siv_purpose(self._purpose), 64))
        return self._sivs[version]

    def version_of(self, value: str) -> int | None:
        parsed = parse_token(value)
        return parsed[1] if parsed and parsed[0] == ENC_PREFIX else None

    def decrypt(self, value: str) -> str:
        parsed = parse_token(value)
        if parsed is None or parsed[0] != ENC_PREFIX:
            raise DecryptError("not an enc: token")
        _, version, data = parsed
        try:
            return self._siv(version).decrypt(data, None).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptError(
                f"a v{version} token does not decrypt (altered, or made for another purpose)"
            ) from None
