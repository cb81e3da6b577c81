"""Format-preserving pseudonyms: e-mail-, phone-, IBAN- and card-shaped tokens.

Each is a deterministic function of the value's HMAC (so the same person gets the same
pseudonym everywhere) and keeps only what the format needs: an IBAN keeps its country
and gets valid mod-97 check digits, a card keeps its first digit (the network) and gets a
valid Luhn digit, a phone keeps its layout, international prefix, country code and first
national digit. Values that do not have the shape get the plain `tok_` token instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import cache

from tutela.protect.sqlhmac import token

EMAIL_DOMAIN = "pseudo.invalid"  # RFC 2606: can never be a real mailbox
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}")


def _hex_stream(hex_digest: str) -> Iterator[int]:
    """An endless stream of nibbles drawn from the HMAC (extended by re-hashing)."""
    block = hex_digest
    while True:
        for ch in block:
            yield int(ch, 16)
        block = hashlib.sha256(block.encode("ascii")).hexdigest()


def _digits(hex_digest: str) -> Iterator[str]:
    for nibble in _hex_stream(hex_digest):
        if nibble < 10:  # rejection sampling: uniform digits
            yield str(nibble)


def _letters(hex_digest: str) -> Iterator[str]:
    stream = _hex_stream(hex_digest)
    while True:
        value = next(stream) * 16 + next(stream)
        if value < 234:  # 9 * 26: uniform letters
            yield chr(ord("A") + value % 26)


def email_token(hex_digest: str) -> str:
    return f"{token(hex_digest)}@{EMAIL_DOMAIN}"


# -- checksums (also used by the tests) ------------------------------------------------


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return len(digits) > 1 and luhn_check_digit(digits[:-1]) == digits[-1]


def _iban_number(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def iban_valid(iban: str) -> bool:
    compact = re.sub(r"\s", "", iban).upper()
    if not _IBAN.fullmatch(compact):
        return False
    return _iban_number(compact[4:] + compact[:4]) % 97 == 1


# -- shaped tokens ---------------------------------------------------------------------


def iban_token(raw: str, hex_digest: str) -> str:
    compact = re.sub(r"[\s\-.]", "", raw).upper()
    if not _IBAN.fullmatch(compact):
        return token(hex_digest)
    country, bban = compact[:2], compact[4:]
    digits, letters = _digits(hex_digest), _letters(hex_digest)
    new = "".join(next(digits) if ch.isdigit() else next(letters) for ch in bban)
    check = 98 - _iban_number(new + country + "00") % 97
    return f"{country}{check:02d}{new}"


def card_token(raw: str, hex_digest: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if not 12 <= len(digits) <= 19 or re.search(r"[^\d\s\-]", raw.strip()):
        return token(hex_digest)
    stream = _digits(hex_digest)
    body = digits[0] + "".join(next(stream) for _ in range(len(digits) - 2))
    new = body + luhn_check_digit(body)
    return _relayout(raw.strip(), new)


@cache
def _country_codes() -> tuple[str, ...]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # ~12 ms: only for phone tokens

    return tuple(sorted((str(c) for c in COUNTRY_CODE_TO_REGION_CODE), key=len, reverse=True))


def phone_token(raw: str, hex_digest: str) -> str:
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 17 or re.search(r"[^\d\s\-.()+/]", text):
        return token(hex_digest)
    keep = 1  # the first national digit (mobile / geographic / trunk prefix)
    intl = text.startswith("+") or text.startswith("00")
    if intl:
        rest = digits[2:] if text.startswith("00") else digits
        cc = next((c for c in _country_codes() if rest.startswith(c)), "")
        keep = len(digits) - len(rest) + len(cc) + 1
    keep = min(keep, len(digits) - 4)
    stream = _digits(hex_digest)
    new = digits[:keep] + "".join(next(stream) for _ in range(len(digits) - keep))
    return _relayout(text, new)


def _relayout(template: str, digits: str) -> str:
    """`template` with its digits replaced, in order, by `digits` (separators kept)."""
    it = iter(digits)
    return "".join(next(it) if ch.isdigit() else ch for ch in template)
