"""What Tutela's free-text recognizers match, as plain functions over a text.

A finder takes a text and its language and returns `Hit`s (spans with a score); the
recognizer list (`tutela.detect.recognizers`) names which finder each recognizer runs and
wraps it for presidio. Nothing here imports presidio or spaCy.

- identifiers: every personal spec of the identifier registry (`tutela.base.identifiers`)
  with a text pattern, confirmed by its checksum, plus passports announced as such; weak
  checks and format-only identifiers also need one of their context words nearby;
- phone numbers: python-phonenumbers' matcher in the text's own region (+/00 numbers in
  any), without dates, postcodes and order numbers;
- dates of birth: a date with a birth word next to it;
- names: capitalised word runs holding a listed (possibly inflected) first or last name,
  and names announced by a greeting or a verb of speaking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, NamedTuple

import phonenumbers
import regex as _regex  # presidio's own dependency; \p{..} classes

import tutela.detect.patterns as P
from tutela.base.identifiers import (
    PASSPORT_CONTEXT,
    PERSONAL_SPECS,
    Entity,
    IdentifierSpec,
    Strength,
    generic_context_words,
)
from tutela.base.text import fold
from tutela.detect.validators import is_date_like, is_postcode_like, national_form_ok


class Hit(NamedTuple):
    """A span a finder found in a text.

    `score`, `entity` and `name` default to the recognizer's own (`None`); a hit is
    reported as `<name>_<language>` (the name before the last `_` becomes the finding's
    subtype when it is an identifier code). `context_checked`: the finder already required
    a context word, so presidio's own context boost must not raise it again."""

    start: int
    end: int
    score: float | None = None
    entity: Entity | None = None
    name: str | None = None
    context_checked: bool = False


# National phone formats tried in a text of each language (+/00 numbers: any region).
_TEXT_REGIONS: dict[str, tuple[str, ...]] = {
    "es": ("ES",),
    "ca": ("ES",),
    "pl": ("PL",),
    "el": ("GR",),
    "en": ("GB", "US"),  # US also covers Canada and the rest of the +1 plan
    "fr": ("FR",),
    "de": ("DE",),
    "it": ("IT",),
    "pt": ("PT",),
    "nl": ("NL",),
}

# Identifiers in text: every personal spec of the registry with a text pattern. Those whose
# check random digits pass about once in ten (mod 10, mod 11, Luhn) or that have no check
# at all count only with a context word near the match, whatever presidio's validation
# score. A country prefix (`PT`, `EL`, `PL`) is context enough.
TEXT_SPECS: tuple[IdentifierSpec, ...] = tuple(s for s in PERSONAL_SPECS if s.text)
WEAK_IDS = frozenset(s.code for s in TEXT_SPECS if s.text_needs_context)
_SPEC = {s.code: s for s in TEXT_SPECS}
_CONTEXT_BEFORE = 6  # words before a weak identifier searched for a context word
_CONTEXT_AFTER = 3
_WORD = re.compile(r"[\w][\w.'’\-]*")


def _context_regex(words: Iterable[str]) -> re.Pattern[str]:
    """Whole words for short keywords (`nif`, `tin`), word prefixes for longer ones."""
    alts = sorted({fold(w) for w in words}, key=len, reverse=True)
    return re.compile(
        "|".join(rf"(?<!\w){re.escape(w)}" + (r"(?!\w)" if len(w) <= 4 else "") for w in alts)
    )


_WEAK_CONTEXT = {
    s.code: _context_regex(
        (*s.context, *s.headers)
        if s.own_context_only
        else (*s.context, *s.headers, *generic_context_words(s.entity or Entity.NATIONAL_ID))
    )
    for s in TEXT_SPECS
    if s.text_needs_context
}
_WEAK_CONTEXT["PASSPORT"] = _context_regex(PASSPORT_CONTEXT)
# A document number announced as a passport's.
_PASSPORT_TEXT = r"\b(?:[A-Z]{1,3}\s?[0-9]{6,9}|[0-9]{8,9}|[A-Z]{2}[A-Z0-9]{6}[0-9])\b"


