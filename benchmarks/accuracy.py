"""Precision and recall of the PII scan engine on third-party labelled data (../shared/eval-data).

    python benchmarks/accuracy.py [--data DIR] [--limit N] [--json FILE] [--only PART ...]

Parts (all run by default):

* ``columns``  -- column level. The presidio-research FakeNameGenerator table (3,000 x 30) is
  loaded into in-memory DuckDB (every field as VARCHAR, empty -> NULL, as the CSV reader stages
  it) as one mixed table and as one table per country, each with its real headers and again
  with the headers renamed ``col_1..col_n`` (value-only detection). ``scan_table`` runs on every
  table; each column's ``entity`` is compared with ``FNG_EXPECTED`` below.
* ``ids``      -- identifier columns: columns of checksum-valid and of checksum-invalid values
  per identifier type (python-stdnum test vectors plus values generated here with
  python-stdnum's own check-digit functions), under the neutral header ``value`` and under an
  identifier header. A valid column must come out as the right entity, an invalid one as
  entity null. Also value-level agreement of the engine's validators
  (``tutela.detect.validators.SPEC_BY_SUBTYPE[..].validate``) with the expected validity.
* ``text``     -- span level on free text: presidio-research ``synth_dataset_v2.json`` (en),
  MEDDOCAN ``test/`` (es, BRAT), e3jsi-multi-pii ``test_dataset.json`` (el en de fr it nl sl).
  Each text goes through the engine's own presidio AnalyzerEngine
  (``tutela.detect.freetext.analyzer()``), called as ``analyze_texts`` calls it
  (``analyze(text, language, score_threshold=SCORE_THRESHOLD)``, then ``_resolve_overlaps``),
  but with the dataset's language instead of ``guess_language`` (Slovene, which the engine
  does not support, falls back to ``guess_language``). A run with the guessed language (what
  ``scan_free_text`` does in production) is reported as a summary as well.

Scoring of spans: a predicted span is a true positive when it overlaps a gold span of the same
entity; a prediction that overlaps only "neutral" gold spans (identifiers or quasi-identifiers
outside the vocabulary, ambiguous labels; see the ``*_NEUTRAL`` tables) is not scored; any
other prediction is a false positive. A gold span is found when a prediction of its entity
overlaps it. "any-PII" (lenient) ignores the entity on both sides. Only test splits are used;
nothing in the engine is tuned here. Eval data is read in place and never copied.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from tutela.detect import scan_table

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval-data"
SKIP = "skip"  # expected value for columns left out of the score (outside the vocabulary)

# -- column level: FakeNameGenerator header -> expected entity -------------------------------

# None = not personal data by itself / quasi-identifier (entity must be null).
# SKIP = personal, but no entity of the vocabulary fits (reported, not scored).
FNG_EXPECTED: dict[str, str | None] = {
    "Number": None,  # row number
    "Gender": None,  # quasi-identifier
    "NameSet": None,  # ethnicity label of the name set ("Czech", "Japanese")
    "Title": None,  # Mr./Mrs.
    "GivenName": "PERSON",
    "MiddleInitial": None,  # one letter
    "Surname": "PERSON",
    "StreetAddress": "POSTAL_ADDRESS",
    "City": None,  # quasi-identifier
    "State": None,
    "StateFull": None,
    "ZipCode": None,  # quasi-identifier
    "Country": None,
    "CountryFull": None,
    "EmailAddress": "EMAIL_ADDRESS",
    "Username": SKIP,  # an online identifier, but not a cookie/device id
    "Password": None,
    "TelephoneNumber": "PHONE_NUMBER",  # national format, prefix in TelephoneCountryCode
    "TelephoneCountryCode": None,
    "MothersMaiden": "PERSON",
    "Birthday": "DATE_OF_BIRTH",  # M/D/YYYY
    "Age": None,  # quasi-identifier
    "CCType": None,
    "CCNumber": None,  # damaged in the source: every value is like 5.54563E+15
    "CVV2": None,
    "CCExpires": None,
    "NationalID": "NATIONAL_ID",  # per-country overrides below
    "Occupation": None,
    "Company": None,
    "Domain": None,
}
# NationalID per country (README of presidio-research): ZA values were mangled into scientific
# notation (not recoverable: null expected); IT values are not codici fiscali and of unknown
# scheme (not scored). Forms the engine has a validator for: PL PESEL, FR NIR, US SSN, GB NINO.
FNG_NATIONAL_ID_BY_COUNTRY: dict[str, str | None] = {"ZA": None, "IT": SKIP}
FNG_ID_SUPPORTED = {"PL", "FR", "US", "GB"}

# -- free text: label -> entity tables ----------------------------------------------------

SYNTH_MAP = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "POSTAL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "NATIONAL_ID",
    "IP_ADDRESS": "IP_ADDRESS",
}
SYNTH_NEUTRAL = {"US_DRIVER_LICENSE", "ZIP_CODE", "GPE", "DATE_TIME", "AGE"}
# Unmapped (predictions there are false positives): ORGANIZATION TITLE NRP DOMAIN_NAME.

MEDDOCAN_MAP = {
    "NOMBRE_SUJETO_ASISTENCIA": "PERSON",
    "NOMBRE_PERSONAL_SANITARIO": "PERSON",
    "CALLE": "POSTAL_ADDRESS",
    "CORREO_ELECTRONICO": "EMAIL_ADDRESS",
    "NUMERO_TELEFONO": "PHONE_NUMBER",
    "NUMERO_FAX": "PHONE_NUMBER",
    "ID_ASEGURAMIENTO": "NATIONAL_ID",  # social-security / health-insurance number (NASS)
}
MEDDOCAN_NEUTRAL = {
    "ID_SUJETO_ASISTENCIA",  # medical record number (NHC)
    "ID_TITULACION_PERSONAL_SANITARIO",  # clinician licence number
    "ID_CONTACTO_ASISTENCIAL",
    "ID_EMPLEO_PERSONAL_SANITARIO",
    "FAMILIARES_SUJETO_ASISTENCIA",  # relatives ("su madre") and sometimes their names
    "OTROS_SUJETO_ASISTENCIA",
    "TERRITORIO",  # city / province / postcode: quasi-identifiers
    "PAIS",
    "FECHAS",  # some are birth dates, not distinguishable
    "EDAD_SUJETO_ASISTENCIA",
    "SEXO_SUJETO_ASISTENCIA",
}
# Unmapped: HOSPITAL INSTITUCION CENTRO_SALUD PROFESION.

# e3jsi labels are free-form strings in the text's language (lower-cased here). Reviewed by
# hand against the test file; anything not listed is unmapped and predictions on it count as
# false positives. Account-number labels become IBAN_CODE when the span text has IBAN form
# (two letters, two digits, 11-30 alphanumerics once spaces are removed), else neutral.
_E3 = {
    "PERSON": """person name|person|name|personal name|full name|patient name|first name|
        last name|surname|doctor|attorney name|personenname|personennamen|name der person|
        arztname|arzt|patientenname|vorname|nachname|nom|nom complet|personne|prénom|
        nom de famille|nom de personne|nom personne|nom personnel|nom propre|médecin|
        médecin traitant|nome|nome completo|persona|cognome|medico|naam|persoon|persoon naam|
        persoonlijke naam|persoonlijk naam|volledige naam|voornaam|achternaam|patiënt naam|
        patiëntnaam|arts naam|artsnaam|klantnaam|ime|osebno ime|oseba|priimek|ime in priimek|
        ime osebe|ime zdravnika|zdravnik|pacient|pacientka|όνομα|πρόσωπο|προσωπικό όνομα|
        επώνυμο|όνομα ασθενούς|όνομα πελάτη|όνομα πλήρες|ονοματεπώνυμο|όνομα δικηγόρου""",
    "EMAIL_ADDRESS": """email|email address|e-mail|e-mail address|e-mailadres|emailadres|
        adresse e-mail|adresse email|email professionnel|indirizzo email|indirizzo e-mail|
        e-mail-adresse|e-poštni naslov|elektronski naslov|email naslov|e-naslov|
        ηλεκτρονική διεύθυνση|email διεύθυνση""",
    "PHONE_NUMBER": """phone number|phone|telephone number|contact number|mobile number|
        fax number|telefonnummer|faxnummer|handynummer|numéro de téléphone|numéro de fax|
        téléphone|numero di telefono|numero di cellulare|numero di fax|numero di contatto|
        numero di telefono fisso|telefono|telefoonnummer|telefonska številka|τηλέφωνο|
        κινητό τηλέφωνο|τηλεφωνικός αριθμός|αριθμός τηλεφώνου|αριθμός φαξ""",
    "POSTAL_ADDRESS": """address|street address|home address|adresse|adresse complète|
        anschrift|straße|indirizzo|adres|straatnaam|naslov|naslov prebivališča|ulica|
        διεύθυνση""",
    "DATE_OF_BIRTH": """date of birth|birth date|geburtsdatum|date de naissance|
        data di nascita|geboortedatum|datum rojstva|ημερομηνία γέννησης""",
    "NATIONAL_ID": """social security number|national id|identity card number|
        identity document number|numéro de sécurité sociale|numéro de carte d'identité|
        numéro de carte d'identité nationale|numero di identificazione nazionale|
        numero di previdenza sociale|numero di carta d'identità|burgerservicenummer|bsn|
        bsn-nummer|identiteitskaartnummer|emšo|številka osebnega dokumenta|
        αριθμός ταυτότητας|αριθμός κοινωνικής ασφάλισης|
        αριθμός μητρώου κοινωνικής ασφάλισης|αμκα""",
    "TAX_ID": """tax identification number|tax id|numéro d'identification fiscale|
        codice fiscale|belastingidentificatienummer|davčna številka|
        αριθμός φορολογικού μητρώου|αφμ|steuernummer|steuer-id|steueridentifikationsnummer""",
    "PASSPORT": """passport number|numéro de passeport|numero di passaporto|
        numero passaporto|paspoortnummer|reisepassnummer|αριθμός διαβατηρίου""",
    "IBAN_CODE": "iban",
    "CREDIT_CARD": """credit card number|creditcard nummer|creditcardnummer|
        kreditkartennummer|numéro de carte bancaire|numero carta di debito|
        številka kreditne kartice|αριθμός πιστωτικής κάρτας|αριθμός κάρτας""",
    "IP_ADDRESS": """ip address|ip adres|ip-adres|ip adresse|adresse ip|indirizzo ip|
        ip naslov|ip διεύθυνση|διεύθυνση ip""",
}
E3JSI_MAP: dict[str, str] = {
    label.strip(): entity
    for entity, labels in _E3.items()
    for label in labels.replace("\n", "").split("|")
    if label.strip()
}
E3JSI_ACCOUNT = {
    "account number",
    "bank account number",
    "numéro de compte",
    "numéro de compte bancaire",
    "numero di conto",
    "numero conto corrente",
    "numero di conto bancario",
    "kontonummer",
    "bankkonto",
    "rekeningnummer",
    "bankrekeningnummer",
    "številka računa",
    "bančni račun",
    "αριθμός λογαριασμού",
    "τραπεζικός λογαριασμός",
}
E3JSI_NEUTRAL = E3JSI_ACCOUNT | {
    # identifiers outside the vocabulary or of unclear kind
    "identity document",
    "document number",
    "identifier",
    "identification number",
    "identificatienummer",
    "identifikationsnummer",
    "numero documento",
    "numero identificativo",
    "numero identificazione",
    "dokumentnummer",
    "številka dokumenta",
    "nummer",
    "numéro",
    "številka",
    "contact",
    "contact information",
    "contatto",
    "kontakt",
    "identifiant unique",
    "documento",
    "dokument",
    "kreditkarte",
    "kreditna kartica",
    "carte de crédit",
    "πιστωτική κάρτα",
    "health insurance number",
    "national health insurance number",
    "health insurance id number",
    "insurance number",
    "numéro d'assurance santé",
    "numero di assicurazione sanitaria",
    "numero assicurazione sanitaria",
    "numero di tessera sanitaria",
    "krankenversicherungsnummer",
    "gesundheitsausweis nummer",
    "zorgverzekeringsnummer",
    "zdravstveno zavarovalna številka",
    "številka zdravstvenega zavarovanja",
    "številka zdravstvene kartice",
    "zavarovalna številka",
    "številka zavarovanja",
    "αριθμός ασφάλισης",
    "αριθμός ασφάλισης υγείας",
    "αριθμός ασφαλιστικής κάλυψης",
    "αναγνωριστικό ασφάλισης",
    "αριθμός αναγνωριστικού ασφάλισης",
    "driver's license number",
    "führerscheinnummer",
    "rijbewijsnummer",
    "vozniško dovoljenje",
    "αριθμός άδειας οδήγησης",
    "cpf",
    "cnpj",
    "username",
    "benutzername",
    "nom d'utilisateur",
    "gebruikersnaam",
    "uporabniško ime",
    "όνομα χρήστη",
    "social media handle",
    "handle de réseau social",
    "handle de reseau social",
    "maniglia social media",
    "personal information",
    "persoonlijke informatie",
    "informations personnelles",
    "client",
    "cliente",
    "stranka",
    "patient",
    # quasi-identifiers (places, postcodes, ages, dates)
    "postal code",
    "zipcode",
    "code postal",
    "codice postale",
    "postleitzahl",
    "postcode",
    "poštna številka",
    "ταχυδρομικός κώδικας",
    "city",
    "ville",
    "stadt",
    "città",
    "stad",
    "mesto",
    "πόλη",
    "location",
    "lieu",
    "luogo",
    "locatie",
    "lokacija",
    "τοποθεσία",
    "ort",
    "plaats",
    "plaatsnaam",
    "kraj",
    "località",
    "country",
    "pays",
    "land",
    "χώρα",
    "state",
    "date",
    "datum",
    "data",
    "ημερομηνία",
    "age",
    "âge",
    "età",
    "alter",
    "leeftijd",
    "starost",
    "ηλικία",
    "huisnummer",
    "lieu de résidence",
    "luogo di residenza",
    "residenza",
}
E3JSI_LANG = {
    "English": "en",
    "Dutch": "nl",
    "German": "de",
    "Slovene": "sl",
    "French": "fr",
    "Italian": "it",
    "Greek": "el",
}
_IBAN_FORM = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")

# -- small helpers ------------------------------------------------------------------------


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A Markdown table (also readable in a terminal)."""
    body = [[fmt(v) if isinstance(v, float) or v is None else str(v) for v in r] for r in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def create_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[list[Any]]
) -> None:
    con.execute(f'DROP TABLE IF EXISTS "{name}"')
    cols = ", ".join('"' + c.replace('"', '""') + '" VARCHAR' for c in columns)
    con.execute(f'CREATE TABLE "{name}" ({cols})')
    if rows:
        marks = ", ".join("?" for _ in columns)
        con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)


