"""E-mail addresses, phone numbers (formatted, or bare mobile digits) and postal addresses."""

from __future__ import annotations

import re
from collections import Counter

import tutela.detect.headers as H
import tutela.detect.patterns as P
from tutela.detect.evidence import (
    MAJORITY,
    Candidate,
    Column,
    Evidence,
    stat,
    validate_sample,
)
from tutela.detect.validators import bare_mobile_region, phone_region, regions_with

# Header kinds that contradict a column of national-format phone numbers.
PHONE_CONTRADICTING = frozenset(
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
BARE_PHONE_CHECK = 500
BARE_PHONE_MIN = 20


def email(ev: Evidence) -> list[Candidate]:
    return ev.simple(
        "EMAIL_ADDRESS", "email", 0.97, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", sparse_ok=True
    )


def _phone_header(col: Column) -> tuple[float, bool]:
    """(strength of a phone header, whether the header names something else): a header
    naming something else (NationalID, ZipCode, Birthday) leaves only numbers written in
    international form to be phones: the national formats of ten regions are too weak a
    shape to override it."""
    phone_hint = col.strength("PHONE_NUMBER")
    contradicted = not phone_hint and any(
        h.kind in PHONE_CONTRADICTING and h.strength >= 0.7 for h in col.hints
    )
    return phone_hint, contradicted


def phone(ev: Evidence) -> list[Candidate]:
    """National formats need a phone header (or visible phone formatting)."""
    col, nn, samples, negative = ev.col, ev.nn, ev.samples, ev.negative
    phone_hint, contradicted = _phone_header(col)
    metric = "phone" if phone_hint else "phone_fmt"
    if not (
        stat(col, metric) and stat(col, metric) / nn >= 0.2 and not (negative and not phone_hint)
    ):
        return []
    fmt = re.compile(P.PHONE_FORMATTED)
    intl = re.compile(r"^\s*(?:\+|00)")
    shape = re.compile(r"^(?:\+|00)?[0-9(][0-9 ().\-/]{5,22}[0-9]$")

    def phone_ok(value: str, country: str | None) -> bool:
        if not phone_hint and not fmt.search(value):
            return False
        if contradicted and not intl.search(value):
            return False
        return phone_region(value, regions_with(country), lenient=bool(phone_hint)) is not None

    valid, checked, _ = validate_sample(samples, shape, phone_ok, on_compact=False)
    if not checked:
        return []
    count = round(stat(col, metric) * valid / checked)
    regions: dict[str, int] = {}
    for value, country in samples[:500]:
        ok = shape.search(value) and phone_ok(value, country)
        region = (
            phone_region(value, regions_with(country), lenient=bool(phone_hint)) if ok else None
        )
        if region:
            regions[region] = regions.get(region, 0) + 1
    return [
        Candidate(
            "PHONE_NUMBER",
            None,
            count / nn,
            0.9,
            phone_hint,
            count,
            {
                "value_pattern": {metric: round(stat(col, metric) / nn, 4)},
                "validated": {"phonenumbers": {"valid": valid, "checked": checked}},
                "regions": dict(sorted(regions.items(), key=lambda kv: -kv[1])[:5]),
            },
            shape,
            lambda v, c: phone_ok(v, c),
            sparse_ok=True,
        )
    ]


def bare_phone(ev: Evidence) -> list[Candidate]:
    phone_hint, contradicted = _phone_header(ev.col)
    out: list[Candidate] = []
    if not phone_hint and not contradicted and not ev.negative:
        _bare_phone(ev.col, ev.nn, ev.samples, out)
    return out


def _bare_phone(
    col: Column, nn: int, samples: list[tuple[str, str | None]], out: list[Candidate]
) -> None:
    """Phone numbers stored as bare digits (a BIGINT column, `34612345678`, no header).

    Bare digits are what most identifiers look like, so the bar is high: most distinct
    sampled values must be valid *mobile* numbers, mostly of one region, spread over the
    numbering space (consecutive customer numbers inside a mobile range are not phones).
    """
    count = stat(col, "phone")
    if not count or count / nn < MAJORITY or stat(col, "phone_fmt") / nn >= 0.2:
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
        Candidate(
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


def address(ev: Evidence) -> list[Candidate]:
    out = ev.simple("POSTAL_ADDRESS", "address", 0.85, pattern=r"[0-9]")
    if "addr_loose" in ev.col.stats and ev.col.strength("POSTAL_ADDRESS") >= 0.7:
        # the header says address: a number and words will do, at lower confidence
        out += ev.simple("POSTAL_ADDRESS", "addr_loose", 0.7, pattern=r"[0-9]")
    return out
