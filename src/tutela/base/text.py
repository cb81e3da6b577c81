"""Text normalisation shared by detection and policies: folding, compacted identifiers."""

from __future__ import annotations

import re
import unicodedata

_COMPACT = re.compile(r"[\s.\-/]")


def fold(text: str) -> str:
    """Lower-case and strip accents; the same folding the name lists and header words use."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("ς", "σ").replace("ł", "l").replace("ß", "ss")


def compact(value: str) -> str:
    """Upper-case without spaces, dots, dashes or slashes: the form identifiers are checked in."""
    return _COMPACT.sub("", value).upper()


def letters_and_digits(text: str) -> str:
    """Lower-case, accents stripped (canonical decomposition, marks dropped: what DuckDB's
    `strip_accents` does), and only letters and digits kept. If one text holds another,
    the folded one holds the folded other: the test a lake's rows are picked by before a
    subject search (`subjects/narrow.py`; Spark folds its values with `ACCENTS`)."""
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def _accent_table() -> tuple[str, str]:
    accented, base = [], []
    for code in range(0x80, 0x3000):
        char = chr(code)
        parts = unicodedata.normalize("NFD", char)
        if (
            len(parts) > 1
            and parts[0].isalnum()
            and all(unicodedata.combining(c) for c in parts[1:])
        ):
            accented.append(char)
            base.append(parts[0])
    return "".join(accented), "".join(base)


ACCENTS: tuple[str, str] = _accent_table()
"""(accented letters, their base letters) of the Basic Multilingual Plane up to U+2FFF, for
an engine's `translate()`: with lower-case and all but letters and digits dropped, the same
folding as `letters_and_digits`."""
