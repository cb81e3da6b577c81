"""HMAC-SHA256 computed inside DuckDB, with the key always a bound parameter.

DuckDB has SHA-256 over BLOBs but no HMAC, so HMAC is spelled out (RFC 2104):
`sha256((K ^ opad) || unhex(sha256((K ^ ipad) || msg)))`. The two padded keys are bound
parameters: they never appear in SQL text, query plans or error messages.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

_BLOCK = 64
TOKEN_PREFIX = "tok_"
DEFAULT_TOKEN_HEX = 24  # 96 bits; see docs/protection.md for the collision odds


class Binder:
    """Collects named parameters for one SQL statement (`$p0`, `$p1`, ...)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def __repr__(self) -> str:  # parameters may be key material
        return f"Binder({len(self.params)} parameters)"


class HmacKey:
    """An HMAC-SHA256 key usable from Python and from DuckDB SQL; never printable."""

    __slots__ = ("_inner", "_key", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\x00")
        self._key = key
        self._inner = bytes(b ^ 0x36 for b in padded)
        self._outer = bytes(b ^ 0x5C for b in padded)

    def __repr__(self) -> str:
        return "HmacKey(<secret>)"

    def hexdigest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def pads(self) -> tuple[bytes, bytes]:
        """RFC 2104's inner and outer padded keys, for an engine that computes the same HMAC
        itself (Spark's UDF, `engine/spark.pads_hex_udf`). Key material: never print it."""
        return self._inner, self._outer

    def sql(self, expr: str, binder: Binder) -> str:
        """SQL for the hex HMAC of the text expression `expr` (NULL stays NULL)."""
        inner = binder.bind(self._inner)
        outer = binder.bind(self._outer)
        return f"sha256({outer}::BLOB || unhex(sha256({inner}::BLOB || encode({expr}))))"


def token(hex_digest: str, length: int = DEFAULT_TOKEN_HEX) -> str:
    return TOKEN_PREFIX + hex_digest[:length]


def token_sql(hex_sql: str, length: int = DEFAULT_TOKEN_HEX) -> str:
    return f"('{TOKEN_PREFIX}' || left({hex_sql}, {int(length)}))"
