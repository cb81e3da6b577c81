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
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from tutela.base.identifiers import Holder, Strength
from tutela.detect import headers as H
from tutela.detect import patterns as P
from tutela.detect import shapes as S
from tutela.detect.mask import mask
from tutela.detect.model import CATEGORIES, QUASI_CATEGORIES, ColumnFinding, TableScan
from tutela.detect.validators import (
    ID_SPECS,
    TAX_FORM_OF,
    IdentifierSpec,
    compact,
    phone_region,
    regions_with,
)
from tutela.errors import EngineError, TableNotFoundError
from tutela.progress import ProgressCallback, no_progress
from tutela.sql import sql_literal
from tutela.workspace import quote_ident, relation, table_columns

BATCH_COLUMNS = 40
SAMPLE_ROWS = 4000
MAX_VALIDATE = 2000
MAX_FREE_TEXT = 1000
MAX_CELL = 4096
MAJORITY = 0.5

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

    @property
    def confidence(self) -> float:
        value = min(1.0, self.fraction) * self.quality
        return round(min(0.99, 1 - (1 - value) * (1 - 0.5 * self.header)), 2)


# -- SQL ------------------------------------------------------------------------------


def _value_expr(col: _Column) -> str:
    ident = quote_ident(col.name)
    dtype = col.data_type.upper()
    varchar = dtype == "VARCHAR" or dtype.startswith("VARCHAR(")
    src = ident if varchar else f"TRY_CAST({ident} AS VARCHAR)"
    return f"nullif(trim(left({src}, {MAX_CELL})), '')"


GATE_SHARE = 0.05  # a shape seen in fewer sampled values is not counted over the column
GATE_VALUES = 1000  # sampled values the gate looks at
SPARSE_SAMPLE = 50  # fewer sampled values than this: count every shape, no gating


def _gate(col: _Column) -> list[str]:
    """The shapes worth counting over the whole column, judged on its sampled values."""
    values = [v for v, _ in col.sample[:GATE_VALUES]]
    if len(values) < SPARSE_SAMPLE:
        return list(S.SHAPES)
    compacts = [S.compact_py(v) for v in values]
    enabled = []
    for name, shape in S.SHAPES.items():
        if name == "token" and not col.hint("ONLINE_ID"):
            continue  # opaque tokens only matter in a cookie/device column
        hits = sum(1 for v, k in zip(values, compacts, strict=True) if shape.py(v, k))
        if hits / len(values) >= GATE_SHARE:
            enabled.append(name)
    return enabled


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
    }
    for name, kind in hinted.items():
        if col.hint(kind):
            aggs.append((name, f"count(*) FILTER ({S.HINTED[name].sql(v, k)})"))
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


def _aggregate(con: duckdb.DuckDBPyConnection, source: str, cols: Sequence[_Column]) -> None:
    """ONE aggregate query over a batch of columns; the counts land in each column's stats."""
    values: list[str] = []
    passthrough: list[str] = []
    outer: list[str] = []
    keys: list[tuple[_Column, str]] = []
    for col in cols:
        v, k = f"v{col.index}", f"k{col.index}"
        aggs = _column_aggs(col, v, k)
        if col.mode == "temporal":
            values.append(quote_ident(col.name))
            passthrough.append(quote_ident(col.name))
        else:
            values.append(f"{_value_expr(col)} AS {v}")
            passthrough.append(v)
            if any(f"{k}," in agg or f"{k})" in agg for _, agg in aggs):
                passthrough.append(f"{S.compact_sql(v)} AS {k}")
        for metric, agg in aggs:
            outer.append(f'{agg} AS "m{len(keys)}"')
            keys.append((col, metric))
    if not keys:
        return
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(passthrough)} "
        f"FROM (SELECT {', '.join(values)} FROM {source}))"
    )
    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error as exc:
        raise EngineError(f"scan query failed: {str(exc).splitlines()[0]}") from exc
    assert row is not None
    for (col, metric), value in zip(keys, row, strict=True):
        col.stats[metric] = float(value) if isinstance(value, float) else value


def _sample_batch(
    con: duckdb.DuckDBPyConnection,
    source: str,
    cols: Sequence[_Column],
    country: _Column | None,
) -> None:
    """One reservoir sample of rows for the batch; each column keeps its non-empty values."""
    text = [c for c in cols if c.mode != "temporal"]
    if not text:
        return
    exprs = [_value_expr(c) for c in text]
    exprs.append(_value_expr(country) if country is not None else "NULL")
    sql = (
        f"SELECT {', '.join(exprs)} FROM {source} "
        f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"
    )
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc
    for i, col in enumerate(text):
        col.sample = [
            (str(r[i]), None if r[-1] is None else str(r[-1])) for r in rows if r[i] is not None
        ]