def has_id_context(subtype: str, text: str, start: int, end: int) -> bool:
    """Whether a context word for the weak identifier `subtype` is near text[start:end]."""
    match = text[start:end]
    spec = _SPEC.get(subtype)
    if match[:2].isalpha() and spec is not None and not spec.own_context_only:
        return True  # written with its country prefix (`PT 123456789`, `EL...`)
    before = _WORD.findall(text[max(0, start - 120) : start])[-_CONTEXT_BEFORE:]
    after = _WORD.findall(text[end : end + 60])[:_CONTEXT_AFTER]
    window = fold(" ".join([*before, "|", *after]))
    return _WEAK_CONTEXT[subtype].search(window) is not None


# Dates of birth: a date (numeric, or with a month word) with a birth word just before it.
_BIRTH_WORDS = (
    "born",
    "birth",
    "birthday",
    "dob",
    "d.o.b",
    "nacido",
    "nacida",
    "nacimiento",
    "nac.",
    "f. nac",
    "nascut",
    "nascuda",
    "naixement",
    "urodzony",
    "urodzona",
    "urodzil",
    "urodzila",
    "urodzenia",
    "ur.",
    "γεννηθηκε",
    "γεννημενοσ",
    "γεννημενη",
    "γεννησησ",
    "γεννηση",
    "nee",
    "ne le",
    "ne en",
    "naissance",
    "geboren",
    "geburtsdatum",
    "geb.",
    "nato",
    "nata",
    "nascita",
    "nascido",
    "nascida",
    "nascimento",
    "geboortedatum",
)
_BIRTH_CONTEXT = re.compile(
    "|".join(
        rf"(?<!\w){re.escape(fold(w))}" + (r"(?!\w)" if len(w) <= 4 and w[-1] != "." else "")
        for w in sorted(_BIRTH_WORDS, key=len, reverse=True)
    )
)
_DATE_TEXT = (
    r"\b(?:[0-9]{1,2}[./\-][0-9]{1,2}[./\-](?:19|20)[0-9]{2}|(?:19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2})\b"
    r"|\b[0-9]{1,2}(?:\.|º|er)?\s+(?:de\s+)?\p{L}{3,12}\.?,?\s+(?:de\s+|del\s+)?(?:19|20)[0-9]{2}\b"
    r"|\b\p{Lu}\p{Ll}{2,8}\.?\s+[0-9]{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)[0-9]{2}\b"
)
_BIRTH_BEFORE = 6  # words before the date searched for a birth word
_BIRTH_AFTER = 2  # ... and after it (German `am 5. März 1971 geboren`)


def has_birth_context(text: str, start: int, end: int) -> bool:
    """Whether a birth word (born, nacida, urodzony, γεννήθηκε, ...) is next to the date."""
    before = _WORD.findall(text[max(0, start - 100) : start])[-_BIRTH_BEFORE:]
    after = _WORD.findall(text[end : end + 40])[:_BIRTH_AFTER]
    window = fold(" ".join([*before, "|", *after]))
    return _BIRTH_CONTEXT.search(window) is not None


def _plausible_phone_match(match: Any, region: str) -> bool:
    """The column rules for numbers written in national form: no dates, no postcodes,
    the region's trunk prefix when it has one of 0."""
    source = match.number.country_code_source
    if source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return True  # written with + / 00 / the international prefix
    raw = match.raw_string
    return not (is_date_like(raw) or is_postcode_like(raw)) and national_form_ok(raw, region)


# Words after which a bare run of digits is an order, invoice or reference number.
_ORDER_WORDS = re.compile(
    r"(?:order|pedido|comanda|zam[oó]wienie|παραγγελ\w*|commande|bestellung|ordine|encomenda"
    r"|bestelling|invoice|factura|faktura|rechnung|fattura|fatura|factuur|τιμολ\w*|ticket"
    r"|ref|reference|referencia|référence|tracking|nº|no\.|nr\.?|#)\s*[:#]?\s*$",
    re.IGNORECASE,
)
_PHONE_WORDS = re.compile(
    r"(?:phone|tel|call|mobile|cell|tel[eé]fono|m[oó]vil|llam|telefon|kom[oó]rk|τηλ|κινητ"
    r"|t[eé]l[eé]phone|portable|appel|handy|anruf|cellulare|chiam|telem[oó]vel|ligar"
    r"|telefoon|mobiel|bel|whatsapp|fax)",
    re.IGNORECASE,
)


def _order_number(text: str, start: int, raw: str) -> bool:
    """A bare run of digits (no +, spaces or dashes) right after an order/invoice word, or
    with no phone word anywhere near: what reviews and tickets quote as order numbers."""
    if not raw.strip().isdigit():
        return False  # written as a phone number is written
    if _ORDER_WORDS.search(text[max(0, start - 30) : start]):
        return True
    return _PHONE_WORDS.search(text[max(0, start - 60) : start + len(raw) + 30]) is None


