"""Free-text columns: presidio-analyzer run offline over blank spaCy pipelines.

presidio's defaults would download a spaCy model and, through tldextract, the public
suffix list. Neither may happen here: the NLP engine is built over `spacy.blank(lang)`
(a real pipeline such as `es_core_news_sm` is used for PERSON when it is installed),
tldextract's module-level extractor is replaced by one that reads only its bundled
snapshot, and e-mail is recognised by our own recognizer. Identifier recognizers reuse
the column validators (`validators.py`), with context words in each language.

Texts are pre-filtered in SQL to those that can hold an entity ('@', a run of digits,
an honorific or two capitalised words, a street keyword); at most `MAX_FREE_TEXT`
distinct values per column are analysed, each in one language guessed from its
characters and stop words. Confidence for a free-text finding is
`1 - (1 - mean presidio score of the top entity) * (1 - 0.5 * free-text header strength)`.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import phonenumbers

import tutela.detect.headers as H
import tutela.detect.patterns as P
from tutela.base.errors import ConfigError, EngineError
from tutela.base.identifiers import (
    PASSPORT_CONTEXT,
    PERSONAL_SPECS,
    Entity,
    IdentifierSpec,
    Strength,
    generic_context_words,
)
from tutela.base.text import fold
from tutela.detect.mask import mask
from tutela.detect.model import CATEGORIES, ColumnFinding
from tutela.detect.validators import (
    is_date_like,
    is_ip,
    is_postcode_like,
    national_form_ok,
)
from tutela.engine import Queries, SqlError

MAX_FREE_TEXT = 1000
SCORE_THRESHOLD = 0.5
LANGS = ("en", "es", "ca", "pl", "el", "fr", "de", "it", "pt", "nl")
# spaCy NER pipelines used for PERSON when installed (never downloaded).
NER_MODELS = {
    "en": "en_core_web_sm",
    "es": "es_core_news_sm",
    "ca": "ca_core_news_sm",
    "pl": "pl_core_news_sm",
    "el": "el_core_news_sm",
    "fr": "fr_core_news_sm",
    "de": "de_core_news_sm",
    "it": "it_core_news_sm",
    "pt": "pt_core_news_sm",
    "nl": "nl_core_news_sm",
}
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

_CONTEXT: dict[str, dict[str, list[str]]] = {
    "PHONE_NUMBER": {
        "en": ["phone", "tel", "call", "mobile", "cell", "number"],
        "es": ["teléfono", "telefono", "tel", "móvil", "movil", "llamar", "llamó", "número"],
        "ca": ["telèfon", "telefon", "mòbil", "mobil", "trucar", "trucada", "número"],
        "pl": ["telefon", "tel", "komórka", "komórkowy", "zadzwonić", "numer", "nr"],
        "el": ["τηλ", "τηλέφωνο", "τηλέφωνό", "κινητό", "κινητο", "τηλεφωνο", "αριθμός"],
        "fr": ["téléphone", "tél", "portable", "appeler", "numéro"],
        "de": ["telefon", "tel", "handy", "anrufen", "nummer"],
        "it": ["telefono", "tel", "cellulare", "chiamare", "numero"],
        "pt": ["telefone", "telemóvel", "tel", "ligar", "número"],
        "nl": ["telefoon", "tel", "mobiel", "bellen", "nummer"],
    },
}

# Identifiers in text: every personal spec of the registry with a text pattern. Those whose
# check random digits pass about once in ten (mod 10, mod 11, Luhn) or that have no check
# at all count only with a context word near the match, whatever presidio's validation
# score. A country prefix (`PT`, `EL`, `PL`) is context enough.
TEXT_SPECS: tuple[IdentifierSpec, ...] = tuple(s for s in PERSONAL_SPECS if s.text)
WEAK_IDS = frozenset(s.code for s in TEXT_SPECS if s.text_needs_context)
_SPEC = {s.code: s for s in TEXT_SPECS}
_ID_ENTITY: dict[str, str] = {s.code: str(s.entity) for s in TEXT_SPECS}
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


_EMAIL_TEXT = r"\b[A-Za-z0-9._%+\-']+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,24}\b"
_IPV4_TEXT = r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"
_IPV6_TEXT = (
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?:::?[0-9A-Fa-f]{1,4})*(?![\w:])"
)
_MAC_TEXT = r"\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b"
_NAME_TOKEN = r"\p{Lu}[\p{Ll}'’\-]+"
_HONORIFIC_PERSON = (
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
_ADDRESS_TEXT = (
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

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_analyzers: dict[str | None, Any] = {}  # by the path of a user's NER model (None: none)


def _offline_tldextract() -> None:
    """Make tldextract use its bundled suffix-list snapshot: no network, no cache writes."""
    try:
        import tldextract
        import tldextract.tldextract as tld_module
    except ImportError:  # presidio without tldextract: nothing to neutralise
        return
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    tld_module.TLD_EXTRACTOR = offline
    # `tldextract.extract` is bound at import time; route it through the offline one too.
    tldextract.extract = offline  # type: ignore[assignment]
    tld_module.extract = offline  # type: ignore[assignment]


def load_ner_model(path: str) -> tuple[str, Any]:
    """A spaCy pipeline the user installed (`--ner-model PATH`): (language, pipeline).

    Never downloaded: a directory written by spaCy (`nlp.to_disk`) or the name of an
    installed model package. A clear error when it is absent or not a pipeline."""
    import spacy

    try:
        nlp = spacy.load(path)
    except (OSError, ValueError, ImportError) as exc:
        raise ConfigError(
            f"--ner-model: no spaCy pipeline at {path!r} ({str(exc).splitlines()[0][:120]})",
            hint="install one from a wheel you trust (pip install ...) and pass its directory "
            "or package name; without --ner-model, names come from Tutela's own recognizers",
        ) from None
    if nlp.lang not in LANGS:
        raise ConfigError(
            f"--ner-model: the pipeline at {path!r} is for language {nlp.lang!r}",
            hint=f"Tutela analyses text in {', '.join(LANGS)}",
        )
    if "ner" not in nlp.pipe_names and "entity_ruler" not in nlp.pipe_names:
        raise ConfigError(f"--ner-model: the pipeline at {path!r} finds no entities (no ner)")
    return nlp.lang, nlp


class _LazyPipelines(dict[str, Any]):
    """Language -> spaCy pipeline, each built when first asked for."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, lang: str) -> Any:
        if lang not in LANGS:
            raise KeyError(lang)
        self[lang] = pipeline = self._build(lang)
        return pipeline

    def __bool__(self) -> bool:  # loaded, although nothing is built yet
        return True


