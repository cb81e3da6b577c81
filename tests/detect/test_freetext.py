"""Free text: presidio offline over blank spaCy pipelines, in five languages, no network."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import socket
from typing import Any

import duckdb
import pytest

from tests.detect.conftest import MakeTable, by_column, scan_columns
from tutela.base.errors import EngineError
from tutela.base.identifiers import Entity
from tutela.detect import freetext, recognizers
from tutela.detect.engine import scan_table
from tutela.detect.freetext import analyse_texts, guess_language
from tutela.detect.recognizers import Recognizer
from tutela.detect.textmatch import Hit
from tutela.workspace import LocalTables

NOTES = {
    "es": "Llamar a la Sra. Lucía Martínez al 612 345 678 para confirmar la entrega del pedido",
    "ca": "Trucar a la Núria Puig i Soler, viu al carrer de Mallorca 401, demà al matí",
    "pl": "Pani Zofia Nowak prosi o kontakt pod numerem 601 234 567 w sprawie zwrotu",
    "el": "Ο κ. Ρίζος ζήτησε επιστροφή χρημάτων, κινητό 6912345678, μετά τις πέντε",
    "en": "Customer Mr John Smith asked for a refund, write to john.smith@example.com today",
}


@pytest.mark.parametrize(("lang", "text"), list(NOTES.items()))
def test_language_guess(lang: str, text: str) -> None:
    assert guess_language(text) == lang


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        (NOTES["es"], "PHONE_NUMBER"),
        (NOTES["es"], "PERSON"),
        (NOTES["ca"], "POSTAL_ADDRESS"),
        (NOTES["ca"], "PERSON"),
        (NOTES["pl"], "PERSON"),
        (NOTES["pl"], "PHONE_NUMBER"),
        (NOTES["el"], "PERSON"),
        (NOTES["el"], "PHONE_NUMBER"),
        (NOTES["en"], "EMAIL_ADDRESS"),
        (NOTES["en"], "PERSON"),
        ("Mój PESEL to 44051401458, proszę o fakturę", "NATIONAL_ID"),
        ("Transferencia a ES91 2100 0418 4502 0005 1332 recibida", "IBAN_CODE"),
        ("DNI del titular: 12345678Z", "NATIONAL_ID"),
        ("Conexión desde 192.0.2.45 bloqueada", "IP_ADDRESS"),
    ],
)
def test_entities_inside_text(text: str, entity: str) -> None:
    (found,) = analyse_texts([text])
    assert entity in {f[0] for f in found}


@pytest.mark.parametrize(
    "text",
    [
        "Pedido entregado sin incidencias en el almacén central",
        "Zamówienie 123456789012 wysłane kurierem",  # order number: fails every checksum
        "DNI incorrecto 12345678A en el formulario",  # wrong control letter
    ],
)
def test_no_false_identifiers_in_text(text: str) -> None:
    (found,) = analyse_texts([text])
    assert not [f for f in found if f[0] in ("NATIONAL_ID", "TAX_ID", "PHONE_NUMBER")]


def test_notes_column_in_five_languages(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    filler = ["Pedido entregado sin incidencias en el almacén central"] * 45
    make_table("crm", {"notes": list(NOTES.values()) + filler})
    found = scan_columns(con, "crm")["notes"]
    assert found.free_text is True
    assert found.entity in {"PERSON", "PHONE_NUMBER"}
    assert found.category is not None
    ft = found.evidence["free_text"]
    assert ft["analysed_distinct"] == 5  # the filler never reaches presidio
    assert set(ft["languages"]) == set(NOTES)
    assert found.matched == 5
    assert all("*" in e for e in found.evidence["examples"])


def test_free_text_without_entities_is_not_personal(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    texts = [
        f"Producto revisado en el almacén número {i}, embalaje en buen estado" for i in range(50)
    ]
    make_table("t", {"comentarios": texts})
    found = scan_columns(con, "t")["comentarios"]
    assert found.free_text is True
    assert found.entity is None


def test_free_text_cap_is_reported(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(freetext, "MAX_FREE_TEXT", 10)
    texts = [f"Escribir a cliente{i}@example.com sobre la devolución del pedido" for i in range(40)]
    make_table("t", {"notes": texts})
    found = scan_columns(con, "t")["notes"]
    assert found.entity == "EMAIL_ADDRESS"
    assert found.evidence["free_text"]["analysed_distinct"] == 10
    assert found.evidence["free_text"]["candidates_distinct"] == 40
    assert found.matched == 40  # extrapolated from the analysed share


def test_free_text_scan_runs_without_network(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """presidio, spaCy and tldextract must not reach out (public suffix list, models)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access attempted during a scan")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(freetext, "_analyzers", {})  # rebuild the engine under the ban
    make_table("t", {"notes": [NOTES["en"], NOTES["es"]] * 10})
    found = scan_columns(con, "t")["notes"]
    assert found.free_text and found.entity is not None
    # the e-mail path (where presidio would call tldextract) really ran
    assert "EMAIL_ADDRESS" in found.evidence["free_text"]["presidio_entities"]
    import tldextract

    assert tldextract.extract("someone@mail.example.co.uk").suffix == "co.uk"