def _name_seq_pattern() -> str:
    return (
        r"(?<![\w])\p{Lu}[\p{Ll}'’\-]+(?:\s+(?:(?:de|del|i|y|van|von|da|di)\s+)?"
        r"\p{Lu}[\p{Ll}'’\-]+){1,3}"
    )


_NAME_SEQ = _regex.compile(_name_seq_pattern())
# Names in capitals (`JUAN GARCÍA LÓPEZ`, `ΓΙΩΡΓΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ`): two to four words.
_CAPS_SEQ = _regex.compile(r"(?<![\w])\p{Lu}{2,}(?:[\s\-]+\p{Lu}{2,}){1,3}(?![\w])")
# A person named right after a greeting, a verb of speaking or "my name is", in ten
# languages: `Hola Marta,`, `spoke with Kayla Frey`, `rozmawiałem z Janem`, `είπε ο Νίκος`.
_CUES = (
    r"hi|hello|dear|hey|good morning|thanks|thank you|"
    r"hola|estimado|estimada|querido|querida|buenos días|gracias|"
    r"bon dia|benvolgut|benvolguda|estimat|estimada|"
    r"dzień dobry|witam|szanowny|szanowna|cześć|drogi|droga|"
    r"γεια σου|γεια σας|αγαπητέ|αγαπητή|καλημέρα|"
    r"bonjour|cher|chère|salut|merci|"
    r"hallo|liebe|lieber|guten tag|danke|"
    r"ciao|gentile|caro|cara|buongiorno|grazie|"
    r"olá|ola|prezado|prezada|bom dia|obrigado|obrigada|"
    r"beste|hoi|geachte|dag|bedankt|"
    r"said|says|told|asked|called|spoke (?:with|to)|talked (?:with|to)|according to|"
    r"my name is|name is|i am|this is|signed|regards|"
    r"dijo|dice|comentó|llamó|habló con|hablé con|según|me llamo|firmado|atentamente|"
    r"va dir|diu|segons|he parlat amb|em dic|"
    r"powiedział|powiedziała|rozmawiałem z|rozmawiałam z|rozmawiał z|według|nazywam się|"
    r"είπε ο|είπε η|είπε|μίλησα με τον|μίλησα με την|μίλησε με|σύμφωνα με τον|"
    r"σύμφωνα με την|με λένε|"
    r"a dit|dit|selon|parlé avec|je m'appelle|cordialement|"
    r"sagte|sagt|laut|sprach mit|ich heiße|mein name ist|mit freundlichen grüßen|"
    r"ha detto|dice|secondo|parlato con|mi chiamo|cordiali saluti|"
    r"disse|segundo|falou com|falei com|chamo-me|o meu nome é|"
    r"zei|zegt|volgens|sprak met|ik heet|mijn naam is|met vriendelijke groet"
)
_CUE_NAME = _regex.compile(
    rf"(?i:(?<![\w])(?:{_CUES}))[,:]?\s+(?:(?:Mr|Mrs|Ms|Dr|Sr|Sra|Pan|Pani|κ|Herr|Frau)\.?\s+)?"
    r"(\p{Lu}[\p{Ll}'’\-]+(?:\s+(?:(?:de|del|da|di|van|von|der)\s+)?\p{Lu}[\p{Ll}'’\-]+){0,2})"
)
# Capitalised words a greeting or a verb is often followed by that are not names.
_NOT_NAMES = frozenset(
    (
        "ihr", "ihre", "ihrem", "your", "our", "su", "sus", "nuestro", "nuestra", "votre",
        "notre", "vostro", "nostro", "seu", "sua", "nosso", "uw", "onze", "unser", "unsere",
        "euer", "twój", "wasz", "nasz", "the", "el", "la", "le", "les", "los", "las", "il",
        "lo", "der", "die", "das", "het", "de", "een", "ein", "eine", "un", "una", "une",
        "customer", "customers", "client", "clients", "team", "all", "everyone", "sir", "madam",
        "support", "service", "there", "you", "me", "him", "her", "them", "it", "this", "that",
        "the", "we", "they", "cliente", "clientes", "equipo", "señor", "señora", "senyor",
        "senyora", "todos", "todas", "usted", "klient", "klienci", "zespół", "panie", "pani",
        "wszyscy", "πελάτη", "ομάδα", "κύριε", "κυρία", "όλοι", "monsieur", "madame", "équipe",
        "tous", "kunde", "kunden", "team", "herren", "damen", "alle", "signore", "signora",
        "squadra", "tutti", "senhor", "senhora", "equipa", "todos", "klant", "klanten", "heer",
        "mevrouw", "allen", "iedereen", "thanks", "regards", "hello", "hi", "monday", "tuesday",
        "friday",
    )
)  # fmt: skip