@cache
def _blank(lang: str) -> Any:
    """A blank spaCy pipeline (a tokenizer), built once per process: an analyzer with the
    user's NER model for one language shares the other languages' pipelines."""
    import spacy

    return spacy.blank(lang)


def _build_analyzer(ner_model: str | None = None) -> Any:
    _offline_tldextract()
    import spacy
    from presidio_analyzer import (
        AnalysisExplanation,
        AnalyzerEngine,
        EntityRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    has_model = {lang: bool(spacy.util.is_package(NER_MODELS[lang])) for lang in LANGS}
    user = load_ner_model(ner_model) if ner_model else None
    if user is not None:
        has_model[user[0]] = True

    class TutelaOfflineSpacyEngine(SpacyNlpEngine):
        """Blank spaCy pipelines (or installed NER models); never downloads."""

        def __init__(self) -> None:
            super().__init__(
                models=[{"lang_code": lang, "model_name": NER_MODELS[lang]} for lang in LANGS]
            )

        def load(self) -> None:
            # built on first use, per language: a drop in Spanish never pays for French
            # (`spacy.blank("fr")` alone takes seconds)
            self.nlp: Any = _LazyPipelines(
                lambda lang: spacy.load(NER_MODELS[lang]) if has_model[lang] else _blank(lang)
            )
            if user is not None:
                self.nlp[user[0]] = user[1]

        def get_supported_languages(self) -> list[str]:
            return list(LANGS)

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
            # Blank pipelines have no lemmas; presidio's context words match on them.
            entities = list(doc.ents) if has_model[language] else []
            scores = [0.85] * len(entities)
            if entities:
                entities, scores = self._get_updated_entities(entities, scores)
            return NlpArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=[t.idx for t in doc],
                lemmas=[(t.lemma_ or t.text).lower() for t in doc],
                nlp_engine=self,
                language=language,
                scores=scores,
            )

    flags = re.DOTALL | re.MULTILINE

    class TutelaValidatedPattern(PatternRecognizer):
        """A pattern confirmed by a validator; a `weak` one also needs a context word.

        presidio raises every validated match to score 1.0, so a low base score cannot
        make a weak checksum wait for context: `analyze` drops weak matches that have
        no context word of their own near them, and marks the others as already
        context-enhanced (presidio's substring matching would accept `id` in `did`).
        """

        def __init__(
            self, check: Any, weak: str | None = None, keep_score: bool = False, **kwargs: Any
        ) -> None:
            super().__init__(global_regex_flags=flags, **kwargs)
            self._check = check
            self._weak = weak
            self._keep_score = keep_score  # a format check: valid keeps the base score

        def validate_result(self, pattern_text: str) -> bool | None:
            ok = bool(self._check(pattern_text))
            return None if ok and self._keep_score else ok

        def analyze(
            self,
            text: str,
            entities: list[str],
            nlp_artifacts: Any = None,
            regex_flags: int | None = None,
        ) -> list[Any]:
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
            if self._weak is None:
                return list(results)
            kept = []
            for r in results:
                if has_id_context(self._weak, text, r.start, r.end):
                    r.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
                    kept.append(r)
            return kept

    class TutelaIdentifierRecognizer(EntityRecognizer):
        """Every identifier of the registry in one pass over the text.

        One recognizer rather than one presidio PatternRecognizer per identifier: texts
        without a run of five digits are skipped at once, and presidio's per-recognizer
        overhead is paid once. A match counts when its checksum (or, for format-only
        identifiers, its format) holds; weak and format-only ones also need a context
        word near them (see `has_id_context`). Results are named `<CODE>_<lang>`.
        """

        def __init__(self, language: str) -> None:
            entities = sorted({str(s.entity) for s in TEXT_SPECS} | {"PASSPORT"})
            super().__init__(
                supported_entities=entities,
                supported_language=language,
                name=f"IDENTIFIERS_{language}",
            )
            self.lang = language

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if not _DIGIT_RUN.search(text):
                return []
            out = []
            if not entities or "PASSPORT" in entities:
                for match in _PASSPORT_RX.finditer(text):
                    if has_id_context("PASSPORT", text, match.start(), match.end()):
                        label = f"PASSPORT_{self.lang}"
                        out.append(
                            RecognizerResult(
                                "PASSPORT",
                                match.start(),
                                match.end(),
                                0.65,
                                analysis_explanation=AnalysisExplanation(label, 0.65),
                                recognition_metadata={
                                    RecognizerResult.RECOGNIZER_NAME_KEY: label,
                                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                    RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                                },
                            )
                        )
            for spec, rx in _text_patterns():
                if entities and str(spec.entity) not in entities:
                    continue
                for match in rx.finditer(text):
                    if not spec.validate(match.group(0)):
                        continue
                    weak = spec.code in WEAK_IDS
                    if weak and not has_id_context(spec.code, text, match.start(), match.end()):
                        continue
                    score = spec.text_score if spec.strength is Strength.NONE else 1.0
                    label = f"{spec.code}_{self.lang}"
                    out.append(
                        RecognizerResult(
                            str(spec.entity),
                            match.start(),
                            match.end(),
                            score,
                            analysis_explanation=AnalysisExplanation(label, score),
                            recognition_metadata={
                                RecognizerResult.RECOGNIZER_NAME_KEY: label,
                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: weak,
                            },
                        )
                    )
            return out

    class TutelaPhoneRecognizer(EntityRecognizer):
        def __init__(self, language: str) -> None:
            # National formats in the text's own region only; numbers written with +/00
            # are found by the matcher whatever the region (trying every region would
            # read any long digit run as somebody's phone number).
            self.regions = _TEXT_REGIONS[language]
            self.label = f"PHONE_NUMBER_{language}"
            super().__init__(
                supported_entities=["PHONE_NUMBER"],
                supported_language=language,
                name=f"PHONE_NUMBER_{language}",
                context=_CONTEXT["PHONE_NUMBER"][language],
            )

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            found: dict[tuple[int, int], Any] = {}
            for region in self.regions:
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
                    found[key] = RecognizerResult(
                        "PHONE_NUMBER",
                        match.start,
                        match.end,
                        0.7,
                        analysis_explanation=AnalysisExplanation(self.label, 0.7),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
            return list(found.values())

    class TutelaBirthDateRecognizer(EntityRecognizer):
        """A date with a birth word before it (a bare date is an event, not personal)."""

        def __init__(self, language: str) -> None:
            super().__init__(
                supported_entities=["DATE_OF_BIRTH"],
                supported_language=language,
                name=f"DATE_OF_BIRTH_{language}",
            )
            self.label = f"DATE_OF_BIRTH_{language}"

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            out = []
            for match in _DATE_RX.finditer(text):
                if not has_birth_context(text, match.start(), match.end()):
                    continue
                out.append(
                    RecognizerResult(
                        "DATE_OF_BIRTH",
                        match.start(),
                        match.end(),
                        0.85,
                        analysis_explanation=AnalysisExplanation(self.label, 0.85),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                        },
                    )
                )
            return out

    class TutelaNameListRecognizer(EntityRecognizer):
        """Two to four capitalised words of which one is a known first or last name."""

        def __init__(self, language: str) -> None:
            super().__init__(
                supported_entities=["PERSON"],
                supported_language=language,
                name=f"PERSON_NAMELIST_{language}",
            )
            self.label = f"PERSON_NAMELIST_{language}"
            self.names = set(P.name_list())

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            out = []
            for start, end, score in _name_spans(text, self.names):
                out.append(
                    RecognizerResult(
                        "PERSON",
                        start,
                        end,
                        score,
                        analysis_explanation=AnalysisExplanation(self.label, score),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
            return out

    engine = TutelaOfflineSpacyEngine()
    engine.load()
    registry = RecognizerRegistry(supported_languages=list(LANGS), global_regex_flags=flags)
    for lang in LANGS:
        add = registry.add_recognizer
        add(
            TutelaValidatedPattern(
                lambda t: "." in t.rsplit("@", 1)[-1],
                supported_entity="EMAIL_ADDRESS",
                name=f"EMAIL_ADDRESS_{lang}",
                patterns=[Pattern("email", _EMAIL_TEXT, 0.9)],
                supported_language=lang,
            )
        )
        add(TutelaPhoneRecognizer(lang))
        add(TutelaIdentifierRecognizer(lang))
        add(
            TutelaValidatedPattern(
                is_ip,
                supported_entity="IP_ADDRESS",
                name=f"IPV4_{lang}",
                patterns=[Pattern("ipv4", _IPV4_TEXT, 0.6), Pattern("ipv6", _IPV6_TEXT, 0.6)],
                supported_language=lang,
                context=["ip"],
            )
        )
        add(
            PatternRecognizer(
                supported_entity="MAC_ADDRESS",
                name=f"MAC_{lang}",
                patterns=[Pattern("mac", _MAC_TEXT, 0.8)],
                supported_language=lang,
                global_regex_flags=flags,
            )
        )
        add(
            PatternRecognizer(
                supported_entity="PERSON",
                name=f"PERSON_HONORIFIC_{lang}",
                patterns=[Pattern("honorific", _HONORIFIC_PERSON, 0.8)],
                supported_language=lang,
                global_regex_flags=flags,
            )
        )
        add(TutelaNameListRecognizer(lang))
        add(TutelaBirthDateRecognizer(lang))
        add(
            PatternRecognizer(
                supported_entity="POSTAL_ADDRESS",
                name=f"ADDRESS_{lang}",
                patterns=[Pattern("street", _ADDRESS_TEXT, 0.7)],
                supported_language=lang,
                global_regex_flags=flags,
            )
        )
        if has_model[lang]:
            add(SpacyRecognizer(supported_language=lang, supported_entities=["PERSON"]))
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=list(LANGS))


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


import regex as _regex  # noqa: E402  (presidio's own dependency; \p{..} classes)

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


def analyzer(ner_model: str | None = None) -> Any:
    """The shared offline presidio AnalyzerEngine (built on first use), with the user's
    spaCy NER pipeline for its language when `ner_model` names one."""
    with _lock:
        if ner_model not in _analyzers:
            _analyzers[ner_model] = _build_analyzer(ner_model)
        return _analyzers[ner_model]


# -- language ---------------------------------------------------------------------------

_STOP: dict[str, frozenset[str]] = {
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "que",
            "de",
            "del",
            "y",
            "en",
            "con",
            "para",
            "por",
            "una",
            "un",
            "es",
            "está",
            "no",
            "se",
            "su",
            "al",
            "lo",
            "pero",
            "muy",
            "cliente",
            "llamar",
            "llamó",
            "quiere",
            "dice",
            "pide",
            "mañana",
        ]
    ),
    "ca": frozenset(
        [
            "el",
            "la",
            "els",
            "les",
            "que",
            "de",
            "i",
            "amb",
            "per",
            "una",
            "un",
            "és",
            "està",
            "no",
            "es",
            "seu",
            "al",
            "però",
            "molt",
            "vol",
            "diu",
            "demà",
            "perquè",
            "aquest",
            "aquesta",
            "trucar",
            "client",
        ]
    ),
    "pl": frozenset(
        [
            "i",
            "w",
            "z",
            "na",
            "do",
            "nie",
            "się",
            "jest",
            "że",
            "to",
            "od",
            "po",
            "pan",
            "pani",
            "ale",
            "jak",
            "dla",
            "tak",
            "klient",
            "prosi",
            "chce",
            "jutro",
            "oraz",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "and",
            "of",
            "to",
            "in",
            "is",
            "for",
            "with",
            "on",
            "that",
            "this",
            "was",
            "please",
            "customer",
            "call",
            "wants",
            "asked",
            "will",
            "be",
            "at",
            "from",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "des",
            "du",
            "est",
            "pour",
            "avec",
            "une",
            "dans",
            "que",
            "pas",
            "il",
            "elle",
            "client",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "mit",
            "für",
            "nicht",
            "ein",
            "eine",
            "den",
            "zu",
            "kunde",
            "bitte",
        ]
    ),
    "it": frozenset(
        ["il", "la", "che", "di", "e", "per", "con", "una", "non", "è", "sono", "del", "cliente"]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "que",
            "de",
            "e",
            "em",
            "para",
            "com",
            "uma",
            "não",
            "é",
            "do",
            "da",
            "cliente",
        ]
    ),
    "nl": frozenset(
        ["de", "het", "een", "en", "van", "is", "met", "voor", "niet", "op", "dat", "klant"]
    ),
}
_WORDS = re.compile(r"[^\W\d_]+")


