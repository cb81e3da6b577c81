"""The scan engine: per-column signals computed in DuckDB, validated in Python, classified.

How a table is scanned
----------------------
1. **Header hints** (`headers.py`): every column name is folded (case, accents, separators,
   camelCase, nested `a.b.c` paths) and matched against keywords in ten languages.
2. **Value shapes over every row, in SQL**: one aggregate query per batch of
   `BATCH_COLUMNS` columns counts, for each column, the non-empty values and how many
   match each shape (e-mail, phone, each identifier form over the compacted value, IPv4/6,
   MAC, UUID, coordinates, street address, date, name shape, name-list hit, prose).
   Values are cast with `TRY_CAST(... AS VARCHAR)` and cut to 4,096 characters first;
   BOOLEAN, BLOB and non-integer numbers without an identifying header are not analysed.
3. **Validation on a bounded sample**: for columns where a shape needing a checksum or a
   parser matched, one query draws a reservoir sample of up to `SAMPLE_ROWS` non-empty
   values (with the table's country column, if any); the distinct shape-matching values
   among them (at most `MAX_VALIDATE`) are checked with python-stdnum / phonenumbers /
   ipaddress. The valid share is applied to the whole-column shape count:
   `matched = shape_count * valid / checked`; both counts go into evidence.
4. **Free text** (prose columns, nested values) goes through presidio (`freetext.py`) on
   at most `MAX_FREE_TEXT` distinct values pre-filtered in SQL to those that can hold an
   entity.
5. **Classification** (`_classify`): a column is an entity when most (>= 50 %) of its
   non-empty values are that entity. Confidence, in [0, 1]::

       value_score = fraction * quality
       confidence  = 1 - (1 - value_score) * (1 - 0.5 * header_strength)

   `fraction` is the validated share of non-empty values, `quality` how specific the
   signal is (1.0 checksum, 0.97 e-mail, 0.95 IP/MAC/coordinates, 0.9 phone, 0.85
   address, 0.5-1.0 names depending on name-list hits), `header_strength` 1.0 / 0.8 /
   0.7 when the header names the same entity, else 0. Entities that values cannot tell
   apart on their own (date of birth, passport, online ids, 9-digit SSNs, bare-digit
   phones) need the header hint; a header hint alone never flags a column whose values
   do not match.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from tutela.base.errors import EngineError, TableNotFoundError
from tutela.base.identifiers import Holder, Strength
from tutela.base.progress import ProgressCallback, no_progress
from tutela.base.sql import sql_literal
from tutela.detect import headers as H
from tutela.detect import patterns as P
from tutela.detect import shapes as S
from tutela.detect.mask import mask
from tutela.detect.model import CATEGORIES, QUASI_CATEGORIES, ColumnFinding, TableScan
from tutela.detect.placeholders import is_placeholder, missing_sql
from tutela.detect.validators import (
    ID_SPECS,
    TAX_FORM_OF,
    IdentifierSpec,
    bare_mobile_region,
    compact,
    phone_region,
    regions_with,
)
from tutela.engine import Connection, SqlError
from tutela.workspace import LocalTables, TableReader, quote_ident

BATCH_COLUMNS = 40
SAMPLE_ROWS = 4000
MAX_VALIDATE = 2000
MAX_FREE_TEXT = 1000
MAX_CELL = 4096
MAJORITY = 0.5
SPARSE_SHARE = 0.05  # a column where this share of values is personal data is reported
SPARSE_MIN = 3  # ... when at least this many values are
GIVE_UP_AFTER = 100

_BINARY_TYPES = ("BLOB", "BIT", "BYTEA", "VARBINARY")
_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_FRACTIONAL_TYPES = ("FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC")
_TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIME", "INTERVAL")
_NESTED_MARKERS = ("[]", "STRUCT", "MAP(", "UNION(", "[")
# Header kinds that make a numeric column worth analysing.
_NUMERIC_HINT_KINDS = {
    "PHONE_NUMBER",
    "NATIONAL_ID",
    "TAX_ID",
    "CREDIT_CARD",
    "IBAN_CODE",
    "PASSPORT",
    "GEOLOCATION",
    H.LATITUDE,
    H.LONGITUDE,
    H.POSTCODE,
    H.AGE,
    "ONLINE_ID",
}

# Header kinds that contradict a column of national-format phone numbers.
_PHONE_CONTRADICTING = frozenset(
    {
        "NATIONAL_ID",
        "TAX_ID",
        "PASSPORT",
        "IBAN_CODE",
        "CREDIT_CARD",
        "DATE_OF_BIRTH",
        "IP_ADDRESS",
        "MAC_ADDRESS",
        "ONLINE_ID",
        "GEOLOCATION",
        H.POSTCODE,
        H.AGE,
        H.LATITUDE,
        H.LONGITUDE,
    }
)


@dataclass
class _Column:
    index: int
    name: str
    data_type: str
    hints: list[H.HeaderHint]
    mode: str  # "text", "temporal", "nested" or "skip"
    skip_reason: str | None = None
    stats: dict[str, int | float | None] = field(default_factory=dict)
    sample: list[tuple[str, str | None]] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    named: tuple[IdentifierSpec, ...] = ()  # identifier specs the header names
    placeholders: bool = False  # the sample held placeholder strings: count them as missing

    def hint(self, kind: str) -> H.HeaderHint | None:
        return H.hint_for(self.hints, kind)

    def strength(self, *kinds: str) -> float:
        return max((h.strength for h in self.hints if h.kind in kinds), default=0.0)


@dataclass
class _Candidate:
    entity: str
    subtype: str | None
    fraction: float
    quality: float
    header: float
    matched: int
    evidence: dict[str, Any]
    pattern: re.Pattern[str] | None = None  # to pick masked examples from the sample
    validator: Any = None
    sparse_ok: bool = False  # specific enough to count in a small share of values

    @property
    def confidence(self) -> float:
        value = min(1.0, self.fraction) * self.quality
        return round(min(0.99, 1 - (1 - value) * (1 - 0.5 * self.header)), 2)


# -- SQL ------------------------------------------------------------------------------


def _raw_expr(col: _Column) -> str:
    ident = quote_ident(col.name)
    dtype = col.data_type.upper()
    varchar = dtype == "VARCHAR" or dtype.startswith("VARCHAR(")
    src = ident if varchar else f"TRY_CAST({ident} AS VARCHAR)"
    return f"nullif(trim(left({src}, {MAX_CELL})), '')"


def _clean(col: _Column, raw: str) -> str:
    """`raw` with placeholder strings turned into NULL, when the column has any."""
    if not col.placeholders:
        return raw
    return f"CASE WHEN {missing_sql(raw)} THEN NULL ELSE {raw} END"


def _value_expr(col: _Column) -> str:
    """The column's trimmed text value, NULL when empty or a placeholder."""
    return _clean(col, _raw_expr(col))