# Capitalised words that start a run but are not part of the name (`Hola Marta`).
_LEADING = (
    frozenset(fold(w) for w in _regex.split(r"\||\s+", _CUES) if w and "(" not in w)
    | frozenset(fold(h).rstrip(".") for h in P.HONORIFICS)
    | _NOT_NAMES
)

# Inflected forms back to the nominative the name lists hold (folded): Polish `Kowalskiego`,
# `Janem`, `Annę`; Greek `Γιώργου`, `Μαρίας`, `Παπαδόπουλο`.
_INFLECTIONS = (
    ("skiego", "ski"), ("ckiego", "cki"), ("skiej", "ska"), ("ckiej", "cka"), ("skim", "ski"),
    ("ską", "ska"), ("cką", "cka"), ("owej", "owa"), ("ową", "owa"), ("iego", "i"),
    ("ego", ""), ("owi", ""), ("em", ""), ("iem", ""), ("ą", "a"), ("ę", "a"), ("y", "a"),
    ("i", "a"), ("ii", "ia"), ("a", ""),
    ("ου", "οσ"), ("ο", "οσ"), ("ασ", "α"), ("ησ", "η"), ("α", "ασ"), ("η", "ησ"),
    ("ι", "ισ"), ("ων", "οσ"),
)  # fmt: skip


def _known(word: str, names: set[str] | frozenset[str]) -> bool:
    """Whether a word (any case, any form) is a listed first or last name."""
    w = fold(word)
    if len(w) <= 2:
        return False
    if w in names:
        return True
    for ending, base in _INFLECTIONS:
        stem = len(w) - len(fold(ending))
        if stem >= 3 and w.endswith(fold(ending)) and w[:stem] + fold(base) in names:
            return True
    return False


# Words that make a run of capitalised words an organisation or a place, not a person
# (`Kanzlei Müller`, `Bosch GmbH`, `St. Anna Krankenhaus`, `Rabobank`, `San Francisco`).
_ORG_PARTS = (
    "kanzlei", "gmbh", "gmb", "bank", "banco", "banca", "krankenhaus", "klinik", "clinic",
    "hospital", "hopital", "ospedale", "ziekenhuis", "szpital", "νοσοκομειο", "universit",
    "hotel", "restaurant", "stiftung", "verein", "abteilung", "team", "group", "gruppe",
    "grupo", "company", "compania", "consult", "services", "solutions", "partners",
    "associates", "holding", "bakkerij", "firma", "schule", "escuela", "colegio", "school",
    "ayuntamiento", "ministerio", "ministry", "stanley", "versicherung", "insurance",
    "seguros", "assicurazion", "verzekering",
)  # fmt: skip
_ORG_TOKENS = frozenset(
    {"ag", "sa", "sl", "s.a", "s.l", "ltd", "inc", "llc", "corp", "bv", "nv", "spa", "srl",
     "oy", "ab", "as", "plc", "kg", "ohg", "ev", "e.v"}
)  # fmt: skip
_PLACE_LEAD = frozenset({"san", "santa", "santo", "sao", "st", "saint", "sankt", "sant", "sainte"})


def _organisation(words: list[str]) -> bool:
    folded = [fold(w).strip(".,") for w in words]
    return (
        any(t in _ORG_TOKENS for t in folded)
        # `Rabobank`, `Beratungsteam`, `Rechtsanwaltskanzlei`; not `Bankowski`
        or any(t.endswith(p) or (len(p) >= 6 and p in t) for t in folded for p in _ORG_PARTS)
        or (len(folded) > 1 and folded[0] in _PLACE_LEAD)
    )


