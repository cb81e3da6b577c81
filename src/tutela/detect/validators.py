"""Checksum and structure validators for identifiers, phones and addresses (python-stdnum)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.gr import amka as gr_amka
from stdnum.gr import vat as gr_vat
from stdnum.it import codicefiscale as it_cf
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import nip as pl_nip
from stdnum.pl import pesel as pl_pesel
from stdnum.pt import nif as pt_nif
from stdnum.us import ssn as us_ssn

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

_COMPACT = re.compile(r"[\s.\-/]")


def compact(value: str) -> str:
    """Upper-case without spaces, dots, dashes or slashes: the form identifiers are checked in."""
    return _COMPACT.sub("", value).upper()


def _safe(check: Callable[[str], bool]) -> Callable[[str], bool]:
    def run(value: str) -> bool:
        try:
            return bool(check(value))
        except Exception:  # stdnum raises on odd input; odd input is simply not valid
            return False

    return run


_NINO = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def is_uk_nino(value: str) -> bool:
    """UK National Insurance number: prefix letters from the allowed sets, suffix A-D."""
    return bool(_NINO.match(compact(value)))


def is_card(value: str) -> bool:
    digits = compact(value)
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def _strip_prefix(prefixes: tuple[str, ...], check: Callable[[str], bool]) -> Callable[[str], bool]:
    """At most one country prefix, then digits only (`EL EL 094501040` is not valid)."""

    def run(value: str) -> bool:
        v = compact(value).replace(":", "")  # `EL: 094279805`, as python-stdnum cleans it
        for prefix in prefixes:
            if v.startswith(prefix):
                v = v[len(prefix) :]
                break
        return v.isdigit() and check(v)

    return run


def is_es_nss(value: str) -> bool:
    """Spanish social-security number (NAF): province 01-53, 8 digits, 2 control digits.

    Control = the first ten digits mod 97; for numbers below 10,000,000 the Seguridad
    Social computes it over province * 10^7 + number, and both forms are in use.
    """
    v = compact(value)
    if len(v) != 12 or not v.isdigit() or not 1 <= int(v[:2]) <= 53:
        return False
    control = int(v[10:])
    number = int(v[2:10])
    if int(v[:10]) % 97 == control:
        return True
    return number < 10_000_000 and (int(v[:2]) * 10_000_000 + number) % 97 == control


@dataclass(frozen=True)
class IdSpec:
    """One identifier form: the entity it reports, its SQL shape and its validator."""

    subtype: str
    entity: str
    shape: str  # RE2 pattern over the compacted (upper, no separators) value
    validate: Callable[[str], bool]
    needs_hint: bool = False  # shape is so common that only a header hint makes it a candidate


ID_SPECS: tuple[IdSpec, ...] = (
    IdSpec("ES_DNI", "NATIONAL_ID", r"^[0-9]{8}[A-Z]$", _safe(es_dni.is_valid)),
    IdSpec("ES_NIE", "NATIONAL_ID", r"^[XYZ][0-9]{7}[A-Z]$", _safe(es_nie.is_valid)),
    IdSpec("PL_PESEL", "NATIONAL_ID", r"^[0-9]{11}$", _safe(pl_pesel.is_valid)),
    IdSpec("GR_AMKA", "NATIONAL_ID", r"^[0-9]{11}$", _safe(gr_amka.is_valid)),
    IdSpec(
        "FR_NIR", "NATIONAL_ID", r"^[12][0-9]{4}(2A|2B|[0-9]{2})[0-9]{8}$", _safe(fr_nir.is_valid)
    ),
    IdSpec("NL_BSN", "NATIONAL_ID", r"^[0-9]{9}$", _safe(nl_bsn.is_valid)),
    IdSpec("US_SSN", "NATIONAL_ID", r"^[0-9]{9}$", _safe(us_ssn.is_valid), needs_hint=True),
    IdSpec("UK_NINO", "NATIONAL_ID", r"^[A-Z]{2}[0-9]{6}[A-D]$", is_uk_nino),
    IdSpec("ES_NSS", "NATIONAL_ID", r"^[0-9]{12}$", is_es_nss, needs_hint=True),
    IdSpec("PL_NIP", "TAX_ID", r"^(PL)?[0-9]{10}$", _strip_prefix(("PL",), _safe(pl_nip.is_valid))),
    IdSpec(
        "GR_AFM",
        "TAX_ID",
        r"^(EL|GR)?[0-9]{9}$",
        _strip_prefix(("EL", "GR"), _safe(gr_vat.is_valid)),
    ),
    IdSpec("PT_NIF", "TAX_ID", r"^(PT)?[0-9]{9}$", _strip_prefix(("PT",), _safe(pt_nif.is_valid))),
    IdSpec(
        "IT_CF",
        "TAX_ID",
        r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$",
        _safe(it_cf.is_valid),
    ),
    IdSpec("IBAN", "IBAN_CODE", r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", _safe(std_iban.is_valid)),
    IdSpec("CARD", "CREDIT_CARD", r"^[0-9]{13,19}$", is_card),
)

SPEC_BY_SUBTYPE = {s.subtype: s for s in ID_SPECS}

# A DNI-shaped number in a column whose header says "NIF"/tax is reported as a tax id.
TAX_FORM_OF = {"ES_DNI": "ES_NIF", "ES_NIE": "ES_NIF"}


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


def valid_fraction(values: Iterable[str], check: Callable[[str], bool]) -> tuple[int, int]:
    """(valid, checked) over the given values."""
    valid = checked = 0
    for value in values:
        checked += 1
        valid += check(value)
    return valid, checked
