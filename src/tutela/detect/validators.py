"""Checksum and structure validators for identifiers, phones and addresses (python-stdnum)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

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

PHONE_REGIONS: tuple[str, ...] = ("ES", "PL", "GR", "GB", "IE", "FR", "DE", "IT", "PT", "NL")

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
    def run(value: str) -> bool:
        v = compact(value)
        for prefix in prefixes:
            if v.startswith(prefix):
                v = v[len(prefix) :]
                break
        return check(v)

    return run


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


@lru_cache(maxsize=65536)
def phone_region(value: str, regions: tuple[str, ...] = PHONE_REGIONS) -> str | None:
    """The region in which `value` is a valid phone number, or None.

    E.164 (`+34 ...`, `0048 ...`) is parsed as is; national formats are tried in each
    candidate region in order, the table's own country first when it has one.
    """
    text = value.strip()
    digits = sum(c.isdigit() for c in text)
    if digits < 7 or digits > 15 or len(text) > 32:
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
        for region in regions:
            num = phonenumbers.parse(text, region)
            if phonenumbers.is_valid_number_for_region(num, region):
                return region
    except phonenumbers.NumberParseException:
        return None
    return None


def regions_with(country: str | None) -> tuple[str, ...]:
    """Candidate regions with the row's country (an ISO code or a common name) first."""
    if not country:
        return PHONE_REGIONS
    code = _COUNTRY_CODES.get(country.strip().lower(), country.strip().upper())
    if len(code) == 2 and code.isalpha():
        return (code, *[r for r in PHONE_REGIONS if r != code])
    return PHONE_REGIONS


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
}


def valid_fraction(values: Iterable[str], check: Callable[[str], bool]) -> tuple[int, int]:
    """(valid, checked) over the given values."""
    valid = checked = 0
    for value in values:
        checked += 1
        valid += check(value)
    return valid, checked
