"""A generated messy data drop: the kinds of column real exports have and tidy fixtures lack.

    python benchmarks/messy_drop.py --out DIR        # write the files and labels.json

Everything is synthetic (Faker for names, addresses, phones and dates; python-stdnum's own
check-digit functions, or a search for a valid check digit, for identifiers); nothing is
copied from any evaluation set. Ten languages (en es ca pl el de fr it pt nl), each with:

* ``{lang}_customers`` written three ways: with the header in the language
  (``native``), with meaningless headers ``c1..cN`` (``meaningless``) and without a header
  row (``noheader``). Names in capitals for some languages, birth dates as ``dd.mm.yyyy``,
  the country's national and tax identifiers, IBAN, city, postcode and business columns;
* ``{lang}_messy``: placeholder strings diluting real values (70-90 %), a name column mostly
  holding "Client 23" placeholders, mobiles stored as bare digits under ``c9``, ticket
  subjects where ~8 % hold an e-mail, phone or name, support-agent names, analytics
  cookies, a mixed IPv4/IPv6 column, and columns that must stay clean (placeholder-only
  e-mails, reviews quoting 9-digit order numbers);
* ``{lang}_products``: product names that are also first names (Victoria, Mercedes,
  Carmen), SKUs, prices, reviews;
* ``{lang}_ids``: identifiers of other EU/EEA countries, the UK and Switzerland under their
  own header, under a generic ``national_id``/``tax_id`` header, and an identifier type with
  no validator (an identity-card number) under an identity-card header.

Encodings vary (cp1253 Greek, cp1250 Polish, UTF-8 with BOM), one table per language is
nested JSON. ``labels.json`` maps ``table -> column -> expected entity`` (null: not personal
data; ``"ANY"``: any entity counts, for short texts whose mentions are of several kinds).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker import Faker

ROWS = 150
LANGS = ("en", "es", "ca", "pl", "el", "de", "fr", "it", "pt", "nl")
LOCALE = {
    "en": "en_GB",
    "es": "es_ES",
    "ca": "es_ES",
    "pl": "pl_PL",
    "el": "el_GR",
    "de": "de_DE",
    "fr": "fr_FR",
    "it": "it_IT",
    "pt": "pt_PT",
    "nl": "nl_NL",
}
COUNTRY = {
    "en": "GB",
    "es": "ES",
    "ca": "ES",
    "pl": "PL",
    "el": "GR",
    "de": "DE",
    "fr": "FR",
    "it": "IT",
    "pt": "PT",
    "nl": "NL",
}
ENCODING = {"el": "cp1253", "pl": "cp1250", "de": "utf-8-sig"}
CAPITALS = {"es", "el", "pl"}  # names written in capitals in these exports


# -- identifiers: generated with their own check digits ------------------------------------------


def _d(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _birth(rng: random.Random) -> dt.date:
    return dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 62))


def _search(
    rng: random.Random, make: Callable[[random.Random], str], valid: Callable[[str], bool]
) -> str:
    for _ in range(20000):
        value = make(rng)
        if valid(value):
            return value
    raise RuntimeError("no valid value found")


def _valid(module: str) -> Callable[[str], bool]:
    import importlib

    mod = importlib.import_module(module)
    return lambda v: bool(mod.is_valid(v))


def _ymd(rng: random.Random, fmt: str) -> str:
    return _birth(rng).strftime(fmt)


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "ES_DNI": lambda r: (lambda n: f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[int(n) % 23]}")(_d(r, 8)),
    "ES_NIE": lambda r: (
        lambda p, n: f"{p}{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[int(str('XYZ'.index(p)) + n) % 23]}"
    )(r.choice("XYZ"), _d(r, 7)),
    "PL_PESEL": lambda r: _search(
        r, lambda r: _ymd(r, "%y%m%d") + _d(r, 5), _valid("stdnum.pl.pesel")
    ),
    "PL_NIP": lambda r: _search(
        r, lambda r: r.choice("123456789") + _d(r, 9), _valid("stdnum.pl.nip")
    ),
    "PL_NRB": lambda r: (
        lambda bban: __import__("stdnum.iban").iban.calc_check_digits("PL00" + bban) + bban
    )(_d(r, 24)),
    "PL_ID_CARD": lambda r: _search(
        r,
        lambda r: "".join(r.choice(string.ascii_uppercase) for _ in range(3)) + _d(r, 6),
        lambda v: _pl_id(v),
    ),
    "GR_AMKA": lambda r: _search(
        r, lambda r: _ymd(r, "%d%m%y") + _d(r, 5), _valid("stdnum.gr.amka")
    ),
    "GR_AFM": lambda r: _search(r, lambda r: _d(r, 9), _valid("stdnum.gr.vat")),
    "GR_ID_CARD": lambda r: "".join(r.choice("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ") for _ in range(2)) + " " + _d(r, 6),
    "PT_NIF": lambda r: _search(r, lambda r: r.choice("12") + _d(r, 8), _valid("stdnum.pt.nif")),
    "PT_CC": lambda r: _search(
        r,
        lambda r: f"{_d(r, 8)} {_d(r, 1)} {r.choice('ZY')}{r.choice('ZYXW')}{_d(r, 1)}",
        _valid("stdnum.pt.cc"),
    ),
    "IT_CF": lambda r: (
        lambda body: (
            body + __import__("stdnum.it.codicefiscale").it.codicefiscale.calc_check_digit(body)
        )
    )(
        "".join(r.choice("BCDFGLMNPRSTVZ") for _ in range(6))
        + _ymd(r, "%y")
        + r.choice("ABCDEHLMPRST")
        + f"{r.randint(1, 28):02d}"
        + r.choice("ABCDEFGHLM")
        + _d(r, 3)
    ),
    "IT_ID_CARD": lambda r: (
        f"C{r.choice('ABCDEF')}{_d(r, 5)}{r.choice('ABCDEFGH')}{r.choice('ABCDEFGH')}"
    ),
    "FR_NIR": lambda r: (lambda body: f"{body}{97 - int(body) % 97:02d}")(
        r.choice("12") + _ymd(r, "%y%m") + f"{r.randint(1, 95):02d}" + _d(r, 6)
    ),
    "FR_NIF": lambda r: (lambda b: f"{b}{int(b) % 511:03d}")(r.choice("0123") + _d(r, 9)),
    "DE_IDNR": lambda r: _search(
        r, lambda r: r.choice("123456789") + _d(r, 10), _valid("stdnum.de.idnr")
    ),
    "DE_ID_CARD": lambda r: (
        r.choice("CFGHJKLMNPRTVWXYZ")
        + "".join(r.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(8))
    ),
    "NL_BSN": lambda r: _search(
        r, lambda r: r.choice("123456789") + _d(r, 8), _valid("stdnum.nl.bsn")
    ),
    "NL_ID_DOCUMENT": lambda r: _search(
        r,
        lambda r: (
            "".join(r.choice("ABCDEFGHIJKLMNPRSTUVWXYZ") for _ in range(2))
            + "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6))
            + _d(r, 1)
        ),
        _valid("stdnum.nl.identiteitskaartnummer"),
    ),
    "UK_NINO": lambda r: (
        r.choice("ABCEGHJKLMNPRSTWXYZ")
        + r.choice("ABCEGHJKLMNPRSTWXYZ")
        + _d(r, 6)
        + r.choice("ABCD")
    ),
    "GB_NHS": lambda r: _search(r, lambda r: _d(r, 10), _valid("stdnum.gb.nhs")),
    "BE_NN": lambda r: (lambda body: f"{body}{97 - int(body) % 97:02d}")(
        _ymd(r, "%y%m%d") + _d(r, 3)
    ),
    "AT_VNR": lambda r: _search(
        r, lambda r: r.choice("123456789") + _d(r, 3) + _ymd(r, "%d%m%y"), _valid("stdnum.at.vnr")
    ),
    "CH_SSN": lambda r: _search(r, lambda r: "756" + _d(r, 10), _valid("stdnum.ch.ssn")),
    "DK_CPR": lambda r: _search(
        r, lambda r: _ymd(r, "%d%m%y") + "-" + _d(r, 4), _valid("stdnum.dk.cpr")
    ),
    "SE_PERSONNUMMER": lambda r: _search(
        r, lambda r: _ymd(r, "%y%m%d") + "-" + _d(r, 4), _valid("stdnum.se.personnummer")
    ),
    "NO_FODSELSNUMMER": lambda r: _search(
        r, lambda r: _ymd(r, "%d%m%y") + _d(r, 5), _valid("stdnum.no.fodselsnummer")
    ),
    "FI_HETU": lambda r: _search(
        r,
        lambda r: _ymd(r, "%d%m%y") + "-" + _d(r, 3) + r.choice("0123456789ABCDEFHJKLMNPRSTUVWXY"),
        _valid("stdnum.fi.hetu"),
    ),
    "IE_PPS": lambda r: _search(
        r, lambda r: _d(r, 7) + r.choice("ABCDEFGHIJKLMNOPQRSTUVW"), _valid("stdnum.ie.pps")
    ),
    "RO_CNP": lambda r: _search(
        r,
        lambda r: r.choice("12") + _ymd(r, "%y%m%d") + f"{r.randint(1, 46):02d}" + _d(r, 4),
        _valid("stdnum.ro.cnp"),
    ),
    "HR_OIB": lambda r: _search(r, lambda r: _d(r, 11), _valid("stdnum.hr.oib")),
    "SI_EMSO": lambda r: _search(
        r,
        lambda r: _birth(r).strftime("%d%m") + str(_birth(r).year)[1:] + "50" + _d(r, 4),
        _valid("stdnum.si.emso"),
    ),
    "CZ_RC": lambda r: _search(
        r, lambda r: _ymd(r, "%y%m%d") + "/" + _d(r, 4), _valid("stdnum.cz.rc")
    ),
    "EE_IK": lambda r: _search(
        r, lambda r: r.choice("3456") + _ymd(r, "%y%m%d") + _d(r, 4), _valid("stdnum.ee.ik")
    ),
    "ES_CCC": lambda r: (
        lambda b, o, a: (
            f"{b}-{o}-{__import__('stdnum.es.ccc').es.ccc.calc_check_digits(b + o + '00' + a)}-{a}"
        )
    )(_d(r, 4), _d(r, 4), _d(r, 10)),
    "EU_VAT": lambda r: _search(
        r,
        lambda r: r.choice(["ATU" + _d(r, 8), "DE" + _d(r, 9), "BE0" + _d(r, 9), "DK" + _d(r, 8)]),
        _valid("stdnum.eu.vat"),
    ),
}


def _mobile(rng: random.Random, country: str) -> str:
    """A valid mobile number of `country` as bare digits with its country code."""
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
    assert meta is not None and meta.mobile is not None
    example = meta.mobile.example_number or ""
    code = str(meta.country_code)

    def make(r: random.Random) -> str:
        return code + example[:2] + _d(r, len(example) - 2)

    def ok(v: str) -> bool:
        num = phonenumbers.parse("+" + v, None)
        return phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )

    return _search(rng, make, ok)


def _pl_id(v: str) -> bool:
    """Polish identity card check digit (position 4), written out here so that the
    generator does not depend on the scanner it measures."""
    digits = [ord(c) - 55 for c in v[:3]] + [int(c) for c in v[3:]]
    return sum(d * w for d, w in zip(digits, (7, 3, 1, 9, 7, 3, 1, 7, 3), strict=True)) % 10 == 0


def iban(rng: random.Random, country: str) -> str:
    from stdnum import iban as std_iban

    length = {"ES": 20, "PL": 24, "GR": 23, "GB": 18, "DE": 18, "FR": 23, "IT": 23, "PT": 21,
              "NL": 14, "BE": 12}[country]  # fmt: skip

    def make(r: random.Random) -> str:
        if country == "ES":
            from stdnum.es import ccc

            b, o, a = _d(r, 4), _d(r, 4), _d(r, 10)
            bban = b + o + ccc.calc_check_digits(b + o + "00" + a) + a
        elif country == "GB":
            bban = "".join(r.choice(string.ascii_uppercase) for _ in range(4)) + _d(r, 14)
        elif country == "NL":
            bban = "".join(r.choice(string.ascii_uppercase) for _ in range(4)) + _d(r, 10)
        elif country == "IT":
            bban = r.choice(string.ascii_uppercase) + _d(r, 22)
        else:
            bban = _d(r, length)
        check = std_iban.calc_check_digits(country + "00" + bban)
        return std_iban.format(country + check + bban)

    return _search(rng, make, _valid("stdnum.iban"))


# -- the tables --------------------------------------------------------------------------------


@dataclass
class Column:
    headers: dict[str, str]  # header kind -> header ("native", "en")
    values: list[Any]
    expected: str | None
    note: str = ""


@dataclass
class Table:
    name: str
    lang: str
    columns: list[Column] = field(default_factory=list)
    kinds: tuple[str, ...] = ("native",)  # header variants written
    fmt: str = "csv"


# Native headers per language: first, last, email, phone, dob, address, city, postcode,
# customer no, amount, signup date, status, iban.
HEADERS: dict[str, tuple[str, ...]] = {
    "en": ("first_name", "surname", "email", "phone", "date_of_birth", "address", "city",
           "postcode", "customer_no", "amount", "signup_date", "status", "iban"),
    "es": ("nombre", "apellidos", "correo", "telefono", "fecha_nacimiento", "direccion",
           "ciudad", "codigo_postal", "num_cliente", "importe", "fecha_alta", "estado", "iban"),
    "ca": ("nom", "cognoms", "correu", "telefon", "data_naixement", "adreca", "ciutat",
           "codi_postal", "num_client", "import", "data_alta", "estat", "iban"),
    "pl": ("imie", "nazwisko", "email", "telefon", "data_urodzenia", "adres", "miasto",
           "kod_pocztowy", "nr_klienta", "kwota", "data_rejestracji", "status", "numer_konta"),
    "el": ("όνομα", "επώνυμο", "email", "τηλέφωνο", "ημερομηνία_γέννησης", "διεύθυνση", "πόλη",
           "ΤΚ", "αρ_πελάτη", "ποσό", "ημερομηνία_εγγραφής", "κατάσταση", "iban"),
    "de": ("vorname", "nachname", "e_mail", "telefon", "geburtsdatum", "anschrift", "stadt",
           "plz", "kundennummer", "betrag", "anmeldedatum", "status", "iban"),
    "fr": ("prenom", "nom_de_famille", "courriel", "telephone", "date_de_naissance", "adresse",
           "ville", "code_postal", "num_client", "montant", "date_inscription", "statut", "iban"),
    "it": ("nome", "cognome", "email", "telefono", "data_di_nascita", "indirizzo", "citta",
           "cap", "cod_cliente", "importo", "data_iscrizione", "stato", "iban"),
    "pt": ("nome", "apelido", "email", "telemovel", "data_nascimento", "morada", "cidade",
           "codigo_postal", "num_cliente", "valor", "data_registo", "estado", "iban"),
    "nl": ("voornaam", "achternaam", "emailadres", "telefoonnummer", "geboortedatum", "adres",
           "plaats", "postcode", "klantnummer", "bedrag", "aanmelddatum", "status", "iban"),
}  # fmt: skip
# National and tax identifiers of each language's country: (spec, native header).
NATIONAL: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (("UK_NINO", "ni_number"), ("GB_NHS", "nhs_number")),
    "es": (("ES_DNI", "dni"), ("ES_CCC", "ccc")),
    "ca": (("ES_NIE", "nie"), ("ES_DNI", "nif")),
    "pl": (("PL_PESEL", "pesel"), ("PL_NRB", "nr_rachunku")),
    "el": (("GR_AMKA", "αμκα"), ("GR_ID_CARD", "αριθμός_ταυτότητας")),
    "de": (("DE_IDNR", "steuer_id"), ("DE_ID_CARD", "ausweisnummer")),
    "fr": (("FR_NIR", "numero_securite_sociale"), ("FR_NIF", "numero_fiscal")),
    "it": (("IT_CF", "codice_fiscale"), ("IT_ID_CARD", "numero_carta_identita")),
    "pt": (("PT_CC", "cartao_cidadao"), ("PT_NIF", "nif")),
    "nl": (("NL_BSN", "bsn"), ("NL_ID_DOCUMENT", "documentnummer")),
}
ENTITY_OF = {
    "ES_DNI": "NATIONAL_ID", "ES_NIE": "NATIONAL_ID", "UK_NINO": "NATIONAL_ID",
    "GB_NHS": "NATIONAL_ID", "ES_CCC": "IBAN_CODE", "PL_PESEL": "NATIONAL_ID",
    "PL_NRB": "IBAN_CODE", "PL_NIP": "TAX_ID", "PL_ID_CARD": "NATIONAL_ID",
    "GR_AMKA": "NATIONAL_ID", "GR_AFM": "TAX_ID", "GR_ID_CARD": "NATIONAL_ID",
    "DE_IDNR": "TAX_ID", "DE_ID_CARD": "NATIONAL_ID", "FR_NIR": "NATIONAL_ID",
    "FR_NIF": "TAX_ID", "IT_CF": "TAX_ID", "IT_ID_CARD": "NATIONAL_ID",
    "PT_CC": "NATIONAL_ID", "PT_NIF": "TAX_ID", "NL_BSN": "NATIONAL_ID",
    "NL_ID_DOCUMENT": "NATIONAL_ID", "BE_NN": "NATIONAL_ID", "AT_VNR": "NATIONAL_ID",
    "CH_SSN": "NATIONAL_ID", "DK_CPR": "NATIONAL_ID", "SE_PERSONNUMMER": "NATIONAL_ID",
    "NO_FODSELSNUMMER": "NATIONAL_ID", "FI_HETU": "NATIONAL_ID", "IE_PPS": "NATIONAL_ID",
    "RO_CNP": "NATIONAL_ID", "HR_OIB": "NATIONAL_ID", "SI_EMSO": "NATIONAL_ID",
    "CZ_RC": "NATIONAL_ID", "EE_IK": "NATIONAL_ID", "EU_VAT": "TAX_ID",
}  # fmt: skip
# The ES NIF header over DNIs is a TAX_ID (personal NIF = DNI digits).
HEADER_ENTITY = {("ca", "nif"): "TAX_ID"}
# Other countries' identifiers in each language's ids table, under their native header.
FOREIGN: tuple[tuple[str, str], ...] = (
    ("BE_NN", "rijksregisternummer"), ("AT_VNR", "sozialversicherungsnummer"),
    ("CH_SSN", "ahv_nummer"), ("DK_CPR", "cpr_nummer"), ("SE_PERSONNUMMER", "personnummer"),
    ("NO_FODSELSNUMMER", "fodselsnummer"), ("FI_HETU", "henkilotunnus"), ("IE_PPS", "ppsn"),
    ("RO_CNP", "cnp"), ("HR_OIB", "oib"), ("SI_EMSO", "emso"), ("CZ_RC", "rodne_cislo"),
    ("EE_IK", "isikukood"), ("EU_VAT", "vat_number"), ("PL_NIP", "nip"), ("GR_AFM", "afm"),
    ("PL_ID_CARD", "nr_dowodu"),
)  # fmt: skip
GENERIC_ID = {"en": "national_id", "es": "documento_identidad", "ca": "document_identitat",
              "pl": "numer_dowodu_osobistego", "el": "αριθμός_ταυτότητας", "de": "ausweisnummer",
              "fr": "numero_carte_identite", "it": "numero_documento", "pt": "numero_identificacao",
              "nl": "identiteitsnummer"}  # fmt: skip
SUBJECTS = {
    "en": ["Order not received", "Refund request", "Wrong size", "Question about invoice"],
    "es": ["Pedido no recibido", "Solicitud de reembolso", "Talla incorrecta", "Duda factura"],
    "ca": ["Comanda no rebuda", "Sol·licitud de reemborsament", "Talla incorrecta", "Factura"],
    "pl": ["Zamówienie nie dotarło", "Prośba o zwrot", "Zły rozmiar", "Pytanie o fakturę"],
    "el": ["Η παραγγελία δεν έφτασε", "Αίτημα επιστροφής", "Λάθος μέγεθος", "Ερώτηση τιμολογίου"],
    "de": ["Bestellung nicht erhalten", "Rückerstattung", "Falsche Größe", "Frage zur Rechnung"],
    "fr": ["Commande non reçue", "Demande de remboursement", "Mauvaise taille", "Facture"],
    "it": ["Ordine non ricevuto", "Richiesta di rimborso", "Taglia sbagliata", "Fattura"],
    "pt": ["Encomenda não recebida", "Pedido de reembolso", "Tamanho errado", "Fatura"],
    "nl": ["Bestelling niet ontvangen", "Terugbetaling", "Verkeerde maat", "Vraag over factuur"],
}
REVIEWS = {
    "en": "Great quality, order {n} arrived on time",
    "es": "Muy buena calidad, el pedido {n} llegó a tiempo",
    "ca": "Molt bona qualitat, la comanda {n} va arribar a temps",
    "pl": "Świetna jakość, zamówienie {n} dotarło na czas",
    "el": "Πολύ καλή ποιότητα, η παραγγελία {n} έφτασε εγκαίρως",
    "de": "Tolle Qualität, Bestellung {n} kam pünktlich an",
    "fr": "Très bonne qualité, la commande {n} est arrivée à temps",
    "it": "Ottima qualità, l'ordine {n} è arrivato in tempo",
    "pt": "Ótima qualidade, a encomenda {n} chegou a tempo",
    "nl": "Prima kwaliteit, bestelling {n} kwam op tijd aan",
}
PRODUCTS = ["Victoria", "Mercedes", "Carmen", "Aurora", "Estrella", "Paloma", "Valentina",
            "Adriana", "Sofia", "Bianca"]  # fmt: skip
PLACEHOLDERS = ["NULL", "-", "n/a", "N/A", "", "null", "none", "?", "--"]
PLACEHOLDER_EMAILS = ["x@x.pt", "naotem@naotem.pt", "sinmail@sinmail.es", "a@a.com",
                      "noemail@noemail.com", "xx@xx.com"]  # fmt: skip


def _dob_text(d: dt.date, lang: str) -> str:
    if lang in ("de", "pl", "el", "nl"):
        return d.strftime("%d.%m.%Y")
    if lang == "en":
        return d.strftime("%d/%m/%Y")
    return d.strftime("%d/%m/%Y") if lang in ("es", "ca", "fr", "it", "pt") else d.isoformat()


def _caps(text: str) -> str:
    """Capitals as exports write them: Greek without accents."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.upper())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c != "\u0301"))


