"""Checksum and structure validators for identifiers, phones and addresses (python-stdnum)."""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache

import phonenumbers

from tutela.base.identifiers import (
    PERSONAL_SPECS,
    SPECS,
    IdentifierSpec,
    is_card,
    is_es_nss,
    is_uk_nino,
)
from tutela.base.text import compact

__all__ = [
    "ID_SPECS",
    "SPEC_BY_SUBTYPE",
    "TAX_FORM_OF",
    "IdentifierSpec",
    "compact",
    "is_card",
    "is_es_nss",
    "is_uk_nino",
]

PHONE_REGIONS: tuple[str, ...] = (
    "ES",
    "PL",
    "GR",
    "GB",
    "IE",
    "FR",
    "DE",
    "IT",
    "PT",
    "NL",
    "US",
)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


# The column scanner checks every identifier of the registry; business-only ones are
# recognised so that they are reported as not personal rather than misread as something else.
ID_SPECS: tuple[IdentifierSpec, ...] = SPECS
SPEC_BY_SUBTYPE: dict[str, IdentifierSpec] = {s.code: s for s in SPECS}
PERSONAL_SPEC_BY_SUBTYPE: dict[str, IdentifierSpec] = {s.code: s for s in PERSONAL_SPECS}

# A DNI-shaped number in a column whose header says "NIF"/tax is reported as a tax id.
TAX_FORM_OF: dict[str, str] = {s.code: s.tax_form for s in SPECS if s.tax_form}


# Strings that are dates or postcodes are never read as national-format phone numbers.
_DMY = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{2}|[0-9]{4})$")
_YMD = re.compile(r"^([0-9]{4})[-/.]?([0-9]{1,2})[-/.]?([0-9]{1,2})$")
_POSTCODE_LIKE = re.compile(
    r"^(?:[0-9]{4,5}-[0-9]{3}|[0-9]{2}-[0-9]{3}|[0-9]{3} [0-9]{2}|[0-9]{4} ?[A-Za-z]{2})$"
)
# Separators phone numbers are written with; anything else (letters, commas) is not a phone.
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")


def _year_ok(year: str) -> bool:
    return len(year) == 2 or 1900 <= int(year) <= 2099


def is_date_like(text: str) -> bool:
    """`9/19/2000`, `19.09.2000`, `2000-09-19`, `20000919`: a plausible calendar date."""
    text = text.strip()
    m = _DMY.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), m.group(3)
        return 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12 and _year_ok(year)
    m = _YMD.match(text)
    if m and (len(text) == 8 or not text.isdigit()):
        year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
        return 1900 <= int(year) <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    return False


def is_postcode_like(text: str) -> bool:
    """PT `5100-684`, BR `01310-100`, PL `00-950`, SE/GR `113 51`, NL `1012 AB`."""
    return _POSTCODE_LIKE.match(text.strip()) is not None


@cache
def _trunk_prefix(region: str) -> str | None:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return meta.national_prefix if meta is not None else None


def national_form_ok(text: str, region: str) -> bool:
    """Whether a number written without +/00 is written as people of `region` write it.

    Where national numbers start with a trunk prefix of 0 (GB, IE, FR, DE, NL, ...)
    they must start with it: without that rule DE's open numbering plan accepts almost
    any 6-12 digit string (dates, postcodes, ids).
    """
    digits = text.lstrip(" (")
    return _trunk_prefix(region) != "0" or region in _TRUNK_OPTIONAL or digits.startswith("0")


# Trunk prefix of 0 that is usually left out when writing a number: BR `(11) 2345-6789`.
_TRUNK_OPTIONAL = frozenset({"BR"})


@lru_cache(maxsize=65536)
def phone_region(
    value: str, regions: tuple[str, ...] = PHONE_REGIONS, *, lenient: bool = False
) -> str | None:
    """The region in which `value` is a valid phone number, or None.

    E.164 (`+34 ...`, `0048 ...`) is parsed as is; national formats are tried in each
    candidate region in order, the table's own country first when it has one. Dates and
    postcodes are rejected first; a national number must be valid in the region's plan
    (`is_valid_number`: length and number ranges) and carry the region's
    trunk prefix when it has one of 0. `lenient` (the column header says phone) also
    accepts a number of a possible length for the region when no region finds it valid
    (numbers of retired ranges, test data).
    """
    text = value.strip()
    digits = sum(c.isdigit() for c in text)
    if digits < 7 or digits > 15 or len(text) > 32 or not _PHONE_CHARS.match(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        if text.startswith("+"):
            num = phonenumbers.parse(text, None)
            return (
                phonenumbers.region_code_for_number(num)
                if phonenumbers.is_valid_number(num)
                else None
            )
        if is_date_like(text) or is_postcode_like(text):
            return None
        possible: str | None = None
        for region in regions:
            if not national_form_ok(text, region):
                continue
            num = phonenumbers.parse(text, region)
            if phonenumbers.is_valid_number(num):  # the region or one sharing its code (US/CA)
                return phonenumbers.region_code_for_number(num) or region
            if (
                lenient
                and possible is None
                and phonenumbers.is_possible_number_with_reason(num)
                == phonenumbers.ValidationResult.IS_POSSIBLE
            ):
                possible = region
        return possible
    except phonenumbers.NumberParseException:
        return None
    return None


def regions_with(country: str | None) -> tuple[str, ...]:
    """Candidate regions with the row's country (an ISO code or a common name) first."""
    if not country:
        return PHONE_REGIONS
    code = _COUNTRY_CODES.get(country.strip().lower(), country.strip().upper())
    if code in _SUPPORTED_REGIONS:
        return (code, *[r for r in PHONE_REGIONS if r != code])
    return PHONE_REGIONS


_SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
_COUNTRY_CODES = {
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "espanya": "ES",
    "esp": "ES",
    "poland": "PL",
    "polska": "PL",
    "pol": "PL",
    "greece": "GR",
    "ελλάδα": "GR",
    "ελλαδα": "GR",
    "hellas": "GR",
    "grc": "GR",
    "el": "GR",
    "uk": "GB",
    "united kingdom": "GB",
    "gbr": "GB",
    "ireland": "IE",
    "irl": "IE",
    "france": "FR",
    "fra": "FR",
    "germany": "DE",
    "deutschland": "DE",
    "deu": "DE",
    "italy": "IT",
    "italia": "IT",
    "ita": "IT",
    "portugal": "PT",
    "prt": "PT",
    "netherlands": "NL",
    "nederland": "NL",
    "nld": "NL",
    "us": "US",
    "usa": "US",
    "united states": "US",
    "canada": "CA",
}


_MOBILE = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


@lru_cache(maxsize=65536)
def bare_mobile_region(digits: str) -> str | None:
    """The region of a mobile number written as bare digits (a BIGINT column), or None.

    Tried as international without `+` (`34612345678`), then as a national number of
    each region (with its trunk prefix where it has one of 0). Only mobiles count: bare
    digits are what most identifiers look like, and fixed-line plans cover most of them.
    """
    if not digits.isdigit() or not 9 <= len(digits) <= 13:
        return None
    try:
        num = phonenumbers.parse("+" + digits, None)
        if phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in _MOBILE:
            return phonenumbers.region_code_for_number(num)
    except phonenumbers.NumberParseException:
        pass
    for region in PHONE_REGIONS:
        if not national_form_ok(digits, region):
            continue
        try:
            num = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in _MOBILE:
            return phonenumbers.region_code_for_number(num) or region
    return None
