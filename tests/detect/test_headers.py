"""Column-name hints: multilingual, normalised for case, accents, separators and paths."""

from __future__ import annotations

import pytest

from tutela.detect.headers import header_hints, tokens


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("nom_complet", "PERSON"),
        ("correu_electronic", "EMAIL_ADDRESS"),
        ("imie", "PERSON"),
        ("Imię", "PERSON"),
        ("nazwisko", "PERSON"),
        ("ονοματεπώνυμο", "PERSON"),
        ("ΟΝΟΜΑΤΕΠΩΝΥΜΟ", "PERSON"),
        ("κινητό", "PHONE_NUMBER"),
        ("ΑΦΜ", "TAX_ID"),
        ("fecha_nacimiento", "DATE_OF_BIRTH"),
        ("FechaNacimiento", "DATE_OF_BIRTH"),
        ("Ημερομηνία Γέννησης", "DATE_OF_BIRTH"),
        ("data_urodzenia", "DATE_OF_BIRTH"),
        ("tel_movil", "PHONE_NUMBER"),
        ("Teléfono", "PHONE_NUMBER"),
        ("customer.name", "PERSON"),
        ("customer.contact.email", "EMAIL_ADDRESS"),
        ("customerFullName", "PERSON"),
        ("E-Mail Address", "EMAIL_ADDRESS"),
        ("ip_address", "IP_ADDRESS"),
        ("mac_address", "MAC_ADDRESS"),
        ("cookie_id", "ONLINE_ID"),
        ("idfa", "ONLINE_ID"),
        ("pesel", "NATIONAL_ID"),
        ("ΑΜΚΑ", "NATIONAL_ID"),
        ("nip", "TAX_ID"),
        ("numer_konta", "IBAN_CODE"),
        ("codigo_postal", "POSTCODE"),
        ("Τ.Κ.", "POSTCODE"),
        ("adreça", "POSTAL_ADDRESS"),
        ("ulica", "POSTAL_ADDRESS"),
        ("numero_pasaporte", "PASSPORT"),
        ("uwagi", "FREE_TEXT"),
        ("σχόλια", "FREE_TEXT"),
    ],
)
def test_header_variants_name_the_right_kind(column: str, kind: str) -> None:
    hints = header_hints(column)
    assert hints, f"no hint for {column!r}"
    assert hints[0].kind == kind


@pytest.mark.parametrize("column", ["product_name", "company_name", "nombre_producto"])
def test_names_of_things_are_not_person_hints(column: str) -> None:
    assert all(h.kind != "PERSON" for h in header_hints(column))


def test_longer_keyword_wins_over_the_word_it_contains() -> None:
    kinds = [h.kind for h in header_hints("ip_address")]
    assert "POSTAL_ADDRESS" not in kinds
    kinds = [h.kind for h in header_hints("email_address")]
    assert "POSTAL_ADDRESS" not in kinds


def test_tokens_fold_case_accents_separators_and_camel_case() -> None:
    assert tokens("Correu_Electrònic") == ["correu", "electronic"]
    assert tokens("fechaNacimiento") == ["fecha", "nacimiento"]
    assert tokens("address_line1") == ["address", "line"]
    assert tokens("ΟΝΟΜΑΤΕΠΏΝΥΜΟ") == ["ονοματεπωνυμο"]


def test_unrelated_headers_give_no_hint() -> None:
    assert header_hints("saldo") == []
    assert header_hints("created_at") == []
