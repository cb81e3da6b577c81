"""The free-text recognizers: one `Recognizer(...)` entry per recognizer in `RECOGNIZERS`,
and `presidio_recognizers`, which turns the entries into presidio recognizers.

Adding a free-text recognizer is adding one entry below. An entry is one of:

- a pattern recognizer: `patterns` (name -> regex, in the `regex` module's syntax, matched
  case-sensitively with DOTALL and MULTILINE) and/or a `deny_list` of words, matched at
  `score`; an optional `validator` drops the matches it rejects and raises the ones it
  accepts to 1.0 (presidio's rule);
- a finder: `find(text, language) -> list[Hit]` (`tutela.detect.textmatch`) for what a
  regex cannot say alone (a checksum of the identifier registry, a phone-number library,
  a list of names); a hit without a score of its own gets `score`;
- `ner=True`: presidio's spaCy recognizer, for the languages whose NER pipeline is
  installed (or given with `--ner-model`).

`entity` is one of the vocabulary (`tutela.base.identifiers.Entity`; a finder may name
several and say which in each hit); the scan reports its data category. `context` words
(one tuple for every language, or a tuple per language) raise a match's score when one is
near it. `languages` limits an entry to some of `LANGS`. Results are named
`<name>_<language>`; an identifier code (or `IPV4`) before the last `_` becomes the
finding's subtype. Texts reach the recognizers only when they pass the SQL pre-filter
(`tutela.detect.patterns.FREE_TEXT_PREFILTER`: digits, `@`, capitalised words, street
words); an entry whose matches can hide in other texts adds its own `prefilter` (an RE2
regex DuckDB runs over the column; a deny list adds its words by itself).

This module imports neither presidio nor spaCy: `presidio_recognizers` imports presidio
when the first free-text column is analysed, and never downloads anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import tutela.detect.patterns as P
from tutela.base.identifiers import Entity
from tutela.detect.textmatch import (
    TEXT_SPECS,
    Hit,
    find_birth_dates,
    find_identifiers,
    find_listed_names,
    find_phones,
)
from tutela.detect.validators import is_ip

# The languages texts are analysed in (`freetext.guess_language` picks one per text).
LANGS = ("en", "es", "ca", "pl", "el", "fr", "de", "it", "pt", "nl")
# presidio's default adds IGNORECASE; the patterns here say where case does not matter.
REGEX_FLAGS = re.DOTALL | re.MULTILINE

Finder = Callable[[str, str], list[Hit]]


@dataclass(frozen=True)
class Recognizer:
    """One free-text recognizer (see the module's docstring)."""

    name: str  # results are `<name>_<language>`
    entity: Entity | tuple[Entity, ...]  # several: a finder's hits say which
    patterns: Mapping[str, str] = field(default_factory=dict)  # pattern name -> regex
    deny_list: tuple[str, ...] = ()  # whole words, case-sensitive
    validator: Callable[[str], bool] | None = None  # of a pattern's match
    find: Finder | None = None  # (text, language) -> hits
    ner: bool = False  # presidio's spaCy recognizer, where a NER pipeline is loaded
    score: float = 0.5  # of a pattern or deny-list match, and of a hit without its own
    context: tuple[str, ...] | Mapping[str, tuple[str, ...]] = ()  # per language, or for all
    languages: tuple[str, ...] = LANGS
    prefilter: str = ""  # RE2: texts matching it reach presidio whatever the common pre-filter

    def __post_init__(self) -> None:
        kinds = (bool(self.patterns or self.deny_list), self.find is not None, self.ner)
        if sum(kinds) != 1:
            raise ValueError(
                f"recognizer {self.name}: give patterns and/or a deny_list, or find=, or ner=True"
            )
        if isinstance(self.entity, tuple) and self.find is None:
            raise ValueError(f"recognizer {self.name}: only a finder's hits can name entities")
        if set(self.languages) - set(LANGS):
            raise ValueError(f"recognizer {self.name}: languages outside {LANGS}")

    @property
    def entities(self) -> tuple[Entity, ...]:
        return self.entity if isinstance(self.entity, tuple) else (self.entity,)

    def context_for(self, lang: str) -> list[str]:
        words = self.context if isinstance(self.context, tuple) else self.context.get(lang, ())
        return list(words)

    def sql_prefilters(self) -> list[str]:
        """RE2 patterns: a text matching one reaches this recognizer."""
        words = "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", w) for w in self.deny_list)
        return [p for p in (self.prefilter, words) if p]


