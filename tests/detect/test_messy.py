"""Messy real exports (issue #18): identifiers beyond the old list, meaningless headers,
placeholders, sparse personal data, analytics ids, and the false alarms to keep out."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from tutela.base.identifiers import SPEC_BY_CODE
from tutela.detect.freetext import analyzer

from . import synth
from .conftest import MakeTable, scan_columns

N = 120


def _valid(code: str, make, n: int = N, seed: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    spec = SPEC_BY_CODE[code]
    out: list[str] = []
    while len(out) < n:
        value = make(rng)
        if spec.validate(value):
            out.append(value)
    return out


def _d(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _date(rng: random.Random, fmt: str) -> str:
    import datetime as dt

    return (dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))).strftime(fmt)


def BE_NN(r: random.Random) -> str:
    body = _date(r, "%y%m%d") + _d(r, 3)
    return f"{body}{97 - int(body) % 97:02d}"


def PT_CC(r: random.Random) -> str:
    return f"{_d(r, 8)} {_d(r, 1)} Z{r.choice('ZYXW')}{_d(r, 1)}"


def DE_IDNR(r: random.Random) -> str:
    return r.choice("123456789") + _d(r, 10)


def PL_NRB(r: random.Random) -> str:
    from stdnum import iban

    bban = _d(r, 24)
    return str(iban.calc_check_digits("PL00" + bban)) + bban


def FI_HETU(r: random.Random) -> str:
    return _date(r, "%d%m%y") + "-" + _d(r, 3) + r.choice("0123456789ABCDEFHJKLMNPRSTUVWXY")


# -- 1. every EU/EEA/UK/CH identifier: columns and text -------------------------------------


@pytest.mark.parametrize(
    ("code", "make", "header", "entity"),
    [
        ("BE_NN", BE_NN, "rijksregisternummer", "NATIONAL_ID"),
        ("PT_CC", PT_CC, "cartao_cidadao", "NATIONAL_ID"),
        ("DE_IDNR", DE_IDNR, "steuer_id", "TAX_ID"),
        ("PL_NRB", PL_NRB, "nr_rachunku", "IBAN_CODE"),
        ("FI_HETU", FI_HETU, "c4", "NATIONAL_ID"),
    ],
)
def test_identifiers_beyond_the_old_list(
    con: duckdb.DuckDBPyConnection,
    make_table: MakeTable,
    code: str,
    make,
    header: str,
    entity: str,  # type: ignore[no-untyped-def]
) -> None:
    make_table("ids", {header: _valid(code, make)})
    found = scan_columns(con, "ids")[header]
    assert (found.entity, found.subtype) == (entity, code)


def test_greek_id_card_needs_its_header_and_is_less_certain(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(3)
    values = [f"{rng.choice('ΑΒΕΖΗΙΚ')}{rng.choice('ΑΒΕΖΗΙΚ')} {_d(rng, 6)}" for _ in range(N)]
    make_table("gr", {"αριθμός_ταυτότητας": values, "κωδικός": values})
    cols = scan_columns(con, "gr")
    card = cols["αριθμός_ταυτότητας"]
    assert (card.entity, card.subtype) == ("NATIONAL_ID", "GR_ID_CARD")
    assert card.confidence < 0.9  # a format, no checksum
    assert cols["κωδικός"].entity is None  # the same shape without the header: nothing


def test_header_naming_an_unknown_identifier_gives_a_low_confidence_finding(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(4)
    values = [f"{_d(rng, 2)}{rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}{_d(rng, 5)}"
              for _ in range(N)]  # fmt: skip
    make_table("t", {"id_card_number": values, "dni": synth.dni_invalid(N)})
    cols = scan_columns(con, "t")
    unknown = cols["id_card_number"]
    assert unknown.entity == "NATIONAL_ID" and unknown.confidence <= 0.6
    assert "unvalidated_identifier" in unknown.evidence
    # a header naming a type whose checksum the values fail stays silent
    assert cols["dni"].entity is None


def test_company_numbers_are_recognised_as_not_personal(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    values = ["A58818501", "B65410011", "B12345674", "A08000143"] * 30
    make_table("t", {"cif": values})
    found = scan_columns(con, "t")["cif"]
    assert found.entity is None
    assert found.evidence["identifier"] == {"subtype": "ES_CIF", "personal": False}


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Rijksregisternummer 85.07.30-033.28 van de klant.", "NATIONAL_ID"),
        ("Steuer-ID des Kunden: 36 574 261 809.", "TAX_ID"),
        ("AHV-Nummer 756.9217.0769.85 bitte prüfen.", "NATIONAL_ID"),
        ("Przelew na rachunek 61 1090 1014 0000 0712 1981 2874.", "IBAN_CODE"),
    ],
)
def test_new_identifiers_in_free_text(text: str, entity: str) -> None:
    lang = "de" if "Steuer" in text or "AHV" in text else "nl" if "klant" in text else "pl"
    found = {r.entity_type for r in analyzer().analyze(text=text, language=lang)}
    assert entity in found


# -- 2. meaningless headers: values alone ---------------------------------------------------


def test_birth_dates_by_age_and_event_dates_without_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(5)
    births = [_date(rng, "%d.%m.%Y") for _ in range(N)]
    events = [f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2019, 2025)}"
              for _ in range(N)]  # fmt: skip
    make_table("t", {"c3": births, "c4": events})
    cols = scan_columns(con, "t")
    assert cols["c3"].entity == "DATE_OF_BIRTH"
    assert cols["c4"].entity is None


def test_mobiles_stored_as_bigint_without_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(6)
    mobiles = [int(("34" + rng.choice(["6", "71", "72"]) + _d(rng, 8))[:11]) for _ in range(N)]
    order_ids = [600000000 + i for i in range(N)]  # consecutive, inside a mobile range
    make_table("t", {"c9": mobiles, "c10": order_ids}, {"c9": "BIGINT", "c10": "BIGINT"})
    cols = scan_columns(con, "t")
    assert cols["c9"].entity == "PHONE_NUMBER"
    assert cols["c10"].entity is None


def test_greek_addresses_in_capitals_without_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(7)
    streets = ["ΟΔΟΣ ΕΡΜΟΥ", "ΛΕΩΦΟΡΟΣ ΑΛΕΞΑΝΔΡΑΣ", "ΠΛΑΤΕΙΑ ΣΥΝΤΑΓΜΑΤΟΣ", "ΟΔΟΣ ΣΤΑΔΙΟΥ"]
    make_table("t", {"c2": [f"{rng.choice(streets)} {rng.randint(1, 200)}" for _ in range(N)]})
    assert scan_columns(con, "t")["c2"].entity == "POSTAL_ADDRESS"


# -- 3. placeholders count as missing -------------------------------------------------------


def test_placeholders_do_not_dilute_real_values(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(8)
    emails = [
        f"user{i}@mail.example" if rng.random() < 0.2 else rng.choice(["NULL", "-", "n/a", "N/A"])
        for i in range(300)
    ]
    make_table("t", {"contact": emails})
    found = scan_columns(con, "t")["contact"]
    assert found.entity == "EMAIL_ADDRESS" and not found.free_text
    assert found.evidence["placeholders"] == 300 - found.non_empty
    assert found.matched == found.non_empty


def test_placeholder_emails_and_client_numbers(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(9)
    names = ["Ana Puig", "Jordi Vila", "Marta Soler", "Pau Serra", "Laia Roca", "Nil Pons"]
    make_table(
        "t",
        {
            "backup_email": [
                rng.choice(["x@x.pt", "naotem@naotem.pt", "a@a.com"]) for _ in range(60)
            ],
            "customer.name": [
                rng.choice(names) if i % 3 == 0 else f"Client {i}" for i in range(60)
            ],
        },
    )
    cols = scan_columns(con, "t")
    assert cols["backup_email"].entity is None
    assert cols["customer.name"].entity == "PERSON"


# -- 4. sparse personal data ----------------------------------------------------------------


def test_ticket_subjects_with_a_few_emails_are_free_text_with_mentions(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(10)
    subjects = [
        rng.choice(["Pedido no recibido", "Talla incorrecta", "Duda con la factura"])
        + (f" - cliente{i}@correo.example" if i % 12 == 0 else "")
        for i in range(240)
    ]
    make_table("t", {"subject": subjects})
    found = scan_columns(con, "t")["subject"]
    assert found.entity == "EMAIL_ADDRESS" and found.free_text
    assert 0.05 <= found.matched / found.non_empty <= 0.12


def test_support_agent_names_are_people_product_names_are_not(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(11)
    agents = ["Laura Gómez", "Piotr Nowak", "Sophie Martin", "Marco Rossi"]
    make_table(
        "tickets",
        {"agent": [rng.choice(agents) for _ in range(200)],
         "c5": [rng.choice(agents) for _ in range(200)]},
    )  # fmt: skip
    make_table(
        "products",
        {
            "model": [rng.choice(["Victoria", "Mercedes", "Carmen"]) for _ in range(200)],
            "c2": [rng.choice(["Victoria", "Mercedes", "Carmen"]) for _ in range(200)],
            "sku": [f"SKU-{i:05d}" for i in range(200)],
        },
    )
    tickets = scan_columns(con, "tickets")
    assert tickets["agent"].entity == "PERSON"
    assert tickets["c5"].entity == "PERSON"
    products = scan_columns(con, "products")
    assert products["model"].entity is None
    assert products["c2"].entity is None


def test_reviews_quoting_order_numbers_are_not_phones(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(12)
    reviews = [
        f"Muy buena calidad, el pedido {rng.randint(10**8, 10**9 - 1)} llegó a tiempo"
        for _ in range(N)
    ]
    make_table("t", {"review": reviews})
    assert scan_columns(con, "t")["review"].entity is None


# -- 5. analytics identifiers, mixed IP versions --------------------------------------------


def test_analytics_cookies_without_a_cookie_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(13)
    make_table(
        "t",
        {
            "tracking": [f"_ga=GA1.2.{rng.randint(10**8, 10**10)}."
                         f"{rng.randint(16 * 10**8, 17 * 10**8)}" for _ in range(N)],
            "extra": [f"fb.1.{rng.randint(16 * 10**11, 17 * 10**11)}.{rng.randint(10**8, 10**10)}"
                      for _ in range(N)],
        },
    )  # fmt: skip
    cols = scan_columns(con, "t")
    assert (cols["tracking"].entity, cols["tracking"].subtype) == ("ONLINE_ID", "GA_CLIENT_ID")
    assert (cols["extra"].entity, cols["extra"].subtype) == ("ONLINE_ID", "FB_BROWSER_ID")


def test_mixed_ip_versions_are_ip_address_not_ipv4(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    rng = random.Random(14)
    ips = [
        f"2001:db8:{rng.randint(0, 9999):x}::{rng.randint(1, 9999):x}"
        if i % 3 == 0
        else f"83.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for i in range(N)
    ]
    make_table("t", {"ip": ips})
    found = scan_columns(con, "t")["ip"]
    assert found.entity == "IP_ADDRESS" and found.subtype is None


# -- 6. free text: names after greetings and verbs, in capitals, inflected ----------------


@pytest.mark.parametrize(
    ("text", "lang", "name"),
    [
        ("I spoke with Kayla Frey about the refund.", "en", "Kayla Frey"),
        ("Hola Marta, te escribo por el pedido.", "es", "Marta"),
        ("Rozmawiałem z Janem Kowalskim wczoraj.", "pl", "Janem Kowalskim"),
        ("Ο πελάτης ΓΙΩΡΓΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ ζήτησε επιστροφή.", "el", "ΓΙΩΡΓΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ"),
        ("Μίλησα με τον κύριο Γιώργου Παπαδόπουλου χθες.", "el", "Γιώργου Παπαδόπουλου"),
        ("Laut Klaus Becker kam das Paket nie an.", "de", "Klaus Becker"),
    ],
)
def test_more_names_in_free_text(text: str, lang: str, name: str) -> None:
    spans = [text[r.start : r.end] for r in analyzer().analyze(text=text, language=lang)
             if r.entity_type == "PERSON"]  # fmt: skip
    assert any(name in s or s in name for s in spans), spans


@pytest.mark.parametrize(
    "text",
    ["Dear Customer, thank you for your order.", "Hola Equipo, gracias por todo.",
     "The IBAN and the DNI were checked by SUPPORT TEAM."],
)  # fmt: skip
def test_greetings_to_nobody_are_not_names(text: str) -> None:
    assert not [
        r for r in analyzer().analyze(text=text, language="en") if r.entity_type == "PERSON"
    ]


# -- 7. a user's NER model (--ner-model PATH), never downloaded ------------------------------


def test_ner_model_path_is_used_and_absence_is_a_clear_error(
    cli,
    ws_path,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Zyxq Wopl"}])  # type: ignore[attr-defined]
    model = tmp_path / "tiny_ner"
    nlp.to_disk(model)
    from tutela.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        ws.con.execute(
            "CREATE TABLE t AS SELECT 'please call back zyxq about the parcel, it was late ' || i "
            "|| ' days; Zyxq Wopl will wait at home' AS notes FROM range(40) t(i)"
        )
    plain = cli("scan", "--format", "json")
    assert json.loads(plain.stdout)["tables"][0]["columns"][0]["entity"] is None
    with_model = cli("scan", "--ner-model", str(model), "--format", "json")
    assert with_model.exit_code == 0, with_model.stderr
    notes = json.loads(with_model.stdout)["tables"][0]["columns"][0]
    assert notes["entity"] == "PERSON" and notes["free_text"]
    missing = cli("scan", "--ner-model", str(tmp_path / "nope"))
    assert missing.exit_code == 3 and "error[config]: --ner-model" in missing.stderr


def test_surnames_beside_names_without_header(
    con: duckdb.DuckDBPyConnection, make_table: MakeTable
) -> None:
    from tutela.detect.patterns import name_list

    rng = random.Random(15)
    listed = [n.capitalize() for n in name_list() if n.isalpha() and len(n) > 3]
    syll = ["kar", "vel", "dru", "mon", "tes", "qua", "bri", "zol", "fen", "gar", "lup", "nor"]
    made_up = ["".join(rng.choice(syll) for _ in range(3)).capitalize() for _ in range(200)]
    surnames = [rng.choice(listed) if rng.random() < 0.2 else m for m in made_up]
    places = [f"{rng.choice(['Port', 'North', 'Lake', 'San'])} {m}" for m in made_up]
    make_table(
        "t",
        {"c1": [rng.choice(listed) for _ in range(200)], "c2": surnames, "c3": places},
    )
    cols = scan_columns(con, "t")
    assert cols["c1"].entity == "PERSON"
    assert cols["c2"].entity == "PERSON" and "beside_names" in cols["c2"].evidence
    assert cols["c3"].entity is None
