"""Masked examples keep the shape of a value, never the value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tutela.detect.mask import mask


def test_mask_forms() -> None:
    assert mask("jane.doe@example.com", "EMAIL_ADDRESS") == "j***@e***.com"
    assert mask("4111 1111 1111 1234", "CREDIT_CARD") == "****1234"
    assert mask("Núria Puig", "PERSON") == "N*** P***"
    assert mask("192.0.2.10", "IP_ADDRESS") == "192.***.***.***"


ENTITIES = st.sampled_from(
    [
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "PERSON",
        "NATIONAL_ID",
        "IBAN_CODE",
        "POSTAL_ADDRESS",
        "DATE_OF_BIRTH",
        "GEOLOCATION",
        "MAC_ADDRESS",
        "ONLINE_ID",
        None,
    ]
)


@given(st.text(min_size=8, max_size=60).filter(lambda s: len(s.strip()) >= 8), ENTITIES)
def test_mask_never_returns_the_value(value: str, entity: str | None) -> None:
    masked = mask(value, entity)
    assert value.strip() not in masked
