"""Identifier normalisation as DuckDB SQL expressions, so the same rule runs over whole columns
and over the identifiers a requester gives: `Anna@X.com` and `anna@x.com` meet, and so do
`+34 612 345 678`, `0034612345678` and `612345678`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

KEY_RULES = "2026.13"
"""The version of the rules below that change keys (and so keyed tokens): 2026.12, e-mail
addresses inside display names and mailto: links, phone numbers without their extension;
2026.13, phone numbers exported as floats ("612345678.0") without the ".0", e-mail
addresses without zero-width characters, quotes around them or a full stop after them, and
without the query of a `<mailto:...?subject=...>` link.
Recorded with pseudonymized columns, so a search can say which tokens are older."""

# Identifier kinds whose values, found on a row that certainly belongs to the person, are
# searched for in turn (transitively). Names never are (namesakes); IP addresses neither
# (NAT); a value shared between people never is either (see identity.py).
EXPANDING = {
    "customer_id",
    "account_id",
    "email",
    "phone",
    "national_id",
    "tax_id",
    "iban",
    "cookie_id",
    "device_id",
}
# Kinds whose value stands for one person by construction: a row's identity is read from
# these first. A link can say otherwise (`unique: false`, or `unique: true` for another kind).
ANCHOR_KINDS = ("customer_id", "account_id", "national_id", "tax_id")
# Attributes that only corroborate (or contradict) a possible match found by name.
CORROBORATING = ("birth_date", "postcode", "city")
MIN_KEY_LENGTH = {
    "phone": 7,
    "email": 6,
    "national_id": 5,
    "tax_id": 5,
    "iban": 10,
    "customer_id": 2,
    "account_id": 2,
    "cookie_id": 8,
    "device_id": 8,
    "ip_address": 7,
}
DEFAULT_MIN_KEY_LENGTH = 3
# Lower-cased, trimmed. What exports write for an empty field (`nan` from pandas, `#N/A`
# from Excel): words for "none / unknown / not available" in the ten languages.
NO_DATA_WORDS: frozenset[str] = frozenset(
    (
        "null", "none", "nil", "nan", "undefined", "n/a", "na", "n.a.", "n.a", "n/d", "nd",
        "n.d.", "n.d", "-", "--", "---", "—", "–", "?", "??", "???", ".", "..", "...", "x",
        "xx", "xxx", "xxxx", "(null)", "<null>", "[null]", "#n/a", "#na", "#null!", "tbd",
        "tba", "unknown", "desconocido", "desconocida", "ninguno", "ninguna", "s/d", "sd",
        "s/n", "ningú", "desconegut", "desconeguda", "brak", "nieznany", "nieznana", "άγνωστο",
        "αγνωστο", "κανένα", "inconnu", "inconnue", "aucun", "aucune", "néant", "neant",
        "unbekannt", "keine", "kein", "k.a.", "sconosciuto", "sconosciuta", "nessuno",
        "nessuna", "desconhecido", "desconhecida", "nenhum", "nenhuma", "naotem", "onbekend",
        "geen", "0", "00", "000", "0000", "00000", "000000", "0000000", "00000000", "000000000",
        "0000-00-00", "1900-01-01", "01/01/1900", "01.01.1900", "no data", "not available",
        "no email", "no phone", "no name", "sin datos", "sin dato", "no consta",
        "no disponible", "sin email", "sin correo", "sin telefono", "sin teléfono",
        "sense dades", "brak danych", "nie dotyczy", "non renseigné", "keine angabe", "k. a.",
        "sem dados", "não tem", "nao tem", "geen gegevens", "[not provided]", "not provided",
    )
)  # fmt: skip
PLACEHOLDERS = [
    "0",
    "00",
    "000",
    "-",
    "--",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "unknown",
    "guest",
    "anonymous",
    "anon",
    "test",
    "xxx",
    "x",
    "?",
    "tbd",
    "default",
    "noreply",
    "no-reply",
    "desconocido",
    "anonimo",
    "invitado",
    "nieznany",
    "brak",
    "άγνωστος",
    "sin datos",
    "no tiene",
    "naotem",
    "brak danych",
    "keine",
    "aucun",
    "nessuno",
    # the names shops file walk-in and cash sales under (single words are `WALK_IN_IDS`:
    # "Cash" is a surname too)
    "cliente contado",
    "clientes varios",
    "consumidor final",
    "walk-in customer",
    "cash customer",
    "sin cliente",
    "no customer",
    "test test",
    *sorted(NO_DATA_WORDS),
]
WALK_IN_IDS = ("contado", "varios", "consumidor", "generico", "genérico", "generic", "walk-in",
               "walkin", "cash", "999999990")  # fmt: skip
"""Customer and tax ids shops file walk-in and cash sales under (Portugal's final-consumer
tax id 999999990 among them); with `walk_in_sql`'s shapes."""
# Local parts of e-mail addresses people type when they have to fill the field in.
_EMAIL_PLACEHOLDER_LOCALS = [
    "noemail", "no-email", "no.email", "no_email", "nomail", "no-mail", "sinemail",
    "sin-email", "sincorreo", "sin-correo", "nocorreo", "semmail", "sem-email", "naotem",
    "nao.tem", "nao-tem", "notiene", "notengo", "nohay", "sintiene", "brak", "brakmaila",
    "keine", "keinemail", "kein", "aucun",
    "pasdemail", "nessuna", "none", "null", "nil", "na", "n/a", "unknown", "noreply",
    "no-reply", "donotreply", "do-not-reply", "test", "dummy", "fake", "nobody", "anonymous",
    "sample", "xxx", "xx", "x", "a", "asdf", "qwerty",
]  # fmt: skip