def _address(fake: Faker, lang: str, rng: random.Random) -> str:
    if lang == "ca":
        street = rng.choice(["Carrer", "Avinguda", "Passeig", "Plaça"])
        return f"{street} de {fake.last_name()}, {rng.randint(1, 200)}"
    if lang == "el":
        return _caps(f"{fake.street_name()} {rng.randint(1, 200)}")
    value = fake.street_address().replace("\n", ", ")
    return _caps(value) if lang in ("es", "pl") else value


def customers(lang: str, rng: random.Random) -> Table:
    fake = Faker(LOCALE[lang])
    fake.seed_instance(rng.randint(0, 10**6))
    h = HEADERS[lang]
    country = COUNTRY[lang]
    caps = lang in CAPITALS
    first = [fake.first_name() for _ in range(ROWS)]
    last = [fake.last_name() for _ in range(ROWS)]
    if caps:
        first, last = [_caps(f) for f in first], [_caps(x) for x in last]
    cols = [
        Column({"native": h[0]}, first, "PERSON"),
        Column({"native": h[1]}, last, "PERSON"),
        Column({"native": h[2]}, [fake.email() for _ in range(ROWS)], "EMAIL_ADDRESS"),
        Column({"native": h[3]}, [fake.phone_number() for _ in range(ROWS)], "PHONE_NUMBER"),
        Column({"native": h[4]}, [_dob_text(_birth(rng), lang) for _ in range(ROWS)],
               "DATE_OF_BIRTH"),
        Column({"native": h[5]}, [_address(fake, lang, rng) for _ in range(ROWS)],
               "POSTAL_ADDRESS"),
        Column({"native": h[6]}, [fake.city() for _ in range(ROWS)], None),
        Column({"native": h[7]}, [fake.postcode() for _ in range(ROWS)], None),
        Column({"native": h[8]}, [str(100000 + i) for i in range(ROWS)], None),
        Column({"native": h[9]}, [f"{rng.uniform(5, 900):.2f}" for _ in range(ROWS)], None),
        Column({"native": h[10]}, [(dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700)))
                                   .isoformat() for _ in range(ROWS)], None),
        Column({"native": h[11]}, [rng.choice(["active", "paused", "closed"]) for _ in range(ROWS)],
               None),
        Column({"native": h[12]}, [iban(rng, country) for _ in range(ROWS)], "IBAN_CODE"),
    ]  # fmt: skip
    for spec, header in NATIONAL[lang]:
        expected = HEADER_ENTITY.get((lang, header), ENTITY_OF[spec])
        cols.append(Column({"native": header}, [GENERATORS[spec](rng) for _ in range(ROWS)],
                           expected))  # fmt: skip
    return Table(f"{lang}_customers", lang, cols, ("native", "meaningless", "noheader"))


