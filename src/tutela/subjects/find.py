"""Finding data subjects across every table, set-based: one request or a thousand in one pass.

1. The requester's identifiers are normalised (see `normalize`) into keys per kind.
2. Every identity-link column is indexed once per call into a temp table of
   (table, rowid, kind, key), computed in DuckDB over whole columns.
3. Matches are followed transitively with hash joins on that index: the CRM row gives the
   customer id and phone, the phone finds call-centre tickets, the e-mail the newsletter.
   Names and IP addresses never extend a match: names only produce *possible* matches for a
   human to review (similar name, not linked by a certain identifier).
4. Free-text columns are searched for every key found (e-mails, phone numbers, ID numbers
   and the person's full names), so mentions can be reported and redacted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from tutela import live
from tutela.errors import UsageError
from tutela.subjects.normalize import (
    ANCHOR,
    DEFAULT_MIN_KEY_LENGTH,
    EXPANDING,
    MIN_KEY_LENGTH,
    PLACEHOLDERS,
    WEAK,
    country_sql,
    default_normalization,
    key_sql,
    probe_sql,
    strip_separators,
)
from tutela.workspace import Workspace, json_list, quote_ident, relation, star

MAX_ROUNDS = 10
NAME_SIMILARITY = 0.88


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

    list_column: bool = False
    """The column holds a LIST (e.g. several e-mails from a JSON array): each item counts."""

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
        """The column as text, with the declared literal prefix (e.g. CUST-) removed."""
        return self._text(f"{alias}{quote_ident(self.column)}")

    def source_sql(self) -> str:
        """A relation (rid, v, rg): each row's value as text (one row per item for lists)
        and its phone region when the link has a region column."""
        rg = f"{quote_ident(self.region_column)}" if self.region_column else "NULL"
        table = relation(self.table)
        if self.list_column:
            return (
                f"(SELECT rid, {self._text('item')} AS v, rg FROM (SELECT rowid AS rid, "
                f"unnest({quote_ident(self.column)}) AS item, {rg} AS rg FROM {table}))"
            )
        return f"(SELECT rowid AS rid, {self.value_sql()} AS v, {rg} AS rg FROM {table})"

    def country_sql(self, value: str, region_value: str | None) -> str:
        if self.normalize != "e164":
            return "NULL"
        return country_sql(value, self.region, region_value if self.region_column else None)


@dataclass
class FreeTextHit:
    table: str
    column: str
    rowid: int
    kinds: set[str] = field(default_factory=set)
    fragments: set[str] = field(default_factory=set)
    """The exact substrings that identify the person (for redaction; never reported)."""


@dataclass
class PossibleMatch:
    table: str
    rowid: int
    column: str
    similarity: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """For reports: where and why, never the row's values (they may be someone else's)."""
        return {
            "table": self.table,
            "column": self.column,
            "similarity": round(self.similarity, 3),
            "reason": self.reason,
        }


@dataclass
class SubjectMatch:
    """Everything found for one request."""

    request: str
    rows: dict[str, list[int]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    free_text: list[FreeTextHit] = field(default_factory=list)
    possible: list[PossibleMatch] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.rows or self.free_text)

    def row_count(self) -> int:
        return sum(len(v) for v in self.rows.values())


@dataclass(frozen=True)
class SearchSpace:
    links: list[LinkSpec]
    free_text: list[tuple[str, str]]
    skipped: list[str] = field(default_factory=list)

    def tables(self) -> list[str]:
        return [link.table for link in self.links] + [table for table, _ in self.free_text]


def search_space(
    ws: Workspace, links: Iterable[LinkSpec], free_text: Iterable[tuple[str, str]]
) -> SearchSpace:
    """Keep the links and free-text columns that exist in the workspace; say what was skipped."""
    tables = set(ws.user_tables())
    types = {t: {c.name: c.type for c in ws.columns(t)} for t in tables}
    columns = {t: set(types[t]) for t in tables}
    kept, texts, skipped = [], [], []
    for link in links:
        if link.table not in tables:
            skipped.append(f"table {link.table} is not loaded")
        elif link.column not in columns[link.table]:
            skipped.append(f"{link.table}.{link.column} does not exist")
        elif types[link.table][link.column].endswith("[]"):
            kept.append(dataclasses.replace(link, list_column=True))
        elif types[link.table][link.column].startswith(("STRUCT", "MAP", "BLOB")):
            skipped.append(f"{link.table}.{link.column} is not a text or list column")
        else:
            kept.append(link)
    for table, column in free_text:
        if table in tables and column in columns[table]:
            texts.append((table, column))
    return SearchSpace(kept, sorted(set(texts)), sorted(set(skipped)))


def input_normalization(space: SearchSpace, kind: str) -> str:
    for link in space.links:
        if link.kind == kind:
            return link.normalize
    return default_normalization(kind)


def find_subjects(
    ws: Workspace,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    names: bool = True,
) -> dict[str, SubjectMatch]:
    """Resolve every request ({request id: {kind: [values]}}) in one set-based pass
    (live PostgreSQL tables are read once, into a temporary copy, for the pass)."""
    with live.snapshots(ws.con, space.tables()):
        return _find_subjects(ws, space, requests, names=names)


def _find_subjects(
    ws: Workspace,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    names: bool,
) -> dict[str, SubjectMatch]:
    con = ws.con
    known_kinds = {link.kind for link in space.links} | {"name"}
    for req, idents in requests.items():
        for kind in idents:
            if kind not in known_kinds:
                raise UsageError(
                    f"request {req}: no table declares a {kind!r} identity link",
                    hint="identity links are declared under `subjects` in the policy",
                )
    _seed(con, space, requests)
    _close(con, space)
    results = {req: SubjectMatch(req) for req in requests}
    for req, tbl, rid in con.execute(
        "SELECT DISTINCT req, tbl, rid FROM _hits ORDER BY req, tbl, rid"
    ).fetchall():
        results[req].rows.setdefault(tbl, []).append(int(rid))
    for req, kind, key in con.execute("SELECT req, kind, key FROM _keys").fetchall():
        results[req].keys.setdefault(kind, set()).add(key)
    linked = {(r, t, rid) for r, m in results.items() for t, rids in m.rows.items() for rid in rids}
    for hit_req, hit in _free_text(con, space, with_names=names and len(requests) <= 200):
        if hit.kinds == {"name"} and (hit_req, hit.table, hit.rowid) not in linked:
            # a full name alone may be a namesake: a human decides
            results[hit_req].possible.append(
                PossibleMatch(
                    hit.table,
                    hit.rowid,
                    hit.column,
                    1.0,
                    "the text names the person; no identifier confirms it",
                )
            )
            continue
        results[hit_req].free_text.append(hit)
    for req, tbl, rid, via in con.execute(
        "SELECT DISTINCT req, tbl, rid, via FROM _conflicts ORDER BY ALL"
    ).fetchall():
        results[req].possible.append(
            PossibleMatch(
                tbl,
                int(rid),
                via,
                1.0,
                f"shares a {via.replace('_', ' ')} with the person but belongs to "
                "another customer id",
            )
        )
    if names:
        for req, possible in _possible(con, space):
            results[req].possible.append(possible)
    return results


def _seed(
    con: duckdb.DuckDBPyConnection,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
) -> None:
    reqs: list[str] = []
    kinds: list[str] = []
    values: list[str] = []
    for req, idents in requests.items():
        for kind, vals in idents.items():
            for value in vals:
                reqs.append(req)
                kinds.append(kind)
                values.append(value)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _in AS "
        "SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS req, "
        "UNNEST(CAST(?::JSON AS VARCHAR[])) AS kind, UNNEST(CAST(?::JSON AS VARCHAR[])) AS v",
        [json_list(reqs), json_list(kinds), json_list(values)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _keys (req VARCHAR, kind VARCHAR, key VARCHAR, cc VARCHAR)"
    )
    for kind in sorted(set(kinds)):
        norm = input_normalization(space, kind)
        key = key_sql("v", norm)
        cc = country_sql("v") if norm == "e164" else "NULL"
        con.execute(
            f"INSERT INTO _keys SELECT DISTINCT req, kind, {key}, {cc} FROM _in "
            f"WHERE kind = ? AND {key} IS NOT NULL",
            [kind],
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hits (req VARCHAR, tbl VARCHAR, rid BIGINT, via VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _conflicts (req VARCHAR, tbl VARCHAR, rid BIGINT, "
        "via VARCHAR)"
    )


_SAME_COUNTRY = "(i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)"


def _like_escape(value: str) -> str:
    """A literal for ILIKE ... ESCAPE '\\': wildcards in the value match themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _usable(key: str, kind: str) -> str:
    """SQL: the key is long enough for its kind and not a placeholder such as 'guest'."""
    minimum = MIN_KEY_LENGTH.get(kind, DEFAULT_MIN_KEY_LENGTH)
    placeholders = ", ".join("'" + p.replace("'", "''") + "'" for p in PLACEHOLDERS)
    return (
        f"({key} IS NOT NULL AND length({key}) >= {minimum} "
        f"AND lower({key}) NOT IN ({placeholders}))"
    )


