"""Keyed tokens on Spark are bit-for-bit DuckDB's (protect/sqlhmac.py): a pseudonymized lake
table joins with a pseudonymized local export. Differential over generated values."""

from __future__ import annotations

import hashlib
import hmac
import random
from typing import Any

import pytest

from tutela.engine import connect
from tutela.engine import spark as engine_spark
from tutela.protect.sqlhmac import Binder, HmacKey, token_sql

KEYS = {
    "short": b"k",
    "block": bytes(range(64)),  # exactly one SHA-256 block
    "long": b"\xff" * 65 + b"tutela",  # longer than a block: hashed first (RFC 2104)
    "zero": b"\x00" * 32,
}


def _values(seed: int, n: int = 400) -> list[str | None]:
    """Generated text: unicode of every plane, combining marks, NUL, empty, NULL, long."""
    rng = random.Random(seed)
    alphabets = [
        "abcXYZ019 .-@+",
        "ñçßÆøå éè",
        "e\u0301a\u0308",  # combining accents (not normalised: bytes differ)
        "Δοκιμή Привет",
        "日本語中文한국어",
        "مرحبا שלום",
        "😀🇪🇸👨‍👩‍👧𝔘",  # outside the BMP, ZWJ sequences, flags
        "\x00\t\n\r\x0b\u2028\ufeff",
    ]
    out: list[str | None] = [None, "", " ", "\x00", "a" * 10_000, "Anna.Example@Example.COM"]
    while len(out) < n:
        chars = "".join(rng.choice(alphabets) for _ in range(3))
        out.append("".join(rng.choice(chars) for _ in range(rng.randint(0, 80))))
    return out


def _duckdb_tokens(key: bytes, values: list[str | None]) -> list[tuple[str | None, str | None]]:
    con = connect(":memory:")
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    binder = Binder()
    h = HmacKey(key).sql("v", binder)
    rows = con.execute(f"SELECT {h}, {token_sql(h)} FROM t ORDER BY i", binder.params).fetchall()
    con.close()
    return [(r[0], r[1]) for r in rows]


def _frame(spark: Any, values: list[str | None]) -> Any:
    return spark.createDataFrame(list(enumerate(values)), "i INT, v STRING")


@pytest.mark.parametrize("key_name", sorted(KEYS))
def test_spark_sql_hmac_equals_duckdb_bit_for_bit(spark: Any, key_name: str) -> None:
    key = KEYS[key_name]
    values = _values(seed=len(key_name))
    expected = _duckdb_tokens(key, values)
    # the Python reference agrees with DuckDB (so all three compute RFC 2104 HMAC-SHA256)
    assert [h for h, _ in expected] == [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]
    _frame(spark, values).createOrReplaceTempView("hmac_values")
    args: dict[str, Any] = {}
    h = engine_spark.hmac_hex_sql("v", key, args)
    sql = f"SELECT {h} AS h, concat('tok_', left({h}, 24)) AS tok FROM hmac_values ORDER BY i"
    assert key.hex() not in sql and "hk" in sql  # the key is bound, not in the text
    got = [(r["h"], r["tok"]) for r in spark.sql(sql, args=args).collect()]
    assert got == expected


def test_column_expression_and_vectorized_udf_equal_duckdb(spark: Any) -> None:
    key = KEYS["long"]
    values = _values(seed=7, n=300)
    expected = [h for h, _ in _duckdb_tokens(key, values)]
    frame = _frame(spark, values)
    by_column = frame.select(
        "i",
        engine_spark.hmac_hex_column(frame["v"], key).alias("h"),
        engine_spark.hmac_hex_udf(key)(frame["v"]).alias("u"),
        engine_spark.token_column(engine_spark.hmac_hex_column(frame["v"], key)).alias("t"),
    ).orderBy("i")
    rows = by_column.collect()
    assert [r["h"] for r in rows] == expected
    assert [r["u"] for r in rows] == expected
    assert [r["t"] for r in rows] == [None if h is None else "tok_" + h[:24] for h in expected]


def test_a_different_key_gives_different_tokens(spark: Any) -> None:
    frame = _frame(spark, ["anna@example.com"])
    a = frame.select(engine_spark.hmac_hex_column(frame["v"], b"key one")).first()[0]
    b = frame.select(engine_spark.hmac_hex_column(frame["v"], b"key two")).first()[0]
    assert a != b and len(a) == len(b) == 64