def test_presidio_default_engine_still_builds_after_ours() -> None:
    """Our recognizer classes must not shadow presidio's own (it looks them up by name)."""
    from presidio_analyzer.recognizer_registry import RecognizerRegistry

    freetext.analyzer()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    names = {type(r).__name__ for r in registry.recognizers}
    assert "PhoneRecognizer" in names


# -- one entry in the recognizer list is all a new free-text recognizer needs ----------------


def _what3words(text: str, lang: str) -> list[Hit]:
    return [Hit(m.start(), m.end()) for m in re.finditer(r"///[a-z]+\.[a-z]+\.[a-z]+", text)]


ADDED = {
    # a pattern, with context words
    "pattern": (
        Recognizer(
            "COORDINATES",
            Entity.GEOLOCATION,
            patterns={"latlon": r"-?[0-9]{1,2}\.[0-9]{4,6},\s?-?[0-9]{1,3}\.[0-9]{4,6}"},
            score=0.6,
            context=("gps", "coordinates"),
        ),
        "delivery left at 41.3874{i:02d}, 2.168602 as agreed",
    ),
    # a deny list: texts holding its words reach presidio though nothing else would send them
    "deny_list": (
        Recognizer("HANDLES", Entity.ONLINE_ID, deny_list=("zyxq_wopl", "brin.kalos"), score=0.8),
        "complaint number {i} posted by zyxq_wopl on the forum",
    ),
    # a finder, with its own SQL pre-filter
    "finder": (
        Recognizer("WHAT3WORDS", Entity.GEOLOCATION, find=_what3words, score=0.8, prefilter="///"),
        "parcel {i} left at ///index.home.raft by the door",
    ),
}


