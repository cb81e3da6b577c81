"""Text normalisation shared by detection and policies: folding, compacted identifiers."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_COMPACT = re.compile(r"[\s.\-/]")


def fold(text: str) -> str:
    """Lower-case and strip accents; the same folding the name lists and header words use."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("ς", "σ").replace("ł", "l").replace("ß", "ss")


def compact(value: str) -> str:
    """Upper-case without spaces, dots, dashes or slashes: the form identifiers are checked in."""
    return _COMPACT.sub("", value).upper()


@cache
def accent_table() -> dict[int, int]:
    """Each character of the Basic Multilingual Plane whose canonical decomposition is a
    letter or digit followed by combining marks only (é, ǖ, ガ), to that letter or digit;
    and the final sigma to sigma (engines lower-case a final Σ differently). Built when
    first used (reading 65,000 characters costs ~13 ms, on every command's start-up before)."""
    table = {ord("ς"): ord("σ")}
    for code in range(0x80, 0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        parts = unicodedata.normalize("NFD", chr(code))
        marks = parts[1:]
        if marks and parts[0].isalnum() and all(unicodedata.combining(c) for c in marks):
            table[code] = ord(parts[0])
    return table


def accents() -> tuple[str, str]:
    """(characters, what they fold to) for an engine's `translate()`: with lower-case before
    and all but letters and digits dropped after, the folding of `letters_and_digits`."""
    table = accent_table()
    return "".join(chr(k) for k in table), "".join(chr(v) for v in table.values())


def letters_and_digits(text: str) -> str:
    """Lower-case, accents stripped (a letter with combining marks is the letter: what
    DuckDB's `strip_accents` does), and only letters and digits kept (Unicode categories L
    and N). If one text holds another, the folded one holds the folded other: the test a
    lake's rows are picked by before a subject search (`subjects/narrow.py`). Spark folds
    its values with the same steps (`lower`, `translate` with `accents()`, `[^\\p{L}\\p{N}]`
    removed), so both sides fold alike (Hangul syllables stay syllables)."""
    text = text.lower().translate(accent_table())
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")
