"""Value-shape metrics, each in two equivalent forms: an SQL count and a Python predicate.

The Python form runs on the batch's reservoir sample to decide which shapes are worth
counting; the SQL form then counts those over every row of the column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import regex

import tutela.detect.patterns as P
from tutela.base.sql import sql_literal
from tutela.detect.validators import ID_SPECS, IdentifierSpec

# Compacted identifier form, the same in SQL and Python (see `compact_sql`).
_COMPACT_CHARS = (" ", "-", ".", "/")


def compact_py(value: str) -> str | None:
    if len(value) > 40:
        return None
    for ch in _COMPACT_CHARS:
        value = value.replace(ch, "")
    return value.upper()


def compact_sql(v: str) -> str:
    expr = v
    for ch in _COMPACT_CHARS:
        expr = f"replace({expr}, '{ch}', '')"
    return f"CASE WHEN length({v}) <= 40 THEN upper({expr}) END"


@cache
def _rx(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


@dataclass(frozen=True)
class Shape:
    """A metric: `sql(v, k)` is a boolean SQL condition, `py(v, k)` the same in Python."""

    name: str
    sql: Callable[[str, str], str]
    py: Callable[[str, str | None], bool]


def _full(pattern: str, on_compact: bool = False) -> Shape:
    def sql(v: str, k: str) -> str:
        return f"regexp_full_match({k if on_compact else v}, {sql_literal(pattern)})"

    def py(v: str, k: str | None) -> bool:
        target = k if on_compact else v
        return target is not None and _rx(pattern).fullmatch(target) is not None

    return Shape("", sql, py)


def _named(name: str, shape: Shape) -> Shape:
    return Shape(name, shape.sql, shape.py)


def _and_sql(*parts: str) -> str:
    return "(" + " AND ".join(parts) + ")"


# (shape regex, over the raw value?) -> metric name ("id0", ...); specs sharing a shape
# share one count.
ID_SHAPES: dict[tuple[str, bool], str] = {}
for _spec in ID_SPECS:
    ID_SHAPES.setdefault((_spec.shape, _spec.on_raw), f"id{len(ID_SHAPES)}")


def id_metric(spec: IdentifierSpec) -> str:
    return ID_SHAPES[(spec.shape, spec.on_raw)]


@cache
def any_id(metrics: tuple[str, ...]) -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """One pattern (over the compacted value, over the raw value) matching any of the
    identifier shapes of these metrics: one pass tells whether a value can be any of them."""
    shapes = [key for key, metric in ID_SHAPES.items() if metric in metrics]
    compact_alts = "|".join(f"(?:{p})" for p, raw in shapes if not raw) or "(?!)"
    raw_alts = "|".join(f"(?:{p})" for p, raw in shapes if raw) or "(?!)"
    return regex.compile(compact_alts), regex.compile(raw_alts)


# metric -> the specs counted by it
METRIC_SPECS: dict[str, list[IdentifierSpec]] = {}
for _spec in ID_SPECS:
    METRIC_SPECS.setdefault(id_metric(_spec), []).append(_spec)


def _build() -> dict[str, Shape]:
    email = _full(P.EMAIL)
    phone = _full(P.PHONE)
    ssn = _full(P.SSN_DASHED)
    date = _full(P.DATE)
    ipv4 = _full(P.IPV4)
    ipv6 = _full(P.IPV6_SHAPE)
    mac = _full(P.MAC)
    uuid = _full(P.UUID)
    name = _full(P.NAME)
    shapes = [
        Shape(
            "email",
            lambda v, k: _and_sql(f"contains({v}, '@')", email.sql(v, k)),
            lambda v, k: "@" in v and email.py(v, k),
        ),
        _named("phone", phone),
        Shape(
            "phone_fmt",
            lambda v, k: _and_sql(
                phone.sql(v, k), f"regexp_matches({v}, {sql_literal(P.PHONE_FORMATTED)})"
            ),
            lambda v, k: phone.py(v, k) and _rx(P.PHONE_FORMATTED).search(v) is not None,
        ),
        Shape(
            "ssn_dashed",
            lambda v, k: _and_sql(f"length({v}) = 11", ssn.sql(v, k)),
            lambda v, k: len(v) == 11 and ssn.py(v, k),
        ),
        _named("date", date),
        Shape(
            "ipv4",
            lambda v, k: _and_sql(f"length({v}) <= 15", ipv4.sql(v, k)),
            lambda v, k: len(v) <= 15 and ipv4.py(v, k),
        ),
        Shape(
            "ipv6",
            lambda v, k: _and_sql(
                f"contains({v}, ':')",
                ipv6.sql(v, k),
                f"length({v}) - length(replace({v}, ':', '')) >= 2",
            ),
            lambda v, k: v.count(":") >= 2 and ipv6.py(v, k),
        ),
        Shape(
            "mac",
            lambda v, k: _and_sql(f"length({v}) BETWEEN 14 AND 17", mac.sql(v, k)),
            lambda v, k: 14 <= len(v) <= 17 and mac.py(v, k),
        ),
        Shape(
            "uuid",
            lambda v, k: _and_sql(f"length({v}) IN (32, 36)", uuid.sql(v, k)),
            lambda v, k: len(v) in (32, 36) and uuid.py(v, k),
        ),
        _named("token", _full(P.TOKEN)),
        Shape(
            "cookie",
            lambda v, k: _and_sql(
                f"length({v}) <= 4096",
                f"(contains({v}, 'GA') OR contains({v}, 'fb.') OR contains({v}, 'gcl'))",
                f"regexp_matches({v}, {sql_literal(P.COOKIE)})",
            ),
            lambda v, k: _rx(P.COOKIE).search(v) is not None,
        ),
        _named("geo", _full(P.GEO_PAIR)),
        _named("geo3", _full(P.GEO_PAIR_PRECISE)),
        Shape(
            "address",
            lambda v, k: _and_sql(
                f"length({v}) <= 300",
                f"regexp_matches({v}, '[0-9]')",
                f"(regexp_matches(lower({v}), {sql_literal(P.ADDRESS)}) OR "
                f"regexp_matches({v}, {sql_literal(P.ADDRESS_CASED)}))",
            ),
            lambda v, k: (
                len(v) <= 300
                and any(c.isdigit() for c in v)
                and (
                    _rx(P.ADDRESS).search(v.lower()) is not None
                    or _rx(P.ADDRESS_CASED).search(v) is not None
                )
            ),
        ),
        Shape(
            "name",
            lambda v, k: _and_sql(f"length({v}) <= 80", name.sql(v, k)),
            lambda v, k: len(v) <= 80 and name.py(v, k),
        ),
        Shape(
            "namelist",
            lambda v, k: _and_sql(
                f"length({v}) <= 80",
                name.sql(v, k),
                f"regexp_matches(lower({v}), {sql_literal(P.names_regex())})",
            ),
            lambda v, k: len(v) <= 80 and name.py(v, k) and P.has_listed_name(v),
        ),
        Shape(
            "prose",
            lambda v, k: _and_sql(
                f"length({v}) >= {P.FREE_TEXT_MIN_LEN}",
                f"regexp_matches({v}, {sql_literal(P.PROSE)})",
            ),
            lambda v, k: len(v) >= P.FREE_TEXT_MIN_LEN and _rx(P.PROSE).search(v) is not None,
        ),
    ]
    for (pattern, raw), metric in ID_SHAPES.items():
        shapes.append(_named(metric, _full(pattern, on_compact=not raw)))
    return {s.name: s for s in shapes}


SHAPES: dict[str, Shape] = _build()

# Shapes counted only when the header asks for them (cheap, and meaningless otherwise).
HINTED: dict[str, Shape] = {
    "dob": Shape(
        "dob",
        lambda v, k: _and_sql(
            SHAPES["date"].sql(v, k),
            f"TRY_CAST(regexp_extract({v}, {sql_literal(P.YEAR)}, 1) AS INTEGER) "
            "BETWEEN 1900 AND year(current_date)",
        ),
        lambda v, k: False,
    ),
    "passport": _named("passport", _full(P.PASSPORT, on_compact=True)),
    "postcode": _named("postcode", _full(P.POSTCODE)),
    "age": _named("age", _full(P.AGE)),
    "idlike": Shape(
        "idlike",
        lambda v, k: _and_sql(
            f"regexp_full_match({k}, {sql_literal(P.ID_LIKE)})",
            f"regexp_matches({k}, {sql_literal(P.ID_LIKE_DIGITS)})",
        ),
        lambda v, k: False,
    ),
    # A date whose year puts its holder between 14 and 100 years old today.
    "dob_range": Shape(
        "dob_range",
        lambda v, k: _and_sql(
            SHAPES["date"].sql(v, k),
            f"TRY_CAST(regexp_extract({v}, {sql_literal(P.YEAR)}, 1) AS INTEGER) "
            "BETWEEN year(current_date) - 100 AND year(current_date) - 14",
        ),
        lambda v, k: False,
    ),
    # Under an address header: a house number and words, whatever the street type
    # (`17 Jones Light`, `ΔΑΓΛΗ 82`, `Agnes-Wesack-Straße 26-83`, `Borgo Rossi 5`).
    "addr_loose": Shape(
        "addr_loose",
        lambda v, k: _and_sql(
            f"length({v}) BETWEEN 6 AND 200",
            f"(regexp_matches({v}, {sql_literal(P.ADDRESS_LOOSE_NUMBER_FIRST)}) OR "
            f"regexp_matches({v}, {sql_literal(P.ADDRESS_LOOSE_NUMBER_LAST)}))",
        ),
        lambda v, k: False,
    ),
    "letters": Shape(
        "letters", lambda v, k: f"NOT regexp_matches({v}, '[0-9@]')", lambda v, k: False
    ),
}