def _close(con: duckdb.DuckDBPyConnection, space: SearchSpace) -> None:
    """Follow certain identifiers until no new row or key turns up.

    Each round indexes only candidate rows: a cheap expression over the whole column is
    matched against the new keys, and the exact key is computed on the few rows that pass.
    The same statements serve one request or a thousand. Phone keys carry their country
    code when known (explicit prefix, region column or default region), and numbers from
    different countries never match. A row reached only through a shareable identifier
    (phone, cookie, device, IP) that carries another customer id than the person's is
    not absorbed: it becomes a possible match for review.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _idx (tbl VARCHAR, rid BIGINT, kind VARCHAR, key VARCHAR, "
        "cc VARCHAR)"
    )
    con.execute("ALTER TABLE _keys ADD COLUMN probed BOOLEAN DEFAULT false")
    expanding = sorted(EXPANDING)
    weak = sorted(WEAK)
    certain = [link for link in space.links if link.kind != "name"]
    anchors = [link for link in certain if link.kind == ANCHOR]
    for _ in range(MAX_ROUNDS):
        fresh = {
            r[0] for r in con.execute("SELECT DISTINCT kind FROM _keys WHERE NOT probed").fetchall()
        }
        for link in certain:
            if link.kind not in fresh:
                continue
            cheap, probe = probe_sql("v", link.normalize)
            probes = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {probe} FROM _keys WHERE kind = ? AND NOT probed",
                    [link.kind],
                ).fetchall()
            ]
            # A few keys: a substring test on the raw value (much cheaper than normalising
            # every row; the exact key is computed on the candidates below). Many keys: a
            # semi-join on the normalised probe.
            params: list[Any]
            if len(probes) <= 64 and link.normalize in ("email", "trim", "none"):
                where = " OR ".join(["v ILIKE ? ESCAPE '\\'"] * len(probes))
                params = [f"%{_like_escape(p)}%" for p in probes]
            elif len(probes) <= 64:
                where = f"{cheap} IN ({', '.join('?' * len(probes))})"
                params = list(probes)
            else:
                where = f"{cheap} IN (SELECT {probe} FROM _keys WHERE kind = ? AND NOT probed)"
                params = [link.kind]
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _cand AS SELECT rid, v, rg "
                f"FROM {link.source_sql()} WHERE {where or 'false'}",
                params,
            )
            key = key_sql("v", link.normalize)
            con.execute(
                f"INSERT INTO _idx SELECT ?, rid, ?, k, cc FROM (SELECT rid, {key} AS k, "
                f"{link.country_sql('v', 'rg')} AS cc FROM _cand) WHERE {_usable('k', link.kind)} "
                "EXCEPT SELECT tbl, rid, kind, key, cc FROM _idx",
                [link.table, link.kind],
            )
        con.execute("UPDATE _keys SET probed = true")
        con.execute(
            "INSERT INTO _hits SELECT DISTINCT k.req, i.tbl, i.rid, k.kind FROM _keys k "
            f"JOIN _idx i ON i.kind = k.kind AND i.key = k.key AND {_SAME_COUNTRY} "
            "WHERE NOT (list_contains(?, k.kind) AND EXISTS (SELECT 1 FROM _conflicts c "
            "WHERE c.req = k.req AND c.tbl = i.tbl AND c.rid = i.rid)) "
            "EXCEPT SELECT req, tbl, rid, via FROM _hits",
            [weak],
        )
        for link in anchors:
            _set_aside_other_customers(con, link, weak)
        # every certain identifier of every row found becomes a key to search for
        added = 0
        for link in certain:
            if link.kind not in expanding:
                continue
            key = key_sql("s.v", link.normalize)
            cc = link.country_sql("s.v", "s.rg")
            row = con.execute(
                f"INSERT INTO _keys (req, kind, key, cc) SELECT DISTINCT h.req, ?, {key}, {cc} "
                f"FROM _hits h JOIN {link.source_sql()} s ON s.rid = h.rid "
                f"WHERE h.tbl = ? AND {_usable(key, link.kind)} "
                "EXCEPT SELECT req, kind, key, cc FROM _keys",
                [link.kind, link.table],
            ).fetchone()
            added += int(row[0]) if row else 0
        if not added:
            break
    _subject_names(con, space)


def _set_aside_other_customers(
    con: duckdb.DuckDBPyConnection, link: LinkSpec, weak: list[str]
) -> None:
    """Rows reached only through shareable identifiers but carrying a customer id the
    person does not have belong to someone else (a household phone, a shared device)."""
    if link.list_column:  # a row listing several customer ids is no evidence either way
        return
    cid = key_sql(link.value_sql("t."), link.normalize)
    con.execute(
        f"""INSERT INTO _conflicts
        SELECT h.req, h.tbl, h.rid, min(h.via) FROM _hits h
        JOIN {relation(link.table)} t ON t.rowid = h.rid
        WHERE h.tbl = ? AND {cid} IS NOT NULL
          AND EXISTS (SELECT 1 FROM _keys k WHERE k.req = h.req AND k.kind = ?)
          AND NOT EXISTS (SELECT 1 FROM _keys k WHERE k.req = h.req AND k.kind = ?
                          AND k.key = {cid})
        GROUP BY h.req, h.tbl, h.rid
        HAVING bool_and(list_contains(?, h.via))""",
        [link.table, ANCHOR, ANCHOR, weak],
    )
    con.execute(
        "DELETE FROM _hits WHERE tbl = ? AND EXISTS (SELECT 1 FROM _conflicts c "
        "WHERE c.req = _hits.req AND c.tbl = _hits.tbl AND c.rid = _hits.rid)",
        [link.table],
    )


def _subject_names(con: duckdb.DuckDBPyConnection, space: SearchSpace) -> None:
    """Names on the rows found become name keys (for free text and possible matches)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rawnames (raw VARCHAR)")
    for link in space.links:
        if link.kind == "name":
            con.execute(
                f"INSERT INTO _rawnames SELECT DISTINCT lower(CAST(t.{quote_ident(link.column)} "
                f"AS VARCHAR)) FROM _hits h JOIN {relation(link.table)} t "
                "ON t.rowid = h.rid WHERE h.tbl = ?",
                [link.table],
            )
    for link in space.links:
        if link.kind != "name":
            continue
        key = key_sql(f"t.{quote_ident(link.column)}", link.normalize)
        con.execute(
            f"INSERT INTO _keys (req, kind, key) SELECT DISTINCT h.req, 'name', {key} "
            f"FROM _hits h JOIN {relation(link.table)} t ON t.rowid = h.rid "
            f"WHERE h.tbl = ? AND {key} IS NOT NULL "
            "EXCEPT SELECT req, kind, key FROM _keys",
            [link.table],
        )


_EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_IBAN_RE = r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
_TOKEN_RE = r"[A-Za-z0-9][A-Za-z0-9.\-/]{3,}[A-Za-z0-9]"


def _free_text(
    con: duckdb.DuckDBPyConnection, space: SearchSpace, *, with_names: bool
) -> list[tuple[str, FreeTextHit]]:
    """Mentions of each request's keys inside free text, with the exact fragments."""
    hits: dict[tuple[str, str, str, int], FreeTextHit] = {}
    id_kinds = ["customer_id", "account_id", "national_id", "tax_id", "iban"]
    keys = con.execute(
        "SELECT DISTINCT kind, key FROM _keys WHERE kind <> 'name' OR contains(key, ' ')"
    ).fetchall()
    if not keys:
        return []
    few = len(keys) <= 60
    for table, column in space.free_text:
        col = quote_ident(column)
        source = relation(table)
        prefilter, pre_params = _text_prefilter(col, keys)
        text = f"CAST({col} AS VARCHAR)"
        phone_match = (
            # a few people: the number may run into a neighbouring one ("612 345 678 2 times")
            "length(k.key) >= 7 AND contains(regexp_replace(keyed.x, '[^0-9]', '', 'g'), k.key)"
            if few
            else "k.key = keyed.key"
        )
        extractors = [
            (f"regexp_extract_all({text}, '{_EMAIL_RE}')", key_sql("x", "email"), "NULL",
             ["email"], "k.key = keyed.key"),
            (f"regexp_extract_all({text}, '(?:\\+|00)?[0-9][0-9 .\\-()]{{6,}}[0-9]')",
             key_sql("x", "e164"), country_sql("x"), ["phone"], phone_match),
            (f"regexp_extract_all({text}, '{_IBAN_RE}')", key_sql("x", "compact"), "NULL",
             ["iban"], "k.key = keyed.key"),
            (f"regexp_extract_all({text}, '{_TOKEN_RE}')", key_sql("x", "compact"), "NULL",
             id_kinds, "k.key = keyed.key"),
            (f"regexp_extract_all({text}, '{_TOKEN_RE}')", key_sql("x", "trim"), "NULL",
             id_kinds, "k.key = keyed.key"),
        ]  # fmt: skip
        for extract, key, cc, kinds, match in extractors:
            rows = con.execute(
                f"WITH frag AS (SELECT rowid AS rid, unnest({extract}) AS x FROM {source} "
                f"WHERE {col} IS NOT NULL AND {prefilter}), "
                f"keyed AS (SELECT rid, x, {key} AS key, {cc} AS cc FROM frag) "
                "SELECT k.req, keyed.rid, k.kind, keyed.x FROM keyed JOIN _keys k "
                f"ON {match} AND (k.cc IS NULL OR keyed.cc IS NULL OR k.cc = keyed.cc) "
                "WHERE list_contains(?, k.kind)",
                [*pre_params, kinds],
            ).fetchall()
            for req, rid, kind, fragment in rows:
                hit = hits.setdefault(
                    (req, table, column, int(rid)), FreeTextHit(table, column, int(rid))
                )
                hit.kinds.add(kind)
                hit.fragments.add(fragment)
        if with_names:
            _name_mentions(con, table, column, hits)
    return [(req, hit) for (req, *_), hit in sorted(hits.items(), key=lambda kv: kv[0])]


