"""Identifier normalisation as DuckDB SQL expressions, so the same rule runs over whole columns
and over the identifiers a requester gives: `Anna@X.com` and `anna@x.com` meet, and so do
`+34 612 345 678`, `0034612345678` and `612345678`.
"""

from __future__ import annotations

from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

# Identifier kinds whose values identify one person with certainty; matches on them are
# followed transitively. Names and IP addresses are shared between people: they only ever
# produce "possible matches" (names) or matches that are not followed further (IPs).
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
# Shareable identifiers: a row reached only through one of these that belongs to another
# customer id than the person's is a possible match for review, never absorbed.
WEAK = {"phone", "cookie_id", "device_id", "ip_address"}
ANCHOR = "customer_id"
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
# Values that stand for "nobody in particular" in exports; never followed.
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
]


@cache
def _country_codes() -> str:
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
        return f"NULLIF(lower(trim({v})), '')"
    if normalize == "compact":
        return f"NULLIF(upper({strip_separators(v)}), '')"
    if normalize == "name":
        return f"NULLIF(lower(strip_accents(regexp_replace(trim({v}), '\\s+', ' ', 'g'))), '')"
    if normalize == "e164":
        # National significant number: drop formatting, an international prefix with its
        # country code, and trunk zeros. Country codes form a prefix code, so the
        # alternation is unambiguous.
        digits = f"regexp_replace(trim({v}), '[^0-9+]', '', 'g')"
        intl = f"regexp_replace({digits}, '^(\\+|00)({_country_codes()})', '')"
        return f"NULLIF(ltrim(regexp_replace({intl}, '[^0-9]', '', 'g'), '0'), '')"
    raise ValueError(f"unknown normalisation {normalize!r}")


def strip_separators(expr: str) -> str:
    """`expr` without the separators people type inside numbers and IDs (no regex: cheap)."""
    for sep in (" ", "\t", "-", ".", "/", "(", ")"):
        expr = f"replace({expr}, '{sep}', '')"
    return expr


def probe_sql(expr: str, normalize: str) -> tuple[str, str]:
    """A cheap column expression and the matching expression over a key, such that every
    row whose key equals a key also has probe(row) = probe(key). Used to pick candidate rows
    before the exact (possibly regex-heavy) key is computed on them only."""
    if normalize == "e164":
        digits = f"regexp_replace(CAST({expr} AS VARCHAR), '[^0-9]', '', 'g')"
        return f"right({digits}, 6)", "right(key, 6)"
    return key_sql(expr, normalize), "key"


@cache
def _region_map() -> str:
    from phonenumbers import SUPPORTED_REGIONS, country_code_for_region

    pairs = ", ".join(f"'{r}': '{country_code_for_region(r)}'" for r in sorted(SUPPORTED_REGIONS))
    return f"MAP {{{pairs}}}"


def country_sql(expr: str, region: str | None = None, region_column: str | None = None) -> str:
    """The phone's country calling code as text: from an explicit +CC / 00CC prefix, else
    from the row's region column, else the link's default region; NULL when unknown."""
    v = f"regexp_replace(trim(CAST({expr} AS VARCHAR)), '[^0-9+]', '', 'g')"
    explicit = f"NULLIF(regexp_extract({v}, '^(?:\\+|00)({_country_codes()})', 1), '')"
    fallbacks = []
    if region_column:
        fallbacks.append(
            f"list_extract(map_extract({_region_map()}, upper(trim(CAST({region_column} "
            "AS VARCHAR)))), 1)"
        )
    if region:
        from phonenumbers import country_code_for_region

        code = country_code_for_region(region.upper())
        if code:
            fallbacks.append(f"'{code}'")
    return f"coalesce({', '.join([explicit, *fallbacks])})" if fallbacks else explicit


def default_normalization(kind: str) -> str:
    return {
        "email": "email",
        "phone": "e164",
        "national_id": "compact",
        "tax_id": "compact",
        "iban": "compact",
        "name": "name",
    }.get(kind, "trim")
