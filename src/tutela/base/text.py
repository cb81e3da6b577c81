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