def _name_mentions(
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    hits: dict[tuple[str, str, str, int], FreeTextHit],
) -> None:
    """Full names (two words or more) as whole words of the text, accents and case aside."""
    words = "regexp_replace(strip_accents(lower({})), '[^\\pL\\pN]+', ' ', 'g')"
    text = f"CAST(t.{quote_ident(column)} AS VARCHAR)"
    # a few people: only texts holding one of their surnames (as typed, or without accents)
    surnames = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT regexp_extract(n, '(\\S+)$', 1) FROM (SELECT key AS n FROM _keys "
            "WHERE kind = 'name' AND contains(key, ' ') UNION ALL SELECT raw FROM _rawnames) "
            "WHERE n IS NOT NULL"
        ).fetchall()
        if r[0]
    ]
    prefilter, params = "true", []
    if 0 < len(surnames) <= 60:
        prefilter = "(" + " OR ".join(["contains(lower(" + text + "), ?)"] * len(surnames)) + ")"
        params = surnames
    rows = con.execute(
        f"SELECT k.req, t.rowid, k.key, {text} FROM {relation(table)} t JOIN _keys k "
        "ON k.kind = 'name' AND contains(k.key, ' ') "
        f"AND contains(' ' || {words.format(text)} || ' ', ' ' || {words.format('k.key')} || ' ') "
        f"WHERE {prefilter}",
        params,
    ).fetchall()
    for req, rid, name, value in rows:
        hit = hits.setdefault((req, table, column, int(rid)), FreeTextHit(table, column, int(rid)))
        hit.kinds.add("name")
        hit.fragments.update(_name_fragments(value or "", name))


