"""The name-list check of sampled values in Python (`patterns.has_listed_name`, which decides
whether a column's name-list hits are counted) says what the name-list regex DuckDB counts
with says, however the names are accented, cased and separated."""

from __future__ import annotations

from functools import cache

import duckdb
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutela.detect.patterns import _ACCENTED, has_listed_name, name_list, names_regex

NAMES = [n for n in name_list() if n.isalpha()][::7]
ACCENTED = [c for forms in _ACCENTED.values() for c in forms]
PIECES = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(NAMES).map(str.upper),
    st.sampled_from(NAMES).map(lambda n: n[:-1]),  # almost a name
    st.sampled_from([*ACCENTED, *"xqÆßİ", " ", ",", "'", "-", ".", "\t", "\u00a0", "\u2009"]),
)


@cache
def _regex() -> regex.Pattern[str]:
    return regex.compile(names_regex())


def _fold_accents(text: str, data: st.DataObject) -> str:
    """Some letters of `text` replaced by another form of their class (ä for a)."""
    out = []
    for ch in text:
        forms = _ACCENTED.get(ch.lower())
        out.append(data.draw(st.sampled_from(forms)) if forms and data.draw(st.booleans()) else ch)
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(PIECES, max_size=6), data=st.data())
@example(pieces=["maria", " ", "garcia"], data=None)
@example(pieces=["o", "'", "maria", "-x"], data=None)
def test_python_check_says_what_the_regex_says(
    pieces: list[str], data: st.DataObject | None
) -> None:
    value = "".join(pieces)
    if data is not None:
        value = _fold_accents(value, data)
    expected = _regex().search(value.lower()) is not None
    assert has_listed_name(value) == expected, value


def test_duckdb_counts_the_same_values() -> None:
    """The SQL side of the same shape, on values the Python check accepts and refuses."""
    values = ["Mária Gárcia", "x maria", "mariax", "Jean-Ánna", "zzz", "anna,", "'anna'"]
    con = duckdb.connect()
    got = con.execute(
        "SELECT list_transform(?::VARCHAR[], lambda v: regexp_matches(lower(v), ?))",
        [values, names_regex()],
    ).fetchone()[0]  # type: ignore[index]
    assert got == [has_listed_name(v) for v in values]