def guess_language(text: str) -> str:
    """A cheap guess from the script, diacritics and stop words; English when unsure."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum("\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff" for c in letters) > (
        len(letters) * 0.2
    ):
        return "el"
    low = text.lower()
    words = _WORDS.findall(low)
    scores = Counter({lang: sum(w in stop for w in words) for lang, stop in _STOP.items()})
    if any(c in low for c in "ąćęłńśźż"):
        scores["pl"] += 3
    if "l·l" in low or any(c in low for c in "çò") or " amb " in low:
        scores["ca"] += 2
    if any(c in low for c in "ñ¿¡"):
        scores["es"] += 2
    lang, score = scores.most_common(1)[0] if scores else ("en", 0)
    return lang if score > 0 else "en"


# -- the column pass --------------------------------------------------------------------


def analyse_texts(
    texts: Iterable[str], ner_model: str | None = None
) -> list[list[tuple[str, str | None, float, str]]]:
    """For each text: (entity, subtype, score, matched text) found in it."""
    engine = analyzer(ner_model)
    out = []
    for text in texts:
        lang = guess_language(text)
        found = []
        for r in engine.analyze(text=text, language=lang, score_threshold=SCORE_THRESHOLD):
            name = (
                str(r.recognition_metadata.get("recognizer_name", ""))
                if (r.recognition_metadata)
                else ""
            )
            subtype = name.rsplit("_", 1)[0] if name else None
            if subtype not in _ID_ENTITY and subtype != "IPV4":
                subtype = None
            if subtype == "IPV4" and ":" in text[r.start : r.end]:
                subtype = "IPV6"
            found.append((r.entity_type, subtype, float(r.score), text[r.start : r.end], r))
        out.append([f[:4] for f in _resolve_overlaps(found)])
    return out


def _resolve_overlaps(found: list[Any]) -> list[Any]:
    """Keep the strongest of overlapping results (an address beats the surname in it)."""
    kept: list[Any] = []
    for item in sorted(found, key=lambda f: (-f[2], -(f[4].end - f[4].start))):
        r = item[4]
        if all(r.end <= k[4].start or r.start >= k[4].end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f[4].start)


def scan_free_text(
    con: Queries,
    source: str,
    column: str,
    value_expr: str,
    finding: ColumnFinding,
    *,
    min_share: float = 0.0,
    ner_model: str | None = None,
) -> None:
    """Fill `finding` for a free-text column from presidio over its pre-filtered values.

    `min_share`: the share of non-empty rows that must mention an entity for the column to
    be reported (0: any mention; short-text columns sent here for a few mentions need more).
    """
    finding.free_text = True
    prefilter = (
        f"regexp_matches(v, '{_sql(P.FREE_TEXT_PREFILTER)}') OR "
        f"regexp_matches(lower(v), '{_sql(P.ADDRESS)}')"
    )
    sql = (
        "SELECT v, n, count(*) OVER () AS distinct_candidates, sum(n) OVER () AS candidate_rows "
        f"FROM (SELECT v, count(*) AS n FROM (SELECT {value_expr} AS v FROM {source}) "
        f"WHERE v IS NOT NULL AND ({prefilter}) GROUP BY v) "
        f"ORDER BY hash(v) LIMIT {MAX_FREE_TEXT}"
    )
    try:
        rows = con.execute(sql).fetchall()
    except SqlError as exc:
        raise EngineError(f"free-text query failed: {str(exc).splitlines()[0]}") from exc
    texts = [unicodedata.normalize("NFC", str(r[0])) for r in rows]
    counts = [int(r[1]) for r in rows]
    distinct_candidates = int(rows[0][2]) if rows else 0
    candidate_rows = int(rows[0][3]) if rows else 0
    results = analyse_texts(texts, ner_model)
    entity_hits: Counter[str] = Counter()
    subtype_hits: Counter[tuple[str, str]] = Counter()
    scores: dict[str, list[float]] = {}
    languages: Counter[str] = Counter(guess_language(t) for t in texts)
    rows_with = 0
    examples: list[str] = []
    for found, n in zip(results, counts, strict=True):
        if not found:
            continue
        rows_with += n
        for entity, subtype, score, text in found:
            entity_hits[entity] += 1
            scores.setdefault(entity, []).append(score)
            if subtype:
                subtype_hits[(entity, subtype)] += 1
            if len(examples) < 3:
                example = f"{entity}: {mask(text, entity)}"
                if example not in examples:
                    examples.append(example)
    analysed_rows = sum(counts)
    scale = candidate_rows / analysed_rows if analysed_rows else 0.0
    finding.evidence["free_text"] = {
        "candidates_distinct": distinct_candidates,
        "analysed_distinct": len(texts),
        "cap": MAX_FREE_TEXT,
        "languages": dict(languages.most_common()),
        "presidio_entities": dict(entity_hits.most_common()),
    }
    if not entity_hits:
        return
    share = rows_with * scale / finding.non_empty if finding.non_empty else 0.0
    if min_share and share < min_share:
        finding.free_text = False
        finding.evidence["free_text"]["share_with_mentions"] = round(share, 4)
        return
    finding.evidence["free_text"]["share_with_mentions"] = round(share, 4)
    top = entity_hits.most_common(1)[0][0]
    subtypes = [(s, c) for (e, s), c in subtype_hits.most_common() if e == top]
    mean = sum(scores[top]) / len(scores[top])
    strength = max(
        (h.strength for h in H.header_hints(column) if h.kind == H.FREE_TEXT), default=0.0
    )
    finding.entity = top
    finding.subtype = subtypes[0][0] if subtypes else None
    if finding.subtype == "CARD" or (finding.subtype in ("IPV4", "IPV6") and top != "IP_ADDRESS"):
        finding.subtype = finding.subtype if top in ("CREDIT_CARD", "IP_ADDRESS") else None
    finding.category = CATEGORIES[top]
    finding.matched = min(finding.non_empty, round(rows_with * scale))
    finding.confidence = round(min(0.99, 1 - (1 - mean) * (1 - 0.5 * strength)), 2)
    finding.evidence["examples"] = examples
    _log.debug("free text %s: %s", column, dict(entity_hits))


def _sql(pattern: str) -> str:
    return pattern.replace("'", "''")