def _text_prefilter(col: str, keys: list[tuple[str, str]]) -> tuple[str, list[Any]]:
    """For a few keys, a cheap test that a text can mention one of them; else no filter."""
    if len(keys) > 60:
        return "true", []
    text = f"CAST({col} AS VARCHAR)"
    tests: list[str] = []
    params: list[Any] = []
    for kind, key in keys:
        if kind == "phone":
            tests.append(f"contains({strip_separators(text)}, ?)")
        elif kind in ("national_id", "tax_id", "iban"):
            tests.append(f"contains(upper({strip_separators(text)}), ?)")
        elif kind == "name":
            tests.append(f"contains(strip_accents(lower({text})), ?)")
        else:
            tests.append(f"contains(lower({text}), lower(?))")
        params.append(key)
    return "(" + " OR ".join(tests) + ")", params


def _name_fragments(text: str, name_key: str) -> list[str]:
    """The spans of `text` that spell the name (case and accents aside)."""
    import unicodedata

    def fold(s: str) -> str:
        return "".join(
            c for c in unicodedata.normalize("NFKD", s.lower()) if not unicodedata.combining(c)
        )

    folded_chars: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        for f in fold(ch):
            folded_chars.append((f, i))
    folded = "".join(c for c, _ in folded_chars)
    out = []
    start = folded.find(name_key)
    while start >= 0:
        end = start + len(name_key) - 1
        out.append(text[folded_chars[start][1] : folded_chars[end][1] + 1])
        start = folded.find(name_key, start + 1)
    return out