GATE_SHARE = 0.05  # a shape seen in fewer sampled values is not counted over the column
GATE_VALUES = 1000  # sampled values the gate looks at
SPARSE_SAMPLE = 50  # fewer sampled values than this: count every shape, no gating


def _gate(col: _Column) -> list[str]:
    """The shapes worth counting over the whole column, judged on its sampled values."""
    values = [v for v, _ in col.sample[:GATE_VALUES]]
    if len(values) < SPARSE_SAMPLE:
        return list(S.SHAPES)
    compacts = [S.compact_py(v) for v in values]
    # Only identifiers this column's header would let through; one combined pattern of
    # their shapes tells which values can match any of them at all.
    eligible = tuple(
        m for m, specs in S.METRIC_SPECS.items() if any(_may_count(col, s) for s in specs)
    )
    on_compact, on_raw = S.any_id(eligible)
    id_values = [
        (v, k)
        for v, k in zip(values, compacts, strict=True)
        if (k is not None and on_compact.fullmatch(k)) or on_raw.fullmatch(v)
    ]
    enabled = []
    for name, shape in S.SHAPES.items():
        if name == "token" and not col.hint("ONLINE_ID"):
            continue  # opaque tokens only matter in a cookie/device column
        if name in S.METRIC_SPECS and name not in eligible:
            continue
        pairs = id_values if name.startswith("id") else zip(values, compacts, strict=True)
        hits = sum(1 for v, k in pairs if shape.py(v, k))
        if hits / len(values) >= GATE_SHARE:
            enabled.append(name)
    return enabled


# Header kinds naming an identifier: with ID-like values but no validator, still reported.
_ID_KINDS = ("NATIONAL_ID", "TAX_ID", "PASSPORT", "IBAN_CODE")


def _values_only(col: _Column) -> bool:
    """The header says nothing (`c7`, `field_8`, `ATTR1`, no header row): values decide."""
    return not col.hints and H.meaningless(col.name)


def _may_count(col: _Column, spec: IdentifierSpec) -> bool:
    """Whether `spec` can be a candidate in this column (see `_candidates`)."""
    if not (spec.needs_hint or spec.strength is Strength.NONE):
        return True
    if spec in col.named:
        return True
    named_personal = any(s.personal for s in col.named)
    return not named_personal and spec.entity is not None and col.hint(spec.entity) is not None


def _column_aggs(col: _Column, v: str, k: str) -> list[tuple[str, str]]:
    """(metric, SQL aggregate) for one column."""
    ident = quote_ident(col.name)
    if col.mode == "temporal":
        aggs = [("nn", f"count({ident})")]
        if col.hint("DATE_OF_BIRTH"):
            aggs.append(
                (
                    "dob",
                    f"count(*) FILTER (TRY_CAST({ident} AS DATE) BETWEEN DATE '1900-01-01' "
                    "AND current_date)",
                )
            )
        elif _values_only(col) and col.data_type.upper().startswith(("DATE", "TIMESTAMP")):
            # No useful header: birth dates are told by the ages they give (see `_dob_by_values`).
            year = f"year(TRY_CAST({ident} AS DATE))"
            aggs += [
                ("distinct", f"approx_count_distinct({ident})"),
                (
                    "dob_range",
                    f"count(*) FILTER ({year} BETWEEN year(current_date) - 100 "
                    "AND year(current_date) - 14)",
                ),
                ("year_sd", f"stddev_pop({year})"),
                ("timed", f"count(*) FILTER (TRY_CAST({ident} AS TIME) <> TIME '00:00:00')"),
            ]
        return aggs
    aggs = [
        ("nn", f"count({v})"),
        ("distinct", f"approx_count_distinct({v})"),
        ("avglen", f"avg(length({v}))"),
        ("maxlen", f"max(length({v}))"),
    ]
    for name in col.enabled:
        aggs.append((name, f"count(*) FILTER ({S.SHAPES[name].sql(v, k)})"))
    hinted = {
        "dob": "DATE_OF_BIRTH",
        "passport": "PASSPORT",
        "postcode": H.POSTCODE,
        "age": H.AGE,
        "letters": H.CITY,
        "addr_loose": "POSTAL_ADDRESS",
    }
    for name, kind in hinted.items():
        if col.hint(kind):
            aggs.append((name, f"count(*) FILTER ({S.HINTED[name].sql(v, k)})"))
    if any(col.hint(kind) for kind in _ID_KINDS):
        aggs.append(("idlike", f"count(*) FILTER ({S.HINTED['idlike'].sql(v, k)})"))
    if "date" in col.enabled and _values_only(col):
        year = f"TRY_CAST(regexp_extract({v}, {sql_literal(P.YEAR)}, 1) AS INTEGER)"
        aggs.append(("dob_range", f"count(*) FILTER ({S.HINTED['dob_range'].sql(v, k)})"))
        aggs.append(("year_sd", f"stddev_pop({year}) FILTER ({S.SHAPES['date'].sql(v, k)})"))
    if col.hint(H.LATITUDE) or col.hint(H.LONGITUDE) or col.hint("GEOLOCATION"):
        limit = 90 if col.hint(H.LATITUDE) else 180
        aggs.append(("coord", f"count(*) FILTER (abs(TRY_CAST({v} AS DOUBLE)) <= {limit})"))
        aggs.append(
            (
                "coord3",
                f"count(*) FILTER (abs(TRY_CAST({v} AS DOUBLE)) <= {limit} AND "
                f"regexp_full_match({v}, {sql_literal(P.DECIMALS3)}))",
            )
        )
    return aggs