MACHINE_PLACEHOLDERS = (
    "02:00:00:00:00:00",
    "9774d56d682e549c",
    "127.0.0.1",
    "255.255.255.255",
    "localhost",
    "1234567890",
)
"""Device and connection values software reports for many machines: the MAC address every
Android phone reports since version 6, the Android id of a whole series of phones, the
loopback and broadcast addresses, a counting run typed in. Any device, cookie or IP value
of zeros or f's is one too (an advertising id zeroed when the user limits tracking,
`00000000-0000-0000-0000-000000000000`; `0.0.0.0`)."""


def placeholder_sql(kind: str, key: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """SQL: the normalised `key` of identifier kind `kind` stands for nobody in particular.

    Built-in words (n/a, unknown...), the policy's own values (compared under every
    normalisation, so `+34 900 000 000` also catches `900000000`), e-mails whose local part
    is a filler word or repeats the domain (x@x.pt, test@test.com), phone numbers made of
    one repeated digit, a digit and zeros (+34 900 000 000) or a counting run, device,
    cookie and IP values of zeros or f's, on `MACHINE_PLACEHOLDERS` or saying "unknown" or
    "(not set)"."""
    words = ", ".join(
        "'" + w.lower().replace("'", "''") + "'" for w in sorted({*PLACEHOLDERS, *extra})
    )
    own = [
        key_sql("'" + w.replace("'", "''") + "'", norm)
        for w in sorted(set(extra))
        for norm in ("e164", "email", "compact", "trim", "name")
    ]
    locals_ = ", ".join("'" + w + "'" for w in _EMAIL_PLACEHOLDER_LOCALS)
    return f"""(lower({key}) IN ({words})
        {"OR " + key + " IN (" + ", ".join(own) + ")" if own else ""}
        OR ({kind} = 'phone' AND ((length({key}) >= 6 AND replace({key}, left({key}, 1), '') = '')
            OR regexp_full_match({key}, '[1-9]0{{6,}}')
            OR {key} IN ('123456789', '1234567890', '12345678', '987654321')))
        OR ({kind} = 'email' AND (split_part({key}, '@', 1) IN ({locals_})
            OR split_part({key}, '@', 1) = split_part(split_part({key}, '@', 2), '.', 1)
            OR split_part({key}, '@', 1) || split_part(split_part({key}, '@', 2), '.', 1)
               IN ({locals_})))
        OR (list_contains(['device_id', 'cookie_id', 'ip_address'], {kind})
            AND (translate(lower({key}), '0f-:. ', '') = ''
                 OR lower({key}) IN ({", ".join(f"'{m}'" for m in MACHINE_PLACEHOLDERS)})
                 OR contains(lower({key}), 'unknown') OR contains(lower({key}), 'not set')
                 OR contains(lower({key}), 'no-device') OR contains(lower({key}), 'nodevice')))
        )"""


def walk_in_sql(kind: str, key: str) -> str:
    """SQL: a customer, account, national or tax id shaped like the one systems file walk-in
    and cash sales under: -1 (or -9, -99...), six nines or more, seven zeros or more with a
    check letter (00000000T), or a word of `WALK_IN_IDS`. It says nothing of who a row is about and
    links nobody: a placeholder (`identity.IdentityJudge.judge`). Known limit: a real
    customer numbered 999999 is found by his other identifiers only."""
    words = ", ".join(f"'{w}'" for w in WALK_IN_IDS)
    return (
        f"(list_contains({list(ANCHOR_KINDS)}, {kind}) AND (lower({key}) IN ({words}) "
        f"OR regexp_full_match(lower({key}), '-0*1|-9+|9{{6,}}|[a-z]?0{{7,}}[a-z]?')))"
    )


def nobody_sql(kind: str, key: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """SQL: the key of a row's identity value of kind `kind` (a Python string) says nothing
    of who the row is about: a placeholder (`placeholder_sql`) or a walk-in id
    (`walk_in_sql`). A name of one to three letters ("Nil", "Na", "Nan") is a name all the
    same."""
    literal = "'" + kind.replace("'", "''") + "'"
    nobody = f"({placeholder_sql(literal, key, extra)} OR {walk_in_sql(literal, key)})"
    if kind == "name":
        nobody = f"({nobody} AND NOT regexp_full_match({key}, '[[:alpha:]]{{1,3}}'))"
    return nobody


@cache
def _country_codes() -> str:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # ~11 ms: only where phones are keyed

    codes = sorted((str(c) for c in COUNTRY_CODE_TO_REGION_CODE), key=len, reverse=True)
    return "|".join(codes)


def key_sql(expr: str, normalize: str) -> str:
    """SQL giving the comparison key of the text value `expr` under a normalisation."""
    v = f"CAST({expr} AS VARCHAR)"
    if normalize == "none":
        return v
    if normalize == "trim":
        return f"NULLIF(trim({v}), '')"
    if normalize == "email":
        # the address itself, also when written with a display name ("Anna <a@b.es>", as
        # mail tools export it) or as a link ("mailto:a@b.es"); a value holding two
        # different addresses stays whole (it is no one person's). Zero-width characters
        # pasted in, quotes around it and a full stop after it are no part of an address
        # ('maria@x.es.' ending a sentence, "'maria@x.es'"): nearly no value has any, so a
        # plain value without them (one regex test) is keyed by lower(trim()) alone. The
        # rare forms are read from the cleaned value written once (a one-item lambda: only
        # the rows taking that branch pay for the list), since every regex written out in
        # a statement is compiled when it is bound (~20 ms per statement before).
        quotes = "' \"''`'"
        odd = f"regexp_matches({v}, '[\"''`{''.join(INVISIBLE)}]|[.]{_S}*$')"
        visible = f"regexp_replace({v}, '[{''.join(INVISIBLE)}]', '', 'g')"
        cleaned = f"rtrim(trim(lower(trim({visible})), {quotes}), ' \"''`.')"
        e = "_e"  # the cleaned value the display-name and link forms are read from
        ats = f"length({e}) - length(replace({e}, '@', ''))"
        one = f"{ats} = 1"
        # `<address>` or `<mailto:address>`; `mailto:address?subject=...`
        # (a link's query after the domain is no part of it: `<mailto:a@x.es?subject=hi>`)
        inside = (
            f"regexp_extract({e}, '<\\s*(?:mailto:)?([^<>\\s]+@[^<>\\s?]+)(?:[?][^<>]*)?\\s*>', 1)"
        )
        link = f"split_part(trim(substr({e}, 8)), '?', 1)"
        # ... or with the address itself as the display name ('"a@b.es" <a@b.es>', as
        # Outlook writes it): the one address the value names
        shown = f"trim(regexp_replace({e}, '<[^<>]*>', '', 'g'), ' \"''')"
        two = f"{ats} = 2"  # the address, twice
        same = f"CASE WHEN {two} AND {shown} = {inside} THEN {inside} ELSE {e} END"
        unwrapped = (
            f"CASE WHEN NOT ({one}) THEN {same} "
            f"WHEN contains({e}, '<') THEN coalesce(NULLIF({inside}, ''), {e}) "
            f"WHEN starts_with({e}, 'mailto:') THEN {link} ELSE {e} END"
        )
        # nearly every value has neither: one cheap test, then the plain key
        return (
            f"NULLIF(CASE WHEN contains({v}, '<') OR contains({v}, ':') "
            f"THEN list_transform([{cleaned}], lambda _e: "
            f"rtrim(trim({unwrapped}, {quotes}), ' \"''`.'))[1] "
            f"WHEN {odd} THEN {cleaned} ELSE lower(trim({v})) END, '')"
        )
    if normalize == "compact":
        return f"NULLIF(upper({strip_separators(v)}), '')"
    if normalize == "name":
        return f"NULLIF(lower(strip_accents(regexp_replace(trim({v}), '\\s+', ' ', 'g'))), '')"
    if normalize == "date":
        # a date in the usual spellings, as YYYY-MM-DD
        t = f"trim({v})"
        formats = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d"]
        tries = ", ".join(f"try_strptime(left({t}, 10), '{f}')" for f in formats)
        return f"CAST(CAST(coalesce({tries}) AS DATE) AS VARCHAR)"
    if normalize == "e164":
        # National significant number: drop formatting, an international prefix with its
        # country code, and trunk zeros. Country codes form a prefix code, so the
        # alternation is unambiguous. Each piece is written once: every regex in a
        # statement is compiled when it is bound, and with the digits written out in a
        # CASE's branches binding took ~30 ms per statement (now ~10 ms); the anchored
        # alternation fails at the first character of a number written nationally, so
        # running it on every value costs nothing measurable (1M numbers: 1.75 s vs 1.86 s).
        whole = without_float_part(f"trim({v})")
        digits = f"regexp_replace({without_extension(whole)}, '[^0-9+]', '', 'g')"
        intl = f"regexp_replace({digits}, '^(?:[+]|00)(?:{_country_codes()})', '')"
        return f"NULLIF(ltrim(replace({intl}, '+', ''), '0'), '')"
    raise ValueError(f"unknown normalisation {normalize!r}")


# An extension written after a number ("612 345 678 ext. 12", "x12", "#12", "Durchwahl 12",
# "poste 12", "anexo 12", "interno 12", "wewn. 12"): not part of the number, so the row
# meets the number's key (a switchboard shared by people is then judged shared, see
# identity.py: possible matches, never certain ones).
_S = r"[\s\p{Zs}]"  # a space of any kind (RE2's \s is ASCII only)
_EXTENSION = (
    rf"[,;]?{_S}*\(?{_S}*(?:ext|extn|extension|x|#|anexo|durchwahl|dw|poste|interno|int|wewn)"
    rf"\.?{_S}*[:.\-]?{_S}*[0-9]{{1,8}}{_S}*\)?(?:{_S}*\([^()]*\))?{_S}*$"
)
"""An extension, optionally bracketed ("(ext. 12)") or followed by a note in brackets
("ext 12 (office)"), at the end of the value."""
_MARKER_ON = _EXTENSION[_EXTENSION.index("(?:ext") :]
"""The extension from its marker on: a letter right before the marker makes it a word."""
HAS_LETTER = "[A-Za-z#]"
"""Values that may carry an extension (a cheap regex: about 35 ms per million values)."""


def without_extension(text: str) -> str:
    """The text value `text` without a trailing extension (see `_EXTENSION`). A marker
    that ends a word ("Max 12", "Fax 12") is no extension."""
    return (
        f"CASE WHEN regexp_matches({text}, '{HAS_LETTER}') "
        f"AND NOT regexp_matches({text}, '[a-z]{_MARKER_ON}', 'i') "
        f"THEN regexp_replace({text}, '{_EXTENSION}', '', 'i') ELSE {text} END"
    )


INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
"""Zero-width characters that copy and paste leave inside values."""


def without_float_part(text: str) -> str:
    """A number exported as a float ("612345678.0": a spreadsheet, or pandas with one missing
    value in the column) without its ".0"; anything else as it is. (`text` is written
    once: the keys repeat this expression, and a statement's SQL grows with it.)"""
    return f"regexp_replace({text}, '^([+]?[0-9]{{6,}})[.]0+$', '\\1')"


SEPARATORS = (" ", "\t", "-", ".", "/", "(", ")")
"""The separators people type inside numbers and IDs."""


def strip_separators(expr: str) -> str:
    """`expr` without the separators people type inside numbers and IDs (no regex: cheap)."""
    for sep in SEPARATORS:
        expr = f"replace({expr}, '{sep}', '')"
    return expr


def holds_digits(
    expr: str, numbers: Sequence[str], *, anything_between: bool = False
) -> tuple[str, str]:
    """SQL testing that the text `expr` holds one of `numbers` (ASCII digits), maybe with
    separators between its digits, and the regex it binds: what
    `contains(strip_separators(expr), n)` tells for each number, by one regex instead of
    seven replaces per value and number (1M phone values: 0.11 -> 0.03 s for one number,
    0.32 -> 0.04 s for three). With `anything_between`, anything but an ASCII digit may
    stand between them: the value's digits hold the number (so does the key of a phone
    value whose key ends with it: `digits_sql`)."""
    if not numbers or not all(n.isascii() and n.isdigit() for n in numbers):
        raise ValueError("holds_digits: ASCII digits only")
    if anything_between:
        between = "[^0-9]*"
    else:
        between = "[" + "".join(sorted(SEPARATORS, key=lambda c: c == "-")) + "]*"
    return f"regexp_matches({expr}, ?)", "|".join(between.join(n) for n in numbers)


def probe_sql(expr: str, normalize: str) -> tuple[str, str]:
    """A cheap column expression and the matching expression over a key, such that every
    row whose key equals a key also has probe(row) = probe(key). Used to pick candidate rows
    before the exact (possibly regex-heavy) key is computed on them only."""
    if normalize == "e164":
        return f"right({digits_sql(expr)}, 6)", "right(key, 6)"
    return key_sql(expr, normalize), "key"


def digits_sql(expr: str) -> str:
    """The ASCII digits of a value, in order, after a trailing extension and a float export's
    ".0" are cut off: a phone number's key ends with the same digits. A value with neither
    (no letter or '#', no ".0" at its end: nearly every phone number) is read by one regex;
    the rest by `_digits_after_cuts`. 1M values: 0.25 s -> 0.09 s written as digits only,
    0.20 s with separators."""
    v = f"CAST({expr} AS VARCHAR)"
    cut = f"regexp_matches({v}, '{HAS_LETTER}|[.]0+{_S}*$')"  # what the cuts may change
    return (
        f"CASE WHEN {cut} THEN {_digits_after_cuts(expr)} "
        f"ELSE regexp_replace({v}, '[^0-9]', '', 'g') END"
    )


def _digits_after_cuts(expr: str) -> str:
    text = without_float_part(f"trim(CAST({expr} AS VARCHAR))")
    plain = f"regexp_full_match({text}, '[0-9 \\t./()+-]*')"
    return (
        f"CASE WHEN {plain} THEN replace({strip_separators(text)}, '+', '') "
        f"ELSE regexp_replace({without_extension(f'trim({text})')}, '[^0-9]', '', 'g') END"
    )


@cache
def _region_map() -> str:
    from phonenumbers import SUPPORTED_REGIONS, country_code_for_region

    pairs = ", ".join(f"'{r}': '{country_code_for_region(r)}'" for r in sorted(SUPPORTED_REGIONS))
    return f"MAP {{{pairs}}}"


def country_sql(expr: str, region: str | None = None, region_column: str | None = None) -> str:
    """The phone's country calling code as text: from an explicit +CC / 00CC prefix, else
    from the row's region column, else the link's default region; NULL when unknown."""
    v = f"regexp_replace(trim(CAST({expr} AS VARCHAR)), '[^0-9+]', '', 'g')"
    # the value written once (see key_sql: each copy's regexes are compiled at binding)
    explicit = f"NULLIF(regexp_extract({v}, '^(?:[+]|00)({_country_codes()})', 1), '')"
    fallbacks = []
    if region_column:
        fallbacks.append(
            f"list_extract(map_extract({_region_map()}, upper(trim(CAST({region_column} "
            "AS VARCHAR)))), 1)"
        )
    if region:
        fallbacks.append(_region_fallback(expr, region.upper()))
    return f"coalesce({', '.join([explicit, *fallbacks])})" if fallbacks else explicit


NOT_REGION = "?"
"""The calling code of a number written nationally that cannot be one of its column's
region ("06 12 34 56 78", a French mobile, in a Spanish call log): of some other country,
so it never meets a number of that region, while a number given without a country does."""


def _national_sql(expr: str, region: str) -> tuple[str, str] | None:
    """SQL for a number written without +/00 read in `region` (None when the region has no
    calling code): (its calling code, its national digits or NULL when they cannot be a
    number of the region). As phonenumbers reads it: with the trunk prefix ("0612345678",
    US "1 555 123 4567"), without it, or with the region's calling code but no "+"
    ("34612345678", as SMS tools store numbers), each when the rest has one of the
    region's number lengths."""
    from phonenumbers import PhoneMetadata, country_code_for_region

    code = country_code_for_region(region)
    if not code:
        return None
    meta = PhoneMetadata.metadata_for_region(region)
    desc = meta.general_desc if meta else None
    lengths = sorted(set(desc.possible_length or ())) if desc else []
    # the digits as the key reads them (no float part, no extension)
    cleaned = without_extension(without_float_part(f"trim(CAST({expr} AS VARCHAR))"))
    d = f"regexp_replace({cleaned}, '[^0-9]', '', 'g')"
    if not lengths:
        return str(code), d
    fits = ", ".join(str(n) for n in lengths)
    trunk = meta.national_prefix if meta and meta.national_prefix else ""

    def fit(prefix: str) -> str:
        test = f"length(d) - {len(prefix)} IN ({fits})"
        return f"WHEN starts_with(d, '{prefix}') AND {test} THEN d[{len(prefix) + 1}:]"

    ways = [fit(trunk)] if trunk.isdigit() else []
    ways += [f"WHEN length(d) IN ({fits}) THEN d", fit(str(code))]
    # the digits computed once (a lambda over a one-item list): written out in each branch,
    # the statement grew so much that binding it cost ~0.1 s
    return str(code), f"list_transform([{d}], lambda d: CASE {' '.join(ways)} END)[1]"


def _region_fallback(expr: str, region: str) -> str:
    """SQL: the region's calling code for a number written without one, when its digits
    can be a number of the region (`_national_sql`); else NOT_REGION."""
    read = _national_sql(expr, region)
    if read is None:
        return "NULL"
    code, national = read
    return f"CASE WHEN ({national}) IS NOT NULL THEN '{code}' ELSE '{NOT_REGION}' END"


def phone_key_sql(expr: str, region: str | None) -> str:
    """The e164 key of a number in a column of a known region: a number written without
    +/00 keys as its national digits read in the region (`_national_sql`: "34612345678"
    and US "1 555 123 4567" key as "612345678" and "5551234567", as "+34 612 345 678" and
    "+1 555 123 4567" do); any other value as `key_sql` keys it."""
    plain = key_sql(expr, "e164")
    read = _national_sql(expr, region.upper()) if region else None
    if read is None:
        return plain
    # written with + or 00 (as country_sql reads it: the first digits, separators aside)
    intl = f"regexp_matches(CAST({expr} AS VARCHAR), '^[^0-9+]*(?:[+]|0[^0-9+]*0)')"
    return f"coalesce(CASE WHEN NOT ({intl}) THEN NULLIF(ltrim({read[1]}, '0'), '') END, {plain})"


def default_normalization(kind: str) -> str:
    return {
        "email": "email",
        "phone": "e164",
        "national_id": "compact",
        "tax_id": "compact",
        "iban": "compact",
        "name": "name",
        "birth_date": "date",
        "postcode": "compact",
        "city": "name",
    }.get(kind, "trim")