@dataclass
class PR:
    """Counts for precision/recall of one entity."""

    tp: int = 0  # predictions that are right (precision numerator)
    fp: int = 0
    gold: int = 0
    found: int = 0  # gold items that were found (recall numerator)

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.found, self.gold)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "gold": self.gold,
            "found": self.found,
            "precision": self.precision,
            "recall": self.recall,
        }


# -- part 1: column level -----------------------------------------------------------------


@dataclass
class ColumnCase:
    suite: str  # e.g. "fng/all/header"
    table: str
    column: str  # real header (also for the headerless variant)
    expected: str | None
    predicted: str | None
    subtype: str | None
    confidence: float
    quasi: bool
    non_empty: int
    note: str = ""

    @property
    def scored(self) -> bool:
        return self.expected != SKIP and self.non_empty > 0

    @property
    def correct(self) -> bool:
        return self.predicted == self.expected


def scan_cases(
    con: duckdb.DuckDBPyConnection,
    suite: str,
    name: str,
    header: list[str],
    rows: list[list[Any]],
    expected: dict[str, str | None],
    *,
    headerless: bool,
) -> list[ColumnCase]:
    cols = [f"col_{i + 1}" for i in range(len(header))] if headerless else header
    create_table(con, name, cols, rows)
    scan = scan_table(con, name)
    out = []
    for real, finding in zip(header, scan.columns, strict=True):
        out.append(
            ColumnCase(
                suite=suite,
                table=name,
                column=real,
                expected=expected[real],
                predicted=finding.entity,
                subtype=finding.subtype,
                confidence=finding.confidence,
                quasi=finding.quasi_identifier,
                non_empty=finding.non_empty,
                note="free text" if finding.free_text else (finding.skipped or ""),
            )
        )
    con.execute(f'DROP TABLE "{name}"')
    return out


