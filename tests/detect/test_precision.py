"""Regression tests for precision fixes: weak ids in text, phone validity, name headers,
street addresses, NIF columns, VAT prefixes. All values are synthetic."""

from __future__ import annotations

import random

import duckdb
import pytest

from tests.detect import synth
from tests.detect.conftest import MakeTable, scan_columns
from tutela.detect.freetext import analyse_texts, analyzer
from tutela.detect.headers import header_hints
from tutela.detect.validators import (
    SPEC_BY_SUBTYPE,
    is_date_like,
    is_postcode_like,
    phone_region,
)

# -- 1. weak bare-digit identifiers need a context word in free text -------------------


def _entities(text: str) -> set[str]:
    (found,) = analyse_texts([text])
    return {f[0] for f in found}


@pytest.mark.parametrize(
    "text",
    [
        "Customer number 123456789 asked for a refund.",  # a valid PT NIF, no context
        "Ticket 094501040 was closed yesterday.",  # a valid GR AFM, no context
        "Order 1234563218 shipped on time.",  # a valid PL NIP, no context
        "Reference 44051401458 attached to the claim.",  # a valid PESEL, no context
    ],
)
def test_weak_ids_without_context_are_not_reported(text: str) -> None:
    assert not _entities(text) & {"TAX_ID", "NATIONAL_ID"}


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Mi NIF es 123456789, gracias.", "TAX_ID"),
        ("ΑΦΜ: 094501040 του πελάτη", "TAX_ID"),
        ("Numer NIP 1234563218 na fakturze", "TAX_ID"),
        ("Mój PESEL to 44051401458, proszę o fakturę", "NATIONAL_ID"),
        ("VAT PT123456789 on file", "TAX_ID"),  # the country prefix is context enough
    ],
)
def test_weak_ids_with_context_are_reported(text: str, entity: str) -> None:
    assert entity in _entities(text)


def test_strong_ids_need_no_context() -> None:
    assert "NATIONAL_ID" in _entities("Se adjunta 12345678Z al expediente.")
    assert "IBAN_CODE" in _entities("Transfer to ES91 2100 0418 4502 0005 1332 today.")


# -- 2. phones: dates and postcodes are not phones; trunk prefix; headers ----------------


@pytest.mark.parametrize(
    "value", ["9/19/2000", "19.09.2000", "2000-09-19", "20000919", "1/2/85", "5100-684"]
)
def test_dates_and_postcodes_are_not_phones(value: str) -> None:
    assert phone_region(value) is None


def test_date_and_postcode_shapes() -> None:
    assert is_date_like("12/31/1999") and is_date_like("31.12.1999")
    assert not is_date_like("612 345 678") and not is_date_like("45/67/2000")
    assert is_postcode_like("4700-123") and is_postcode_like("01310-100")
    assert not is_postcode_like("612-345-678")


def test_trunk_prefix_regions_need_their_zero() -> None:
    assert phone_region("0611 2345678") == "DE"  # written with its trunk prefix
    assert phone_region("611 2345678", ("DE",)) is None
    assert phone_region("+49 611 2345678") == "DE"


def test_birthday_column_without_header_is_not_phone(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(5)
    dates = [
        f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(1940, 2005)}" for _ in range(200)
    ]
    make_table("people", {"col_7": dates})
    # not a phone: birth dates, told by the ages they give (no header needed)
    assert scan_columns(con, "people")["col_7"].entity == "DATE_OF_BIRTH"