def _sample(
    con: duckdb.DuckDBPyConnection, source: str, col: _Column, country: _Column | None
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
    except duckdb.Error as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc


# -- classification ------------------------------------------------------------------


def _validate(
    sample: list[tuple[str, str | None]], shape: re.Pattern[str], check: Any, *, on_compact: bool
) -> tuple[int, int, list[str]]:
    """(valid, checked, valid examples) over distinct shape-matching sampled values."""
    seen: dict[str, str | None] = {}
    for value, country in sample:
        key = compact(value) if on_compact else value
        if shape.search(key) and value not in seen:
            seen[value] = country
            if len(seen) >= MAX_VALIDATE:
                break
    valid = 0
    examples: list[str] = []
    for value, country in seen.items():
        if check(value, country):
            valid += 1
            if len(examples) < 3:
                examples.append(value)
    return valid, len(seen), examples


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
                )
            )

    simple("EMAIL_ADDRESS", "email", 0.97, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
                    "IPV4" if v4 >= count6 else "IPV6",
                    count / nn,
                    0.95,
                    col.strength("IP_ADDRESS"),
                    count,
                    {
                        "value_pattern": {"ipv4": round(v4 / nn, 4), "ipv6": round(v6 / nn, 4)},
                        "validated": {"ipv6": {"valid": valid6, "checked": checked6}},
                    },
                    re.compile(r"^[0-9A-Fa-f:.]+$"),
                )
            )
    # Identifiers: shape over all rows, checksum over the sampled distinct values.
    for spec in ID_SPECS:
        if spec.entity is None:
            continue
        shape_count = _stat(col, S.id_metric(spec))
        if not shape_count or shape_count / nn < 0.2:
            continue
        hinted = spec in col.named or col.hint(str(spec.entity)) is not None
        if (spec.needs_hint or spec.strength is Strength.NONE) and not hinted:
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
                )
            )
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
    _person_candidate(col, nn, negative, out)
    return out


def _id_candidate(
    col: _Column,
    spec: IdentifierSpec,
    shape_count: int,
    nn: int,
    samples: list[tuple[str, str | None]],
    out: list[_Candidate],
) -> None:
    shape = re.compile(spec.shape if spec.code != "US_SSN" else r"^[0-9]{9}$")
    valid, checked, _ = _validate(samples, shape, lambda v, _c: spec.validate(v), on_compact=True)
    if not checked:
        return
    count = round(shape_count * valid / checked)
    entity, subtype = str(spec.entity), spec.code
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
        ]
        subtypes: dict[str, int] = {}
        valid = 0
        for value, _country in samples[:MAX_VALIDATE]:
            k = compact(value)
            for spec in specs:
                if re.search(spec.shape, k) and spec.validate(value):
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


def _person_candidate(col: _Column, nn: int, negative: bool, out: list[_Candidate]) -> None:
    shaped = _stat(col, "name")
    listed = _stat(col, "namelist")
    hint = col.strength("PERSON")
    if not shaped or (negative and not hint):
        return
    list_share = listed / shaped
    distinct = _stat(col, "distinct")
    # A column repeating a few labels (`Czech`, `Japanese`; `Gold`, `Silver`) is a category,
    # whatever its header says.
    labels = nn >= 50 and distinct <= min(
        _CATEGORY_MAX, max(_CATEGORY_DISTINCT, _CATEGORY_SHARE * nn)
    )
    if not hint and (list_share < 0.25 or labels):
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
                }
            },
            re.compile(r"^\w"),
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
) -> tuple[ColumnFinding, bool]:
    """The finding for one analysed column, and whether it still needs a free-text pass."""
    nn = _stat(col, "nn")
    finding = ColumnFinding(column=col.name, data_type=col.data_type, non_empty=nn)
    evidence: dict[str, Any] = {}
    if col.hints:
        evidence["header"] = [
            {"kind": h.kind, "keyword": h.keyword, "strength": h.strength} for h in col.hints
        ]
    if nn == 0:
        evidence["note"] = "no non-empty values"
        finding.evidence = evidence
        return finding, False
    if col.mode == "temporal" and "dob" not in col.stats:
        evidence["note"] = "date/time values without a birth-date header are event timestamps"
        finding.evidence = evidence
        return finding, False
    cands = _candidates(col, sample)
    fired = {c.entity: round(c.fraction, 4) for c in cands}
    if fired:
        evidence["value_fractions"] = fired
    best = max(
        (c for c in cands if c.fraction >= MAJORITY),
        key=lambda c: (c.confidence, c.fraction),
        default=None,
    )
    if best is not None:
        finding.entity = best.entity
        finding.subtype = best.subtype
        finding.category = CATEGORIES[best.entity]
        finding.confidence = best.confidence
        finding.matched = min(best.matched, nn)
        evidence.update(best.evidence)
        evidence["examples"] = _examples(best, sample)
        finding.evidence = evidence
        return finding, False
    hinted = [h.kind for h in col.hints if h.kind in CATEGORIES]
    if hinted:
        evidence["header_contradicted"] = f"values do not look like {hinted[0]}"
    prose = _stat(col, "prose") / nn if "prose" in col.stats else 0.0
    free = (
        col.mode == "nested"
        or prose >= 0.3
        or (col.hint(H.FREE_TEXT) is not None and float(col.stats.get("avglen") or 0) >= 12)
    )
    if not free:
        _quasi(col, nn, evidence, finding)
    finding.evidence = evidence
    return finding, free


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
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    progress: ProgressCallback | None = None,
) -> TableScan:
    """Scan every column of a loaded or live table for personal data (see the module
    docstring); a live table is read in place."""
    report = progress or no_progress
    meta = table_columns(con, table)
    if not meta:
        raise TableNotFoundError(f"no table named {table!r}")
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")  # the core never prints
    source = relation(table)
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
        if free:
            scan_free_text(con, source, col.name, _value_expr(col), finding)
        findings.append(finding)
        done += 1
        report(label, min(1.0, done / steps))
    report(label, 1.0)
    return TableScan(table=table, rows=rows, columns=findings)