def fng_cases(data: Path) -> list[ColumnCase]:
    path = data / "presidio-research" / "FakeNameGenerator.com_3000.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [[v if v.strip() else None for v in r] for r in reader]
    country_at = header.index("Country")
    con = duckdb.connect()
    cases: list[ColumnCase] = []
    for headerless in (False, True):
        variant = "headerless" if headerless else "header"
        cases += scan_cases(
            con, f"fng/all/{variant}", "fng_all", header, rows, FNG_EXPECTED, headerless=headerless
        )
        by_country: dict[str, list[list[Any]]] = defaultdict(list)
        for r in rows:
            by_country[str(r[country_at])].append(r)
        for country, part in sorted(by_country.items()):
            expected = dict(FNG_EXPECTED)
            if country in FNG_NATIONAL_ID_BY_COUNTRY:
                expected["NationalID"] = FNG_NATIONAL_ID_BY_COUNTRY[country]
            cases += scan_cases(
                con,
                f"fng/country/{variant}",
                f"fng_{country.lower()}",
                header,
                part,
                expected,
                headerless=headerless,
            )
    con.close()
    return cases


def column_metrics(cases: list[ColumnCase]) -> dict[str, Any]:
    """Accuracy and per-entity precision/recall over scored column verdicts."""
    scored = [c for c in cases if c.scored]
    per: dict[str, PR] = defaultdict(PR)
    for c in scored:
        if c.expected is not None:
            per[c.expected].gold += 1
            if c.correct:
                per[c.expected].found += 1
        if c.predicted is not None:
            if c.correct:
                per[c.predicted].tp += 1
            else:
                per[c.predicted].fp += 1
    negatives = [c for c in scored if c.expected is None]
    return {
        "columns": len(scored),
        "correct": sum(c.correct for c in scored),
        "accuracy": ratio(sum(c.correct for c in scored), len(scored)),
        "negatives": len(negatives),
        "negatives_flagged": sum(c.predicted is not None for c in negatives),
        "per_entity": {e: pr.as_dict() for e, pr in sorted(per.items())},
    }


# -- part 1b: identifier columns and validators ----------------------------------------------


def _random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _date6(rng: random.Random) -> tuple[str, str, str]:
    day = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 69))
    return f"{day.year % 100:02d}", f"{day.month:02d}", f"{day.day:02d}"


def _gen_dni(rng: random.Random) -> str:
    from stdnum.es import dni

    body = _random_digits(rng, 8)
    return body + dni.calc_check_digit(body)


def _gen_nie(rng: random.Random) -> str:
    from stdnum.es import nie

    body = rng.choice("XYZ") + _random_digits(rng, 7)
    return body + nie.calc_check_digit(body)


def _gen_pesel(rng: random.Random) -> str:
    from stdnum.pl import pesel

    yy, mm, dd = _date6(rng)
    body = yy + mm + dd + _random_digits(rng, 4)
    return body + pesel.calc_check_digit(body)