def messy(lang: str, rng: random.Random) -> Table:
    fake = Faker(LOCALE[lang])
    fake.seed_instance(rng.randint(0, 10**6))
    n = ROWS

    def diluted(values: list[str], share: float) -> list[str]:
        return [v if rng.random() > share else rng.choice(PLACEHOLDERS) for v in values]

    names = [fake.name() for _ in range(n)]
    agents = [fake.name() for _ in range(6)]
    subjects = []
    for _ in range(n):
        base = rng.choice(SUBJECTS[lang])
        roll = rng.random()
        if roll < 0.03:
            base += f" - {fake.email()}"
        elif roll < 0.06:
            base += f" ({fake.phone_number()})"
        elif roll < 0.09:
            base += f" - {fake.name()}"
        subjects.append(base)
    mobiles = [int(_mobile(rng, COUNTRY[lang])) for _ in range(n)]
    ga = [f"_ga=GA1.2.{rng.randint(10**8, 10**10)}.{rng.randint(1600000000, 1700000000)}"
          for _ in range(n)]  # fmt: skip
    fbp = [f"fb.1.{rng.randint(1600000000000, 1700000000000)}.{rng.randint(10**8, 10**10)}"
           for _ in range(n)]  # fmt: skip
    ips = [fake.ipv6() if rng.random() < 0.34 else fake.ipv4_public() for _ in range(n)]
    cols = [
        Column({"native": "email_contacto" if lang in ("es", "ca") else "contact_email"},
               diluted([fake.email() for _ in range(n)], 0.8), "EMAIL_ADDRESS"),
        Column({"native": "customer.name"},
               [nm if rng.random() < 0.34 else f"Client {rng.randint(1, 999)}" for nm in names],
               "PERSON"),
        Column({"native": "c9"}, mobiles, "PHONE_NUMBER"),
        Column({"native": "ticket_subject"}, subjects, "ANY"),
        Column({"native": "agent"}, [rng.choice(agents) for _ in range(n)], "PERSON"),
        Column({"native": "tracking"}, ga, "ONLINE_ID"),
        Column({"native": "fbp"}, fbp, "ONLINE_ID"),
        Column({"native": "ip"}, ips, "IP_ADDRESS"),
        Column({"native": "backup_email"}, [rng.choice(PLACEHOLDER_EMAILS) for _ in range(n)],
               None),
        Column({"native": "phone_2"}, diluted([fake.phone_number() for _ in range(n)], 0.7),
               "PHONE_NUMBER"),
    ]  # fmt: skip
    if lang == "el":
        fathers = [_caps(fake.first_name_male()) for _ in range(n)]
        cols.append(Column({"native": "πατρώνυμο"}, fathers, "PERSON"))
    return Table(f"{lang}_messy", lang, cols, ("native",), fmt="json" if lang == "fr" else "csv")


