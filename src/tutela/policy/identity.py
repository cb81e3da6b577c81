"""Identifier normalisation, so one person is found across systems that store keys differently."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from tutela.policy.models import IdentityLink, Normalization

_COMPACT = re.compile(r"[\s.\-/_]")
_SPACES = re.compile(r"\s+")


def normalize_value(
    link: IdentityLink | Normalization,
    value: object,
    *,
    region: str | None = None,
    strip_prefix: str | None = None,
) -> str | None:
    """The comparable form of one identifier value, or None when it is empty or unusable.

    `region` overrides the link's default phone region (pass the row's `region_column`
    value). Phone numbers that cannot be parsed as valid numbers give None.
    """
    if isinstance(link, IdentityLink):
        method = link.method
        region = region or link.region
        strip_prefix = strip_prefix or link.strip_prefix
    else:
        method = link
    if value is None:
        return None
    text = str(value).strip()
    if strip_prefix and text.startswith(strip_prefix):
        text = text[len(strip_prefix) :].strip()
    if not text:
        return None
    if method is Normalization.none:
        return str(value)
    if method is Normalization.trim:
        return text
    if method is Normalization.email:
        return text.lower()
    if method is Normalization.compact:
        return _COMPACT.sub("", text).upper()
    if method is Normalization.name:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return _SPACES.sub(" ", plain).strip()
    return _e164(text, region)


def _e164(text: str, region: str | None) -> str | None:
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else (region or "ZZ"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