def _gen_amka(rng: random.Random) -> str:
    from stdnum import luhn

    yy, mm, dd = _date6(rng)
    body = dd + mm + yy + _random_digits(rng, 4)
    return body + luhn.calc_check_digit(body)


def _gen_afm(rng: random.Random) -> str:
    from stdnum.gr import vat

    body = rng.choice("0123456789") + _random_digits(rng, 7)
    return body + vat.calc_check_digit(body)


def _gen_nip(rng: random.Random) -> str:
    from stdnum.pl import nip

    while True:
        body = rng.choice("123456789") + _random_digits(rng, 8)
        weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
        check = sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11
        if check < 10 and nip.is_valid(body + str(check)):
            return body + str(check)


def _break(value: str, is_valid: Callable[[str], bool], rng: random.Random) -> str:
    """The value with one character replaced so that python-stdnum rejects it."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    for _ in range(200):
        i = rng.choice(positions[-3:] if rng.random() < 0.7 else positions)
        alphabet = "0123456789" if value[i].isdigit() else "ABCDEFGHJKLMNPQRSTVWXYZ"
        candidate = value[:i] + rng.choice(alphabet) + value[i + 1 :]
        if candidate != value and not is_valid(candidate):
            return candidate
    raise RuntimeError(f"could not break {value!r}")


@dataclass
class IdType:
    name: str
    header: str  # the identifier-like header
    expected_header: str | None  # entity under that header
    expected_neutral: str | None  # entity under header "value"
    subtype: str | None  # engine validator (SPEC_BY_SUBTYPE), None = none exists
    oracle: Callable[[str], bool]
    valid: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def id_types(data: Path, per_type: int) -> list[IdType]:
    from stdnum import iban
    from stdnum.es import dni, nie, nif
    from stdnum.gr import amka, vat
    from stdnum.pl import nip, pesel
    from stdnum.pt import nif as pt_nif

    rng = random.Random(20260815)
    vectors = list(
        csv.DictReader((data / "stdnum-vectors" / "stdnum_iban_euvat_vectors.csv").open())
    )
    docs = list(csv.DictReader((data / "stdnum-vectors" / "stdnum_docstring_examples.csv").open()))

    def doc(scheme: str, valid: bool) -> list[str]:
        return [
            r["value"]
            for r in docs
            if r["scheme"] == scheme and (r["expected_valid"] == "True") == valid
        ]

    def vec(scheme: str, valid: bool, countries: set[str] | None = None) -> list[str]:
        return [
            r["value"]
            for r in vectors
            if r["scheme"] == scheme
            and (r["expected_valid"] == "True") == valid
            and (countries is None or r["country"] in countries)
        ]

    def fill(t: IdType, gen: Callable[[random.Random], str] | None) -> IdType:
        seen = set(t.valid)
        while gen is not None and len(t.valid) < per_type:
            v = gen(rng)
            if v not in seen and t.oracle(v):
                seen.add(v)
                t.valid.append(v)
        base = [v for v in t.valid if t.oracle(v)]
        i = 0
        while len(t.invalid) < len(t.valid) and base:
            t.invalid.append(_break(base[i % len(base)], t.oracle, rng))
            i += 1
        t.valid = [v for v in t.valid if t.oracle(v)]
        t.invalid = [v for v in t.invalid if not t.oracle(v)]
        return t

    nif_values = doc("stdnum.es.nif", True)
    types = [
        fill(
            IdType(
                "ES_DNI",
                "dni",
                "NATIONAL_ID",
                "NATIONAL_ID",
                "ES_DNI",
                dni.is_valid,
                doc("stdnum.es.dni", True),
                doc("stdnum.es.dni", False),
            ),
            _gen_dni,
        ),
        fill(
            IdType(
                "ES_NIE",
                "nie",
                "NATIONAL_ID",
                "NATIONAL_ID",
                "ES_NIE",
                nie.is_valid,
                doc("stdnum.es.nie", True),
                doc("stdnum.es.nie", False),
            ),
            _gen_nie,
        ),
        # personal NIF = DNI/NIE digits; under a neutral header it can only be read as DNI/NIE
        fill(
            IdType(
                "ES_NIF",
                "nif",
                "TAX_ID",
                "NATIONAL_ID",
                None,
                lambda v: nif.is_valid(v) and (dni.is_valid(v) or nie.is_valid(v)),
                [v for v in nif_values if dni.is_valid(v) or nie.is_valid(v)],
                [],
            ),
            lambda r: _gen_dni(r) if r.random() < 0.7 else _gen_nie(r),
        ),
        fill(
            IdType(
                "PL_PESEL",
                "pesel",
                "NATIONAL_ID",
                "NATIONAL_ID",
                "PL_PESEL",
                pesel.is_valid,
                doc("stdnum.pl.pesel", True),
                doc("stdnum.pl.pesel", False),
            ),
            _gen_pesel,
        ),
        fill(
            IdType(
                "PL_NIP",
                "nip",
                "TAX_ID",
                "TAX_ID",
                "PL_NIP",
                nip.is_valid,
                doc("stdnum.pl.nip", True),
                doc("stdnum.pl.nip", False),
            ),
            _gen_nip,
        ),
        fill(
            IdType(
                "GR_AMKA",
                "amka",
                "NATIONAL_ID",
                "NATIONAL_ID",
                "GR_AMKA",
                amka.is_valid,
                doc("stdnum.gr.amka", True),
                doc("stdnum.gr.amka", False),
            ),
            _gen_amka,
        ),
        fill(
            IdType(
                "GR_AFM",
                "afm",
                "TAX_ID",
                "TAX_ID",
                "GR_AFM",
                vat.is_valid,
                doc("stdnum.gr.vat", True),
                doc("stdnum.gr.vat", False),
            ),
            _gen_afm,
        ),
        fill(
            IdType(
                "IBAN",
                "iban",
                "IBAN_CODE",
                "IBAN_CODE",
                "IBAN",
                iban.is_valid,
                vec("IBAN", True) + doc("stdnum.iban", True),
                vec("IBAN", False),
            ),
            None,
        ),
    ]
    # EU VAT numbers of the countries whose personal tax number the engine knows.
    for country, oracle, subtype in (
        ("EL", vat.is_valid, "GR_AFM"),
        ("PL", nip.is_valid, "PL_NIP"),
        ("PT", pt_nif.is_valid, "PT_NIF"),
    ):
        types.append(
            fill(
                IdType(
                    f"EU_VAT_{country}",
                    "vat_number",
                    "TAX_ID",
                    "TAX_ID",
                    subtype,
                    oracle,
                    vec("EU_VAT", True, {country}),
                    vec("EU_VAT", False, {country}),
                ),
                None,
            )
        )
    # All other EU VAT numbers: the registry's EU_VAT (a VAT number identifies a sole trader
    # as well as a company: TAX_ID at reduced confidence). Before the registry (issue #18)
    # the engine had no validator for them and null was expected.
    others = {r["country"] for r in vectors if r["scheme"] == "EU_VAT"} - {"EL", "PL", "PT"}
    from stdnum.eu import vat as eu_vat

    types.append(
        fill(
            IdType(
                "EU_VAT_other",
                "vat_number",
                "TAX_ID",
                "TAX_ID",
                "EU_VAT",
                eu_vat.is_valid,
                vec("EU_VAT", True, others),
                vec("EU_VAT", False, others),
            ),
            None,
        )
    )
    return types


def id_column_cases(types: list[IdType]) -> list[ColumnCase]:
    con = duckdb.connect()
    cases = []
    for t in types:
        for validity, values in (("valid", t.valid), ("invalid", t.invalid)):
            if not values:
                continue
            for header in ("value", t.header):
                expected = t.expected_header if header == t.header else t.expected_neutral
                if validity == "invalid":
                    expected = None
                name = f"ids_{t.name.lower()}_{validity}"
                create_table(con, name, [header], [[v] for v in values])
                finding = scan_table(con, name).columns[0]
                cases.append(
                    ColumnCase(
                        suite=f"ids/{'id-header' if header != 'value' else 'neutral'}",
                        table=name,
                        column=f"{t.name} {validity} ({header})",
                        expected=expected,
                        predicted=finding.entity,
                        subtype=finding.subtype,
                        confidence=finding.confidence,
                        quasi=finding.quasi_identifier,
                        non_empty=finding.non_empty,
                    )
                )
    con.close()
    return cases


def validator_metrics(types: list[IdType]) -> list[dict[str, Any]]:
    from tutela.detect.validators import SPEC_BY_SUBTYPE

    out = []
    for t in types:
        if t.subtype is None:
            continue
        check = SPEC_BY_SUBTYPE[t.subtype].validate
        false_reject = [v for v in t.valid if not check(v)]
        false_accept = [v for v in t.invalid if check(v)]
        n = len(t.valid) + len(t.invalid)
        out.append(
            {
                "type": t.name,
                "validator": t.subtype,
                "valid": len(t.valid),
                "invalid": len(t.invalid),
                "accuracy": ratio(n - len(false_reject) - len(false_accept), n),
                "false_reject": len(false_reject),
                "false_accept": len(false_accept),
                "false_reject_examples": false_reject[:3],
                "false_accept_examples": false_accept[:3],
            }
        )
    return out


# -- part 2: free text ----------------------------------------------------------------------


@dataclass
class Doc:
    dataset: str
    lang: str
    text: str
    gold: list[tuple[int, int, str]]  # (start, end, entity)
    neutral: list[tuple[int, int]]


def load_synth(data: Path, limit: int, ignored: Counter[str]) -> list[Doc]:
    records = json.loads((data / "presidio-research" / "synth_dataset_v2.json").read_text())
    docs = []
    for rec in records[: limit or None]:
        gold, neutral = [], []
        for s in rec["spans"]:
            span = (s["start_position"], s["end_position"])
            if s["entity_type"] in SYNTH_MAP:
                gold.append((*span, SYNTH_MAP[s["entity_type"]]))
            elif s["entity_type"] in SYNTH_NEUTRAL:
                neutral.append(span)
            else:
                ignored[f"synth:{s['entity_type']}"] += 1
        docs.append(Doc("presidio-synth", "en", rec["full_text"], gold, neutral))
    return docs


def load_meddocan(data: Path, limit: int, ignored: Counter[str]) -> list[Doc]:
    files = sorted((data / "meddocan-es" / "test").glob("*.txt"))
    docs = []
    for txt in files[: limit or None]:
        text = txt.read_text(encoding="utf-8")
        gold, neutral = [], []
        for line in txt.with_suffix(".ann").read_text(encoding="utf-8").splitlines():
            if not line.startswith("T"):
                continue
            label, start, end = line.split("\t")[1].split(" ")[:3]
            span = (int(start), int(end))
            if label in MEDDOCAN_MAP:
                gold.append((*span, MEDDOCAN_MAP[label]))
            elif label in MEDDOCAN_NEUTRAL:
                neutral.append(span)
            else:
                ignored[f"meddocan:{label}"] += 1
        docs.append(Doc("meddocan", "es", text, gold, neutral))
    return docs


def _token_offsets(text: str, tokens: list[str]) -> list[tuple[int, int]] | None:
    out, pos = [], 0
    for tok in tokens:
        at = text.find(tok, pos)
        if at < 0:
            return None
        out.append((at, at + len(tok)))
        pos = at + len(tok)
    return out


def load_e3jsi(data: Path, limit: int, ignored: Counter[str], stats: Counter[str]) -> list[Doc]:
    records = json.loads((data / "e3jsi-multi-pii" / "test_dataset.json").read_text())
    per_lang: Counter[str] = Counter()
    docs = []
    for rec in records:
        lang = E3JSI_LANG[rec["language"]]
        if limit and per_lang[lang] >= limit:
            continue
        offsets = _token_offsets(rec["text"], rec["tokenized_text"])
        if offsets is None:
            stats["e3jsi_unaligned_docs"] += 1
            continue
        per_lang[lang] += 1
        spans: dict[tuple[int, int], set[str]] = defaultdict(set)
        for first, last, label in rec["ner"]:
            spans[(offsets[first][0], offsets[last][1])].add(label.lower().strip())
        gold, neutral = [], []
        for span, labels in spans.items():
            entities = {E3JSI_MAP[lb] for lb in labels if lb in E3JSI_MAP}
            surface = re.sub(r"\s", "", rec["text"][span[0] : span[1]]).upper()
            if labels & E3JSI_ACCOUNT and _IBAN_FORM.match(surface):
                entities.add("IBAN_CODE")
            if entities:
                gold += [(*span, e) for e in sorted(entities)]
            elif labels & E3JSI_NEUTRAL:
                neutral.append(span)
            else:
                for lb in labels:
                    ignored[f"e3jsi:{lb}"] += 1
        docs.append(Doc("e3jsi", lang, rec["text"], gold, neutral))
    return docs


def predict(docs: list[Doc], *, guess: bool) -> list[list[tuple[int, int, str]]]:
    """Spans (start, end, entity) for each text, as `freetext.analyse_texts` finds them."""
    from tutela.detect import freetext as F

    engine = F.analyzer()
    out = []
    for doc in docs:
        lang = F.guess_language(doc.text) if guess or doc.lang not in F.LANGS else doc.lang
        results = engine.analyze(text=doc.text, language=lang, score_threshold=F.SCORE_THRESHOLD)
        found = [(r.entity_type, None, float(r.score), "", r) for r in results]
        out.append([(f[4].start, f[4].end, f[0]) for f in F._resolve_overlaps(found)])
    return out


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_metrics(
    docs: list[Doc], preds: list[list[tuple[int, int, str]]]
) -> tuple[dict[tuple[str, str, str], PR], dict[tuple[str, str], PR], Counter[str]]:
    """Per (dataset, lang, entity) strict counts, per (dataset, lang) any-PII counts, FP kinds."""
    strict: dict[tuple[str, str, str], PR] = defaultdict(PR)
    lenient: dict[tuple[str, str], PR] = defaultdict(PR)
    confusions: Counter[str] = Counter()
    for doc, pred in zip(docs, preds, strict=True):
        key = (doc.dataset, doc.lang)
        for s, e, ent in doc.gold:
            strict[(*key, ent)].gold += 1
            if any(p[2] == ent and _overlaps((s, e), p[:2]) for p in pred):
                strict[(*key, ent)].found += 1
        for s, e in {(s, e) for s, e, _ in doc.gold}:
            lenient[key].gold += 1
            if any(_overlaps((s, e), p[:2]) for p in pred):
                lenient[key].found += 1
        for ps, pe, ent in pred:
            same = [g for g in doc.gold if g[2] == ent and _overlaps((ps, pe), g[:2])]
            other = [g for g in doc.gold if g[2] != ent and _overlaps((ps, pe), g[:2])]
            neutral = any(_overlaps((ps, pe), n) for n in doc.neutral)
            if same:
                strict[(*key, ent)].tp += 1
            elif other:
                strict[(*key, ent)].fp += 1
                confusions[f"{ent} on gold {other[0][2]}"] += 1
            elif not neutral:
                strict[(*key, ent)].fp += 1
                confusions[f"{ent} on unlabelled/unmapped text"] += 1
            if same or other:
                lenient[key].tp += 1
            elif not neutral:
                lenient[key].fp += 1
    return strict, lenient, confusions


def fp_examples(
    docs: list[Doc], preds: list[list[tuple[int, int, str]]], entity: str, n: int = 8
) -> list[str]:
    out: list[str] = []
    for doc, pred in zip(docs, preds, strict=True):
        for ps, pe, ent in pred:
            if ent != entity:
                continue
            if any(g[2] == ent and _overlaps((ps, pe), g[:2]) for g in doc.gold):
                continue
            if any(_overlaps((ps, pe), x) for x in doc.neutral) and not any(
                _overlaps((ps, pe), g[:2]) for g in doc.gold
            ):
                continue
            out.append(f"{doc.lang}: {doc.text[ps:pe]!r}")
            if len(out) >= n:
                return out
    return out


# -- reporting ------------------------------------------------------------------------------


# -- part 4: a generated messy drop, through the CLI ------------------------------------------


def messy_cases(workdir: Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Generate the messy drop (`messy_drop.py`), load and scan it with the `tutela` CLI of
    this interpreter, and return one row per labelled column."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import messy_drop

    drop, ws = workdir / "drop", workdir / "ws"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    labels = messy_drop.write(messy_drop.build(), drop)
    timings["generate"] = time.perf_counter() - t0
    cli = [sys.executable, "-m", "tutela", "-w", str(ws)]
    files = sorted(
        str(p) for p in drop.iterdir() if p.suffix in (".csv", ".json") and p.name != "labels.json"
    )
    t0 = time.perf_counter()
    subprocess.run([*cli, "load", *files, "--source", "drop"], check=True, capture_output=True)
    timings["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = subprocess.run(
        [*cli, "scan", "--format", "json"], capture_output=True, text=True, check=False
    )
    timings["scan"] = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"tutela scan failed: {done.stderr}")
    scanned = {
        t["table"]: {c["column"]: c for c in t["columns"]}
        for t in json.loads(done.stdout)["tables"]
    }
    rows = []
    for table_name, meta in labels.items():
        found = scanned.get(table_name, {})
        for column, label in meta["columns"].items():
            col = found.get(column, {})
            rows.append(
                {
                    "table": table_name,
                    "lang": meta["lang"],
                    "kind": meta["kind"],
                    "column": column,
                    "header": label["header"],
                    "expected": label["expected"],
                    "predicted": col.get("entity"),
                    "subtype": col.get("subtype"),
                    "confidence": col.get("confidence"),
                    "free_text": col.get("free_text"),
                    "missing": column not in found,
                }
            )
    return rows, timings


def _messy_right(row: dict[str, Any]) -> bool:
    if row["expected"] == "ANY":
        return row["predicted"] is not None
    return bool(row["predicted"] == row["expected"])


def messy_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Column-level precision/recall/F1: a flagged column is right when its entity is."""
    tp = sum(1 for r in rows if r["predicted"] is not None and _messy_right(r))
    flagged = sum(1 for r in rows if r["predicted"] is not None)
    positives = sum(1 for r in rows if r["expected"] is not None)
    found = sum(1 for r in rows if r["expected"] is not None and _messy_right(r))
    p, rcl = ratio(tp, flagged), ratio(found, positives)
    f1 = round(2 * p * rcl / (p + rcl), 3) if p and rcl else None
    negatives = [r for r in rows if r["expected"] is None]
    return {
        "columns": len(rows),
        "positives": positives,
        "found": found,
        "flagged": flagged,
        "right": tp,
        "precision": p,
        "recall": rcl,
        "f1": f1,
        "negatives": len(negatives),
        "negatives_flagged": sum(1 for r in negatives if r["predicted"] is not None),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    data: Path = args.data
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "commit": _commit(),
        "data": str(data),
        "limit": args.limit,
        "ids_per_type": args.ids_per_type,
    }
    timings: dict[str, float] = {}
    parts = set(args.only or ["columns", "ids", "text", "messy"])
    out: list[str] = []

    if "columns" in parts:
        t0 = time.perf_counter()
        cases = fng_cases(data)
        timings["columns"] = time.perf_counter() - t0
        suites = sorted({c.suite for c in cases})
        report["columns"] = {s: column_metrics([c for c in cases if c.suite == s]) for s in suites}
        report["column_cases"] = [c.__dict__ for c in cases]
        out.append("## Column level: FakeNameGenerator (3,000 rows x 30 columns)\n")
        out.append(
            table(
                ["suite", "scored columns", "correct", "accuracy", "null-expected flagged"],
                [
                    [
                        s,
                        m["columns"],
                        m["correct"],
                        m["accuracy"],
                        f"{m['negatives_flagged']}/{m['negatives']}",
                    ]
                    for s, m in report["columns"].items()
                ],
            )
        )
        out.append("\nPer entity (column verdicts; precision = right / flagged as entity):\n")
        rows = []
        for s, m in report["columns"].items():
            for ent, pr in m["per_entity"].items():
                rows.append([s, ent, pr["gold"], pr["found"], pr["recall"], pr["tp"] + pr["fp"]])
                rows[-1].append(pr["precision"])
        out.append(
            table(["suite", "entity", "expected", "found", "recall", "flagged", "precision"], rows)
        )
        out.append("\nMixed table, one verdict per column (header / headerless):\n")
        mixed = {
            (c.suite.split("/")[-1], c.column): c for c in cases if c.suite.startswith("fng/all")
        }
        rows = []
        for col in FNG_EXPECTED:
            h, n = mixed[("header", col)], mixed[("headerless", col)]
            mark = {True: "ok", False: "WRONG"}
            rows.append(
                [
                    col,
                    h.expected if h.expected != SKIP else "(not scored)",
                    f"{h.predicted} {h.subtype or ''}".strip()
                    + (" [quasi]" if h.quasi else "")
                    + ("" if not h.scored else f" {mark[h.correct]}"),
                    f"{n.predicted} {n.subtype or ''}".strip()
                    + (" [quasi]" if n.quasi else "")
                    + ("" if not n.scored else f" {mark[n.correct]}"),
                ]
            )
        out.append(table(["column", "expected", "with header", "headerless"], rows))
        out.append("\nPer-country tables: columns wrong in how many of the 30 countries:\n")
        rows = []
        for col in FNG_EXPECTED:
            cells = [col]
            for variant in ("header", "headerless"):
                mine = [
                    c
                    for c in cases
                    if c.suite == f"fng/country/{variant}" and c.column == col and c.scored
                ]
                wrong = [c for c in mine if not c.correct]
                preds = Counter(str(c.predicted) for c in wrong)
                detail = ", ".join(f"{k} x{v}" for k, v in preds.most_common(3))
                cells.append(f"{len(wrong)}/{len(mine)}" + (f" ({detail})" if detail else ""))
            rows.append(cells)
        out.append(table(["column", "wrong (header)", "wrong (headerless)"], rows))
        out.append("\nNationalID per country (header / headerless):\n")
        rows = []
        for c in cases:
            if c.suite == "fng/country/header" and c.column == "NationalID" and c.non_empty:
                other = next(
                    x
                    for x in cases
                    if x.suite == "fng/country/headerless"
                    and x.table == c.table
                    and x.column == "NationalID"
                )
                country = c.table.removeprefix("fng_").upper()
                rows.append(
                    [
                        country,
                        c.expected if c.expected != SKIP else "(not scored)",
                        "yes" if country in FNG_ID_SUPPORTED else "no",
                        f"{c.predicted} {c.subtype or ''}".strip(),
                        f"{other.predicted} {other.subtype or ''}".strip(),
                    ]
                )
        out.append(table(["country", "expected", "engine validator", "header", "headerless"], rows))

    if "ids" in parts:
        t0 = time.perf_counter()
        types = id_types(data, args.ids_per_type)
        id_cases = id_column_cases(types)
        vals = validator_metrics(types)
        timings["ids"] = time.perf_counter() - t0
        report["id_columns"] = [c.__dict__ for c in id_cases]
        report["id_column_metrics"] = {
            s: column_metrics([c for c in id_cases if c.suite == s])
            for s in ("ids/neutral", "ids/id-header")
        }
        report["validators"] = vals
        out.append("\n## Identifier columns (valid vs checksum-invalid values)\n")
        rows = []
        for t in types:
            for validity in ("valid", "invalid"):
                mine = {c.suite: c for c in id_cases if c.column.startswith(f"{t.name} {validity}")}
                if not mine:
                    continue
                cells: list[Any] = [t.name, validity, mine["ids/neutral"].non_empty]
                for suite in ("ids/neutral", "ids/id-header"):
                    c = mine[suite]
                    got = f"{c.predicted} {c.subtype or ''}".strip()
                    exp = "null" if c.expected is None else c.expected
                    cells.append(f"{got} ({'ok' if c.correct else 'WRONG, want ' + exp})")
                rows.append(cells)
        out.append(table(["type", "values", "n", "header 'value'", "identifier header"], rows))
        for suite, m in report["id_column_metrics"].items():
            out.append(
                f"\n{suite}: {m['correct']}/{m['columns']} columns right "
                f"(invalid columns flagged: {m['negatives_flagged']}/{m['negatives']})"
            )
        out.append("\nValue level: engine validators vs expected validity\n")
        out.append(
            table(
                [
                    "type",
                    "validator",
                    "valid",
                    "invalid",
                    "accuracy",
                    "false reject",
                    "false accept",
                ],
                [
                    [
                        v["type"],
                        v["validator"],
                        v["valid"],
                        v["invalid"],
                        v["accuracy"],
                        v["false_reject"],
                        v["false_accept"],
                    ]
                    for v in vals
                ],
            )
        )

    if "text" in parts:
        t0 = time.perf_counter()
        ignored: Counter[str] = Counter()
        stats: Counter[str] = Counter()
        docs = (
            load_synth(data, args.limit, ignored)
            + load_meddocan(data, args.limit, ignored)
            + load_e3jsi(data, args.limit, ignored, stats)
        )
        from tutela.detect import freetext as F

        F.analyzer()  # build once, outside the per-text timing
        timings["text_analyzer_build"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        preds = predict(docs, guess=False)
        timings["text_analyse"] = time.perf_counter() - t1
        preds_guess = predict(docs, guess=True)
        strict, lenient, confusions = span_metrics(docs, preds)
        strict_g, lenient_g, _ = span_metrics(docs, preds_guess)
        guessed = Counter(
            (d.lang, F.guess_language(d.text) == d.lang) for d in docs if d.lang in F.LANGS
        )
        has_model = {}
        import spacy

        for lang, model in F.NER_MODELS.items():
            has_model[lang] = bool(spacy.util.is_package(model))
        keys = sorted({(d.dataset, d.lang) for d in docs})
        docs_n = Counter((d.dataset, d.lang) for d in docs)
        report["text"] = {
            "docs": {f"{k[0]}/{k[1]}": v for k, v in docs_n.items()},
            "ner_models_installed": has_model,
            "strict": {f"{d}/{lg}/{e}": pr.as_dict() for (d, lg, e), pr in sorted(strict.items())},
            "any_pii": {f"{d}/{lg}": pr.as_dict() for (d, lg), pr in sorted(lenient.items())},
            "any_pii_guessed_language": {
                f"{d}/{lg}": pr.as_dict() for (d, lg), pr in sorted(lenient_g.items())
            },
            "strict_guessed_language": {
                f"{d}/{lg}/{e}": pr.as_dict() for (d, lg, e), pr in sorted(strict_g.items())
            },
            "language_guess_accuracy": {
                lg: ratio(guessed[(lg, True)], guessed[(lg, True)] + guessed[(lg, False)])
                for lg in sorted({lg for lg, _ in guessed})
            },
            "false_positive_kinds": dict(confusions.most_common()),
            "ignored_labels": dict(ignored.most_common()),
            "stats": dict(stats),
            # examples are eval-data excerpts: JSON only (keep that file out of the repo)
            "person_fp_examples": fp_examples(docs, preds, "PERSON"),
            "address_fp_examples": fp_examples(docs, preds, "POSTAL_ADDRESS"),
        }
        out.append("\n## Free text: span level (gold language)\n")
        out.append(
            "NER models installed: "
            + (", ".join(k for k, v in has_model.items() if v) or "none (blank spaCy pipelines)")
        )
        out.append("\nAll entities together (micro), strict = same entity, any-PII = any entity:\n")
        rows = []
        for key in keys:
            tot = PR()
            for (d, lg, _), pr in strict.items():
                if (d, lg) == key:
                    tot.tp += pr.tp
                    tot.fp += pr.fp
                    tot.gold += pr.gold
                    tot.found += pr.found
            len_pr, len_g = lenient[key], lenient_g[key]
            rows.append(
                [
                    *key,
                    docs_n[key],
                    tot.gold,
                    tot.precision,
                    tot.recall,
                    len_pr.precision,
                    len_pr.recall,
                    len_g.precision,
                    len_g.recall,
                ]
            )
        out.append(
            table(
                [
                    "dataset",
                    "lang",
                    "docs",
                    "gold spans",
                    "strict P",
                    "strict R",
                    "any-PII P",
                    "any-PII R",
                    "any-PII P (guessed lang)",
                    "any-PII R (guessed lang)",
                ],
                rows,
            )
        )
        out.append("\nPer entity and language:\n")
        rows = []
        for (d, lg, e), pr in sorted(strict.items()):
            rows.append([d, lg, e, pr.gold, pr.found, pr.recall, pr.tp + pr.fp, pr.precision])
        out.append(
            table(
                ["dataset", "lang", "entity", "gold", "found", "recall", "predicted", "precision"],
                rows,
            )
        )
        out.append("\nPERSON by language:\n")
        rows = []
        for (d, lg, e), pr in sorted(strict.items()):
            if e == "PERSON":
                rows.append([lg, d, pr.gold, pr.precision, pr.recall])
        out.append(table(["lang", "dataset", "gold names", "precision", "recall"], rows))
        out.append("\nLanguage guess accuracy (guess_language vs gold):\n")
        out.append(
            table(
                ["lang", "accuracy"],
                list(report["text"]["language_guess_accuracy"].items()),
            )
        )
        out.append("\nWhat the false positives overlap:\n")
        out.append(table(["kind", "count"], confusions.most_common(12)))
        out.append("\nUnmapped labels (not scored), most frequent:\n")
        out.append(table(["label", "spans"], ignored.most_common(15)))
        if stats:
            out.append(f"\n{dict(stats)}")

    if "messy" in parts:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tutela-messy-") as tmp:
            rows, messy_timings = messy_cases(Path(tmp))
        timings.update({f"messy_{k}": v for k, v in messy_timings.items()})
        report["messy"] = {"cases": rows, "all": messy_metrics(rows)}
        out.append(
            "\n## Column level: generated messy drop (`benchmarks/messy_drop.py`, via the CLI)\n"
        )
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by[f"{r['lang']}/{r['kind']}"].append(r)
            by[f"*/{r['kind']}"].append(r)
            by[f"{r['lang']}/*"].append(r)
        metrics = {k: messy_metrics(v) for k, v in sorted(by.items())}
        report["messy"]["groups"] = metrics
        head = ["lang/header", "columns", "positives", "found", "flagged", "precision", "recall",
                "F1", "null-expected flagged"]  # fmt: skip
        body = [[k, m["columns"], m["positives"], m["found"], m["flagged"], m["precision"],
                 m["recall"], m["f1"], f"{m['negatives_flagged']}/{m['negatives']}"]
                for k, m in [("all", report["messy"]["all"]), *metrics.items()]]  # fmt: skip
        out.append(table(head, body))
        out.append("\nColumns wrong (expected -> predicted), by header:\n")
        wrong: Counter[tuple[str, str, str]] = Counter()
        for r in rows:
            if (r["predicted"] is not None or r["expected"] is not None) and not (
                (r["predicted"] is not None and _messy_right(r))
                or (r["predicted"] is None and r["expected"] is None)
            ):
                wrong[(r["header"], str(r["expected"]), str(r["predicted"]))] += 1
        out.append(
            table(
                ["header", "expected", "predicted", "tables"],
                [[*k, n] for k, n in wrong.most_common(40)],
            )
        )

    report["timings_seconds"] = {k: round(v, 2) for k, v in timings.items()}
    report["text_report"] = "\n".join(out)
    return report


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="eval-data directory")
    parser.add_argument(
        "--limit",
        type=int,
        default=500,
        help="max documents per dataset and language for free text (0 = all; default 500)",
    )
    parser.add_argument(
        "--ids-per-type",
        type=int,
        default=200,
        help="valid values per generated identifier column (default 200)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="also write full results as JSON here (holds eval-data excerpts: not in the repo)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["columns", "ids", "text", "messy"],
        help="run only these parts",
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no eval data at {args.data}")
    start = time.perf_counter()
    report = run(args)
    report["timings_seconds"]["total"] = round(time.perf_counter() - start, 2)
    print(
        f"# Tutela scanner accuracy  (commit {report['commit']}, {report['date']}, "
        f"--limit {args.limit})\n"
    )
    print(report["text_report"])
    print(f"\nruntime (s): {report['timings_seconds']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