def products(lang: str, rng: random.Random) -> Table:
    n = ROWS
    name_header = {"en": "name", "es": "nombre", "ca": "nom", "pl": "nazwa", "el": "όνομα",
                   "de": "name", "fr": "nom", "it": "nome", "pt": "nome",
                   "nl": "naam"}[lang]  # fmt: skip
    cols = [
        Column({"native": name_header}, [rng.choice(PRODUCTS[:5]) for _ in range(n)], None),
        Column({"native": "sku"}, [f"SKU-{rng.randint(0, 999999):06d}" for _ in range(n)], None),
        Column({"native": "price"}, [f"{rng.uniform(3, 300):.2f}" for _ in range(n)], None),
        Column({"native": "stock"}, [str(rng.randint(0, 500)) for _ in range(n)], None),
        Column({"native": "review"},
               [REVIEWS[lang].format(n=rng.randint(10**8, 10**9 - 1)) for _ in range(n)], None),
        Column({"native": "model"}, [rng.choice(PRODUCTS) for _ in range(n)], None),
    ]  # fmt: skip
    return Table(f"{lang}_products", lang, cols, ("native",))


def ids(lang: str, rng: random.Random, index: int) -> Table:
    chosen = [FOREIGN[(index * 3 + k) % len(FOREIGN)] for k in range(5)]
    cols = []
    for spec, header in chosen:
        values = [GENERATORS[spec](rng) for _ in range(ROWS)]
        cols.append(Column({"native": header}, values, ENTITY_OF[spec]))
        generic = "tax_id" if ENTITY_OF[spec] == "TAX_ID" else "national_id"
        cols.append(Column({"native": f"{generic}_{len(cols)}"}, values, ENTITY_OF[spec]))
    # an identity card format no validator knows, under an identity-card header
    letters = "ABCDEFGHJK"  # digits first: no format any validator knows
    unknown = [f"{_d(rng, 2)}{rng.choice(letters)}{rng.choice(letters)}{_d(rng, 5)}"
               for _ in range(ROWS)]  # fmt: skip
    cols.append(Column({"native": GENERIC_ID[lang]}, unknown, "NATIONAL_ID"))
    cols.append(Column({"native": "batch_code"}, unknown, None))
    return Table(f"{lang}_ids", lang, cols, ("native",))


