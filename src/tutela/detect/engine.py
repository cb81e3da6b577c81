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
   parser matched, one query draws a sample of up to `SAMPLE_ROWS` non-empty values (with
   the table's country column, if any): the rows whose address hashes lowest
   (`SAMPLE_ORDER`), so DuckDB and Spark draw the same rows of the same files; the
   distinct shape-matching values among them (at most `MAX_VALIDATE`) are checked with
   python-stdnum / phonenumbers / ipaddress. The valid share is applied to the
   whole-column shape count: `matched = shape_count * valid / checked`; both counts go into
   evidence.
4. **Free text** (prose columns, nested values) goes through presidio (`freetext.py`) on
   at most `MAX_FREE_TEXT` distinct values pre-filtered in SQL to those that can hold an
   entity.
5. **Candidates**: each detector of `detectors.DETECTORS` (one function per entity family,
   `(Evidence) -> list[Candidate]`) reads the counts, hints and sample of a column and
   proposes candidates.
6. **Classification** (`_classify`): a column is an entity when most (>= 50 %) of its
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
import hashlib
import threading
from collections.abc import Sequence
from typing import Any, cast

import regex

import tutela.detect.headers as H
import tutela.detect.patterns as P
import tutela.detect.shapes as S
from tutela.base.errors import EngineError, TableNotFoundError
from tutela.base.progress import ProgressCallback, no_progress
from tutela.base.sql import sql_literal
from tutela.detect.detectors import DETECTORS
from tutela.detect.detectors.identifiers import may_be_found
from tutela.detect.detectors.person import CATEGORY_DISTINCT, HANDFUL, multi_token_share
from tutela.detect.evidence import (
    GATE_VALUES,
    MAJORITY,
    SPARSE_SHARE,
    Candidate,
    Column,
    Evidence,
    Sample,
    may_count,
    stat,
)
from tutela.detect.mask import mask
from tutela.detect.model import CATEGORIES, QUASI_CATEGORIES, ColumnFinding, TableScan
from tutela.detect.placeholders import is_placeholder, missing_sql
from tutela.detect.validators import (
    ID_SPECS,
    TAX_FORM_OF,
    compact,
)
from tutela.engine import Connection, Queries, SqlError
from tutela.workspace import LocalTables, TableReader, quote_ident

BATCH_COLUMNS = 40
SAMPLE_ROWS = 4000
MAX_FREE_TEXT = 1000
MAX_CELL = 4096
SPARSE_MIN = 3  # ... when at least this many values are

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


# -- SQL ------------------------------------------------------------------------------


def _raw_expr(col: Column) -> str:
    ident = quote_ident(col.name)
    dtype = col.data_type.upper()
    varchar = dtype == "VARCHAR" or dtype.startswith("VARCHAR(")
    src = ident if varchar else f"TRY_CAST({ident} AS VARCHAR)"
    if dtype.startswith(("FLOAT", "DOUBLE", "REAL")):
        # a whole number as DuckDB writes it (612345678.0): spelled out, because Spark
        # writes 6.12345678E8 (the scan's text is the same on both engines)
        src = (
            f"CASE WHEN {ident} = floor({ident}) AND abs({ident}) < 1e15 "
            f"THEN CAST(CAST({ident} AS BIGINT) AS VARCHAR) || '.0' ELSE {src} END"
        )
    return f"nullif(trim(substr({src}, 1, {MAX_CELL})), '')"


def _clean(col: Column, raw: str) -> str:
    """`raw` with placeholder strings turned into NULL, when the column has any."""
    if not col.placeholders:
        return raw
    return f"CASE WHEN {missing_sql(raw)} THEN NULL ELSE {raw} END"


def _value_expr(col: Column) -> str:
    """The column's trimmed text value, NULL when empty or a placeholder."""
    return _clean(col, _raw_expr(col))


GATE_SHARE = 0.05  # a shape seen in fewer sampled values is not counted over the column
SPARSE_SAMPLE = 50  # fewer sampled values than this: count every shape, no gating
RESAMPLE_BELOW = SPARSE_SAMPLE * 4
"""A column with fewer sampled values than this (and than non-empty values) has its
non-empty values sampled again after the counts, and is classified on that sample."""
PROSE_SHARE = 0.3  # a column with this share of prose values is free text
FREE_TEXT_MIN_AVGLEN = 12  # under a free-text header: values this long on average are text
CHECK_SHAPES_FROM = 100_000
"""From this many rows, an identifier shape is counted over the column only when one of its
identifiers may make the finding (`detectors.identifiers.may_be_found`); below, counting
every shape costs less than the checks that would leave some out (1,000 rows x 15 columns:
+0.06 s; 1M rows: -1.0 s)."""


def _gate(col: Column, rows: int) -> list[str]:
    """The shapes worth counting over the whole column (of a table of `rows` rows), judged
    on its sampled values."""
    values = [v for v, _ in col.sample[:GATE_VALUES]]
    if len(values) < SPARSE_SAMPLE:
        return list(S.SHAPES)
    compacts = [S.compact_py(v) for v in values]
    # Only identifiers this column's header would let through; one combined pattern of
    # their shapes tells which values can match any of them at all.
    eligible = tuple(
        m for m, specs in S.METRIC_SPECS.items() if any(may_count(col, s) for s in specs)
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
            col.sampled_share[name] = hits / len(values)
    if rows >= CHECK_SHAPES_FROM and len(col.sample) >= RESAMPLE_BELOW:  # no second sample
        # An identifier shape none of whose identifiers may make the finding (UUIDs read as
        # IBANs, IP addresses and phone numbers compacted to digits, which pass some
        # national checksums by chance; see `detectors.identifiers.may_be_found`) is not
        # counted over every row.
        enabled = [
            name
            for name in enabled
            if name not in S.METRIC_SPECS
            or any(may_be_found(col, spec) for spec in S.METRIC_SPECS[name])
        ]
    return enabled


# Header kinds naming an identifier: with ID-like values but no validator, still reported.
_ID_KINDS = ("NATIONAL_ID", "TAX_ID", "PASSPORT", "IBAN_CODE")


def _values_only(col: Column) -> bool:
    """The header says nothing (`c7`, `field_8`, `ATTR1`, no header row): values decide."""
    return not col.hints and H.meaningless(col.name)


def _column_aggs(col: Column, v: str, k: str) -> list[tuple[str, str]]:
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


def _aggregate(con: Queries, source: str, cols: Sequence[Column]) -> None:
    """ONE aggregate query over a batch of columns; the counts land in each column's stats."""
    values: list[str] = []
    cleaned: list[str] = []
    passthrough: list[str] = []
    outer: list[str] = []
    keys: list[tuple[Column, str]] = []
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


# The sample: the rows whose address (`rowid`: DuckDB's for a loaded table; for a lake
# table the file's place in the sorted listing << 32 + the row's number in the file, which
# the Spark view computes the same way) hashes lowest by md5. The same rows on DuckDB and
# Spark, which each drew their own random rows before (rule 2026.4). Where a table has no
# address of its own for each row (a column named rowid hides DuckDB's; a Delta table's
# identical rows share one), a reservoir sample instead: a hash order would take identical
# rows all or none.
SAMPLE_ORDER = "md5(CAST(rowid AS VARCHAR))"
_RESERVOIR = f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"


def _sampled(source: str, by_address: bool) -> str:
    """`source` cut to the sample's rows."""
    if by_address:
        return f"(SELECT * FROM {source} ORDER BY {SAMPLE_ORDER} LIMIT {SAMPLE_ROWS})"
    return f"(SELECT * FROM {source} {_RESERVOIR})"


def _sample_batch(
    con: Queries,
    source: str,
    cols: Sequence[Column],
    country: Column | None,
    by_address: bool,
) -> None:
    """One sample of rows for the batch (`SAMPLE_ORDER`); each column keeps its non-empty
    values."""
    text = [c for c in cols if c.mode != "temporal"]
    if not text:
        return
    exprs = [_raw_expr(c) for c in text]
    exprs.append(_value_expr(country) if country is not None else "NULL")
    # the rows first, then their values: computed on the sampled rows only
    sql = f"SELECT {', '.join(exprs)} FROM {_sampled(source, by_address)}"
    try:
        rows = con.execute(sql).fetchall()
    except SqlError as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc
    for i, col in enumerate(text):
        values = [
            (str(r[i]), None if r[-1] is None else str(r[-1])) for r in rows if r[i] is not None
        ]
        col.sample = _stable([(v, c) for v, c in values if not is_placeholder(v)])
        col.placeholders = len(col.sample) < len(values)


def _sample(
    con: Queries, source: str, col: Column, country: Column | None, by_address: bool
) -> list[tuple[str, str | None]]:
    """Up to SAMPLE_ROWS non-empty values of one sparse column, with the row's country."""
    v = _value_expr(col)
    c = _value_expr(country) if country is not None else "NULL"
    if by_address:
        sql = (
            f"SELECT v, c FROM (SELECT {v} AS v, {c} AS c, {SAMPLE_ORDER} AS h FROM {source} "
            f"WHERE {quote_ident(col.name)} IS NOT NULL) "
            f"WHERE v IS NOT NULL ORDER BY h LIMIT {SAMPLE_ROWS}"
        )
    else:
        sql = (
            f"SELECT v, c FROM (SELECT {v} AS v, {c} AS c FROM {source} "
            f"WHERE {quote_ident(col.name)} IS NOT NULL) WHERE v IS NOT NULL {_RESERVOIR}"
        )
    try:
        rows = con.execute(sql).fetchall()
    except SqlError as exc:
        raise EngineError(f"sample query failed: {str(exc).splitlines()[0]}") from exc
    return _stable([(str(a), None if b is None else str(b)) for a, b in rows])


def _stable(sample: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """The sample in an order of its own values (a keyless hash), not the engine's: the
    checks that read its first distinct values, and the examples, are then the same on
    every engine (which return the sampled rows in different orders)."""
    return sorted(
        sample,
        key=lambda vc: hashlib.blake2b(f"{vc[0]}\x00{vc[1]}".encode(), digest_size=8).digest(),
    )


# -- classification ------------------------------------------------------------------


def _candidates(col: Column, sample: Sample | None) -> list[Candidate]:
    """Every detector's candidates for one column, in registry order."""
    nn = stat(col, "nn")
    if nn == 0:
        return []
    ev = Evidence(col, nn, sample or [], negative=col.hint(H.NEGATIVE) is not None)
    return [cand for detector in DETECTORS for cand in detector(ev)]


def _examples(cand: Candidate, sample: list[tuple[str, str | None]] | None) -> list[str]:
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
    col: Column, sample: list[tuple[str, str | None]] | None
) -> tuple[ColumnFinding, float | None]:
    """The finding for one analysed column, and whether it still needs a free-text pass:
    None for no, else the share of rows with mentions it takes to report the column."""
    nn = stat(col, "nn")
    finding = ColumnFinding(column=col.name, data_type=col.data_type, non_empty=nn)
    evidence: dict[str, Any] = {}
    if col.hints:
        evidence["header"] = [
            {"kind": h.kind, "keyword": h.keyword, "strength": h.strength} for h in col.hints
        ]
    if col.placeholders:
        evidence["placeholders"] = max(0, stat(col, "raw_nn") - nn)
    if nn == 0:
        evidence["note"] = "no non-empty values"
        finding.evidence = evidence
        return finding, None
    if col.mode == "temporal" and "dob" not in col.stats and "dob_range" not in col.stats:
        evidence["note"] = "date/time values without a birth-date header are event timestamps"
        finding.evidence = evidence
        return finding, None
    cands = _candidates(col, sample)
    fired: dict[str, float] = {}  # each entity's best share (not its last candidate's)
    for c in cands:
        entity = c.entity or "business identifier"
        fired[entity] = max(fired.get(entity, 0.0), round(c.fraction, 4))
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
    prose = stat(col, "prose") / nn if "prose" in col.stats else 0.0
    if (
        col.mode == "nested"
        or prose >= PROSE_SHARE
        or (
            col.hint(H.FREE_TEXT) is not None
            and float(col.stats.get("avglen") or 0) >= FREE_TEXT_MIN_AVGLEN
        )
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
    cand: Candidate,
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
    col: Column, nn: int, evidence: dict[str, Any], finding: ColumnFinding
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
    idlike = stat(col, "idlike")
    distinct = stat(col, "distinct")
    if idlike / nn < 0.8 or distinct < 0.5 * min(nn, stat(col, "idlike")):
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


def _quasi(col: Column, nn: int, evidence: dict[str, Any], finding: ColumnFinding) -> None:
    kind: str | None = None
    if "postcode" in col.stats and stat(col, "postcode") / nn >= MAJORITY:
        kind = H.POSTCODE
    elif "age" in col.stats and stat(col, "age") / nn >= MAJORITY:
        kind = H.AGE
    elif "letters" in col.stats and stat(col, "letters") / nn >= MAJORITY:
        kind = H.CITY
    elif col.hint(H.GENDER) and 0 < stat(col, "distinct") <= 10:
        kind = H.GENDER
    elif "coord" in col.stats and stat(col, "coord") / nn >= MAJORITY:
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
    con: Queries,
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
    if tables is None:  # a bare DuckDB connection (or one wrapping it): its loaded tables
        tables = LocalTables(cast(Connection, con))
    meta = tables.table_columns(table)
    if not meta:
        raise TableNotFoundError(f"no table named {table!r}")
    with contextlib.suppress(SqlError):
        con.execute("SET enable_progress_bar = false")  # the core never prints
    source = tables.relation(table)
    by_address = tables.unique_addresses(table) and not any(
        name.casefold() == "rowid" for name, _ in meta
    )
    rows = int(con.execute(f"SELECT count(*) FROM {source}").fetchone()[0])  # type: ignore[index]
    cols = []
    for i, (name, dtype) in enumerate(meta):
        hints = H.header_hints(name)
        mode, reason = _mode(dtype, hints)
        cols.append(Column(i, name, dtype, hints, mode, reason, named=H.named_specs(name)))
    live = [c for c in cols if c.mode != "skip"]
    steps = max(1, len(live) // BATCH_COLUMNS + 1 + len(live))
    done = 0
    label = f"scanning {table}"
    report(label, 0.0)
    country = next((c for c in cols if c.hint(H.COUNTRY) and c.mode == "text"), None)
    from tutela.detect.freetext import prepare, scan_free_text  # presidio loads lazily

    building: threading.Thread | None = None  # the free-text analyzer, built alongside
    try:
        if rows:
            for start in range(0, len(live), BATCH_COLUMNS):
                batch = live[start : start + BATCH_COLUMNS]
                _sample_batch(con, source, batch, country, by_address)
                for col in batch:
                    col.enabled = _gate(col, rows) if col.mode == "text" else []
                if building is None and any(_free_text_ahead(col) for col in batch):
                    building = prepare(con, ner_model)
                _aggregate(con, source, batch)
                done += 1
                report(label, min(1.0, done / steps))
        findings: list[ColumnFinding] = []
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
            nn = stat(col, "nn")
            if col.mode != "temporal" and len(col.sample) < min(nn, RESAMPLE_BELOW):
                # a sparse column: its non-empty values sampled
                col.sample = _sample(con, source, col, country, by_address)
                col.validity.clear()  # checks of the first sample
                col.mixed_bound.clear()
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
    except KeyboardInterrupt:
        building = None  # the user stops the scan: its build is not waited for (a daemon)
        raise
    finally:
        if building is not None:  # no thread outlives the scan
            building.join()
    _names_beside_names(cols, findings)
    _products_are_not_people(table, cols, findings)
    report(label, 1.0)
    return TableScan(table=table, rows=rows, columns=findings)


def _free_text_ahead(col: Column) -> bool:
    """The sampled values say the column will be analysed as free text (`_classify`'s
    test, estimated before the counts): prose or, under a free-text header, long values,
    and no other shape in a majority of them (an address, a name, an e-mail: a detector's
    finding, not free text). Then the analyzer is worth building while the column is
    counted; a build not used would make the scan wait for it."""
    if col.mode != "text" or not col.sample:
        return False
    shares = col.sampled_share
    if any(share >= MAJORITY for name, share in shares.items() if name != "prose"):
        return False
    values = [v for v, _ in col.sample]
    long = sum(map(len, values)) >= FREE_TEXT_MIN_AVGLEN * len(values)
    return shares.get("prose", 0.0) >= PROSE_SHARE or (long and col.hint(H.FREE_TEXT) is not None)


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


def _products_are_not_people(table: str, cols: list[Column], findings: list[ColumnFinding]) -> None:
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
        nn = stat(col, "nn")
        few = stat(col, "distinct") <= max(CATEGORY_DISTINCT, 0.1 * nn)
        if few and multi_token_share(col.sample) < 0.5:
            finding.entity = finding.category = finding.subtype = None
            finding.confidence = 0.0
            finding.matched = 0
            finding.evidence["product_names"] = (
                "a few single words repeated in a table of products: product names"
            )
            finding.evidence.pop("examples", None)


NEIGHBOUR_LISTED = 0.1
NEIGHBOUR_MULTI_WORD = 0.1  # places are often several words (`Port Talbot`), surnames not


def _names_beside_names(cols: list[Column], findings: list[ColumnFinding]) -> None:
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
        nn = stat(col, "nn")
        avglen = float(col.stats.get("avglen") or 0.0)
        if (
            i not in place
            or nn < SPARSE_SAMPLE
            or stat(col, "name") < 0.95 * nn
            or stat(col, "namelist") < NEIGHBOUR_LISTED * nn  # a few known surnames at least
            or stat(col, "distinct") < max(HANDFUL, 0.3 * nn)
            or not 3 <= avglen <= 30
            or multi_token_share(col.sample) > NEIGHBOUR_MULTI_WORD
            or not any(abs(place[i] - j) == 1 for j in people)
        ):
            continue
        finding.entity = "PERSON"
        finding.category = CATEGORIES["PERSON"]
        finding.confidence = 0.6
        finding.matched = stat(col, "name")
        finding.quasi_identifier = False
        finding.evidence.pop("quasi_identifier", None)
        finding.evidence["value_pattern"] = {"name_shape": round(stat(col, "name") / nn, 4)}
        finding.evidence["beside_names"] = "name-shaped values next to a column of names"
        finding.evidence["examples"] = [mask(v, "PERSON") for v, _ in col.sample[:2]]