def _aggregate(con: Connection, source: str, cols: Sequence[_Column]) -> None:
    """ONE aggregate query over a batch of columns; the counts land in each column's stats."""
    values: list[str] = []
    cleaned: list[str] = []
    passthrough: list[str] = []
    outer: list[str] = []
    keys: list[tuple[_Column, str]] = []
    for col in cols:
        v, k = f"v{col.index}", f"k{col.index}"
        aggs = _column_aggs(col, v, k)
        if col.mode == "temporal":
            values.append(quote_ident(col.name))
            cleaned.append(quote_ident(col.name))
            passthrough.append(quote_ident(col.name))
        else:
            # raw -> placeholders dropped -> (value, compacted value); each step computed once
            values.append(f"{_raw_expr(col)} AS {v}")
            cleaned.append(f"{_clean(col, v)} AS {v}")
            passthrough.append(v)
            if col.placeholders:
                cleaned.append(f"{v} IS NOT NULL AS r{col.index}")
                passthrough.append(f"r{col.index}")
                aggs.append(("raw_nn", f"count(*) FILTER (r{col.index})"))
            if any(f"{k}," in agg or f"{k})" in agg for _, agg in aggs):
                passthrough.append(f"{S.compact_sql(v)} AS {k}")
        for metric, agg in aggs:
            outer.append(f'{agg} AS "m{len(keys)}"')
            keys.append((col, metric))
    if not keys:
        return
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(passthrough)} "
        f"FROM (SELECT {', '.join(cleaned)} FROM (SELECT {', '.join(values)} FROM {source})))"
    )
    try:
        row = con.execute(sql).fetchone()
    except SqlError as exc:
        raise EngineError(f"scan query failed: {str(exc).splitlines()[0]}") from exc
    assert row is not None
    for (col, metric), value in zip(keys, row, strict=True):
        col.stats[metric] = float(value) if isinstance(value, float) else value


def _sample_batch(
    con: Connection,
    source: str,
    cols: Sequence[_Column],
    country: _Column | None,
) -> None:
    """One reservoir sample of rows for the batch; each column keeps its non-empty values."""
    text = [c for c in cols if c.mode != "temporal"]
    if not text:
        return
    exprs = [_raw_expr(c) for c in text]
    exprs.append(_value_expr(country) if country is not None else "NULL")
    sql = (
        f"SELECT {', '.join(exprs)} FROM {source} "
        f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"
    )
    try:
        rows = con.execute(sql).fetchall()
    except SqlError as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc
    for i, col in enumerate(text):
        values = [
            (str(r[i]), None if r[-1] is None else str(r[-1])) for r in rows if r[i] is not None
        ]
        col.sample = [(v, c) for v, c in values if not is_placeholder(v)]
        col.placeholders = len(col.sample) < len(values)


def _sample(
    con: Connection, source: str, col: _Column, country: _Column | None
) -> list[tuple[str, str | None]]:
    """Up to SAMPLE_ROWS non-empty values of one sparse column, with the row's country."""
    v = _value_expr(col)
    c = _value_expr(country) if country is not None else "NULL"
    sql = (
        f"SELECT v, c FROM (SELECT {v} AS v, {c} AS c FROM {source} "
        f"WHERE {quote_ident(col.name)} IS NOT NULL) "
        f"WHERE v IS NOT NULL USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"
    )
    try:
        return [(str(a), None if b is None else str(b)) for a, b in con.execute(sql).fetchall()]
    except SqlError as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc


# -- classification ------------------------------------------------------------------


def _validate(
    sample: list[tuple[str, str | None]],
    shape: re.Pattern[str],
    check: Any,
    *,
    on_compact: bool,
    give_up_below: float | None = None,
) -> tuple[int, int, list[str]]:
    """(valid, checked, valid examples) over distinct shape-matching sampled values.

    With `give_up_below`, checking stops after `GIVE_UP_AFTER` values when fewer than that
    share are valid: the candidate cannot win, and a weak checksum passed by one random
    number in ten need not be run two thousand times to say so.
    """
    seen: dict[str, str | None] = {}
    for value, country in sample:
        key = compact(value) if on_compact else value.strip()
        if shape.search(key) and value not in seen:
            seen[value] = country
            if len(seen) >= MAX_VALIDATE:
                break
    valid = checked = 0
    examples: list[str] = []
    for value, country in seen.items():
        checked += 1
        if check(value, country):
            valid += 1
            if len(examples) < 3:
                examples.append(value)
        stop = give_up_below is not None and checked == GIVE_UP_AFTER
        if stop and valid < (give_up_below or 0.0) * checked:
            break
    return valid, checked, examples


def _is_ipv6(value: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address)
    except ValueError:
        return False


def _stat(col: _Column, metric: str) -> int:
    value = col.stats.get(metric) or 0
    return int(value)


