"""Names written over several columns (first_name, last_name): which columns are one name.

CRMs, newsletter tools and shop exports keep a person's given name and surname apart. Read
as two names, "Garcia" on Maria's row and on Pedro's is the same name, and a family
e-mail looks like one person's; read as one (`columns: [first_name, last_name]` in the
policy), "Maria Garcia" and "Pedro Garcia" are two people. The column headers say which
columns are parts: a given name's and a surname's, in the languages Tutela reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

_GIVEN = {
    "first", "firstname", "fname", "given", "givenname", "forename", "forenames", "christian",
    "vorname", "vornamen", "prenom", "prénom", "prenoms", "prénoms", "nome", "imie", "imię",
    "voornaam", "fornavn", "förnamn", "fornamn", "etunimi", "όνομα", "onoma", "nombre",
    "nombres", "primeiro", "prenume",
}  # fmt: skip
_MIDDLE = {"middle", "middlename", "mname"}
_FAMILY = {
    "last", "lastname", "lname", "surname", "surnames", "family", "familyname", "apellido",
    "apellidos", "apellido1", "apellido2", "cognom", "cognoms", "cognome", "nachname",
    "familienname", "nom", "nomdefamille", "sobrenome", "apelido", "apelidos", "nazwisko",
    "achternaam", "efternavn", "efternamn", "sukunimi", "επώνυμο", "eponymo", "maiden",
    "paterno", "materno", "apellidopaterno", "apellidomaterno", "primerapellido",
    "segundoapellido", "nume",
}  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[\W_]+")


def _words(header: str) -> list[str]:
    text = _CAMEL.sub("_", header).lower()
    return [w for w in _SPLIT.split(text) if w]


def _part(header: str) -> str | None:
    """'given', 'middle' or 'family' when the header names that part of a name."""
    words = _words(header)
    joined = "".join(words)
    pairs = {a + b for a, b in pairwise(words)}
    for part, names in (("middle", _MIDDLE), ("family", _FAMILY), ("given", _GIVEN)):
        if joined in names or pairs & names or any(w in names for w in words):
            return part
    return None


def name_parts(columns: Sequence[str]) -> list[str] | None:
    """Of a table's name columns, those that are the parts of one name, given name first
    (then middle names, then surnames, each in table order); None unless there is exactly
    one given-name column and at least one surname column. A buyer's and a recipient's
    full name are two names, not parts."""
    parts = {c: _part(c) for c in columns}
    given = [c for c in columns if parts[c] == "given"]
    middle = [c for c in columns if parts[c] == "middle"]
    family = [c for c in columns if parts[c] == "family"]
    if len(given) != 1 or not family:
        return None
    return [*given, *middle, *family]


def split_name_warnings(links: Sequence[tuple[str, str, str]]) -> list[str]:
    """For identity links (table, column, kind), one warning per table whose name links
    look like the parts of one name declared as separate names."""
    by_table: dict[str, list[str]] = {}
    for table, column, kind in links:
        if kind == "name":
            by_table.setdefault(table, []).append(column)
    out = []
    for table, columns in by_table.items():
        parts = name_parts(columns)
        if parts:
            out.append(
                f"{table}: {', '.join(parts)} are declared as separate names and read as the "
                "parts of one name (apart, two people sharing a surname would read as one); "
                f"say so: {{table: {table}, columns: [{', '.join(parts)}], kind: name}}"
            )
    return out
