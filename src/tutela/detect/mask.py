"""Masked examples for evidence: enough to recognise the kind of value, never the value."""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+")


def _word(word: str) -> str:
    return word[0] + "***" if word else ""


def mask(value: str, entity: str | None) -> str:
    """`j***@e***.com`, `****1234`, `N*** P***`, `192.***.***.***`."""
    value = value.strip()[:200]
    masked = _mask(value, entity)
    # a value with nothing maskable in it (or a tiny one) is not echoed back
    return "****" if len(value) > 2 and value in masked else masked


def _mask(value: str, entity: str | None) -> str:
    if not value:
        return ""
    if entity == "EMAIL_ADDRESS" and "@" in value:
        local, _, domain = value.rpartition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{_word(local)}@{_word(domain)}" + (f".{tld}" if tld else "")
    if entity == "IP_ADDRESS":
        sep = ":" if ":" in value else "."
        head = value.split(sep, 1)[0]
        return head + sep + sep.join(["***"] * (3 if sep == "." else 2))
    if entity == "MAC_ADDRESS":
        return value[:8] + ":**:**:**"
    if entity == "GEOLOCATION":
        return re.sub(r"(\d+\.\d)\d*", r"\1**", value)
    if entity == "DATE_OF_BIRTH":
        return re.sub(r"\d", "*", value)
    if entity in ("PERSON", "POSTAL_ADDRESS", None):
        return " ".join(_word(w) for w in _WORD.findall(value)[:6])
    # identifiers, phones, cards, accounts, online ids: the last four characters only
    tail = re.sub(r"[^0-9A-Za-z]", "", value)[-4:]
    return "****" + tail if len(value) > 6 else "****"
