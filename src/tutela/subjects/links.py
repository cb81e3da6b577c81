"""Identity links as the subject engine sees them: a column, its kind, its normalisation, and
what the policy says about sharing, placeholders and validity; plus the search space."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tutela.base.errors import TutelaError
from tutela.base.normalize import (
    ANCHOR_KINDS,
    CORROBORATING,
    KEY_RULES,
    country_sql,
    key_sql,
    nobody_sql,
    phone_key_sql,
)
from tutela.base.sql import sql_literal
from tutela.engine import Connection
from tutela.protect.registry import registry_entries
from tutela.protect.sqlhmac import DEFAULT_TOKEN_HEX, Binder, HmacKey
from tutela.workspace import TableReader, Workspace, local_ident, quote_ident

TOKEN_MAP = "_tokmap"
"""Temp table (tbl, col, key, token): the tokens of the keys reached, per tokenised column."""


@dataclass(frozen=True)
class Tokens:
    """How a link column pseudonymized in place holds its values: keyed tokens (`hmac`,
    `email`) of the values normalised as the link normalises them. The search turns the
    keys it reaches into the same tokens (`index_link`, through `TOKEN_MAP`), so the
    column's rows are found by the person's identifiers, as before pseudonymization; a
    token of nobody the search knows reads as no value."""

    method: str
    arg: str | None
    normalize: str
    key: HmacKey = field(repr=False)

    def remember(self, con: Connection, link: LinkSpec, keys: str) -> None:
        """Add to `TOKEN_MAP` the tokens of this link's kind of keys in table `keys`."""
        from tutela.protect.methods import ColumnRequest, Method, SqlContext, column_sql

        binder = Binder()
        ctx = SqlContext(self.key, self.key, binder, "k", "1970-01-01", 1)
        token = column_sql(
            ColumnRequest("key", Method(self.method), self.arg), "VARCHAR", self.normalize, ctx
        )
        binder.params.update({"tbl": link.table, "col": link.column, "kind": link.kind})
        create_token_map(con)  # this connection may not be the one the space was made on
        con.execute(
            f"INSERT INTO {TOKEN_MAP} SELECT DISTINCT $tbl, $col, k.key, {token} FROM {keys} k "
            f"WHERE k.kind = $kind AND k.key IS NOT NULL EXCEPT SELECT * FROM {TOKEN_MAP}",
            binder.params,
        )


def policy_region(links: list[tuple[str, str | None, str | None]], kind: str) -> str | None:
    """The region of the links (kind, region, region column) of a kind when they all name
    the same one (a link without a region says nothing; one with a region column, whose
    rows say, leaves it open)."""
    mine = [(region, column) for k, region, column in links if k == kind]
    if any(column for _, column in mine):
        return None
    regions = {region.upper() for region, _ in mine if region}
    return regions.pop() if len(regions) == 1 else None