def _name_spans(text: str, names: set[str] | frozenset[str]) -> list[tuple[int, int, float]]:
    """PERSON spans: capitalised or all-capital word runs holding a listed (possibly
    inflected) name, and names announced by a greeting or a verb of speaking."""
    spans: list[tuple[int, int, float]] = []
    for rx in (_NAME_SEQ, _CAPS_SEQ):
        for match in rx.finditer(text):
            start, words = match.start(), _regex.split(r"[\s\-]+", match.group(0))
            while len(words) > 1 and fold(words[0]).rstrip(".") in _LEADING:
                start = text.index(words[1], start + len(words[0]))  # `Hola Marta` -> Marta
                words = words[1:]
            end = match.end()
            cut = next((i for i, w in enumerate(words) if _organisation([w])), None)
            if cut == 0 or (cut is None and _organisation(words)):
                continue  # `Kanzlei Müller`, `San Francisco`
            if cut is not None:  # `Isabel Crehuet Rodríguez Hospital ...`: the name before it
                words = words[:cut]
                end = text.index(words[-1], start) + len(words[-1])
            if any(_known(w, names) for w in words):
                spans.append((start, end, 0.65))
    for match in _CUE_NAME.finditer(text):
        words = match.group(1).split()
        if fold(words[0]) in _NOT_NAMES or _organisation(words):
            continue
        score = 0.7 if any(_known(w, names) for w in words) else 0.55
        spans.append((match.start(1), match.end(1), score))
    return spans


_DATE_RX = _regex.compile(_DATE_TEXT)
_PASSPORT_RX = _regex.compile(_PASSPORT_TEXT)
# Every identifier pattern needs five digits (with separators) somewhere in the text.
_DIGIT_RUN = _regex.compile(r"[0-9](?:[ .\-/]?[0-9]){4}")


@cache
def _text_patterns() -> tuple[tuple[IdentifierSpec, Any], ...]:
    flags = _regex.DOTALL | _regex.MULTILINE
    return tuple((s, _regex.compile(s.text or "(?!)", flags)) for s in TEXT_SPECS)


# -- finders: (text, language) -> hits ---------------------------------------------------


def find_identifiers(text: str, lang: str) -> list[Hit]:
    """Every identifier of the registry in one pass over the text (`<CODE>_<lang>`).

    One finder rather than one presidio recognizer per identifier: texts without a run of
    five digits are skipped at once, and presidio's per-recognizer overhead is paid once.
    A match counts when its checksum (or, for format-only identifiers, its format) holds;
    weak and format-only ones also need a context word near them (see `has_id_context`)."""
    if not _DIGIT_RUN.search(text):
        return []
    out = [
        Hit(m.start(), m.end(), 0.65, Entity.PASSPORT, "PASSPORT", context_checked=True)
        for m in _PASSPORT_RX.finditer(text)
        if has_id_context("PASSPORT", text, m.start(), m.end())
    ]
    for spec, rx in _text_patterns():
        for match in rx.finditer(text):
            if not spec.validate(match.group(0)):
                continue
            weak = spec.code in WEAK_IDS
            if weak and not has_id_context(spec.code, text, match.start(), match.end()):
                continue
            score = spec.text_score if spec.strength is Strength.NONE else 1.0
            out.append(Hit(match.start(), match.end(), score, spec.entity, spec.code, weak))
    return out


def find_phones(text: str, lang: str) -> list[Hit]:
    """Phone numbers in national form of the text's own region only; numbers written with
    +/00 are found by the matcher whatever the region (trying every region would read any
    long digit run as somebody's phone number)."""
    found: dict[tuple[int, int], Hit] = {}
    for region in _TEXT_REGIONS[lang]:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            if not _plausible_phone_match(match, region):
                continue
            if _order_number(text, match.start, match.raw_string):
                continue
            key = (match.start, match.end)
            if key in found or any(s <= match.start < e for s, e in found):
                continue
            found[key] = Hit(match.start, match.end)
    return list(found.values())


def find_birth_dates(text: str, lang: str) -> list[Hit]:
    """A date with a birth word next to it (a bare date is an event, not personal)."""
    return [
        Hit(m.start(), m.end(), context_checked=True)
        for m in _DATE_RX.finditer(text)
        if has_birth_context(text, m.start(), m.end())
    ]


@cache
def _names() -> frozenset[str]:
    return frozenset(P.name_list())


def find_listed_names(text: str, lang: str) -> list[Hit]:
    """Two to four capitalised words of which one is a known first or last name."""
    return [Hit(start, end, score) for start, end, score in _name_spans(text, _names())]
