"""The protection methods: names, arguments, and the SQL (or Python) that each one is.

A method turns one column into its protected form. SQL methods are one vectorised
expression; `MAPPED` methods (AES-SIV and the shaped tokens that need more than SQL) run
in Python over the column's *distinct* values and are joined back through a temp table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tutela.base.errors import UsageError
from tutela.base.normalize import key_sql, strip_separators
from tutela.base.sql import sql_literal
from tutela.protect.formats import EMAIL_DOMAIN
from tutela.protect.sqlhmac import DEFAULT_TOKEN_HEX, Binder, HmacKey, token_sql
from tutela.workspace import quote_ident


class Method(StrEnum):
    hmac = "hmac"  # tok_<hex>: keyed deterministic token
    encrypt = "encrypt"  # enc:v<N>:<base64url>: AES-SIV, reversible
    email = "email"  # tok_<hex>@pseudo.invalid
    phone = "phone"  # same layout, pseudo digits
    iban = "iban"  # same country and length, valid mod-97
    card = "card"  # same length, Luhn-valid
    mask = "mask"  # ****1234 / a***@e***.com
    year = "year"  # date -> year
    month = "month"  # date -> YYYY-MM
    age_band = "age_band"  # birth date -> 30-39
    truncate = "truncate"  # keep the first N characters (postcodes)
    date_shift = "date_shift"  # per-subject consistent shift of dates
    freetext = "freetext"  # identifiers inside text -> tokens
    null = "null"  # blank the column
    drop = "drop"  # remove the column


ALIASES = {"postcode": Method.truncate, "hide": Method.drop, "aes-siv": Method.encrypt}

# Methods whose tokens derive from the value's HMAC (one key: consistent across methods).
HMAC_FAMILY = {Method.hmac, Method.email, Method.phone, Method.iban, Method.card}
MAPPED = {Method.encrypt, Method.phone, Method.iban, Method.card}
REVERSIBLE = {Method.encrypt}
NORMALIZATIONS = ("auto", "none", "trim", "email", "e164", "compact", "name")

_INT_ARG = {
    Method.hmac: (8, 64),
    Method.mask: (0, 12),
    Method.age_band: (1, 50),
    Method.truncate: (0, 20),
}
_DEFAULT_ARG = {
    Method.hmac: str(DEFAULT_TOKEN_HEX),
    Method.mask: "4",
    Method.age_band: "10",
    Method.truncate: "2",
}
_NEEDS_COLUMN = {Method.date_shift}


@dataclass(frozen=True)
class ColumnRequest:
    """What to do to one column: `email`, `email=hmac`, `dob=age_band:5`."""

    column: str
    method: Method
    arg: str | None = None


def parse_method(text: str) -> tuple[Method, str | None]:
    name, _, arg = text.strip().partition(":")
    key = name.strip().lower()
    try:
        method = ALIASES.get(key) or Method(key)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise UsageError(f"unknown method {name!r} (methods: {known})") from None
    value = arg.strip() or None
    if method in _INT_ARG:
        value = value or _DEFAULT_ARG[method]
        low, high = _INT_ARG[method]
        if not value.isdigit() or not low <= int(value) <= high:
            raise UsageError(f"method {method} takes a number from {low} to {high}, not {arg!r}")
    elif method in _NEEDS_COLUMN:
        if not value:
            raise UsageError(
                f"method {method} needs the subject key column: {method}:customer_id",
                hint="dates (or keys) of one subject must move together, so name the "
                "column that identifies the subject",
            )
    elif value:
        raise UsageError(f"method {method} takes no argument (got {arg!r})")
    return method, value


def parse_columns(spec: str | list[str], default: str = "hmac") -> list[ColumnRequest]:
    """`email,phone=phone,dob=age_band:5` -> column requests (the default method elsewhere)."""
    items = spec if isinstance(spec, list) else [spec]
    out: list[ColumnRequest] = []
    seen: set[str] = set()
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            column, sep, method_text = part.partition("=")
            column = column.strip()
            method, arg = parse_method(method_text if sep else default)
            if column in seen:
                raise UsageError(f"column {column!r} is listed twice")
            seen.add(column)
            out.append(ColumnRequest(column, method, arg))
    if not out:
        raise UsageError("no columns given", hint="e.g. --columns email,phone=phone")
    return out


# -- free text ------------------------------------------------------------------------

_FT_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_FT_IBAN = r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"
_FT_CARD = r"\b[0-9]{4}(?:[ \-]?[0-9]{4}){2}[ \-]?[0-9]{1,7}\b"
_FT_NATID = r"\b[XYZ]?[0-9]{7,8}-?[A-Z]\b"
_FT_PHONE = r"(?:\+|\b)[0-9](?:[ .\-]?[0-9]){8,14}\b"
FREE_TEXT_PATTERN = "|".join([_FT_EMAIL, _FT_IBAN, _FT_CARD, _FT_NATID, _FT_PHONE])


def freetext_sql(expr: str, key: HmacKey, binder: Binder) -> str:
    """Every identifier found in the text replaced by the token its column would get."""
    v = f"CAST({expr} AS VARCHAR)"
    pat = sql_literal(FREE_TEXT_PATTERN)

    def tok(norm: str) -> str:
        return token_sql(key.sql(norm, binder))

    per_match = (
        f"CASE WHEN contains(m, '@') THEN {tok(key_sql('m', 'email'))} "
        f"WHEN regexp_full_match(m, {sql_literal(_FT_IBAN + '|' + _FT_CARD + '|' + _FT_NATID)}) "
        f"THEN {tok(key_sql('m', 'compact'))} "
        f"ELSE {tok(key_sql('m', 'e164'))} END"
    )
    tokens = f"list_transform(regexp_extract_all({v}, {pat}), lambda m: {per_match})"
    parts = f"regexp_split_to_array({v}, {pat})"
    joined = (
        f"array_to_string(list_transform(list_zip({parts}, {tokens}), "
        f"lambda z: z[1] || coalesce(z[2], '')), '')"
    )
    return f"CASE WHEN regexp_matches({v}, {pat}) THEN {joined} ELSE {v} END"


# -- SQL per method -------------------------------------------------------------------


@dataclass(frozen=True)
class SqlContext:
    """What the SQL of a method may use: keys, the binder, the table alias, the date."""

    hmac_key: HmacKey
    shift_key: HmacKey
    binder: Binder
    alias: str
    as_of: str  # ISO date for age bands
    max_shift_days: int


def _mask_sql(v: str, keep: int) -> str:
    compact = strip_separators(v)
    tail = f"right({compact}, {keep})" if keep else "''"
    at = f"strpos({v}, '@')"
    email = (
        f"left({v}, 1) || '***@' || substr({v}, {at} + 1, 1) || '***' || "
        f"coalesce(regexp_extract({v}, '(\\.[^.@]+)$', 1), '')"
    )
    return (
        f"CASE WHEN {v} IS NULL THEN NULL WHEN {at} > 1 THEN {email} "
        f"WHEN length({compact}) > {keep} + 2 THEN '****' || {tail} ELSE '****' END"
    )


def column_sql(req: ColumnRequest, column_type: str, normalize: str, ctx: SqlContext) -> str | None:
    """The SQL expression for a SQL method (None for mapped methods and drop)."""
    c = f"{ctx.alias}.{quote_ident(req.column)}"
    v = f"CAST({c} AS VARCHAR)"
    m = req.method
    if m in (Method.hmac, Method.email):
        h = ctx.hmac_key.sql(key_sql(c, normalize), ctx.binder)
        if m is Method.hmac:
            return token_sql(h, int(req.arg or DEFAULT_TOKEN_HEX))
        return f"({token_sql(h)} || '@{EMAIL_DOMAIN}')"
    if m is Method.mask:
        return _mask_sql(v, int(req.arg or 4))
    if m is Method.year:
        return f"year(TRY_CAST({c} AS DATE))"
    if m is Method.month:
        return f"strftime(TRY_CAST({c} AS DATE), '%Y-%m')"
    if m is Method.age_band:
        width = int(req.arg or 10)
        age = f"date_sub('year', TRY_CAST({c} AS DATE), {ctx.binder.bind(ctx.as_of)}::DATE)"
        low = f"(({age}) // {width} * {width})"
        return (
            f"CASE WHEN ({age}) IS NULL OR ({age}) < 0 THEN NULL WHEN ({age}) >= 90 THEN '90+' "
            f"ELSE CAST({low} AS VARCHAR) || '-' || CAST({low} + {width - 1} AS VARCHAR) END"
        )
    if m is Method.truncate:
        return f"NULLIF(left(trim({v}), {int(req.arg or 2)}), '')"
    if m is Method.date_shift:
        subject = f"{ctx.alias}.{quote_ident(str(req.arg))}"
        h = ctx.shift_key.sql(key_sql(subject, "trim"), ctx.binder)
        span = 2 * ctx.max_shift_days
        n = f"(CAST(('0x' || left({h}, 8)) AS BIGINT) % {span})"
        r = ctx.max_shift_days
        # n in [0, 2R) -> a shift in [-R, R] without 0: every date moves
        shift = f"(CASE WHEN {n} < {r} THEN {n} - {r} ELSE {n} - {r} + 1 END)"
        t = column_type.upper()
        if t == "DATE":
            return f"({c} + CAST({shift} AS INTEGER))"
        if t.startswith("TIMESTAMP"):
            return f"CAST({c} + to_days(CAST({shift} AS INTEGER)) AS {column_type})"
        return f"CAST(TRY_CAST({c} AS DATE) + CAST({shift} AS INTEGER) AS VARCHAR)"
    if m is Method.freetext:
        return freetext_sql(c, ctx.hmac_key, ctx.binder)
    if m is Method.null:
        return f"CAST(NULL AS {column_type})"
    return None


_PHONE_NAME = re.compile(r"phone|tel|mobil|movil|móvil|celular|κινητ|τηλ|handy|gsm|fax", re.I)


def infer_normalization(column: str, sample: list[str]) -> str:
    """A normalisation for identifier values with no declared kind: by shape and name."""
    values = [s.strip() for s in sample if s and s.strip()]
    if not values:
        return "trim"

    def share(pattern: str) -> float:
        rx = re.compile(pattern)
        return sum(bool(rx.fullmatch(v)) for v in values) / len(values)

    if share(_FT_EMAIL) >= 0.8:
        return "email"
    if share(r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{8,36}") >= 0.8:
        return "compact"
    phone_shaped = share(r"(?:\+|00)?[0-9 ().\-/]{6,20}") >= 0.8
    if phone_shaped and (_PHONE_NAME.search(column) or share(r"(?:\+|00)[0-9].*") >= 0.5):
        return "e164"
    return "trim"
