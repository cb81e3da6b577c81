"""Properties of the primitives: SQL HMAC equals Python hmac, determinism, key separation,
AES-SIV round trips, and the validity of format-preserving tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela.base.keys import MasterKey
from tutela.base.normalize import key_sql
from tutela.protect import formats
from tutela.protect.methods import ColumnRequest, Method, SqlContext, column_sql
from tutela.protect.sqlhmac import Binder, HmacKey, token

CON = duckdb.connect()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)
keys32 = st.binary(min_size=32, max_size=32)


def sql_hmac(key: HmacKey, value: str, normalize: str = "none") -> str | None:
    b = Binder()
    b.params["v"] = value
    row = CON.execute(f"SELECT {key.sql(key_sql('$v', normalize), b)}", b.params).fetchone()
    return None if row is None else row[0]


@FAST
@given(key=keys32, value=text)
def test_sql_hmac_equals_python_hmac(key: bytes, value: str) -> None:
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    assert sql_hmac(HmacKey(key), value) == expected
    assert HmacKey(key).hexdigest(value) == expected


@FAST
@given(key=st.binary(min_size=65, max_size=100), value=text)
def test_long_keys_are_hashed_first_as_rfc2104_says(key: bytes, value: str) -> None:
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    assert sql_hmac(HmacKey(key), value) == expected


@FAST
@given(local=st.from_regex(r"[a-z0-9.]{1,12}", fullmatch=True))
def test_email_normalisation_makes_case_and_spaces_irrelevant(local: str) -> None:
    key = HmacKey(os.urandom(32))
    plain = f"{local}@example.com"
    messy = f"  {local.upper()}@EXAMPLE.com "
    assert sql_hmac(key, plain, "email") == sql_hmac(key, messy, "email")
    assert sql_hmac(key, plain, "email") == key.hexdigest(plain)


@pytest.mark.parametrize("variant", ["+34 612 345 678", "0034612345678", "612-345-678"])
def test_phone_formats_meet_on_the_national_number(variant: str) -> None:
    key = HmacKey(os.urandom(32))
    assert sql_hmac(key, variant, "e164") == key.hexdigest("612345678")


@FAST
@given(secret=keys32, value=text, a=st.text(min_size=1, max_size=8), b=st.text(min_size=1))
def test_purposes_and_versions_separate_keys(secret: bytes, value: str, a: str, b: str) -> None:
    v1 = MasterKey(secret, "v1")
    v2 = MasterKey(hashlib.sha256(secret).digest(), "v2")
    t1 = HmacKey(v1.derive(f"pseudonymize/hmac/{a}")).hexdigest(value)
    assert t1 == HmacKey(v1.derive(f"pseudonymize/hmac/{a}")).hexdigest(value)  # deterministic
    assert t1 != HmacKey(v2.derive(f"pseudonymize/hmac/{a}")).hexdigest(value)  # versions
    if a != b:
        assert t1 != HmacKey(v1.derive(f"pseudonymize/hmac/{b}")).hexdigest(value)  # purposes


def test_keys_never_print() -> None:
    key = HmacKey(b"\x01" * 32)
    binder = Binder()
    key.sql("x", binder)
    assert "01" not in repr(key) and "\\x" not in repr(binder)
    assert "\\x" not in repr(MasterKey(b"\x01" * 32, "t"))


# -- format-preserving tokens ------------------------------------------------------------

hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
IBANS = [
    "ES9121000418450200051332",
    "GB29 NWBK 6016 1331 9268 19",
    "PL61109010140000071219812874",
    "DE89370400440532013000",
    "GR1601101250000000012300695",
]


@FAST
@given(h=hexes, iban=st.sampled_from(IBANS))
def test_iban_tokens_are_valid_ibans_of_the_same_country(h: str, iban: str) -> None:
    tok = formats.iban_token(iban, h)
    assert formats.iban_valid(tok)
    compact = iban.replace(" ", "")
    assert tok[:2] == compact[:2] and len(tok) == len(compact)
    assert all(a.isdigit() == b.isdigit() for a, b in zip(tok[4:], compact[4:], strict=True))
    assert tok == formats.iban_token(iban, h)


@FAST
@given(h=hexes, digits=st.from_regex(r"[1-9][0-9]{11,18}", fullmatch=True))
def test_card_tokens_are_luhn_valid_and_keep_the_layout(h: str, digits: str) -> None:
    spaced = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    tok = formats.card_token(spaced, h)
    assert formats.luhn_valid(tok)
    assert re.sub(r"\d", "9", tok) == re.sub(r"\d", "9", spaced)
    assert tok[0] == digits[0]


@FAST
@given(h=hexes)
def test_email_tokens_are_reserved_addresses(h: str) -> None:
    tok = formats.email_token(h)
    assert re.fullmatch(r"tok_[0-9a-f]{24}@pseudo\.invalid", tok)


@FAST
@given(h=hexes, national=st.from_regex(r"[6-9][0-9]{8}", fullmatch=True))
def test_phone_tokens_keep_layout_country_code_and_are_consistent(h: str, national: str) -> None:
    intl = f"+34 {national[:3]} {national[3:6]} {national[6:]}"
    a, b = formats.phone_token(intl, h), formats.phone_token(national, h)
    assert a.startswith("+34 " + national[0])
    assert re.sub(r"\d", "9", a) == re.sub(r"\d", "9", intl)
    assert re.sub(r"\D", "", a)[2:] == b  # same pseudo national number either way


def test_values_without_the_shape_get_plain_tokens() -> None:
    h = "ab" * 32
    assert formats.iban_token("not an iban", h) == token(h)
    assert formats.card_token("12", h) == token(h)
    assert formats.phone_token("call me", h) == token(h)


def test_checksum_helpers() -> None:
    assert all(formats.iban_valid(i) for i in IBANS)
    assert not formats.iban_valid("ES9121000418450200051333")
    assert formats.luhn_valid("4111 1111 1111 1111")
    assert not formats.luhn_valid("4111 1111 1111 1112")


# -- SQL masks and generalisation ---------------------------------------------------------


def _apply(method: str, arg: str | None, value: object, type_: str = "VARCHAR") -> object:
    ctx = SqlContext(HmacKey(b"k" * 32), HmacKey(b"s" * 32), Binder(), "t", "2024-06-30", 30)
    sql = column_sql(ColumnRequest("c", Method(method), arg), type_, "trim", ctx)
    ctx.binder.params["v"] = value
    row = CON.execute(f"SELECT {sql} FROM (SELECT $v::{type_} AS c) t", ctx.binder.params)
    return row.fetchone()[0]  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "arg", "value", "type_", "expected"),
    [
        ("mask", "4", "4111 1111 1111 1234", "VARCHAR", "****1234"),
        ("mask", "4", "anna.puig@example.com", "VARCHAR", "a***@e***.com"),
        ("mask", "4", "12", "VARCHAR", "****"),
        ("year", None, "1985-04-02", "DATE", 1985),
        ("month", None, "1985-04-02", "DATE", "1985-04"),
        ("age_band", "10", "1985-04-02", "DATE", "30-39"),
        ("age_band", "5", "1985-07-02", "DATE", "35-39"),
        ("age_band", "10", "1920-01-01", "DATE", "90+"),
        ("truncate", "2", " 08001 ", "VARCHAR", "08"),
        ("null", None, "x", "VARCHAR", None),
        ("year", None, "not a date", "VARCHAR", None),
    ],
)
def test_masks_and_generalisations(
    method: str, arg: str | None, value: object, type_: str, expected: object
) -> None:
    assert _apply(method, arg, value, type_) == expected