@pytest.mark.parametrize("kind", list(ADDED))
def test_a_recognizer_added_to_the_list_is_used_by_a_scan(
    kind: str,
    con: duckdb.DuckDBPyConnection,
    make_table: MakeTable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry, template = ADDED[kind]
    entity = str(entry.entity)
    make_table("t", {"notes": [template.format(i=i) for i in range(30)]})
    before = scan_columns(con, "t")["notes"]
    assert entity not in before.evidence.get("free_text", {}).get("presidio_entities", {})

    monkeypatch.setattr(recognizers, "RECOGNIZERS", [*recognizers.RECOGNIZERS, entry])
    monkeypatch.setattr(freetext, "_analyzers", {})  # the next scan builds the engine anew
    found = scan_columns(con, "t")["notes"]
    assert found.free_text is True
    assert found.entity == entity
    assert found.matched == 30
    assert found.evidence["free_text"]["presidio_entities"] == {entity: 30}


@pytest.mark.parametrize(
    "make",
    [
        lambda: Recognizer("NOTHING", Entity.PERSON),  # neither patterns, a finder nor NER
        lambda: Recognizer("BOTH", Entity.PERSON, patterns={"x": "x"}, find=_what3words),
        lambda: Recognizer("TWO", (Entity.PERSON, Entity.ONLINE_ID), patterns={"x": "x"}),
        lambda: Recognizer("SV", Entity.PERSON, patterns={"x": "x"}, languages=("sv",)),
    ],
)
def test_a_malformed_entry_is_refused_where_it_is_written(make: Any) -> None:
    with pytest.raises(ValueError, match="recognizer"):
        make()


class _Workers:
    """A query runner with workers (as Spark's): statements run on DuckDB, `map_texts`
    sends the work through pickle, as Spark ships it to its executors, or fails as told."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, fail: str | None = None, version: str = ""
    ) -> None:
        self.con = con
        self.fail = fail
        self.version = version  # what the workers say they run (default: this version)
        self.sent = 0

    def execute(self, sql: str, parameters: Any = None, /) -> Any:
        return self.con.execute(sql, parameters)

    def map_texts(self, work: Any, texts: Any) -> list[str]:
        if self.fail is not None:
            raise EngineError(f"a Spark job failed on t: {self.fail}")
        self.sent += len(texts)
        shipped = pickle.loads(pickle.dumps(work))
        out = [r for start in range(0, len(texts), 7) for r in shipped(texts[start : start + 7])]
        if self.version:
            out = [json.dumps([*json.loads(r)[:3], self.version]) for r in out]
        return out


def test_free_text_runs_on_the_engines_workers_with_the_same_result(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"notes": list(NOTES.values()) * 3 + ["Sin incidencias"] * 10})
    here = scan_columns(con, "t")["notes"]
    workers = _Workers(con)
    there = by_column(scan_table(workers, "t", tables=LocalTables(con)))["notes"]
    assert workers.sent == 5  # the distinct candidates, in batches
    placed = there.evidence["free_text"].pop("presidio_ran_on")
    assert placed["engine"] == "executors" and placed["python_workers"] == 1
    assert "presidio_ran_on" not in here.evidence["free_text"]
    assert (there.entity, there.matched, there.confidence, there.evidence) == (
        here.entity, here.matched, here.confidence, here.evidence
    )  # fmt: skip

    # executors without Tutela or presidio installed: the same analysis here, said so
    missing = "ModuleNotFoundError: No module named 'presidio_analyzer'"
    fallback = scan_table(_Workers(con, fail=missing), "t", tables=LocalTables(con))
    notes = by_column(fallback)["notes"]
    assert notes.evidence["free_text"]["presidio_ran_on"] == {
        "engine": "driver", "reason": "No module named 'presidio_analyzer'"
    }  # fmt: skip
    assert (notes.entity, notes.matched) == (here.entity, here.matched)
    # executors with another Tutela: their recognizers may differ, so not mixed in
    older = scan_table(_Workers(con, version="0.0.1"), "t", tables=LocalTables(con))
    placed = by_column(older)["notes"].evidence["free_text"]["presidio_ran_on"]
    assert placed["engine"] == "driver" and "Tutela 0.0.1" in placed["reason"]
    # any other failure of the job is the scan's error
    with pytest.raises(EngineError, match="no executor left"):
        scan_table(_Workers(con, fail="no executor left"), "t", tables=LocalTables(con))


def test_a_python_workers_error_is_named_by_its_exception() -> None:
    """pyspark wraps an executor's Python error in a preamble: the message the scan shows
    (and the driver fallback reads) is the exception the worker ended with."""
    from tutela.engine.spark import first_line

    text = (
        "An exception was thrown from the Python worker. Please see the stack trace below.\n"
        "Traceback (most recent call last):\n"
        '  File "/x/pyspark/worker.py", line 1, in main\n'
        "    func = read_command(...)\n"
        "ModuleNotFoundError: No module named 'presidio_analyzer'\n"
    )
    assert first_line(RuntimeError(text)) == (
        "ModuleNotFoundError: No module named 'presidio_analyzer'"
    )
    assert first_line(RuntimeError("Py4JJavaError\n\tat org.apache")) == "Py4JJavaError"


# -- the analyzer built alongside the counts (#17) ------------------------------------------


def _record_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which threads build an analyzer from now on (the analyzer is built anew)."""
    import threading

    threads: list[str] = []
    build = freetext._build_analyzer

    def recorded(ner_model: str | None = None) -> Any:
        threads.append(threading.current_thread().name)
        return build(ner_model)

    monkeypatch.setattr(freetext, "_analyzers", {})
    monkeypatch.setattr(freetext, "_build_analyzer", recorded)
    return threads


def test_a_free_text_column_has_its_analyzer_built_while_the_table_is_counted(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample shows prose: presidio and spaCy are imported in a thread of their own while
    DuckDB counts the columns, and the scan's findings are those of a build in its own
    thread; no thread outlives the scan."""
    import threading

    make_table("t", {"notes": [NOTES["en"], NOTES["es"], NOTES["pl"]] * 20, "n": list(range(60))})
    threads = _record_builds(monkeypatch)
    before = threading.active_count()
    alongside = scan_columns(con, "t")["notes"]
    assert threads == ["tutela-analyzer"]
    assert threading.active_count() == before

    monkeypatch.setattr(freetext, "prepare", lambda *a, **k: None)  # as before: built inline
    threads = _record_builds(monkeypatch)
    inline = scan_columns(con, "t")["notes"]
    assert threads == ["MainThread"]
    assert dataclasses.asdict(alongside) == dataclasses.asdict(inline)


def test_a_table_without_free_text_builds_no_analyzer(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fixed tax on a small job: columns whose values read as words but that a detector
    claims (addresses, long names), a `notes` column of short codes, e-mails and numbers
    start no presidio (the scan would wait for a build it does not use)."""
    streets = ["Main Street", "Oak Avenue", "Calle de Alcalá", "Elm Road"]
    names = ["María del Carmen García López", "John Peter Smith de la Jones"]
    make_table(
        "t",
        {
            "email": [f"user{i}@example.com" for i in range(60)],
            "address": [f"{i + 1} {streets[i % 4]}, Springfield, IL 62704" for i in range(60)],
            "nombre_completo": [names[i % 2] for i in range(60)],
            "notes": [f"R{i % 7}" for i in range(60)],
            "n": list(range(60)),
        },
    )
    threads = _record_builds(monkeypatch)
    found = scan_columns(con, "t")
    assert found["email"].entity == "EMAIL_ADDRESS"
    assert found["address"].entity == "POSTAL_ADDRESS"
    assert found["nombre_completo"].entity == "PERSON"
    assert not any(f.free_text for f in found.values())
    assert threads == []


def test_a_failing_build_alongside_is_reported_by_the_scan_itself(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that fails in its thread (here: a spaCy pipeline that is not there) is done
    again by the scan, which raises the clear error; nothing hangs."""
    from tutela.base.errors import ConfigError

    make_table("t", {"notes": [NOTES["en"], NOTES["es"]] * 30})
    threads = _record_builds(monkeypatch)
    with pytest.raises(ConfigError, match="--ner-model: no spaCy pipeline"):
        scan_table(con, "t", ner_model="/nonexistent/pipeline")
    assert threads == ["tutela-analyzer", "MainThread"]