def build(seed: int = 18) -> list[Table]:
    rng = random.Random(seed)
    Faker.seed(seed)
    tables: list[Table] = []
    for i, lang in enumerate(LANGS):
        tables += [customers(lang, rng), messy(lang, rng), products(lang, rng), ids(lang, rng, i)]
    return tables


def _headers(table: Table, kind: str) -> list[str]:
    if kind == "native":
        return [c.headers["native"] for c in table.columns]
    return [f"c{i + 1}" for i in range(len(table.columns))]


def write(tables: list[Table], out: Path) -> dict[str, Any]:
    """Write every table variant as a file; return the labels."""
    out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, Any] = {}
    for table in tables:
        for kind in table.kinds:
            name = table.name if kind == "native" else f"{table.name}_{kind}"
            headers = _headers(table, kind)
            rows = [[c.values[i] for c in table.columns] for i in range(ROWS)]
            if table.fmt == "json" and kind == "native":
                path = out / f"{name}.json"
                records = [_nest(dict(zip(headers, r, strict=True))) for r in rows]
                path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
                loaded = [h for h in headers]
            else:
                path = out / f"{name}.csv"
                encoding = ENCODING.get(table.lang, "utf-8")
                with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
                    writer = csv.writer(fh)
                    if kind != "noheader":
                        writer.writerow(headers)
                    writer.writerows([["" if v is None else v for v in r] for r in rows])
                loaded = (
                    headers
                    if kind != "noheader"
                    else [f"column_{i + 1}" for i in range(len(headers))]
                )
            labels[name] = {
                "lang": table.lang,
                "kind": kind,
                "file": path.name,
                "columns": {
                    lh: {"expected": c.expected, "header": c.headers["native"]}
                    for lh, c in zip(loaded, table.columns, strict=True)
                },
            }
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), "utf-8")
    return labels


def _nest(row: dict[str, Any]) -> dict[str, Any]:
    """`customer.name` -> {"customer": {"name": ...}} (the loader flattens it back)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    labels = write(build(args.seed), args.out)
    print(f"wrote {len(labels)} tables to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
