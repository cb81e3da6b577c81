"""Value shapes as RE2 patterns DuckDB runs over whole columns (one aggregate per batch)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

# Simple on purpose: RE2 slows down a lot on nested counted repetitions over \p{L}.
EMAIL = r"^[^\s@<>(),;:\"]+@[^\s@<>(),;:\"._][^\s@<>(),;:\"]*\.\pL{2,}$"
# Phone: optional + or 00, digits with the usual separators; the digit count is checked
# again by phonenumbers on the validated sample.
PHONE = r"^(?:\+|00)?[0-9(][0-9 ().\-/]{5,22}[0-9]$"
PHONE_FORMATTED = r"^\+|^00|[ ().\-/]"
SSN_DASHED = r"^[0-9]{3}-[0-9]{2}-[0-9]{4}$"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
IPV6_SHAPE = r"^[0-9A-Fa-f:.]{2,45}$"
MAC = (
    r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$|^[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}$"
    r"|^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$"
)
UUID = r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$"
# Other opaque ids a cookie/device column may hold: GA client ids, hex or base64url tokens.
TOKEN = r"^(?:[0-9]{6,12}\.[0-9]{6,12}|GA1\.[0-9]\.[0-9]+\.[0-9]+|[A-Za-z0-9_\-]{16,128})$"
# Analytics and advertising cookie values, as stored by tag managers and CDPs:
# Google Analytics `_ga`/`_gid` (GA1.2.<random>.<timestamp>), Meta `_fbp`/`_fbc`
# (fb.1.<ms timestamp>.<random or click id>), Google Ads `_gcl_au` / gclid.
COOKIE = (
    r"(?:^|[\s;,&=])(?:_ga=|_gid=|_ga_[A-Z0-9]+=)?GA[0-9]\.[0-9]\.[0-9]{5,}\.[0-9]{6,}"
    r"|(?:^|[\s;,&=])(?:_fbp=|_fbc=)?fb\.[0-9]\.[0-9]{13}\.[A-Za-z0-9_\-]{6,}"
    r"|(?:^|[\s;,&])(?:_gcl_au=1\.1\.[0-9]{6,}\.[0-9]{9,}|gclid=[A-Za-z0-9_\-]{20,})"
)
COOKIE_KINDS = (
    ("GA_CLIENT_ID", r"GA[0-9]\.[0-9]\.[0-9]{5,}\.[0-9]{6,}"),
    ("FB_CLICK_ID", r"fb\.[0-9]\.[0-9]{13}\.[A-Za-z0-9_\-]*[A-Za-z_\-][A-Za-z0-9_\-]*"),
    ("FB_BROWSER_ID", r"fb\.[0-9]\.[0-9]{13}\.[0-9]{6,}"),
    ("GCLID", r"_gcl_au=|gclid="),
)
# A header names an identifier whose format Tutela has no validator for: values that look
# like one (letters and at least three digits, no spaces once compacted).
ID_LIKE = r"^[A-ZΑ-Ω0-9]{5,25}$"
ID_LIKE_DIGITS = r"[0-9].*[0-9].*[0-9]"
_LAT = r"[-+]?(?:[0-8]?[0-9](?:\.[0-9]+)?|90(?:\.0+)?)"
_LON = r"[-+]?(?:1[0-7][0-9]|[0-9]?[0-9])(?:\.[0-9]+)?"
_LAT3 = r"[-+]?[0-8]?[0-9]\.[0-9]{3,}"
_LON3 = r"[-+]?(?:1[0-7][0-9]|[0-9]?[0-9])\.[0-9]{3,}"
GEO_PAIR = rf"^\(?\s*{_LAT}\s*[,; ]\s*{_LON}\s*\)?$|^POINT\s*\(\s*{_LON}\s+{_LAT}\s*\)$"
GEO_PAIR_PRECISE = rf"^\(?\s*{_LAT3}\s*[,; ]\s*{_LON3}\s*\)?$|^POINT\s*\(\s*{_LON3}\s+{_LAT3}\s*\)$"
DECIMALS3 = r"^[-+]?[0-9]{1,3}\.[0-9]{3,}$"
# Street keywords in ES, CA, PL, EL, EN, FR, DE, IT, PT, NL (over the lower-cased value).
STREET_WORDS = (
    "calle",
    "c/",
    "carrer",
    "c\\.",
    "avda",
    "avda\\.",
    "av\\.",
    "avenida",
    "avinguda",
    "paseo",
    "passeig",
    "pg\\.",
    "plaza",
    "pza\\.",
    "plaça",
    "pl\\.",
    "placa",
    "camino",
    "carretera",
    "ctra\\.",
    "ronda",
    "travesía",
    "travessera",
    "rambla",
    "ul\\.",
    "ulica",
    "al\\.",
    "aleja",
    "aleje",
    "os\\.",
    "osiedle",
    "plac",
    "οδός",
    "οδος",
    "οδ\\.",
    "λεωφ\\.",
    "λεωφόρος",
    "πλατεία",
    "street",
    "st\\.",
    "road",
    "rd\\.",
    "avenue",
    "ave\\.",
    "lane",
    "drive",
    "way",
    "close",
    "boulevard",
    "blvd\\.",
    "rue",
    "bd",
    "chemin",
    "allée",
    "impasse",
    "via",
    "viale",
    "piazza",
    "corso",
    "vicolo",
    "straße",
    "strasse",
    "str\\.",
    "weg",
    "platz",
    "allee",
    "gasse",
    "rua",
    "travessa",
    "praça",
    "straat",
    "laan",
    "plein",
    "gracht",
    "kade",
    "dreef",
)
# Street names that end in their street word, house number last (DE, NL, DK, SE, FI):
# `Hauptstraße 12`, `Rhinstrasse 91`, `Dorpsweg 45`, `Storgatan 1`, `Hauptstr. 3`.
STREET_SUFFIXES = (
    "straße",
    "strasse",
    "str\\.",
    "weg",
    "laan",
    "gasse",
    "plein",
    "straat",
    "steeg",
    "singel",
    "gracht",
    "kade",
    "dreef",
    "vej",
    "gatan",
    "vägen",
    "gränd",
    "gata",
    "veien",
    "katu",
    "platz",
    "allee",
)
# Greek street words are matched accent- and final-sigma-insensitively: exports write Greek
# addresses in capitals without accents, and DuckDB's lower()
# turns a capital sigma into σ even at the end of a word (`ΟΔΟΣ` -> `οδοσ`).
_LOOSE = {
    "α": "αά",
    "ε": "εέ",
    "η": "ηή",
    "ι": "ιίϊΐ",
    "ο": "οό",
    "υ": "υύϋΰ",
    "ω": "ωώ",
    "σ": "σς",
    "ς": "σς",
    "ά": "αά",
    "έ": "εέ",
    "ή": "ηή",
    "ί": "ιίϊΐ",
    "ό": "οό",
    "ύ": "υύϋΰ",
    "ώ": "ωώ",
}  # fmt: skip  (Greek only: Latin accents change words, Spanish `vía oral` is no street)


def loose(word: str) -> str:
    """A street-word regex whose letters also match their accented / unaccented forms."""
    return "".join(f"[{_LOOSE[ch]}]" if ch in _LOOSE else ch for ch in word)


_STREET_LOOSE = [loose(w) for w in STREET_WORDS]
_SUFFIXED = (
    r"\pL\pL(?:" + "|".join(loose(w) for w in STREET_SUFFIXES) + r")\s*[0-9]{1,4}(?:[a-z]|\b)"
)
ADDRESS = r"(?:^|[\s,])(?:" + "|".join(_STREET_LOOSE) + r")(?:\s|$|[0-9,])" + "|" + _SUFFIXED
ADDRESS_LOOSE_NUMBER_FIRST = r"^[0-9]{1,5}[A-Za-z]?,?\s+\pL[\pL'’.\-]+(?:\s+\pL[\pL'’.\-]*)*"
ADDRESS_LOOSE_NUMBER_LAST = r"^\pL[\pL'’.\-]+(?:\s+\pL[\pL'’.\-]*)*,?\s+(?:n[ºo°.]\s*)?[0-9]{1,5}"
# Over the value as written: `Largo` is a street word in Portuguese and Italian only when
# capitalised and followed by a name (Spanish `a largo plazo` is not an address).
ADDRESS_CASED = r"(?:^|[\s,])Largo\s+(?:d[aoe]s?\s+|di\s+)?\p{Lu}"
# 1-5 capitalised tokens (letters incl. accents and Greek), with lower-case particles.
_NTOK = r"\p{Lu}[\p{L}'’\-]*\.?"
_PARTICLES = (
    r"(?:de|del|de la|de las|de los|la|las|los|i|y|e|van|von|der|den|da|das|do|dos|du|di"
    r"|le|ten|ter|al|el|zu|και)"
)
NAME = rf"^{_NTOK}(?:,?\s+(?:{_PARTICLES}\s+)*{_NTOK}){{0,4}}$"
DATE = (
    r"^(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
    r"|[0-9]{8})(?:[ T][0-9:.]+(?:Z|[+\-][0-9:]+)?)?$"
)
YEAR = r"(19[0-9]{2}|20[0-9]{2})"
PASSPORT = r"^[A-Z]{0,3}[0-9][A-Z0-9]{4,8}$"
POSTCODE = (
    r"^(?:[0-9]{4,5}|[0-9]{2}-[0-9]{3}|[0-9]{3} ?[0-9]{2}|[0-9]{4}-[0-9]{3}|[0-9]{4} ?[A-Za-z]{2}"
    r"|[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}|[A-Za-z][0-9]{2} ?[A-Za-z0-9]{4})$"
)
AGE = r"^(?:[0-9]{1,3}|[0-9]{1,2}\s*[-–]\s*[0-9]{1,3}|[<>+]\s*[0-9]{1,3}|[0-9]{1,3}\s*\+)$"
FREE_TEXT_MIN_LEN = 25
PROSE = r"(?:\pL{2,}[\s,.;:!?]+){4}"  # four words of letters in a row
# SQL pre-filter for free text: only values that can hold an entity reach presidio.
HONORIFICS = (
    "Sr",
    "Sra",
    "Srta",
    "Sres",
    "D",
    "Dña",
    "Dª",
    "Don",
    "Doña",
    "En",
    "Na",
    "Pan",
    "Pani",
    "Panem",
    "Panią",
    "Panu",
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Dr",
    "Dra",
    "Prof",
    "κ",
    "κα",
    "κος",
    "Κ",
    "Κα",
    "Κος",
    "Κυρία",
    "Κύριος",
    "M",
    "Mme",
    "Mlle",
    "Herr",
    "Frau",
    "Sig",
    "Sig.ra",
    "Dott",
    "Sr.ª",
    "Mevr",
    "Dhr",
)
_HON = "|".join(re.escape(h) for h in sorted(HONORIFICS, key=len, reverse=True))
HONORIFIC_NAME = rf"(?:^|[\s(,;:])(?:{_HON})\.?\s+\p{{Lu}}\p{{Ll}}+"
FREE_TEXT_PREFILTER = (
    r"@|[0-9][0-9 .\-]{5,}[0-9]|"
    + HONORIFIC_NAME
    + r"|\p{Lu}\p{Ll}+\s+\p{Lu}\p{Ll}+|(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}:"
    + "|"
    + ADDRESS_CASED
)

LANGS = ("es", "ca", "pl", "el", "en", "fr", "de", "it", "pt", "nl")


@lru_cache(maxsize=1)
def name_list() -> tuple[str, ...]:
    """Common first and last names (folded) from the package data, all languages."""
    names: set[str] = set()
    data = resources.files("tutela") / "data"
    for lang in LANGS:
        path = data / f"names_{lang}.txt"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                names.add(line)
    return tuple(sorted(names))


_ACCENTED = {
    "a": "aáàâäãą",
    "e": "eéèêëę",
    "i": "iíìîï",
    "o": "oóòôöõ",
    "u": "uúùûü",
    "n": "nñń",
    "c": "cçć",
    "s": "sś",
    "z": "zźż",
    "l": "lł",
    "y": "yý",
    "σ": "σς",
    "α": "αά",
    "ε": "εέ",
    "η": "ηή",
    "ι": "ιίϊΐ",
    "ο": "οό",
    "υ": "υύϋΰ",
    "ω": "ωώ",
}


def _name_alternation(names: Iterable[str]) -> str:
    """RE2 (and Python `regex`) text matching any of `names` in a lowered value, each folded
    letter a class of its accented forms, bounded by separators."""
    alts = "|".join(
        "".join(f"[{_ACCENTED[c]}]" if c in _ACCENTED else re.escape(c) for c in n) for n in names
    )
    return rf"(?:^|[\s,'\-])(?:{alts})(?:$|[\s,'\-])"


def _listable(name: str) -> bool:
    return re.fullmatch(r"[\w' \-]+", name) is not None


@lru_cache(maxsize=1)
def names_regex() -> str:
    """One RE2 alternation over the name list, matched against `lower(value)`.

    Each folded letter becomes a class of its accented forms, so DuckDB needs no
    `strip_accents` per row (three times slower). Bounded by spaces: RE2's \\b is ASCII.
    """
    return _name_alternation(n for n in name_list() if _listable(n))


@lru_cache(maxsize=1)
def _listed() -> tuple[frozenset[str], int, dict[int, str], Any, Any]:
    """For `has_listed_name`: the names as a set, the longest one's length, the map folding
    an accented letter to the letter of its class, what tells a separator (the regex's
    `[\\s,'\\-]`, in the same regex engine), and a regex for the names the set cannot
    hold (one holding an accented letter itself needs that letter; none today)."""
    import regex

    fold = {ord(a): base for base, forms in _ACCENTED.items() for a in forms if a != base}
    listed = [n for n in name_list() if _listable(n)]
    literal = [n for n in listed if any(chr(c) in n for c in fold)]
    names = frozenset(listed) - set(literal)
    rare = regex.compile(_name_alternation(literal)) if literal else None
    return names, max(map(len, names), default=0), fold, regex.compile(r"[\s,'\-]"), rare


def has_listed_name(value: str) -> bool:
    """Whether `names_regex()` finds a name in `value.lower()`, without compiling that
    alternation of ~1,300 names (0.17 s in Python, paid by every scan): the value's
    letters folded, each run between separators (or the ends) looked up in the set."""
    names, longest, fold, separator, rare = _listed()
    lowered = value.lower()
    text = lowered.translate(fold)
    cuts = [i for i, ch in enumerate(text) if separator.match(ch)]
    ends = {*cuts, len(text)}
    for s in (0, *(i + 1 for i in cuts)):
        for e in range(s + 1, min(len(text), s + longest) + 1):
            if e in ends and text[s:e] in names:
                return True
    return rare is not None and rare.search(lowered) is not None