# National-language words that make presidio raise a phone number's score.
PHONE_CONTEXT: dict[str, tuple[str, ...]] = {
    "en": ("phone", "tel", "call", "mobile", "cell", "number"),
    "es": ("teléfono", "telefono", "tel", "móvil", "movil", "llamar", "llamó", "número"),
    "ca": ("telèfon", "telefon", "mòbil", "mobil", "trucar", "trucada", "número"),
    "pl": ("telefon", "tel", "komórka", "komórkowy", "zadzwonić", "numer", "nr"),
    "el": ("τηλ", "τηλέφωνο", "τηλέφωνό", "κινητό", "κινητο", "τηλεφωνο", "αριθμός"),
    "fr": ("téléphone", "tél", "portable", "appeler", "numéro"),
    "de": ("telefon", "tel", "handy", "anrufen", "nummer"),
    "it": ("telefono", "tel", "cellulare", "chiamare", "numero"),
    "pt": ("telefone", "telemóvel", "tel", "ligar", "número"),
    "nl": ("telefoon", "tel", "mobiel", "bellen", "nummer"),
}

EMAIL = r"\b[A-Za-z0-9._%+\-']+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,24}\b"
IPV4 = r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"
IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?:::?[0-9A-Fa-f]{1,4})*(?![\w:])"
MAC = r"\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b"
_NAME_TOKEN = r"\p{Lu}[\p{Ll}'’\-]+"
HONORIFIC_PERSON = (
    r"(?<=(?:^|[\s(,;:])(?:"
    + P._HON
    + r")\.?\s+)"
    + r"(?!(?:"  # `Frau Dr. Müller`: the title after the honorific is not the name
    + P._HON
    + r")\.?(?:\s|$))"
    + _NAME_TOKEN
    + r"(?:\s+(?:(?:de|del|de la|i|y|van|von|da|dos|di)\s+)?"
    + _NAME_TOKEN
    + r"){0,3}"
)
_STREET = "|".join(P.loose(w) for w in P.STREET_WORDS)
ADDRESS = (
    r"(?i:(?<![\w])(?:"
    + _STREET
    + r"))(?:\s+|(?<=[./]))[\p{L}0-9 .'’\-]{2,40}?,?\s*(?:n[ºo°.]\s*)?[0-9]{1,4}[A-Za-z]?\b"
    r"|\b[0-9]{1,4}[A-Za-z]?\s+(?:\p{Lu}\p{Ll}+\s+){1,3}(?:Street|Road|Avenue|Lane|Drive|St|Rd|Ave)\b"
    # `Hauptstraße 12`, `Dorpsweg 45`, `Storgatan 1`: the street word ends the name.
    r"|(?<![\w])\p{Lu}\p{L}+(?i:" + "|".join(P.STREET_SUFFIXES) + r")\s*[0-9]{1,4}[A-Za-z]?\b"
    # `Berliner Straße 12`, `Am Alten Weg 3`: a capitalised street word after the name.
    r"|(?<![\w])\p{Lu}[\p{L}\-]+\s+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Laan|Straat)"
    r"\s*[0-9]{1,4}[A-Za-z]?\b"
    # French number first: `12 rue de la Paix`, `3 bis, avenue Victor Hugo`.
    r"|\b[0-9]{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse"
    r"|place|quai|route|cours)\s+(?:(?:de la|de l'|de|du|des|d'|la|le|les)\s*)?"
    r"\p{Lu}[\p{L}'’\-]+(?:\s+(?:(?:de|du|des|la|le)\s+)?\p{Lu}[\p{L}'’\-]+){0,3}"
    # Portuguese/Italian `Largo do Carmo 12` (capitalised: Spanish `a largo plazo` is not).
    r"|(?<![\w])Largo\s+(?:d[aoe]s?\s+|di\s+)?\p{Lu}[\p{L}'’\-]+(?:\s+\p{Lu}[\p{L}'’\-]+){0,2}"
    r",?\s*(?:n[ºo°.]\s*)?[0-9]{1,4}\b"
)


