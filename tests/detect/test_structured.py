"""Structured columns: identifiers with checksums, phones, names, devices, not-PII columns."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import duckdb
import pytest

from tests.detect import synth
from tests.detect.conftest import MakeTable, scan_columns
from tutela.detect import scan_table

N = 200

VALID_IDS: list[tuple[str, Callable[[int], list[str]], str, str]] = [
    ("dni", synth.dni, "NATIONAL_ID", "ES_DNI"),
    ("documento", synth.nie, "NATIONAL_ID", "ES_NIE"),
    ("pesel", synth.pesel, "NATIONAL_ID", "PL_PESEL"),
    ("nip", synth.nip, "TAX_ID", "PL_NIP"),
    ("amka", synth.amka, "NATIONAL_ID", "GR_AMKA"),
    ("ΑΦΜ", synth.afm, "TAX_ID", "GR_AFM"),
    ("bsn", synth.bsn, "NATIONAL_ID", "NL_BSN"),
    ("nif_pt", synth.pt_nif_values, "TAX_ID", "PT_NIF"),
    ("nir", synth.nir, "NATIONAL_ID", "FR_NIR"),
    ("codice_fiscale", synth.codice_fiscale, "TAX_ID", "IT_CF"),
    ("iban", synth.iban_es, "IBAN_CODE", "IBAN"),
    ("card_number", synth.card, "CREDIT_CARD", "CARD"),
]


@pytest.mark.parametrize(("column", "gen", "entity", "subtype"), VALID_IDS)
def test_checksum_valid_identifiers_are_found(
    con: duckdb.DuckDBPyConnection,
    make_table: MakeTable,
    column: str,
    gen: Callable[[int], list[str]],
    entity: str,
    subtype: str,
) -> None:
    make_table("ids", {column: gen(N)})
    found = scan_columns(con, "ids")[column]
    assert (found.entity, found.subtype) == (entity, subtype)
    assert found.matched == N and found.non_empty == N
    assert found.confidence >= 0.9
    assert found.evidence["validated"][subtype]["valid"] > 0


@pytest.mark.parametrize(("column", "gen", "entity", "subtype"), VALID_IDS[:7])
def test_identifiers_are_found_without_a_header_hint(
    con: duckdb.DuckDBPyConnection,
    make_table: MakeTable,
    column: str,
    gen: Callable[[int], list[str]],
    entity: str,
    subtype: str,
) -> None:
    make_table("ids", {"col_a": gen(N)})
    found = scan_columns(con, "ids")["col_a"]
    assert (found.entity, found.subtype) == (entity, subtype)


def test_dni_shaped_values_failing_the_checksum_are_not_national_ids(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("bad", {"dni": synth.dni_invalid(N)})
    found = scan_columns(con, "bad")["dni"]
    assert found.entity is None
    assert "header_contradicted" in found.evidence


def test_random_digit_runs_shaped_like_ids_are_not_ids(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(5)
    make_table(
        "nums",
        {
            "ref11": [str(rng.randint(10**10, 10**11 - 1)) for _ in range(N)],
            "ref9": [str(rng.randint(10**8, 10**9 - 1)) for _ in range(N)],
            "ref16": [str(rng.randint(10**15, 10**16 - 1)) for _ in range(N)],
        },
    )
    cols = scan_columns(con, "nums")
    assert [cols[c].entity for c in ("ref11", "ref9", "ref16")] == [None, None, None]


def test_a_mostly_valid_column_reports_the_valid_share(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    values = synth.dni(150) + synth.dni_invalid(50)
    make_table("mix", {"dni": values})
    found = scan_columns(con, "mix")["dni"]
    assert found.entity == "NATIONAL_ID"
    assert 130 <= found.matched <= 170
    assert found.confidence < 0.99


def test_nif_header_reports_dni_numbers_as_tax_ids(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("t", {"nif": synth.dni(N)})
    found = scan_columns(con, "t")["nif"]
    assert (found.entity, found.subtype, found.category) == (
        "TAX_ID",
        "ES_NIF",
        "user.government_id",
    )


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("telefono", synth.es_phones(N)),
        ("tel_movil", synth.es_phones(N, seed=3)),
        ("telefon", synth.pl_phones(N)),
        ("κινητό", synth.gr_phones(N)),
        ("contact", [f"+34 {v}" for v in synth.es_phones(N)]),
    ],
)
def test_national_and_international_phone_formats(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, column: str, values: list[str]
) -> None:
    make_table("p", {column: values})
    found = scan_columns(con, "p")[column]
    assert found.entity == "PHONE_NUMBER"
    assert found.category == "user.contact.phone_number"
    assert found.matched >= 0.9 * N


def test_country_column_picks_the_phone_region(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("p", {"phone": synth.pl_phones(N), "country": ["PL"] * N})
    found = scan_columns(con, "p")["phone"]
    assert found.entity == "PHONE_NUMBER"
    assert "PL" in found.evidence["regions"]


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("nom_complet", synth.full_names("ca", N)),
        ("imie", synth.first_names("pl", N)),
        ("nazwisko", synth.last_names("pl", N)),
        ("ονοματεπώνυμο", synth.full_names("el", N)),
        ("επώνυμο", synth.last_names("el", N)),
        ("customer.name", synth.full_names("es", N)),
        ("Full Name", synth.full_names("en", N)),
        # no header hint at all: the name lists carry it
        ("titular_x", synth.full_names("es", N)),
        ("col7", synth.full_names("pl", N)),
        ("col8", synth.full_names("el", N)),
    ],
)
def test_person_names_without_ner(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable, column: str, values: list[str]
) -> None:
    make_table("people", {column: values})
    found = scan_columns(con, "people")[column]
    assert found.entity == "PERSON"
    assert found.category == "user.name"
    assert found.evidence["value_pattern"]["name_shape"] >= 0.9


def test_device_and_network_identifiers(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(3)
    make_table(
        "dev",
        {
            "client_ip": [f"192.0.2.{i % 250 + 1}" for i in range(N)],
            "ip6": [f"2001:db8::{i:x}" for i in range(N)],
            "mac": [":".join(f"{rng.randint(0, 255):02x}" for _ in range(6)) for _ in range(N)],
            "email": [f"user{i}@example.org" for i in range(N)],
            "location": [f"{41 + rng.random():.5f}, {2 + rng.random():.5f}" for _ in range(N)],
            "device_id": [f"{rng.getrandbits(128):032x}" for _ in range(N)],
        },
    )
    cols = scan_columns(con, "dev")
    assert cols["client_ip"].entity == "IP_ADDRESS"
    assert cols["ip6"].entity == "IP_ADDRESS"
    assert cols["mac"].entity == "MAC_ADDRESS"
    assert cols["email"].entity == "EMAIL_ADDRESS"
    assert cols["location"].entity == "GEOLOCATION"
    assert cols["device_id"].entity == "ONLINE_ID"


def test_lat_lon_columns_by_header(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    rng = random.Random(4)
    make_table(
        "geo",
        {"lat": [41 + rng.random() for _ in range(N)], "lng": [2 + rng.random() for _ in range(N)]},
        {"lat": "DOUBLE", "lng": "DOUBLE"},
    )
    cols = scan_columns(con, "geo")
    assert cols["lat"].entity == "GEOLOCATION"
    assert cols["lng"].entity == "GEOLOCATION"


def test_addresses_in_five_languages(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    streets = [
        "Calle Mayor {n}, 28013 Madrid",
        "C/ de Pelayo {n}, 08001 Barcelona",
        "Carrer de Mallorca {n}, 08013 Barcelona",
        "ul. Długa {n}, 00-238 Warszawa",
        "Οδός Ερμού {n}, 10563 Αθήνα",
        "{n} Baker Street, London",
        "12 rue de la Paix, 75002 Paris",
    ]
    make_table("addr", {"x": [streets[i % len(streets)].format(n=i % 90 + 1) for i in range(N)]})
    found = scan_columns(con, "addr")["x"]
    assert found.entity == "POSTAL_ADDRESS"
    assert found.matched >= 0.95 * N


def test_birth_dates_need_a_birth_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    dates = [f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}" for i in range(N)]
    make_table(
        "d",
        {"fecha_nacimiento": dates, "created_at": dates, "data_urodzenia": dates},
        {"created_at": "DATE", "data_urodzenia": "DATE"},
    )
    cols = scan_columns(con, "d")
    assert cols["fecha_nacimiento"].entity == "DATE_OF_BIRTH"
    assert cols["data_urodzenia"].entity == "DATE_OF_BIRTH"
    assert cols["created_at"].entity is None


def test_passport_needs_header_and_shape(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(6)
    values = [f"PA{rng.randint(1000000, 9999999)}" for _ in range(N)]
    make_table("pp", {"passport_no": values, "batch_code": values})
    cols = scan_columns(con, "pp")
    assert cols["passport_no"].entity == "PASSPORT"
    assert cols["batch_code"].entity is None


def test_business_columns_are_not_personal_data(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(7)
    make_table(
        "orders",
        {
            "sku": [f"SKU-{rng.randint(0, 999999):06d}" for _ in range(N)],
            "order_number": [str(100000 + i) for i in range(N)],
            "order_ref": [f"ORD-2024-{i:06d}" for i in range(N)],
            "amount": [round(rng.random() * 500, 2) for _ in range(N)],
            "quantity": [rng.randint(1, 9) for _ in range(N)],
            "event_id": [
                f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
                f"a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
                for _ in range(N)
            ],
            "created_at": [f"2024-03-{1 + i % 28:02d} 10:{i % 60:02d}:00" for i in range(N)],
            "status": [rng.choice(["paid", "shipped", "returned"]) for _ in range(N)],
            "tier": [rng.choice(["Gold", "Silver", "Bronze", "Platinum"]) for _ in range(N)],
            "category": [rng.choice(["Electronics", "Home Garden", "Toys"]) for _ in range(N)],
            "active": [bool(i % 2) for i in range(N)],
        },
        {
            "amount": "DECIMAL(10,2)",
            "quantity": "INTEGER",
            "created_at": "TIMESTAMP",
            "active": "BOOLEAN",
        },
    )
    cols = scan_columns(con, "orders")
    flagged = {c: f.entity for c, f in cols.items() if f.entity is not None}
    assert flagged == {}
    assert cols["active"].skipped == "boolean"
    assert cols["amount"].skipped is not None


def test_uuid_column_is_online_id_only_with_a_cookie_or_device_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(8)
    uuids = [
        f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
        f"8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
        for _ in range(N)
    ]
    make_table("u", {"event_uuid": uuids, "anonymous_id": uuids, "ga_cookie": uuids})
    cols = scan_columns(con, "u")
    assert cols["event_uuid"].entity is None
    assert cols["anonymous_id"].entity == "ONLINE_ID"
    assert cols["ga_cookie"].entity == "ONLINE_ID"


def test_quasi_identifiers(con: duckdb.DuckDBPyConnection, make_table: MakeTable) -> None:
    rng = random.Random(9)
    make_table(
        "q",
        {
            "codigo_postal": [f"{rng.randint(1000, 52999):05d}" for _ in range(N)],
            "kod_pocztowy": [
                f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}" for _ in range(N)
            ],
            "ciudad": [rng.choice(["Madrid", "Girona", "Kraków", "Αθήνα"]) for _ in range(N)],
            "gender": [rng.choice(["F", "M", "X"]) for _ in range(N)],
            "age_band": [rng.choice(["18-24", "25-34", "35-44", "65+"]) for _ in range(N)],
        },
    )
    cols = scan_columns(con, "q")
    for name in ("codigo_postal", "kod_pocztowy", "ciudad", "gender", "age_band"):
        assert cols[name].quasi_identifier, name
        assert cols[name].entity is None, name


def test_header_hint_alone_never_flags_contradicting_values(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table(
        "h",
        {
            "email": ["n/a", "none", "unknown", "-"] * 50,
            "telefono": ["Gold", "Silver", "Bronze", "Gold"] * 50,
            "nombre": ["12.50", "3.10", "0.99", "100.00"] * 50,
        },
    )
    cols = scan_columns(con, "h")
    assert [cols[c].entity for c in ("email", "telefono", "nombre")] == [None, None, None]


def test_every_column_appears_and_json_contract(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    make_table("crm", {"dni": synth.dni(N), "saldo": [str(i) for i in range(N)]})
    data = scan_table(con, "crm").to_dict()
    assert data["table"] == "crm" and data["rows"] == N
    assert [c["column"] for c in data["columns"]] == ["dni", "saldo"]
    dni, saldo = data["columns"]
    for key in (
        "entity",
        "subtype",
        "category",
        "confidence",
        "free_text",
        "quasi_identifier",
        "matched",
        "non_empty",
        "evidence",
    ):
        assert key in dni and key in saldo
    assert dni["category"] == "user.government_id"
    assert saldo["entity"] is None
    json.dumps(data)  # serialisable as is


def test_evidence_never_holds_raw_values(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    columns = {
        "dni": synth.dni(N),
        "email": [f"person{i}@example.org" for i in range(N)],
        "name": synth.full_names("es", N),
        "phone": synth.es_phones(N),
        "iban": synth.iban_es(N),
        "notes": [f"Llamar a la Sra. Puig al 612 345 {i:03d}" for i in range(N)],
    }
    make_table("pii", columns)
    data = scan_table(con, "pii").to_dict()
    text = json.dumps(data, ensure_ascii=False)
    for values in columns.values():
        for value in values:
            assert value not in text
    examples = [e for c in data["columns"] for e in c["evidence"].get("examples", [])]
    assert examples and all("*" in e for e in examples)


def test_one_column_of_mixed_national_forms_is_national_id(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    values = synth.dni(40) + synth.nie(30) + synth.pesel(30) + synth.amka(20) + ["n/a"] * 10
    make_table("crm", {"documento_identidad": values})
    found = scan_columns(con, "crm")["documento_identidad"]
    assert found.entity == "NATIONAL_ID"
    assert found.subtype == "ES_DNI"
    assert set(found.evidence["validated"]["mixed_forms"]) >= {"ES_DNI", "ES_NIE", "PL_PESEL"}
    assert 100 <= found.matched <= 125