@dataclass(frozen=True)
class LinkSpec:
    """A column that identifies the subject, and how its values are normalised."""

    table: str
    column: str
    kind: str
    normalize: str
    region: str | None = None
    region_column: str | None = None
    strip_prefix: str | None = None
    key_region: str | None = None
    """For a link without a region: the region a phone number written without its country
    is read in for its key, the one all the policy's regional links of its kind name (as a
    request's number is read). Its calling code stays unknown."""

    parts: tuple[str, ...] = ()
    """More columns of one name split over several (last_name after first_name): the value
    is the parts joined by a space."""

    list_column: bool = False
    """The column holds a LIST (e.g. several e-mails from a JSON array): each item counts."""

    shared: bool = False
    """Values are shared between people by nature: matches through them are never certain."""

    unique: bool | None = None
    """Each value belongs to one person (None: by kind — customer, account, national, tax id)."""

    placeholders: tuple[str, ...] = ()
    valid_from: str | None = None
    valid_until: str | None = None
    observed_at: str | None = None
    attribute_only: bool = False
    """Not declared as a link: only tells rows apart (see policyview._undeclared_names)."""
    reader: TableReader | None = field(default=None, compare=False, repr=False)
    """Where the table is read from (the workspace, set by `search_space`: attached tables
    are read in place); None reads the loaded table of that name."""
    tokens: Tokens | None = field(default=None, compare=False, repr=False)
    """The column was pseudonymized in place with keyed tokens of its values (set by
    `search_space`): see `Tokens`."""

    @property
    def is_unique(self) -> bool:
        if self.unique is not None:
            return self.unique
        return self.kind in ANCHOR_KINDS and not self.shared

    @property
    def matches(self) -> bool:
        """Whether values of this link find rows (names and corroborating attributes do not)."""
        return self.kind != "name" and self.kind not in CORROBORATING

    def _text(self, base: str) -> str:
        col = f"CAST({base} AS VARCHAR)"
        if not self.strip_prefix:
            return col
        prefix = self.strip_prefix.replace("'", "''")
        return (
            f"CASE WHEN starts_with({col}, '{prefix}') "
            f"THEN substr({col}, {len(self.strip_prefix) + 1}) ELSE {col} END"
        )

    def value_sql(self, alias: str = "") -> str:
        """The column as text, with the declared literal prefix (e.g. CUST-) removed; a name
        split over several columns, its parts joined by a space, a part that stands for
        nobody left out ("Maria" of "Maria" "Unknown"; NULL when none is left)."""
        if not self.parts:
            return self._text(f"{alias}{quote_ident(self.column)}")
        parts = []
        for column in self.columns:
            text = f"nullif(trim(CAST({alias}{quote_ident(column)} AS VARCHAR)), '')"
            nobody = nobody_sql("name", key_sql(text, "name"), self.placeholders)
            parts.append(f"CASE WHEN {nobody} THEN NULL ELSE {text} END")
        return f"nullif(concat_ws(' ', {', '.join(parts)}), '')"

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the link reads (one, or the parts of a split name)."""
        return (self.column, *self.parts)

    def source_sql(self, where: str = "", *, opaque: bool = False) -> str:
        """A relation (rid, v, rg): each row's value as text (one row per item for lists)
        and its phone region when the link has a region column. A column of keyed tokens
        (`tokens`) gives the key of each token the search has reached, and NULL for the
        others; `opaque`: the others as the token behind chr(1), a value no key equals
        (for telling people apart: two such tokens differ when their values do)."""
        rg = f"{quote_ident(self.region_column)}" if self.region_column else "NULL"
        table = self.reader.relation(self.table) if self.reader else local_ident(self.table)
        cond = f" WHERE {where}" if where else ""
        if self.list_column:
            return (
                f"(SELECT rid, {self._text('item')} AS v, rg FROM (SELECT rowid AS rid, "
                f"unnest({quote_ident(self.column)}) AS item, {rg} AS rg FROM {table}{cond}))"
            )
        plain = f"(SELECT rowid AS rid, {self.value_sql()} AS v, {rg} AS rg FROM {table}{cond})"
        if self.tokens is None:
            return plain
        # tokens of keys the search has reached read as those keys; any other token as
        # nothing (its digits or letters are no one's identifier), or as itself (`opaque`)
        other = "chr(1) || trim(b.v)" if opaque else "NULL"
        return (
            f"(SELECT b.rid, coalesce(m.key, {other}) AS v, b.rg FROM {plain} b "
            f"LEFT JOIN {TOKEN_MAP} m "
            f"ON m.tbl = {sql_literal(self.table)} AND m.col = {sql_literal(self.column)} "
            "AND m.token = trim(b.v))"
        )

    def key_sql(self, value: str) -> str:
        """SQL: the comparison key of a value of this link. A phone number in a column of
        one region without its country ("34612345678", "1 555 123 4567" in a US column)
        keys as the number it is there (`phone_key_sql`)."""
        region = self.region or self.key_region
        if self.normalize == "e164" and region and not self.region_column:
            return phone_key_sql(value, region)
        return key_sql(value, self.normalize)

    def country_sql(self, value: str, region_value: str | None) -> str:
        if self.normalize != "e164":
            return "NULL"
        return country_sql(value, self.region, region_value if self.region_column else None)


@dataclass(frozen=True)
class SearchSpace:
    links: list[LinkSpec]
    free_text: list[tuple[str, str]]
    skipped: list[str] = field(default_factory=list)
    placeholders: tuple[str, ...] = ()
    """Subject-wide placeholder values from the policy (added to the built-in list)."""
    reader: TableReader | None = field(default=None, compare=False, repr=False)
    """Where its tables are read from (the workspace it was made for)."""

    def relation(self, table: str) -> str:
        """Where to read one of its tables from (an attached table: its copy)."""
        return self.reader.relation(table) if self.reader else local_ident(table)

    def tables(self) -> list[str]:
        return sorted({link.table for link in self.links} | {table for table, _ in self.free_text})

    def kinds(self) -> set[str]:
        return {link.kind for link in self.links} | {"name"}


def search_space(
    ws: Workspace,
    links: Iterable[LinkSpec],
    free_text: Iterable[tuple[str, str]],
    placeholders: Iterable[str] = (),
) -> SearchSpace:
    """Keep the links and free-text columns that exist in the workspace; say what was skipped."""
    tables = set(ws.user_tables())
    types = {t: {c.name: c.type for c in ws.columns(t)} for t in tables}
    columns = {t: set(types[t]) for t in tables}
    kept, texts, skipped = [], [], []
    for link in links:
        if link.table not in tables:
            skipped.append(f"table {link.table} is not loaded")
            continue
        missing = [
            c
            for c in (*link.columns, link.valid_from, link.valid_until, link.observed_at)
            if c and c not in columns[link.table]
        ]
        if missing and link.attribute_only:
            continue  # not a declared link: nothing to say about it
        if missing:
            skipped.append(f"{link.table}.{missing[0]} does not exist")
        elif link.parts:
            # a list of given names reads as its items; a part that holds no text is left
            # out, and the name read from the others
            text = [
                c
                for c in link.columns
                if not types[link.table][c].startswith(("STRUCT", "MAP", "BLOB", "UNION"))
            ]
            skipped += [
                f"{link.table}.{c} is not a text or list column: the name is read without it"
                for c in link.columns
                if c not in text
            ]
            if text:
                kept.append(
                    dataclasses.replace(link, column=text[0], parts=tuple(text[1:]), reader=ws)
                )
        elif types[link.table][link.column].endswith("[]"):
            kept.append(dataclasses.replace(link, list_column=True, reader=ws))
        elif types[link.table][link.column].startswith(("STRUCT", "MAP", "BLOB")):
            skipped.append(f"{link.table}.{link.column} is not a text or list column")
        else:
            kept.append(dataclasses.replace(link, reader=ws))
    for table, column in free_text:
        if table in tables and column in columns[table]:
            texts.append((table, column))
    kept, notes = _tokenised(ws, kept)
    skipped += notes
    return SearchSpace(kept, sorted(set(texts)), sorted(set(skipped)), tuple(placeholders), ws)


_TOKEN_METHODS = ("hmac", "email")
"""Methods whose tokens are computed in SQL from the normalised value alone."""
_CHANGED_BY_KEY_RULES = {
    "email": "a display name, a mailto: link, quotes, a full stop or a zero-width character",
    "e164": "an extension or a float's '.0'",
}
"""The keys `KEY_RULES` changed, and for which values."""
MIN_SEARCH_TOKEN_HEX = 16
"""Shorter tokens (`hmac:8`, 32 bits) collide between people too often to be searched."""


def _tokenised(ws: Workspace, links: list[LinkSpec]) -> tuple[list[LinkSpec], list[str]]:
    """Link columns pseudonymized in place hold tokens. Keyed tokens of the link's own
    normalisation are searched by the tokens of the person's keys (`Tokens`); any other
    (reversible encryption, shaped tokens, a different normalisation, a key that cannot be
    read) is not searched, and the search says it did not look there."""
    protected = {(e["table_name"], e["column_name"]): e for e in registry_entries(ws.con)}
    if not any((link.table, c) in protected for link in links for c in link.columns):
        return links, []
    out, notes = [], []
    keyset: Any = None
    for link in links:
        if link.parts:
            # a name over several columns, a part of it pseudonymized: its tokens are
            # compared as they are (one value, one token), as a name column's are
            out.append(link)
            continue
        entry = protected.get((link.table, link.column))
        if entry is None:
            out.append(link)
            continue
        why = None
        if entry["method"] not in _TOKEN_METHODS:
            why = f"its {entry['method']} values are not computed from the identifiers given"
        elif int(entry["arg"] or DEFAULT_TOKEN_HEX) < MIN_SEARCH_TOKEN_HEX:
            # 1M rows of 32-bit tokens: one in ~4,000 keys meets another person's token
            why = f"its tokens are {int(entry['arg']) * 4}-bit, too short to tell people apart"
        elif link.list_column:
            why = "it is a list column"
        elif link.strip_prefix:
            why = f"its tokens are of whole values, the link strips {link.strip_prefix!r} first"
        elif entry["normalize"] != link.normalize:
            why = (
                f"its tokens are of values normalised as {entry['normalize']!r}, the link "
                f"normalises them as {link.normalize!r}"
            )
        else:
            try:
                from tutela.protect.pseudonymize import hmac_key  # cryptography: only here

                keyset = keyset or _keyset(ws)
                key = hmac_key(keyset, int(entry["key_version"]), str(entry["purpose"]))
            except TutelaError as exc:
                why = f"its key cannot be read ({exc.message})"
        if why is None:
            tokens = Tokens(str(entry["method"]), entry["arg"], link.normalize, key)
            out.append(dataclasses.replace(link, tokens=tokens))
            changed = _CHANGED_BY_KEY_RULES
            if link.matches and link.normalize in changed and entry.get("key_rules") != KEY_RULES:
                notes.append(
                    f"{link.table}.{link.column} was pseudonymized "
                    f"({str(entry['applied_at'])[:10]}) under earlier identifier rules: it is "
                    f"searched by token, but a value written with {changed[link.normalize]} "
                    "had its token made from the whole value and is not found by it"
                )
            continue
        out.append(link)
        if link.matches:
            notes.append(
                f"{link.table}.{link.column} is pseudonymized in place ({entry['method']}, "
                f"{str(entry['applied_at'])[:10]}): {why}; the identifiers given are not "
                "compared with it; search by another identifier, or re-identify first"
            )
    create_token_map(ws.con)
    return out, notes


def create_token_map(con: Connection) -> None:
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {TOKEN_MAP} (tbl VARCHAR, col VARCHAR, key VARCHAR, "
        "token VARCHAR)"
    )


def _keyset(ws: Workspace) -> Any:
    from tutela.base.keys import load_keyset
    from tutela.keyguard import workspace_key

    return load_keyset(ws.root, workspace_key(ws))
