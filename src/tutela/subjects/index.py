"""Finding the rows of a link column that carry given keys, over the whole column: a cheap
probe picks candidate rows, the exact (possibly regex-heavy) key is computed on those only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tutela.base.normalize import (
    DEFAULT_MIN_KEY_LENGTH,
    HAS_LETTER,
    MIN_KEY_LENGTH,
    PLACEHOLDERS,
    probe_sql,
)
from tutela.engine import Connection
from tutela.subjects.links import LinkSpec

SEVERAL = "_several"
"""Temp table (tbl, rid, link, v): candidate rows of e-mail links whose value names two or
more addresses (`create_several` makes it empty)."""


def create_several(con: Connection) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SEVERAL} (tbl VARCHAR, rid BIGINT, link INTEGER, v VARCHAR)"
    )


EMAIL_NOT_PLAIN = (
    "contains(v, '<') OR contains(v, ':') OR contains(v, '\"') OR contains(v, '''') "
    "OR contains(v, '`') OR strlen(v) <> length(v) OR ends_with(v, '.') OR ends_with(v, ' ') "
    "OR strlen(v) - strlen(replace(v, '@', '')) >= 2"
)
"""SQL: an e-mail value `v` whose key may differ from lower(trim(v)), by the cleaning of
`normalize.key_sql(..., "email")`: one naming a display name or link ('<', ':'), holding
quotes or anything not ASCII (zero-width characters, other spaces), or ending in a full
stop (maybe before spaces, which trim() removes); and one naming two addresses or more,
kept aside in `SEVERAL`. Cheap tests, no regex."""


MAY_TRIM = "(prefix(v, ' ') OR suffix(v, ' ') OR strlen(v) <> length(v))"
"""SQL: a value `v` that trim() may shorten. DuckDB's trim() strips the space and other
Unicode space separators (all outside ASCII; `tests/subjects/test_normalize.py` checks every
character), never a tab or a line break."""


def email_candidates(probes: Sequence[str], many: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """SQL over `v`, and its parameters, passing every row whose e-mail key
    (`normalize.key_sql`) is one of `probes`; rows that pass are judged exactly after.
    Up to 64 probes: a case-insensitive substring each, and any value not plain ASCII (a
    zero-width character inside an address breaks the substring). More (a batch):
    `lower(trim(v))` in `many` (a subquery and its parameters) and the values the key
    cleans (`EMAIL_NOT_PLAIN`). An empty text: no probes, no row."""
    if len(probes) <= 64:
        invisible = ["strlen(v) <> length(v)"] if probes else []
        where = " OR ".join(["v ILIKE ? ESCAPE '\\'"] * len(probes) + invisible)
        return where, [f"%{like_escape(p)}%" for p in probes]
    subquery, params = many
    return f"lower(trim(v)) IN ({subquery}) OR {EMAIL_NOT_PLAIN}", params


def like_escape(value: str) -> str:
    """A literal for ILIKE ... ESCAPE '\\': wildcards in the value match themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def usable(key: str, kind: str) -> str:
    """SQL: the key is long enough for its kind and not a word such as 'guest'."""
    minimum = MIN_KEY_LENGTH.get(kind, DEFAULT_MIN_KEY_LENGTH)
    placeholders = ", ".join("'" + p.replace("'", "''") + "'" for p in PLACEHOLDERS)
    return (
        f"({key} IS NOT NULL AND length({key}) >= {minimum} "
        f"AND lower({key}) NOT IN ({placeholders}))"
    )