RECOGNIZERS: list[Recognizer] = [
    Recognizer(
        "EMAIL_ADDRESS",
        Entity.EMAIL_ADDRESS,
        patterns={"email": EMAIL},
        score=0.9,
        validator=lambda t: "." in t.rsplit("@", 1)[-1],
    ),
    Recognizer(
        "PHONE_NUMBER", Entity.PHONE_NUMBER, find=find_phones, score=0.7, context=PHONE_CONTEXT
    ),
    # Every personal identifier of the registry with a text pattern (`IdentifierSpec.text`,
    # checksum and context words from there), and passport numbers announced as such.
    Recognizer(
        "IDENTIFIERS",
        tuple(sorted({s.entity for s in TEXT_SPECS if s.entity} | {Entity.PASSPORT})),
        find=find_identifiers,
    ),
    Recognizer(
        "IPV4",  # IPv6 too: `analyse_texts` tells them apart
        Entity.IP_ADDRESS,
        patterns={"ipv4": IPV4, "ipv6": IPV6},
        score=0.6,
        validator=is_ip,
        context=("ip",),
    ),
    Recognizer("MAC", Entity.MAC_ADDRESS, patterns={"mac": MAC}, score=0.8),
    Recognizer(
        "PERSON_HONORIFIC", Entity.PERSON, patterns={"honorific": HONORIFIC_PERSON}, score=0.8
    ),
    Recognizer("PERSON_NAMELIST", Entity.PERSON, find=find_listed_names),
    Recognizer("DATE_OF_BIRTH", Entity.DATE_OF_BIRTH, find=find_birth_dates, score=0.85),
    Recognizer("ADDRESS", Entity.POSTAL_ADDRESS, patterns={"street": ADDRESS}, score=0.7),
    Recognizer("PERSON_NER", Entity.PERSON, ner=True),
]


def sql_prefilters() -> list[str]:
    """The RE2 pre-filters the entries add to the common one."""
    return [p for spec in RECOGNIZERS for p in spec.sql_prefilters()]


def presidio_recognizers(lang: str, *, ner: bool) -> list[Any]:
    """presidio recognizers for the entries of `RECOGNIZERS` covering `lang`, in list order
    (`ner`: a spaCy NER pipeline is loaded for `lang`)."""
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    validated, finder = _classes()
    out: list[Any] = []
    for spec in RECOGNIZERS:
        if lang not in spec.languages or (spec.ner and not ner):
            continue
        name, entities = f"{spec.name}_{lang}", [str(e) for e in spec.entities]
        if spec.ner:
            out.append(SpacyRecognizer(lang, entities, name=name))
        elif spec.find is not None:
            out.append(finder(spec, lang))
        else:
            kwargs: dict[str, Any] = {
                "supported_entity": entities[0],
                "name": name,
                "supported_language": lang,
                "patterns": [Pattern(n, rx, spec.score) for n, rx in spec.patterns.items()],
                "deny_list": list(spec.deny_list) or None,
                "deny_list_score": spec.score,
                "context": spec.context_for(lang) or None,
                "global_regex_flags": REGEX_FLAGS,
            }
            validator = spec.validator
            out.append(validated(validator, **kwargs) if validator else PatternRecognizer(**kwargs))
    return out


@cache
def _classes() -> tuple[Any, Any]:
    """The two presidio recognizer classes entries become (built once, when presidio loads;
    named apart from presidio's own, which it looks up by class name)."""
    from presidio_analyzer import (
        AnalysisExplanation,
        EntityRecognizer,
        PatternRecognizer,
        RecognizerResult,
    )

    class TutelaValidatedPattern(PatternRecognizer):
        """A pattern confirmed by a validator (presidio raises a valid match to 1.0)."""

        def __init__(self, check: Callable[[str], bool], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._check = check

        def validate_result(self, pattern_text: str) -> bool:
            return bool(self._check(pattern_text))

    class TutelaFinder(EntityRecognizer):
        """An entry's finder as a presidio recognizer."""

        def __init__(self, spec: Recognizer, lang: str) -> None:
            super().__init__(
                supported_entities=[str(e) for e in spec.entities],
                supported_language=lang,
                name=f"{spec.name}_{lang}",
                context=spec.context_for(lang),
            )
            self.spec, self.lang = spec, lang

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            assert self.spec.find is not None
            out = []
            for hit in self.spec.find(text, self.lang):
                entity = str(hit.entity or self.spec.entities[0])
                if entities and entity not in entities:
                    continue
                score = self.spec.score if hit.score is None else hit.score
                label = f"{hit.name or self.spec.name}_{self.lang}"
                out.append(
                    RecognizerResult(
                        entity,
                        hit.start,
                        hit.end,
                        score,
                        analysis_explanation=AnalysisExplanation(label, score),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: hit.context_checked,
                        },
                    )
                )
            return out

    return TutelaValidatedPattern, TutelaFinder