def test_postcode_column_is_not_phone(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(6)
    codes = [f"{rng.randint(1000, 9999)}-{rng.randint(0, 999):03d}" for _ in range(200)]
    make_table("addr", {"col_3": codes, "zip": codes})
    found = scan_columns(con, "addr")
    assert found["col_3"].entity is None
    assert found["zip"].entity is None


def test_national_id_header_is_not_overridden_by_phone_shapes(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    # DDMMYY-NNNN personal numbers (a Danish CPR has no checksum, only a date): not phones
    # under an id header, but the identifier the header names, at lower confidence.
    rng = random.Random(7)
    values = [
        f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(40, 99)}-"
        f"{rng.randint(0, 9999):04d}"
        for _ in range(200)
    ]
    make_table("ids", {"NationalID": values})
    found = scan_columns(con, "ids")["NationalID"]
    assert (found.entity, found.subtype) == ("NATIONAL_ID", "DK_CPR")
    assert found.confidence < 0.9


def test_phone_column_with_header_still_found(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("contacts", {"telefono": synth.es_phones(200)})
    assert scan_columns(con, "contacts")["telefono"].entity == "PHONE_NUMBER"


def test_phone_column_of_country_table_uses_its_region(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(8)
    phones = [
        f"{rng.choice('23456789')}{rng.randint(10, 99)}-{rng.randint(200, 999)}-"
        f"{rng.randint(1000, 9999)}"
        for _ in range(200)
    ]
    make_table("us", {"phone": phones, "country": ["US"] * 200})
    found = scan_columns(con, "us")["phone"]
    assert found.entity == "PHONE_NUMBER"


# -- 3. English text: US/CA phone formats ----------------------------------------------


def test_english_text_finds_us_phone() -> None:
    results = analyzer().analyze(
        text="Please call me at (212) 736-5000 tomorrow.", language="en", score_threshold=0.5
    )
    assert [r.entity_type for r in results] == ["PHONE_NUMBER"]


def test_english_text_date_is_not_phone() -> None:
    results = analyzer().analyze(
        text="She was admitted on 12/05/2019 and left.", language="en", score_threshold=0.5
    )
    assert not [r for r in results if r.entity_type == "PHONE_NUMBER"]


# -- 4. a `name` header over category labels ---------------------------------------------


def test_name_header_over_labels_is_not_person(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    labels = [
        "Nordic",
        "Alpine",
        "Baltic",
        "Iberian",
        "Celtic",
        "Balkan",
        "Levantine",
        "Andean",
        "Saharan",
        "Pacific",
        "Caribbean",
        "Danubian",
        "Pontic",
        "Ionian",
        "Tyrrhenian",
        "Adriatic",
        "Aegean",
        "Carpathian",
    ]
    rng = random.Random(9)
    make_table(
        "t",
        {
            "NameSet": [rng.choice(labels) for _ in range(100)],
            "PlanName": [rng.choice(["Gold", "Silver", "Bronze"]) for _ in range(100)],
        },
    )
    found = scan_columns(con, "t")
    assert found["NameSet"].entity is None
    assert found["PlanName"].entity is None


def test_name_header_over_names_is_person(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"first_name": synth.first_names("es", 100)})
    assert scan_columns(con, "t")["first_name"].entity == "PERSON"


# -- 4b. product names that are also first names ------------------------------------------

_PRODUCT_NAMES = ["Victoria", "Mercedes", "Carmen", "Dolores", "Paloma", "Rocío", "Pilar", "Lola"]
_MANY_FIRST_NAMES_TEXT = (
    "María José Lucía Javier Carmen Álvaro Inés Raúl Pablo Elena Sergio Marta Diego Laura "
    "Andrés Sofía Hugo Paula Adrián Irene Mario Clara Rubén Nuria Iván Silvia Óscar Alba "
    "Jorge Beatriz Daniel Cristina Manuel Sara Rafael Teresa Alberto Rosa Fernando Patricia"
)
_MANY_FIRST_NAMES = _MANY_FIRST_NAMES_TEXT.split()


def _sku_price(rng: random.Random, n: int) -> dict[str, list[str]]:
    return {
        "sku": [f"SKU-{rng.randrange(10**6):06d}" for _ in range(n)],
        "price": [f"{rng.randrange(100, 99999) / 100:.2f}" for _ in range(n)],
    }


def test_product_names_beside_sku_and_price_are_not_people(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(21)
    make_table(
        "products",
        {"name": [rng.choice(_PRODUCT_NAMES) for _ in range(100)], **_sku_price(rng, 100)},
    )
    found = scan_columns(con, "products")
    assert found["name"].entity is None
    assert "product_names" in found["name"].evidence


def test_first_names_of_customers_are_still_people(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(22)
    make_table("customers", {"first_name": [rng.choice(_PRODUCT_NAMES) for _ in range(100)]})
    assert scan_columns(con, "customers")["first_name"].entity == "PERSON"
    # An order export names products by sku and price, and its buyers by many first names.
    buyers = [rng.choice(_MANY_FIRST_NAMES) for _ in range(100)]
    make_table("orders", {"first_name": buyers, **_sku_price(rng, 100)})
    assert scan_columns(con, "orders")["first_name"].entity == "PERSON"
    # ... and a product table that also holds e-mail addresses is about people after all.
    emails = [f"cliente{i}@example.org" for i in range(100)]
    make_table(
        "products_buyers",
        {
            "name": [rng.choice(_PRODUCT_NAMES) for _ in range(100)],
            "email": emails,
            **_sku_price(rng, 100),
        },
    )
    assert scan_columns(con, "products_buyers")["name"].entity == "PERSON"


# -- 5. maiden-name headers, surnames off the name list -----------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "MothersMaiden",
        "maiden_name",
        "apellido_de_soltera",
        "nazwisko_panieńskie",
        "Geburtsname",
        "nom_de_jeune_fille",
        "meisjesnaam",
        "πατρικό_επώνυμο",
    ],
)
def test_maiden_name_headers(header: str) -> None:
    assert [h.kind for h in header_hints(header)][:1] == ["PERSON"]


def _made_up_surnames(n: int) -> list[str]:
    rng = random.Random(10)
    syll = ["kar", "vel", "dru", "mon", "tes", "qua", "bri", "zol", "fen", "gar", "lup", "nor"]
    return ["".join(rng.choice(syll) for _ in range(3)).capitalize() for _ in range(n)]


def test_surnames_off_the_list_with_surname_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    values = _made_up_surnames(120)
    make_table("t", {"MothersMaiden": values, "col_b": values})
    found = scan_columns(con, "t")
    assert found["MothersMaiden"].entity == "PERSON"
    assert found["col_b"].entity is None  # no header, no list hits: not enough


# -- 6. street addresses with the street word as suffix; Spanish "largo" ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "Lieferung an Lindenstraße 14 in Köln.",
        "Sie wohnt in der Moosstrasse 8.",
        "Het pakket ging naar Bloemweg 231 gisteren.",
        "Adres: Eikenlaan 7, Utrecht",
        "Il habite au 18 rue des Lilas à Lyon.",
        "Mora no Largo da Sé 4, Lisboa.",
    ],
)
def test_suffix_street_addresses_in_text(text: str) -> None:
    assert "POSTAL_ADDRESS" in _entities(text)


def test_spanish_largo_is_not_a_street() -> None:
    assert "POSTAL_ADDRESS" not in _entities("Tratamiento a largo plazo con 2 comprimidos.")


def test_suffix_street_address_column(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(11)
    stems = ["Linden", "Birken", "Mühlen", "Kirch", "Wald", "Rosen", "Eiken", "Dorps", "Hoog"]
    words = ["straße", "strasse", "weg", "gasse", "laan", "straat", "plein", "vej", "gatan"]
    values = [f"{rng.choice(stems)}{rng.choice(words)} {rng.randint(1, 300)}" for _ in range(150)]
    make_table("t", {"col_a": values})
    assert scan_columns(con, "t")["col_a"].entity == "POSTAL_ADDRESS"


# -- 7. DNI + NIE mixed under a `nif` header -------------------------------------------------


def test_mixed_dni_nie_under_nif_header_is_tax_id(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    values = synth.dni(100) + synth.nie(100)
    random.Random(12).shuffle(values)
    make_table("t", {"nif": values, "dni_nie": values})
    found = scan_columns(con, "t")
    assert (found["nif"].entity, found["nif"].subtype) == ("TAX_ID", "ES_NIF")
    assert found["dni_nie"].entity == "NATIONAL_ID"


# -- 8. doubled VAT prefixes ------------------------------------------------------------------


def test_doubled_vat_prefix_is_rejected() -> None:
    afm = synth.afm(1)[0]
    nip = synth.nip(1)[0]
    assert SPEC_BY_SUBTYPE["GR_AFM"].validate(f"EL {afm}")
    assert not SPEC_BY_SUBTYPE["GR_AFM"].validate(f"EL EL {afm}")
    assert not SPEC_BY_SUBTYPE["GR_AFM"].validate(f"GREL{afm}")
    assert SPEC_BY_SUBTYPE["PL_NIP"].validate(f"PL{nip}")
    assert not SPEC_BY_SUBTYPE["PL_NIP"].validate(f"PLPL{nip}")


# -- 9. dates of birth in text; Spanish social-security numbers --------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The patient was born on 14/08/1961 in Hull.",
        "Paciente nacida el 7 de octubre de 1958 en Teruel.",
        "Pani Anna, urodzona 02.11.1974 w Lublinie.",
        "Γεννήθηκε στις 30/06/1983 στη Λάρισα.",
        "Er wurde am 9. Juli 1966 geboren.",
    ],
)
def test_birth_dates_with_birth_words(text: str) -> None:
    assert "DATE_OF_BIRTH" in _entities(text)


def test_bare_dates_are_not_birth_dates() -> None:
    assert "DATE_OF_BIRTH" not in _entities("The invoice of 14/08/2021 was paid on time.")


def _nss(province: int, number: int) -> str:
    body = f"{province:02d}{number:08d}"
    return f"{body}{int(body) % 97:02d}"


def test_es_nss_validator() -> None:
    value = _nss(8, 41234567)
    assert SPEC_BY_SUBTYPE["ES_NSS"].validate(value)
    assert SPEC_BY_SUBTYPE["ES_NSS"].validate(f"{value[:2]} {value[2:10]} {value[10:]}")
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    assert not SPEC_BY_SUBTYPE["ES_NSS"].validate(wrong)
    assert not SPEC_BY_SUBTYPE["ES_NSS"].validate("99" + value[2:])  # no province 99


def test_es_nss_in_text_needs_context() -> None:
    value = _nss(46, 20481632)
    spaced = f"{value[:2]} {value[2:10]} {value[10:]}"
    assert "NATIONAL_ID" in _entities(f"Nº de afiliación a la Seguridad Social {spaced}.")
    assert "NATIONAL_ID" not in _entities(f"Pedido {value} enviado por mensajería.")


def test_es_nss_column_with_header(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    rng = random.Random(13)
    values = [_nss(rng.randint(1, 52), rng.randint(10_000_000, 99_999_999)) for _ in range(150)]
    make_table("t", {"nss": values, "col_x": values})
    found = scan_columns(con, "t")
    assert (found["nss"].entity, found["nss"].subtype) == ("NATIONAL_ID", "ES_NSS")
    assert found["col_x"].entity is None  # 12 digits without a header: not enough


def test_vat_prefix_with_colon_is_accepted() -> None:
    afm = synth.afm(1)[0]
    assert SPEC_BY_SUBTYPE["GR_AFM"].validate(f"EL: {afm}")