MAX_POSSIBLE_PER_REQUEST = 25


def _possible(
    con: duckdb.DuckDBPyConnection, space: SearchSpace
) -> list[tuple[str, PossibleMatch]]:
    """Rows with a similar name that no certain identifier links to the person.

    Candidates share a name token with one of the person's names (the rows found give
    those names). Pairs are compared when they share the last token, or the first token
    and the first two letters of the last (a common first name alone would pair a whole
    batch with half the table); a misspelling in one token is still found through the
    other. Pairs are scored with Jaro-Winkler.
    """
    columns = {link.table: link for link in space.links if link.kind == "name"}
    if not columns:
        return []
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _nkeys AS SELECT DISTINCT req, key, "
        "split_part(key, ' ', 1) AS f, regexp_extract(key, '(\\S+)$', 1) AS l "
        "FROM _keys WHERE kind = 'name'"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ntok AS SELECT DISTINCT tok FROM "
        "(SELECT unnest(string_split(key, ' ')) AS tok FROM _keys WHERE kind = 'name' "
        "UNION ALL SELECT unnest(string_split(raw, ' ')) FROM _rawnames) "
        "WHERE length(tok) >= 3"
    )
    tokens = [r[0] for r in con.execute("SELECT tok FROM _ntok ORDER BY tok").fetchall()]
    if not tokens:
        return []
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _nidx (tbl VARCHAR, rid BIGINT, key VARCHAR, "
        "f VARCHAR, l VARCHAR)"
    )
    for table, link in columns.items():
        col = f"CAST({quote_ident(link.column)} AS VARCHAR)"
        if len(tokens) <= 40:  # a few people: cheap substring tests, no per-row split
            where = " OR ".join(["contains(lower(raw), ?)"] * len(tokens))
            params: list[Any] = [table, *tokens]
        else:  # a batch: split every name once and join on the tokens
            where = (
                "list_has_any(list_transform(string_split(lower(raw), ' '), "
                "lambda x: strip_accents(x)), (SELECT list(tok) FROM _ntok))"
            )
            params = [table]
        key = key_sql("raw", link.normalize)
        con.execute(
            f"INSERT INTO _nidx SELECT ?, rid, k, split_part(k, ' ', 1), "
            f"regexp_extract(k, '(\\S+)$', 1) FROM (SELECT rid, {key} AS k FROM "
            f"(SELECT rowid AS rid, {col} AS raw FROM {relation(table)}) WHERE {where}) "
            "WHERE k IS NOT NULL",
            params,
        )
    rows = con.execute(
        "WITH cand AS ("
        "  SELECT k.req, i.tbl, i.rid, i.key AS ik, k.key AS kk FROM _nidx i "
        "  JOIN _nkeys k ON i.f = k.f AND left(i.l, 2) = left(k.l, 2) "
        "  UNION "
        "  SELECT k.req, i.tbl, i.rid, i.key, k.key FROM _nidx i JOIN _nkeys k ON i.l = k.l"
        "), scored AS ("
        "  SELECT req, tbl, rid, max(jaro_winkler_similarity(ik, kk)) AS sim FROM cand "
        "  WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = cand.req AND h.tbl = cand.tbl "
        "  AND h.rid = cand.rid) GROUP BY req, tbl, rid"
        ") SELECT req, tbl, rid, sim FROM scored WHERE sim >= ? "
        "QUALIFY row_number() OVER (PARTITION BY req ORDER BY sim DESC, tbl, rid) <= ? "
        "ORDER BY req, tbl, rid",
        [NAME_SIMILARITY, MAX_POSSIBLE_PER_REQUEST],
    ).fetchall()
    out: list[tuple[str, PossibleMatch]] = []
    for req, table, rid, sim in rows:
        reason = (
            "same name, but no identifier links this row to the person"
            if sim >= 0.999
            else f"similar name (similarity {sim:.2f}), no identifier in common"
        )
        out.append((req, PossibleMatch(table, int(rid), columns[table].column, float(sim), reason)))
    return out


def rows_by_table(
    ws: Workspace, table: str, rowids: Sequence[int]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The full rows (every column) with these rowids."""
    cur = ws.con.execute(
        f"SELECT {star(table)} FROM {relation(table)} WHERE rowid IN "
        "(SELECT UNNEST(CAST(?::JSON AS BIGINT[]))) ORDER BY rowid",
        [json_list(rowids)],
    )
    cols = [d[0] for d in cur.description]
    return cols, [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