def _candidates(col: _Column, sample: list[tuple[str, str | None]] | None) -> list[_Candidate]:
    nn = _stat(col, "nn")
    out: list[_Candidate] = []
    if nn == 0:
        return out
    negative = col.hint(H.NEGATIVE) is not None
    samples = sample or []

    def frac(metric: str) -> float:
        return _stat(col, metric) / nn

    def simple(
        entity: str,
        metric: str,
        quality: float,
        subtype: str | None = None,
        pattern: str | None = None,
        header: float | None = None,
        sparse_ok: bool = False,
    ) -> None:
        count = _stat(col, metric)
        if count:
            out.append(
                _Candidate(
                    entity,
                    subtype,
                    count / nn,
                    quality,
                    col.strength(entity) if header is None else header,
                    count,
                    {"value_pattern": {metric: round(count / nn, 4)}},
                    re.compile(pattern) if pattern else None,
                    sparse_ok=sparse_ok,
                )
            )

    simple("EMAIL_ADDRESS", "email", 0.97, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", sparse_ok=True)
    simple("MAC_ADDRESS", "mac", 0.95, pattern=P.MAC)
    # IPv4 in SQL is exact; IPv6 shapes are confirmed by `ipaddress` on the sample.
    v4 = _stat(col, "ipv4")
    v6 = _stat(col, "ipv6")
    if v4 or v6:
        valid6 = checked6 = 0
        if v6:
            valid6, checked6, _ = _validate(
                samples, re.compile(":"), lambda v, _c: _is_ipv6(v), on_compact=False
            )
        count6 = round(v6 * valid6 / checked6) if checked6 else 0
        count = v4 + count6
        if count:
            out.append(
                _Candidate(
                    "IP_ADDRESS",
                    # one version only gets its subtype; a mixed column is just IP_ADDRESS
                    "IPV4" if v4 >= 0.95 * count else "IPV6" if count6 >= 0.95 * count else None,
                    count / nn,
                    0.95,
                    col.strength("IP_ADDRESS"),
                    count,
                    {
                        "value_pattern": {"ipv4": round(v4 / nn, 4), "ipv6": round(v6 / nn, 4)},
                        "validated": {"ipv6": {"valid": valid6, "checked": checked6}},
                    },
                    re.compile(r"^[0-9A-Fa-f:.]+$"),
                    sparse_ok=True,
                )
            )
    # Identifiers: shape over all rows, checksum over the sampled distinct values.
    for spec in ID_SPECS:
        shape_count = _stat(col, S.id_metric(spec))
        # strong checks also count when only a few values hold them (sparse columns)
        floor = SPARSE_SHARE if spec.strength is Strength.STRONG else 0.2
        if not shape_count or shape_count / nn < floor:
            continue
        # A header naming specific identifiers (`nie`, `afm`) lets only those of them
        # that need a header through; a generic one (`national_id`) lets all of its entity.
        if not _may_count(col, spec):
            continue
        _id_candidate(col, spec, shape_count, nn, samples, out)
    if _stat(col, "ssn_dashed") / nn >= 0.2:
        spec = next(s for s in ID_SPECS if s.code == "US_SSN")
        _id_candidate(col, spec, _stat(col, "ssn_dashed"), nn, samples, out)
    _mixed_id_candidates(col, nn, samples, out)
    # Phones: national formats need a phone header (or visible phone formatting).
    phone_hint = col.strength("PHONE_NUMBER")
    metric = "phone" if phone_hint else "phone_fmt"
    # A header naming something else (NationalID, ZipCode, Birthday) leaves only numbers
    # written in international form to be phones: the national formats of ten regions
    # are too weak a shape to override it.
    contradicted = not phone_hint and any(
        h.kind in _PHONE_CONTRADICTING and h.strength >= 0.7 for h in col.hints
    )
    if _stat(col, metric) and _stat(col, metric) / nn >= 0.2 and not (negative and not phone_hint):
        fmt = re.compile(P.PHONE_FORMATTED)
        intl = re.compile(r"^\s*(?:\+|00)")
        shape = re.compile(r"^(?:\+|00)?[0-9(][0-9 ().\-/]{5,22}[0-9]$")

        def phone_ok(value: str, country: str | None) -> bool:
            if not phone_hint and not fmt.search(value):
                return False
            if contradicted and not intl.search(value):
                return False
            return phone_region(value, regions_with(country), lenient=bool(phone_hint)) is not None

        valid, checked, _ = _validate(samples, shape, phone_ok, on_compact=False)
        if checked:
            count = round(_stat(col, metric) * valid / checked)
            regions: dict[str, int] = {}
            for value, country in samples[:500]:
                ok = shape.search(value) and phone_ok(value, country)
                region = (
                    phone_region(value, regions_with(country), lenient=bool(phone_hint))
                    if ok
                    else None
                )
                if region:
                    regions[region] = regions.get(region, 0) + 1
            out.append(
                _Candidate(
                    "PHONE_NUMBER",
                    None,
                    count / nn,
                    0.9,
                    phone_hint,
                    count,
                    {
                        "value_pattern": {metric: round(_stat(col, metric) / nn, 4)},
                        "validated": {"phonenumbers": {"valid": valid, "checked": checked}},
                        "regions": dict(sorted(regions.items(), key=lambda kv: -kv[1])[:5]),
                    },
                    shape,
                    lambda v, c: phone_ok(v, c),
                    sparse_ok=True,
                )
            )
    if not phone_hint and not contradicted and not negative:
        _bare_phone_candidate(col, nn, samples, out)
    # Coordinates: a pair in one column, or lat/lon columns named as such.
    if _stat(col, "geo"):
        precise = _stat(col, "geo3")
        if precise:
            out.append(
                _Candidate(
                    "GEOLOCATION",
                    None,
                    precise / nn,
                    0.95,
                    col.strength("GEOLOCATION"),
                    precise,
                    {
                        "value_pattern": {
                            "lat_lon_pair": round(frac("geo"), 4),
                            "precise_3_decimals": round(precise / nn, 4),
                        }
                    },
                    re.compile(P.GEO_PAIR_PRECISE.replace(r"\s", " ")),
                )
            )
    if "coord3" in col.stats and _stat(col, "coord3"):
        out.append(
            _Candidate(
                "GEOLOCATION",
                None,
                frac("coord3"),
                0.9,
                col.strength(H.LATITUDE, H.LONGITUDE, "GEOLOCATION"),
                _stat(col, "coord3"),
                {
                    "value_pattern": {
                        "coordinate": round(frac("coord"), 4),
                        "precise_3_decimals": round(frac("coord3"), 4),
                    }
                },
                re.compile(P.DECIMALS3),
            )
        )
    simple("POSTAL_ADDRESS", "address", 0.85, pattern=r"[0-9]")
    if "addr_loose" in col.stats and col.strength("POSTAL_ADDRESS") >= 0.7:
        # the header says address: a number and words will do, at lower confidence
        simple("POSTAL_ADDRESS", "addr_loose", 0.7, pattern=r"[0-9]")
    if "dob" in col.stats:
        count = _stat(col, "dob")
        if count:
            out.append(
                _Candidate(
                    "DATE_OF_BIRTH",
                    None,
                    count / nn,
                    0.9,
                    col.strength("DATE_OF_BIRTH"),
                    count,
                    {"value_pattern": {"plausible_birth_date": round(count / nn, 4)}},
                    re.compile(r"[0-9]"),
                )
            )
    if "passport" in col.stats and _stat(col, "passport"):
        simple("PASSPORT", "passport", 0.8, pattern=P.PASSPORT)
    # Online ids: only with a cookie/device/advertising header; a bare uuid is internal.
    online = col.hint("ONLINE_ID")
    if online:
        count = max(_stat(col, "uuid"), _stat(col, "token"))
        if count:
            out.append(
                _Candidate(
                    "ONLINE_ID",
                    "UUID" if _stat(col, "uuid") >= _stat(col, "token") else None,
                    count / nn,
                    0.9,
                    online.strength,
                    count,
                    {
                        "value_pattern": {
                            "uuid": round(frac("uuid"), 4),
                            "token": round(frac("token"), 4),
                        }
                    },
                    re.compile(r"^[A-Za-z0-9_\-.:]+$"),
                )
            )
    cookie = _stat(col, "cookie")
    if cookie:
        kinds = Counter(
            kind for v, _ in samples[:500] for kind, rx in _COOKIE_KINDS if rx.search(v)
        )
        out.append(
            _Candidate(
                "ONLINE_ID",
                kinds.most_common(1)[0][0] if kinds else None,
                cookie / nn,
                0.95,
                col.strength("ONLINE_ID"),
                cookie,
                {"value_pattern": {"analytics_cookie": round(cookie / nn, 4)}},
                re.compile(P.COOKIE),
                sparse_ok=True,
            )
        )
    _dob_by_values(col, nn, out)
    _person_candidate(col, nn, negative, out, samples)
    return out


_COOKIE_KINDS = tuple((kind, re.compile(rx)) for kind, rx in P.COOKIE_KINDS)


def _bare_phone_candidate(
    col: _Column, nn: int, samples: list[tuple[str, str | None]], out: list[_Candidate]
) -> None:
    """Phone numbers stored as bare digits (a BIGINT column, `34612345678`, no header).

    Bare digits are what most identifiers look like, so the bar is high: most distinct
    sampled values must be valid *mobile* numbers, mostly of one region, spread over the
    numbering space (consecutive customer numbers inside a mobile range are not phones).
    """
    count = _stat(col, "phone")
    if not count or count / nn < MAJORITY or _stat(col, "phone_fmt") / nn >= 0.2:
        return
    distinct = list(dict.fromkeys(v.strip() for v, _ in samples if v.strip().isdigit()))
    distinct = distinct[:BARE_PHONE_CHECK]
    if len(distinct) < BARE_PHONE_MIN:
        return
    regions: Counter[str] = Counter()
    for value in distinct:
        region = bare_mobile_region(value)
        if region:
            regions[region] += 1
    valid = sum(regions.values())
    share = valid / len(distinct)
    numbers = sorted(int(v) for v in distinct)
    spread = (numbers[-1] - numbers[0]) / len(numbers)
    if share < 0.8 or spread < 1000 or regions.most_common(1)[0][1] < 0.6 * valid:
        return
    matched = round(count * share)
    out.append(
        _Candidate(
            "PHONE_NUMBER",
            None,
            matched / nn,
            0.8,
            0.0,
            matched,
            {
                "value_pattern": {"phone_digits": round(count / nn, 4)},
                "validated": {"mobile_numbers": {"valid": valid, "checked": len(distinct)}},
                "regions": dict(regions.most_common(5)),
            },
            re.compile(r"^[0-9]+$"),
            lambda v, _c: bare_mobile_region(v.strip()) is not None,
        )
    )


BARE_PHONE_CHECK = 500
BARE_PHONE_MIN = 20
DOB_IN_RANGE = 0.9
DOB_YEAR_SD = 7.0


def _dob_by_values(col: _Column, nn: int, out: list[_Candidate]) -> None:
    """Dates of birth without a header: nearly all dates give an age between 14 and 100,
    spread over decades (event dates cluster in recent years; timestamps carry times)."""
    if "dob_range" not in col.stats:
        return
    dates = nn if col.mode == "temporal" else _stat(col, "date")
    in_range = _stat(col, "dob_range")
    sd = float(col.stats.get("year_sd") or 0.0)
    if not dates or dates / nn < 0.8 or in_range / dates < DOB_IN_RANGE or sd < DOB_YEAR_SD:
        return
    if col.mode == "temporal" and (
        _stat(col, "timed") > 0.05 * nn or _stat(col, "distinct") < min(0.3 * nn, 50)
    ):
        return
    out.append(
        _Candidate(
            "DATE_OF_BIRTH",
            None,
            in_range / nn,
            0.75,
            0.0,
            in_range,
            {
                "value_pattern": {
                    "age_14_to_100": round(in_range / nn, 4),
                    "birth_year_spread_sd": round(sd, 1),
                }
            },
            re.compile(r"[0-9]"),
        )
    )


def _id_candidate(
    col: _Column,
    spec: IdentifierSpec,
    shape_count: int,
    nn: int,
    samples: list[tuple[str, str | None]],
    out: list[_Candidate],
) -> None:
    shape = re.compile(spec.shape if spec.code != "US_SSN" else r"^[0-9]{9}$")
    valid, checked, _ = _validate(
        samples,
        shape,
        lambda v, _c: spec.validate(v),
        on_compact=not spec.on_raw,
        give_up_below=None if spec.strength is Strength.STRONG else 0.2,
    )
    if not checked:
        return
    count = round(shape_count * valid / checked)
    entity, subtype = (str(spec.entity) if spec.entity else ""), spec.code
    tax = col.hint("TAX_ID")
    if subtype in TAX_FORM_OF and tax and not col.hint("NATIONAL_ID"):
        entity, subtype = "TAX_ID", TAX_FORM_OF[subtype]
    header = 1.0 if spec in col.named else col.strength(entity)
    # A format or date check only (no checksum) proves less; a VAT number may be a company's.
    quality = 0.7 if spec.strength is Strength.NONE else 1.0
    if spec.holder is Holder.PERSON_OR_BUSINESS:
        quality *= 0.85
    out.append(
        _Candidate(
            entity,
            subtype,
            count / nn,
            quality,
            header,
            count,
            {
                "value_pattern": {subtype: round(shape_count / nn, 4)},
                "validated": {
                    subtype: {
                        "valid": valid,
                        "checked": checked,
                        "method": "checksum on distinct sampled values",
                    }
                },
            },
            shape,
            lambda v, _c: spec.validate(v),
            # a few valid values count only when values of this shape are mostly valid
            # (not one SKU in ten passing a check digit by chance)
            sparse_ok=spec.strength is Strength.STRONG and spec.personal and valid >= 0.5 * checked,
        )
    )


def _mixed_id_candidates(
    col: _Column, nn: int, samples: list[tuple[str, str | None]], out: list[_Candidate]
) -> None:
    """One entity written in several national forms (DNI, NIE, PESEL, NINO in one column).

    Judged on the sample: the share of sampled values valid under any form of the entity.
    """
    if not samples:
        return
    for entity in ("NATIONAL_ID", "TAX_ID"):
        # Forms with a real checksum only, and those needing a header only under one.
        specs = [
            s
            for s in ID_SPECS
            if s.entity == entity
            and s.strength is not Strength.NONE
            and (not s.needs_hint or col.hint(entity) or s in col.named)
            and _stat(col, S.id_metric(s)) > 0  # its shape occurs in the column at all
        ]
        if len(specs) < 2:
            continue  # a single form is covered by its own candidate
        subtypes: dict[str, int] = {}
        valid = 0
        for value, _country in samples[:MAX_VALIDATE]:
            k = compact(value)
            for spec in specs:
                if _shape_rx(spec.shape).search(k) and spec.validate(value):
                    subtypes[spec.code] = subtypes.get(spec.code, 0) + 1
                    valid += 1
                    break
        if len(subtypes) < 2:
            continue  # a single form is covered by its own candidate
        checked = min(len(samples), MAX_VALIDATE)
        share = valid / checked
        top = max(subtypes, key=lambda st: subtypes[st])
        reported = entity
        if (
            all(st in TAX_FORM_OF for st in subtypes)
            and col.hint("TAX_ID")
            and not col.hint("NATIONAL_ID")
        ):
            reported, top = "TAX_ID", TAX_FORM_OF[top]  # DNI + NIE under a `nif` header
        out.append(
            _Candidate(
                reported,
                top,
                share,
                0.95,
                col.strength(reported),
                round(share * nn),
                {
                    "validated": {
                        "mixed_forms": dict(sorted(subtypes.items())),
                        "valid": valid,
                        "checked": checked,
                        "method": "checksum on sampled values, any national form",
                    }
                },
                None,
                lambda v, _c, specs=specs: any(
                    re.search(sp.shape, compact(v)) and sp.validate(v) for sp in specs
                ),
            )
        )


@functools.cache
def _shape_rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_CATEGORY_DISTINCT = 12
_CATEGORY_SHARE = 0.02  # distinct values per non-empty value below which a column is labels
_CATEGORY_MAX = 50  # ... but never above this many: names in a large table repeat too
_HANDFUL = 5
_UNLISTED_DISTINCT_SHARE = 0.3
_UNLISTED_DISTINCT_MAX = 200


def _unlisted_names_min(nn: int) -> float:
    """Distinct values a name-headed column needs when its values are off the name list.

    Names, even surnames, rarely repeat much in a small table; labels do (`NameSet`:
    ~20 nationality words over 100 rows).
    """
    return max(_HANDFUL, min(_UNLISTED_DISTINCT_SHARE * nn, _UNLISTED_DISTINCT_MAX))


def _multi_token_share(samples: list[tuple[str, str | None]]) -> float:
    """Share of sampled values written as two or more words (`Laura Gómez`)."""
    values = [v for v, _ in samples[:GATE_VALUES]]
    return sum(1 for v in values if len(v.split()) >= 2) / len(values) if values else 0.0


def _person_candidate(
    col: _Column,
    nn: int,
    negative: bool,
    out: list[_Candidate],
    samples: list[tuple[str, str | None]],
) -> None:
    shaped = _stat(col, "name")
    listed = _stat(col, "namelist")
    hint = col.strength("PERSON")
    if not shaped or (negative and not hint):
        return
    list_share = listed / shaped
    distinct = _stat(col, "distinct")
    multi = _multi_token_share(samples)
    # A column repeating a few labels (`Czech`, `Japanese`; `Gold`, `Silver`) is a category,
    # whatever its header says; but a few full names repeated (the support agents of a
    # ticket table) are people.
    labels = nn >= 50 and distinct <= min(
        _CATEGORY_MAX, max(_CATEGORY_DISTINCT, _CATEGORY_SHARE * nn)
    )
    few_people = labels and multi >= 0.8 and list_share >= 0.5
    if not hint and (list_share < 0.25 or (labels and not few_people)):
        return
    if hint:
        # A `name` header alone is not evidence (spec: a header hint never flags a column
        # whose values contradict it): known names, or name-shaped values across most of
        # the column with more than a handful of distinct ones (surnames off the list).
        if labels and list_share < 0.5:
            return
        if list_share < 0.1 and (shaped / nn < 0.8 or distinct < _unlisted_names_min(nn)):
            return
    quality = 0.5 + 0.5 * min(1.0, list_share / 0.5)
    out.append(
        _Candidate(
            "PERSON",
            None,
            shaped / nn,
            quality,
            hint,
            shaped,
            {
                "value_pattern": {
                    "name_shape": round(shaped / nn, 4),
                    "name_list_hit": round(listed / nn, 4),
                    "multi_word": round(multi, 4),
                }
            },
            re.compile(r"^\w"),
            # names among other values: only under a header naming people, and known names
            sparse_ok=hint >= 0.7 and listed / nn >= SPARSE_SHARE,
        )
    )


def _examples(cand: _Candidate, sample: list[tuple[str, str | None]] | None) -> list[str]:
    out: list[str] = []
    for value, country in sample or []:
        if cand.pattern is not None and not cand.pattern.search(
            compact(value) if cand.subtype in _SUBTYPES_ON_COMPACT else value
        ):
            continue
        if cand.validator is not None and not cand.validator(value, country):
            continue
        masked = mask(value, cand.entity)
        if masked not in out:
            out.append(masked)
        if len(out) == 3:
            break
    return out


_SUBTYPES_ON_COMPACT = {s.code for s in ID_SPECS if not s.on_raw} | set(TAX_FORM_OF.values())


def _classify(
    col: _Column, sample: list[tuple[str, str | None]] | None
) -> tuple[ColumnFinding, float | None]:
    """The finding for one analysed column, and whether it still needs a free-text pass:
    None for no, else the share of rows with mentions it takes to report the column."""
    nn = _stat(col, "nn")
    finding = ColumnFinding(column=col.name, data_type=col.data_type, non_empty=nn)
    evidence: dict[str, Any] = {}
    if col.hints:
        evidence["header"] = [
            {"kind": h.kind, "keyword": h.keyword, "strength": h.strength} for h in col.hints
        ]
    if col.placeholders:
        evidence["placeholders"] = max(0, _stat(col, "raw_nn") - nn)
    if nn == 0:
        evidence["note"] = "no non-empty values"
        finding.evidence = evidence
        return finding, None
    if col.mode == "temporal" and "dob" not in col.stats and "dob_range" not in col.stats:
        evidence["note"] = "date/time values without a birth-date header are event timestamps"
        finding.evidence = evidence
        return finding, None
    cands = _candidates(col, sample)
    fired = {(c.entity or "business identifier"): round(c.fraction, 4) for c in cands}
    if fired:
        evidence["value_fractions"] = fired
    best = max(
        (c for c in cands if c.fraction >= MAJORITY),
        key=lambda c: (c.confidence, c.fraction),
        default=None,
    )
    if best is not None and not best.entity:
        # a company register number (CIF, SIREN, REGON ...): recognised, not personal data
        evidence.update(best.evidence)
        evidence["identifier"] = {"subtype": best.subtype, "personal": False}
        finding.evidence = evidence
        return finding, None
    if col.mode == "temporal" and best is None:
        evidence["note"] = "dates that are not birth dates (ages or spread do not fit)"
        finding.evidence = evidence
        return finding, None
    if best is not None:
        _report(finding, evidence, best, sample, nn)
        return finding, None
    # A small but real share of values is personal data (ticket subjects with e-mails, a
    # name column mostly filled with something else): reported as free text with mentions.
    sparse = max(
        (
            c
            for c in cands
            if c.sparse_ok and c.entity and c.fraction >= SPARSE_SHARE and c.matched >= SPARSE_MIN
        ),
        key=lambda c: (c.fraction * c.quality, c.fraction),
        default=None,
    )
    if sparse is not None:
        _report(finding, evidence, sparse, sample, nn)
        finding.free_text = True
        finding.confidence = round(
            min(finding.confidence, 0.5 + 0.4 * sparse.fraction / MAJORITY), 2
        )
        evidence["sparse"] = {"share": round(sparse.fraction, 4), "rows": finding.matched}
        return finding, None
    hinted = [h.kind for h in col.hints if h.kind in CATEGORIES]
    if _unvalidated_identifier(col, nn, evidence, finding):
        finding.evidence = evidence
        return finding, None
    if hinted:
        evidence["header_contradicted"] = f"values do not look like {hinted[0]}"
    prose = _stat(col, "prose") / nn if "prose" in col.stats else 0.0
    if (
        col.mode == "nested"
        or prose >= 0.3
        or (col.hint(H.FREE_TEXT) is not None and float(col.stats.get("avglen") or 0) >= 12)
    ):
        finding.evidence = evidence
        return finding, 0.0
    mentions = _mention_share(sample or [])
    if mentions >= SPARSE_SHARE:
        # short texts (subjects, titles) where some hold an e-mail, a phone or a name
        evidence["mentions_in_sample"] = round(mentions, 4)
        finding.evidence = evidence
        return finding, SPARSE_SHARE * 0.6
    _quasi(col, nn, evidence, finding)
    finding.evidence = evidence
    return finding, None


def _report(
    finding: ColumnFinding,
    evidence: dict[str, Any],
    cand: _Candidate,
    sample: list[tuple[str, str | None]] | None,
    nn: int,
) -> None:
    finding.entity = cand.entity
    finding.subtype = cand.subtype
    finding.category = CATEGORIES[cand.entity]
    finding.confidence = cand.confidence
    finding.matched = min(cand.matched, nn)
    evidence.update(cand.evidence)
    evidence["examples"] = _examples(cand, sample)
    finding.evidence = evidence


def _unvalidated_identifier(
    col: _Column, nn: int, evidence: dict[str, Any], finding: ColumnFinding
) -> bool:
    """A header naming an identifier Tutela has no validator for, over ID-like values:
    reported at low confidence rather than overruled. Not when the header names a type
    whose checksum the values just failed (`dni` over invalid DNIs)."""
    hint = max(
        (h for h in col.hints if h.kind in _ID_KINDS and h.strength >= 0.7),
        key=lambda h: h.strength,
        default=None,
    )
    if hint is None or "idlike" not in col.stats:
        return False
    if any(s.check is not None and s.entity == hint.kind for s in col.named):
        return False
    idlike = _stat(col, "idlike")
    distinct = _stat(col, "distinct")
    if idlike / nn < 0.8 or distinct < 0.5 * min(nn, _stat(col, "idlike")):
        return False
    finding.entity = hint.kind
    finding.category = CATEGORIES[hint.kind]
    finding.confidence = round(0.35 + 0.2 * hint.strength, 2)
    finding.matched = idlike
    evidence["unvalidated_identifier"] = (
        f"the header names {hint.kind} ({hint.keyword!r}) and the values look like "
        "identifiers, but no validator knows their format: review"
    )
    evidence["value_pattern"] = {"id_like": round(idlike / nn, 4)}
    return True


_MENTION = regex.compile(
    r"[A-Za-z0-9._%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}"  # an e-mail inside text
    r"|(?:\+|\b00)[1-9][0-9]{0,2}[ .\-]?(?:[0-9][ .\-]?){6,12}[0-9]\b"  # an international phone
    r"|\b[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){3,7}"  # an IBAN
    r"|" + P.HONORIFIC_NAME
)


def _mention_share(sample: list[tuple[str, str | None]]) -> float:
    """Share of sampled multi-word values holding an e-mail, phone, IBAN or Mr/Sra + name."""
    values = [v for v, _ in sample[:GATE_VALUES]]
    if not values:
        return 0.0
    # a text around the mention: at least two words (not an identifier written in groups)
    return sum(1 for v in values if len(_WORDS.findall(v)) >= 2 and _MENTION.search(v)) / len(
        values
    )


_WORDS = regex.compile(r"\p{L}{2,}")


def _quasi(col: _Column, nn: int, evidence: dict[str, Any], finding: ColumnFinding) -> None:
    kind: str | None = None
    if "postcode" in col.stats and _stat(col, "postcode") / nn >= MAJORITY:
        kind = H.POSTCODE
    elif "age" in col.stats and _stat(col, "age") / nn >= MAJORITY:
        kind = H.AGE
    elif "letters" in col.stats and _stat(col, "letters") / nn >= MAJORITY:
        kind = H.CITY
    elif col.hint(H.GENDER) and 0 < _stat(col, "distinct") <= 10:
        kind = H.GENDER
    elif "coord" in col.stats and _stat(col, "coord") / nn >= MAJORITY:
        kind = "COARSE_LOCATION"
    if kind is not None:
        finding.quasi_identifier = True
        finding.confidence = round(
            0.5
            + 0.49 * col.strength(kind if kind != "COARSE_LOCATION" else H.LATITUDE, H.LONGITUDE),
            2,
        )
        evidence["quasi_identifier"] = {"kind": kind, "category": QUASI_CATEGORIES[kind]}


# -- entry point ------------------------------------------------------------------------


def _mode(data_type: str, hints: list[H.HeaderHint]) -> tuple[str, str | None]:
    t = data_type.upper()
    kinds = {h.kind for h in hints}
    if t == "BOOLEAN":
        return "skip", "boolean"
    if t.startswith(_BINARY_TYPES):
        return "skip", "binary"
    if t.startswith(_TEMPORAL_TYPES):
        return "temporal", None
    if t.startswith(_FRACTIONAL_TYPES) and not (kinds & _NUMERIC_HINT_KINDS):
        return "skip", "numeric (amounts and measures; no identifier header)"
    if any(m in t for m in _NESTED_MARKERS[1:4]) or t.endswith("]"):
        return "nested", None
    if t.startswith(_INTEGER_TYPES) or t.startswith(_FRACTIONAL_TYPES):
        return "text", None
    return "text", None


def scan_table(
    con: Connection,
    table: str,
    *,
    progress: ProgressCallback | None = None,
    ner_model: str | None = None,
    tables: TableReader | None = None,
) -> TableScan:
    """Scan every column of a loaded or live table for personal data (see the module
    docstring); a live table is read in place. `tables`: where to read it (a workspace,
    for its attached tables); the connection's loaded tables by default."""
    report = progress or no_progress
    tables = tables or LocalTables(con)
    meta = tables.table_columns(table)
    if not meta:
        raise TableNotFoundError(f"no table named {table!r}")
    with contextlib.suppress(SqlError):
        con.execute("SET enable_progress_bar = false")  # the core never prints
    source = tables.relation(table)
    rows = int(con.execute(f"SELECT count(*) FROM {source}").fetchone()[0])  # type: ignore[index]
    cols = []
    for i, (name, dtype) in enumerate(meta):
        hints = H.header_hints(name)
        mode, reason = _mode(dtype, hints)
        cols.append(_Column(i, name, dtype, hints, mode, reason, named=H.named_specs(name)))
    live = [c for c in cols if c.mode != "skip"]
    steps = max(1, len(live) // BATCH_COLUMNS + 1 + len(live))
    done = 0
    label = f"scanning {table}"
    report(label, 0.0)
    country = next((c for c in cols if c.hint(H.COUNTRY) and c.mode == "text"), None)
    if rows:
        for start in range(0, len(live), BATCH_COLUMNS):
            batch = live[start : start + BATCH_COLUMNS]
            _sample_batch(con, source, batch, country)
            for col in batch:
                col.enabled = _gate(col) if col.mode == "text" else []
            _aggregate(con, source, batch)
            done += 1
            report(label, min(1.0, done / steps))
    findings: list[ColumnFinding] = []
    from tutela.detect.freetext import scan_free_text  # presidio loads lazily

    for col in cols:
        if col.mode == "skip":
            findings.append(
                ColumnFinding(
                    column=col.name,
                    data_type=col.data_type,
                    skipped=col.skip_reason,
                    evidence={"note": f"not analysed: {col.skip_reason}"},
                )
            )
            continue
        if not rows:
            col.stats["nn"] = 0
        nn = _stat(col, "nn")
        if col.mode != "temporal" and len(col.sample) < min(nn, SPARSE_SAMPLE * 4):
            col.sample = _sample(con, source, col, country)  # sparse column: sample non-nulls
        finding, free = _classify(col, col.sample)
        if free is not None:
            scan_free_text(
                con,
                source,
                col.name,
                _value_expr(col),
                finding,
                min_share=free,
                ner_model=ner_model,
            )
        findings.append(finding)
        done += 1
        report(label, min(1.0, done / steps))
    _names_beside_names(cols, findings)
    _products_are_not_people(table, cols, findings)
    report(label, 1.0)
    return TableScan(table=table, rows=rows, columns=findings)


# Words saying a table lists products (its columns or its name): `sku`, `price`, `stock`.
_PRODUCT_WORDS_TEXT = """
    sku skus ean gtin upc product products producto productos produkt produkte producte
    productes prodotto prodotti produit produits produto produtos artikel article articles
    articulo articulos item items price prices precio precios preu prix preis prezzo preco
    prijs cena τιμη stock stocks inventory inventario catalog catalogue catalogo katalog
    model modelo modele modell modello brand marca marke merk"""
_PRODUCT_WORDS = frozenset(_PRODUCT_WORDS_TEXT.split())
# Entities that say a table is about people after all (a name there is a person's).
_PEOPLE_ENTITIES = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "POSTAL_ADDRESS", "NATIONAL_ID", "TAX_ID", "IBAN_CODE",
     "DATE_OF_BIRTH", "CREDIT_CARD", "PASSPORT"}
)  # fmt: skip


