"""Free-text columns: presidio-analyzer run offline over blank spaCy pipelines.

presidio's defaults would download a spaCy model and, through tldextract, the public
suffix list. Neither may happen here: the NLP engine is built over `spacy.blank(lang)`
(a real pipeline such as `es_core_news_sm` is used for PERSON when it is installed),
tldextract's module-level extractor is replaced by one that reads only its bundled
snapshot, and e-mail is recognised by our own recognizer. The recognizers are the entries
of `tutela.detect.recognizers.RECOGNIZERS` (identifiers through the identifier registry,
with context words in each language); this module builds the engine over them and runs it
over a column.

Texts are pre-filtered in SQL to those that can hold an entity ('@', a run of digits,
an honorific or two capitalised words, a street keyword, and what a recognizer's own
`prefilter` adds); at most `MAX_FREE_TEXT` distinct values per column are analysed, each
in one language guessed from its characters and stop words. Confidence for a free-text
finding is
`1 - (1 - mean presidio score of the top entity) * (1 - 0.5 * free-text header strength)`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any

import tutela.detect.headers as H
import tutela.detect.patterns as P
from tutela.base.errors import ConfigError, EngineError
from tutela.detect.mask import mask
from tutela.detect.model import CATEGORIES, ColumnFinding
from tutela.detect.recognizers import LANGS, REGEX_FLAGS, presidio_recognizers, sql_prefilters
from tutela.detect.textmatch import TEXT_SPECS
from tutela.engine import Distributed, Queries, SqlError

MAX_FREE_TEXT = 1000
SCORE_THRESHOLD = 0.5
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
_ID_ENTITY: dict[str, str] = {s.code: str(s.entity) for s in TEXT_SPECS}

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
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

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

    class LazyRegistry(RecognizerRegistry):
        """The recognizers of a language are made when a text in it is first analysed
        (compiling every language's patterns up front took ~0.7 s of each scan)."""

        def __init__(self) -> None:
            super().__init__(supported_languages=list(LANGS), global_regex_flags=REGEX_FLAGS)
            self._pending = set(LANGS)
            self._made = threading.Lock()
            # presidio loads its own predefined recognizers into an empty registry
            self.ensure(LANGS[0])

        def ensure(self, language: str) -> None:
            with self._made:
                if language in self._pending:
                    made = presidio_recognizers(language, ner=has_model[language])
                    for recognizer in made:  # all made first: a failure adds none
                        self.add_recognizer(recognizer)
                    self._pending.discard(language)

        def get_recognizers(self, language: str, *args: Any, **kwargs: Any) -> list[Any]:
            self.ensure(language)
            return list(super().get_recognizers(language, *args, **kwargs))

    engine = TutelaOfflineSpacyEngine()
    engine.load()
    return AnalyzerEngine(
        registry=LazyRegistry(), nlp_engine=engine, supported_languages=list(LANGS)
    )


def analyzer(ner_model: str | None = None) -> Any:
    """The shared offline presidio AnalyzerEngine (built on first use), with the user's
    spaCy NER pipeline for its language when `ner_model` names one."""
    with _lock:
        if ner_model not in _analyzers:
            _analyzers[ner_model] = _build_analyzer(ner_model)
        return _analyzers[ner_model]


def prepare(con: Queries, ner_model: str | None = None) -> threading.Thread | None:
    """Start building the analyzer (importing presidio and spaCy: ~0.7 s) in a thread, for a
    scan that will analyse free text here, so that the build overlaps the scan's queries
    (DuckDB releases the GIL while it runs them). `analyzer()` waits for it; a build that
    fails is left to `analyzer()` to repeat, and raise, in the scan's own thread. None when
    there is nothing to build here: built already, or the engine's workers analyse."""
    if ner_model in _analyzers or (isinstance(con, Distributed) and not ner_model):
        return None

    def build() -> None:
        with contextlib.suppress(Exception):
            analyzer(ner_model)

    thread = threading.Thread(target=build, name="tutela-analyzer", daemon=True)
    thread.start()
    return thread


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

Found = list[list[tuple[str, str | None, float, str]]]
"""For each text: (entity, subtype, score, matched text) found in it."""


def analyse_texts(texts: Iterable[str], ner_model: str | None = None) -> Found:
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


def analyse_on_worker(texts: list[str], ner_model: str | None = None) -> list[str]:
    """`analyse_texts` as an engine's worker runs it (`Distributed.map_texts`): each text's
    results as JSON, with this process's id and, on the first text of the batch, whether
    this batch built the analyzer (so the scan can say where presidio ran, and how often
    it was built)."""
    from tutela import __version__

    built = ner_model not in _analyzers
    results = analyse_texts(texts, ner_model)
    pid = os.getpid()
    return [
        json.dumps([found, pid, built and i == 0, __version__], ensure_ascii=False)
        for i, found in enumerate(results)
    ]


def _analyse(con: Queries, texts: list[str], ner_model: str | None) -> tuple[Found, dict[str, Any]]:
    """presidio over `texts`: on the engine's workers when it has them (Spark's executors,
    the analyzer built once per Python worker), else here. Where it ran, for the evidence
    (nothing when here: the DuckDB scan)."""

    def on_driver(reason: str, *, warn: bool = True) -> tuple[Found, dict[str, Any]]:
        if warn:
            _log.warning("presidio ran on the driver: %s", reason)
        return analyse_texts(texts, ner_model), {"engine": "driver", "reason": reason}

    if not isinstance(con, Distributed) or not texts:
        return analyse_texts(texts, ner_model), {}
    if ner_model:  # a path on this machine: the executors may not have it
        return on_driver("--ner-model", warn=False)
    try:
        sent = con.map_texts(partial(analyse_on_worker, ner_model=ner_model), texts)
    except EngineError as exc:
        # executors without Tutela's `spark` extra, or with a Tutela older than this function
        at = exc.message.find("No module named")
        if at >= 0:
            return on_driver(exc.message[at:].splitlines()[0])
        if "Can't get attribute 'analyse_on_worker'" in exc.message:
            return on_driver("an older Tutela")
        raise
    from tutela import __version__

    results: Found = []
    workers: set[int] = set()
    builds = 0
    versions: set[str] = set()
    for item in sent:
        found, pid, built, *rest = json.loads(item)
        results.append([(str(e), s, float(score), str(t)) for e, s, score, t in found])
        workers.add(int(pid))
        builds += bool(built)
        versions.add(str(rest[0]) if rest else "before 2026.12")
    if versions != {__version__}:  # other recognizers may find other things: not mixed
        return on_driver(
            f"the executors run Tutela {', '.join(sorted(versions))}, this is {__version__}"
        )
    return results, {
        "engine": "executors",
        "python_workers": len(workers),
        "analyzer_builds": builds,
    }


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
    prefilter = " OR ".join(
        [
            f"regexp_matches(v, '{_sql(P.FREE_TEXT_PREFILTER)}')",
            f"regexp_matches(lower(v), '{_sql(P.ADDRESS)}')",
            *(f"regexp_matches(v, '{_sql(rx)}')" for rx in sql_prefilters()),
        ]
    )
    sql = (
        "SELECT v, n, count(*) OVER () AS distinct_candidates, sum(n) OVER () AS candidate_rows "
        f"FROM (SELECT v, count(*) AS n FROM (SELECT {value_expr} AS v FROM {source}) "
        f"WHERE v IS NOT NULL AND ({prefilter}) GROUP BY v) "
        # which values are analysed when there are more than the cap: the same on every
        # engine (md5 is; the engines' own hash functions are not)
        f"ORDER BY md5(v), v LIMIT {MAX_FREE_TEXT}"
    )
    try:
        rows = con.execute(sql).fetchall()
    except SqlError as exc:
        raise EngineError(f"free-text query failed: {str(exc).splitlines()[0]}") from exc
    texts = [unicodedata.normalize("NFC", str(r[0])) for r in rows]
    counts = [int(r[1]) for r in rows]
    distinct_candidates = int(rows[0][2]) if rows else 0
    candidate_rows = int(rows[0][3]) if rows else 0
    results, placed = _analyse(con, texts, ner_model)
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
    if placed:
        finding.evidence["free_text"]["presidio_ran_on"] = placed
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
