"""Names written over several columns (first_name, last_name): which columns are one name.

CRMs, newsletter tools and shop exports keep a person's given name and surname apart. Read
as two names, "Garcia" on Maria's row and on Pedro's is the same name, and a family
e-mail looks like one person's; read as one (`columns: [first_name, last_name]` in the
policy), "Maria Garcia" and "Pedro Garcia" are two people. The column headers say which
columns are parts: a given name's and a surname's, in the languages Tutela reads, grouped
by what else the header says (a shop's billing and shipping names are two names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

_GIVEN = {
    "first", "firstname", "fname", "given", "givenname", "givennames", "forename",
    "forenames", "christian", "vorname", "vornamen", "prenom", "prénom", "prenoms",
    "prénoms", "nome", "imie", "imię", "voornaam", "fornavn", "förnamn", "fornamn",
    "etunimi", "όνομα", "onoma", "nombre", "nombres", "primeiro", "prenume", "keresztnev",
    "keresztnév", "jmeno", "jméno",
}  # fmt: skip
_MIDDLE = {"middle", "middlename", "mname", "segundonombre"}
_FAMILY = {
    "last", "lastname", "lname", "surname", "surnames", "family", "familyname", "apellido",
    "apellidos", "apellido1", "apellido2", "cognom", "cognoms", "cognom1", "cognom2",
    "cognome", "nachname", "familienname", "nomdefamille", "sobrenome", "apelido",
    "apelidos", "nazwisko", "achternaam", "efternavn", "efternamn", "sukunimi", "επώνυμο",
    "eponymo", "maiden", "paterno", "materno", "apellidopaterno", "apellidomaterno",
    "primerapellido", "segundoapellido", "nume", "famille", "vezeteknev", "vezetéknév", "prijmeni",
    "příjmení",
}  # fmt: skip
_NAME = {"name", "names", "nom", "noms", "nombre", "nome", "namen", "naam", "navn", "nimi"}
"""A header that says only "name": beside a given-name column and no surname column, the
surname (German Vorname/Name, French prénom/nom, Catalan nom/cognoms is the given name)."""
_NOT_A_PART = {
    "user", "username", "usuario", "utilisateur", "benutzer", "login", "account", "company",
    "empresa", "firma", "entreprise", "societe", "société", "business", "organisation",
    "organization", "org", "product", "file", "display", "screen", "nick", "nickname",
}  # fmt: skip
"""Words that make a header something else than a part of a person's name."""
_FILLER = {"de", "del", "la", "le", "y", "i", "e", "of", "the", "da", "do", "di", "du", "des",
           "von", "van", "der", "and", "und", "et"}  # fmt: skip
"""Words that do not tell two names apart ("nom de famille" beside "prénom")."""
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[\W_]+")


def _words(header: str) -> list[str]:
    text = _CAMEL.sub("_", header).lower()
    return [w for w in _SPLIT.split(text) if w]


def _found(words: list[str], names: set[str]) -> set[int]:
    """Indexes of the words (alone, or two run together: "first name") in `names`."""
    hits = {i for i, w in enumerate(words) if w in names}
    for i, (a, b) in enumerate(pairwise(words)):
        if a + b in names:
            hits |= {i, i + 1}
    return hits


def _read(header: str) -> tuple[str | None, tuple[str, ...]]:
    """What part of a name the header names ('given', 'middle', 'family', 'name' when it
    says only "name", None when no part or a whole name: "nombre_y_apellidos"), and the
    rest of its words, which group parts into one name ("billing" of Billing First Name)."""
    words = _words(header)
    if not words or set(words) & _NOT_A_PART or "".join(words) in _NOT_A_PART:
        return None, ()
    given, middle, family = (_found(words, s) for s in (_GIVEN, _MIDDLE, _FAMILY))
    bare = {i for i, w in enumerate(words) if w in _NAME} - given - middle - family
    kinds = [k for k, hit in (("given", given), ("middle", middle), ("family", family)) if hit]
    if len(kinds) > 1:
        return None, ()  # a whole name ("nombre y apellidos"), not a part
    part = kinds[0] if kinds else ("name" if bare else None)
    named = given | middle | family | bare
    rest = tuple(w for i, w in enumerate(words) if i not in named and w not in _FILLER)
    return part, rest


def name_groups(columns: Sequence[str]) -> list[list[str]]:
    """Of a table's name columns, the groups that are the parts of one name each, given
    name first (then middle names, then surnames, each in table order): one given-name
    column and at least one surname column with the same other words in their headers
    (Billing First Name with Billing Last Name). A header saying only "name" is the
    surname beside a given name with no other surname (Vorname/Name), and the given name
    beside a surname with no given name (Catalan nom/cognoms). A buyer's and a recipient's
    full names are two names, not parts."""
    groups: dict[tuple[str, ...], dict[str, list[str]]] = {}
    for column in columns:
        part, rest = _read(column)
        if part is not None:
            groups.setdefault(rest, {}).setdefault(part, []).append(column)
    out = []
    for parts in groups.values():
        given, family = parts.get("given", []), parts.get("family", [])
        bare = parts.get("name", [])
        if len(bare) == 1 and given and not family:
            family = bare
        elif len(bare) == 1 and family and not given:
            given = bare
        if len(given) == 1 and family:
            out.append([*given, *parts.get("middle", []), *family])
    return out


@dataclass(frozen=True)
class NameAdvice:
    """A name link a policy should write otherwise: `column` (of `table`) is a part of a
    name declared as a name of its own."""

    table: str
    column: str
    message: str
    fix: str


def name_advice(
    links: Sequence[tuple[str, str, str]], joined: Sequence[tuple[str, Sequence[str]]] = ()
) -> list[NameAdvice]:
    """For identity links (table, column, kind) and names declared over several columns
    (table, columns): the names whose parts are declared as separate names, and the name
    links reading a column that a declared name holds as one of its parts. The search
    reads both as the parts of one name (`policyview._joined_names`)."""
    by_table: dict[str, list[str]] = {}
    for table, column, kind in links:
        if kind == "name":
            by_table.setdefault(table, []).append(column)
    out = []
    for table, columns in by_table.items():
        for parts in name_groups(columns):
            out.append(
                NameAdvice(
                    table,
                    parts[0],
                    f"{table}: {', '.join(parts)} are declared as separate names; subject "
                    "searches read them as the parts of one name (apart, two people sharing "
                    "a surname would read as one)",
                    f"declare one identifier: {{table: {table}, columns: "
                    f"[{', '.join(parts)}], kind: name}}",
                )
            )
    for table, declared in joined:
        for column in by_table.get(table, []):
            if column in declared:
                out.append(
                    NameAdvice(
                        table,
                        column,
                        f"{table}: {column} is declared as a name of its own and as a part of "
                        f"the name [{', '.join(declared)}]; subject searches read it only as "
                        "the part (alone, two people sharing a surname would read as one)",
                        f"remove the identifier {{table: {table}, column: {column}, kind: name}}",
                    )
                )
    return out