def _products_are_not_people(
    table: str, cols: list[_Column], findings: list[ColumnFinding]
) -> None:
    """A few single words repeated in a table of products (`Victoria`, `Mercedes`,
    `Carmen` beside `sku` and `price`) are product names, not people, whatever the header."""
    words = set(H.tokens(table.rsplit(".", 1)[-1]))
    for col in cols:
        words.update(H.tokens(col.name))
    if not words & _PRODUCT_WORDS or any(f.entity in _PEOPLE_ENTITIES for f in findings):
        return
    for col, finding in zip(cols, findings, strict=True):
        if finding.entity != "PERSON" or finding.free_text:
            continue
        nn = _stat(col, "nn")
        few = _stat(col, "distinct") <= max(_CATEGORY_DISTINCT, 0.1 * nn)
        if few and _multi_token_share(col.sample) < 0.5:
            finding.entity = finding.category = finding.subtype = None
            finding.confidence = 0.0
            finding.matched = 0
            finding.evidence["product_names"] = (
                "a few single words repeated in a table of products: product names"
            )
            finding.evidence.pop("examples", None)


NEIGHBOUR_LISTED = 0.1
NEIGHBOUR_MULTI_WORD = 0.1  # places are often several words (`Port Talbot`), surnames not


def _names_beside_names(cols: list[_Column], findings: list[ColumnFinding]) -> None:
    """Without a header, a surname column is told by its place: name-shaped words, many
    distinct, right beside a column of names (given name, surname, second surname)."""
    # positions that count: initials (`MiddleInitial`) and skipped columns stand aside
    place: dict[int, int] = {}
    for i, col in enumerate(cols):
        if col.mode != "skip" and float(col.stats.get("avglen") or 0.0) > 2:
            place[i] = len(place)
    people = {place[i] for i, f in enumerate(findings) if i in place and f.entity == "PERSON"
              and not f.free_text}  # fmt: skip
    if not people:
        return
    for i, (col, finding) in enumerate(zip(cols, findings, strict=True)):
        if finding.entity is not None or finding.free_text or not _values_only(col):
            continue
        nn = _stat(col, "nn")
        avglen = float(col.stats.get("avglen") or 0.0)
        if (
            i not in place
            or nn < SPARSE_SAMPLE
            or _stat(col, "name") < 0.95 * nn
            or _stat(col, "namelist") < NEIGHBOUR_LISTED * nn  # a few known surnames at least
            or _stat(col, "distinct") < max(_HANDFUL, 0.3 * nn)
            or not 3 <= avglen <= 30
            or _multi_token_share(col.sample) > NEIGHBOUR_MULTI_WORD
            or not any(abs(place[i] - j) == 1 for j in people)
        ):
            continue
        finding.entity = "PERSON"
        finding.category = CATEGORIES["PERSON"]
        finding.confidence = 0.6
        finding.matched = _stat(col, "name")
        finding.quasi_identifier = False
        finding.evidence.pop("quasi_identifier", None)
        finding.evidence["value_pattern"] = {"name_shape": round(_stat(col, "name") / nn, 4)}
        finding.evidence["beside_names"] = "name-shaped values next to a column of names"
        finding.evidence["examples"] = [mask(v, "PERSON") for v, _ in col.sample[:2]]
