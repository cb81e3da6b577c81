"""Placeholder values that stand for "no data" (`NULL`, `-`, `n/a`, `x@x.pt`, `Client 23`).

Exports fill empty fields with such strings; counted as values they dilute a column of
real e-mails or names below any threshold, and a column holding nothing else would look
like personal data. They are treated as missing: the same rule in Python (on the sample)
and in SQL (over every row), so shares are computed over real values only.
"""

from __future__ import annotations

import re

from tutela.base.normalize import NO_DATA_WORDS
from tutela.base.sql import sql_literal

WORDS = NO_DATA_WORDS  # lower-cased, trimmed (shared with the subject search)
# Local parts of e-mail addresses that say "no e-mail" (`sinmail@`, `naotem@naotem.pt`).
EMAIL_LOCALS: frozenset[str] = frozenset(
    (
        "x", "xx", "xxx", "xxxx", "no", "none", "null", "nil", "na", "n.a",
        "noemail", "no-email", "no.email", "noreply", "nomail", "no-mail", "sinmail",
        "sin-mail", "sincorreo", "sinemail", "semmail", "sememail", "semcorreio", "naotem",
        "nao.tem", "brak", "brakmaila", "nie.ma", "keinemail", "keine.email", "pasdemail",
        "pas.de.mail", "aucun", "nessuna", "geen", "geenmail", "test", "teste", "prueba",
        "email", "mail", "correo", "unknown", "desconocido", "fake", "dummy", "sample",
    )
)  # fmt: skip
# Generic labels numbered by the export (`Client 23`, `Cliente #7`, `Usuario 12`).
_NUMBERED = (
    r"(?:client|customer|cliente|clienta|klient|klientka|πελάτης|πελατης|user|usuario|usuari"
    r"|użytkownik|uzytkownik|χρήστης|guest|invitado|test|prueba|anonymous|anonimo|anónimo"
    r"|anonim|kunde|utente|utilizador|gebruiker|klant|contact|contacto)"
)
NUMBERED_RX = re.compile(rf"^{_NUMBERED}\s*(?:#|n[ºo°.]?\s*)?[0-9]+$")
_NUMBERED_SQL = rf"^{_NUMBERED}\s*(?:#|n[ºo°.]?\s*)?[0-9]+$"


def is_placeholder(value: str) -> bool:
    """Whether a trimmed, non-empty value stands for missing data."""
    low = value.strip().lower()
    if low in WORDS:
        return True
    if len(low) >= 3 and low == low[0] * len(low):
        return True  # `xxxxx`, `-----`, `999999999`
    if "@" in low:
        local, _, domain = low.partition("@")
        label = domain.split(".", 1)[0]
        return local in EMAIL_LOCALS or (local != "" and local == label)
    return NUMBERED_RX.match(low) is not None


def missing_sql(v: str) -> str:
    """SQL condition over the trimmed value expression `v`: the value is a placeholder."""
    words = ", ".join(sql_literal(w) for w in sorted(WORDS))
    locals_ = ", ".join(sql_literal(w) for w in sorted(EMAIL_LOCALS))
    low = f"lower({v})"
    return (
        f"({low} IN ({words})"
        f" OR (length({v}) >= 3 AND replace({low}, left({low}, 1), '') = '')"
        f" OR (contains({v}, '@') AND (split_part({low}, '@', 1) IN ({locals_})"
        f" OR split_part({low}, '@', 1) = split_part(split_part({low}, '@', 2), '.', 1)))"
        f" OR regexp_full_match({low}, {sql_literal(_NUMBERED_SQL)}))"
    )