def index_link(
    con: Connection,
    i: int,
    link: LinkSpec,
    keys: str = "_keys",
    target: str = "_idx",
) -> None:
    """Rows of one link column that carry one of the keys (of table `keys`, kind, key,
    probed) not probed yet, into `target` (tbl, rid, link, kind, key, cc). A column of keyed
    tokens is read through the tokens of those keys (`links.Tokens`)."""
    if link.tokens is not None:
        link.tokens.remember(con, link, keys)
    cheap, probe = probe_sql("v", link.normalize)
    probes = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {probe} FROM {keys} WHERE kind = ? AND NOT probed",
            [link.kind],
        ).fetchall()
    ]
    # Pick candidate rows with the cheapest test that every carrier passes; the exact key
    # is computed on the candidates below. Identifiers compared as typed (trimmed): the
    # value itself. E-mails: see email_candidates (the exact key over every row cost 2.2x
    # as much as a batch's cheap tests). Phone numbers, a few: the
    # last two characters, the number's last two digits however it is written (values that
    # do not end in a digit are judged exactly). Otherwise a semi-join on the probe.
    params: list[Any]
    also: tuple[str, list[Any]] | None = None  # rows picked by a second, disjoint test
    if link.normalize in ("trim", "none"):
        # Compared as stored: DuckDB tests `v IN` on a dictionary-compressed column's
        # dictionary, and a trimmed value is its own key; trim() runs only on values it may
        # change (`MAY_TRIM`). 1M distinct ids: 25 -> 17 ms for a few keys, 30 -> 17-21 ms
        # for a batch's (there the two tests are two scans: one OR of two semi-joins is slower).
        if len(probes) <= 64:
            marks = ", ".join("?" * len(probes))
            where, params = f"v IN ({marks})", list(probes)
            if link.normalize == "trim":
                where += f" OR ({MAY_TRIM} AND trim(v) IN ({marks}))"
                params += probes
        else:
            wanted = f"(SELECT key FROM {keys} WHERE kind = ? AND NOT probed)"
            where, params = f"v IN {wanted}", [link.kind]
            if link.normalize == "trim":
                also = (f"{MAY_TRIM} AND trim(v) <> v AND trim(v) IN {wanted}", [link.kind])
    elif link.normalize == "email":
        where, params = email_candidates(
            probes, (f"SELECT key FROM {keys} WHERE kind = ? AND NOT probed", [link.kind])
        )
    elif len(probes) <= 16 and link.normalize == "e164":
        ends = sorted({p[-4:] for p in probes})
        # One regex (a literal, compiled once; ~2x cheaper than the equivalent `suffix` and
        # `reverse` tests) passes every row the exact key can match (a superset is fine:
        # the exact key is computed next). A key ends with the value's last four digits, in
        # order, with anything but a digit between them ("...5678", "56 78", "2345678-0": a
        # German extension). Four digits pass 1 value in 10,000 by chance (two: 1 in 100,
        # and keying those cost as much as the regex). Judged exactly too: a value not
        # ending in a digit ("612 345 678 (home)"), one with a letter or '#' (an extension,
        # "612 345 678 ext. 12", which its key leaves out) and a float export
        # ("612345678.0", ".0" at its end: any ".0" passed every dotted number with a group
        # starting in 0). Probes are digits only: no escaping.
        ending = "|".join("[^0-9]*".join(e) for e in ends)
        pattern = f"(?:{ending})$|[^0-9]$|^$|{HAS_LETTER}|[.]0+$"
        where = f"regexp_matches(v, '{pattern}')" if ends else ""
        if not all(e.isdigit() for e in ends):  # not a key of digits: every row judged
            where = "true"
        params = []
    elif len(probes) <= 64:
        where = f"{cheap} IN ({', '.join('?' * len(probes))})"
        params = list(probes)
    else:
        where = f"{cheap} IN (SELECT {probe} FROM {keys} WHERE kind = ? AND NOT probed)"
        params = [link.kind]
    picked = f"SELECT rid, v, rg FROM {link.source_sql()} WHERE {where or 'false'}"
    if also is not None:
        picked += f" UNION ALL SELECT rid, v, rg FROM {link.source_sql()} WHERE {also[0]}"
        params = [*params, *also[1]]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cand AS {picked}", params)
    if link.normalize == "email" and target == "_idx":
        # a value naming two addresses is no one person's (its key is the whole value): kept
        # aside, so the search can say which of them hold a person's address
        con.execute(
            f"INSERT INTO {SEVERAL} SELECT ?, rid, ?, lower(v) FROM _cand "
            f"WHERE length(v) - length(replace(v, '@', '')) >= 2 EXCEPT SELECT * FROM {SEVERAL}",
            [link.table, i],
        )
    key = link.key_sql("v")
    # keyed once (MATERIALIZED): inlined, the checks would repeat the key's regexes
    con.execute(
        f"INSERT INTO {target} WITH x AS MATERIALIZED (SELECT rid, {key} AS k, "
        f"{link.country_sql('v', 'rg')} AS cc FROM _cand) SELECT ?, rid, ?, ?, k, cc FROM x "
        f"WHERE {usable('k', link.kind)} EXCEPT SELECT tbl, rid, link, kind, key, cc FROM {target}",
        [link.table, i, link.kind],
    )
