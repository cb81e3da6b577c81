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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from tutela.errors import UsageError
from tutela.subjects.normalize import (
    EXPANDING,
    MIN_KEY_LENGTH,
    default_normalization,
    key_sql,
)
from tutela.workspace import Workspace, quote_ident, table_ident

MAX_ROUNDS = 10
NAME_SIMILARITY = 0.88


@dataclass(frozen=True)
class LinkSpec:
    """A column that identifies the subject, and how its values are normalised."""

    table: str
    column: str
    kind: str
    normalize: str


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


def search_space(
    ws: Workspace, links: Iterable[LinkSpec], free_text: Iterable[tuple[str, str]]
) -> SearchSpace:
    """Keep the links and free-text columns that exist in the workspace; say what was skipped."""
    tables = set(ws.user_tables())
    columns = {t: {c.name for c in ws.columns(t)} for t in tables}
    kept, texts, skipped = [], [], []
    for link in links:
        if link.table not in tables:
            skipped.append(f"table {link.table} is not loaded")
        elif link.column not in columns[link.table]:
            skipped.append(f"{link.table}.{link.column} does not exist")
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
    """Resolve every request ({request id: {kind: [values]}}) in one set-based pass."""
    con = ws.con
    known_kinds = {link.kind for link in space.links} | {"name"}
    for req, idents in requests.items():
        for kind in idents:
            if kind not in known_kinds:
                raise UsageError(
                    f"request {req}: no table declares a {kind!r} identity link",
                    hint="identity links are declared under `subjects` in the policy",
                )
    _index(con, space)
    _seed(con, space, requests)
    _close(con)
    results = {req: SubjectMatch(req) for req in requests}
    for req, tbl, rid in con.execute(
        "SELECT req, tbl, rid FROM _hits ORDER BY req, tbl, rid"
    ).fetchall():
        results[req].rows.setdefault(tbl, []).append(int(rid))
    for req, kind, key in con.execute("SELECT req, kind, key FROM _keys").fetchall():
        results[req].keys.setdefault(kind, set()).add(key)
    for hit_req, hit in _free_text(con, space, with_names=names and len(requests) <= 200):
        results[hit_req].free_text.append(hit)
    if names:
        for req, possible in _possible(con, space):
            results[req].possible.append(possible)
    return results


def _index(con: duckdb.DuckDBPyConnection, space: SearchSpace) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _idx (tbl VARCHAR, rid BIGINT, kind VARCHAR, key VARCHAR)"
    )
    for link in space.links:
        key = key_sql(quote_ident(link.column), link.normalize)
        min_len = MIN_KEY_LENGTH.get(link.kind, 1)
        con.execute(
            f"INSERT INTO _idx SELECT ?, rowid, ?, k FROM (SELECT rowid, {key} AS k "
            f"FROM {table_ident(link.table)}) WHERE k IS NOT NULL AND length(k) >= ?",
            [link.table, link.kind, min_len],
        )


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
        "SELECT UNNEST(?::VARCHAR[]) AS req, UNNEST(?::VARCHAR[]) AS kind, "
        "UNNEST(?::VARCHAR[]) AS v",
        [reqs, kinds, values],
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _keys (req VARCHAR, kind VARCHAR, key VARCHAR)")
    for kind in sorted(set(kinds)):
        key = key_sql("v", input_normalization(space, kind))
        con.execute(
            f"INSERT INTO _keys SELECT DISTINCT req, kind, {key} FROM _in "
            f"WHERE kind = ? AND {key} IS NOT NULL",
            [kind],
        )
    con.execute("CREATE OR REPLACE TEMP TABLE _hits (req VARCHAR, tbl VARCHAR, rid BIGINT)")


def _close(con: duckdb.DuckDBPyConnection) -> None:
    """Follow certain identifiers until no new row or key turns up."""
    expanding = sorted(EXPANDING)
    for _ in range(MAX_ROUNDS):
        con.execute(
            "INSERT INTO _hits SELECT DISTINCT k.req, i.tbl, i.rid FROM _keys k "
            "JOIN _idx i ON i.kind = k.kind AND i.key = k.key "
            "WHERE k.kind <> 'name' "
            "EXCEPT SELECT req, tbl, rid FROM _hits"
        )
        added = con.execute(
            "INSERT INTO _keys SELECT DISTINCT h.req, i.kind, i.key FROM _hits h "
            "JOIN _idx i ON i.tbl = h.tbl AND i.rid = h.rid "
            "WHERE list_contains(?, i.kind) OR i.kind = 'name' "
            "EXCEPT SELECT req, kind, key FROM _keys",
            [expanding],
        ).fetchone()
        if not added or not added[0]:
            return


_EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_IBAN_RE = r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
_TOKEN_RE = r"[A-Za-z0-9][A-Za-z0-9.\-/]{3,}[A-Za-z0-9]"


def _free_text(
    con: duckdb.DuckDBPyConnection, space: SearchSpace, *, with_names: bool
) -> list[tuple[str, FreeTextHit]]:
    """Mentions of each request's keys inside free text, with the exact fragments."""
    hits: dict[tuple[str, str, str, int], FreeTextHit] = {}
    id_kinds = ["customer_id", "account_id", "national_id", "tax_id", "iban"]
    for table, column in space.free_text:
        col = quote_ident(column)
        source = table_ident(table)
        extractors = [
            (
                f"regexp_extract_all(CAST({col} AS VARCHAR), '{_EMAIL_RE}')",
                key_sql("x", "email"),
                ["email"],
            ),
            (
                f"regexp_extract_all(CAST({col} AS VARCHAR), '(?:\\+|00)?[0-9][0-9 .\\-()]{{6,}}"
                "[0-9]')",
                key_sql("x", "e164"),
                ["phone"],
            ),
            (
                f"regexp_extract_all(CAST({col} AS VARCHAR), '{_IBAN_RE}')",
                key_sql("x", "compact"),
                ["iban"],
            ),
            (
                f"regexp_extract_all(CAST({col} AS VARCHAR), '{_TOKEN_RE}')",
                key_sql("x", "compact"),
                id_kinds,
            ),
            (
                f"regexp_extract_all(CAST({col} AS VARCHAR), '{_TOKEN_RE}')",
                key_sql("x", "trim"),
                id_kinds,
            ),
        ]
        for extract, key, kinds in extractors:
            rows = con.execute(
                f"WITH frag AS (SELECT rowid AS rid, unnest({extract}) AS x FROM {source} "
                f"WHERE {col} IS NOT NULL), keyed AS (SELECT rid, x, {key} AS key FROM frag) "
                "SELECT k.req, keyed.rid, k.kind, keyed.x FROM keyed JOIN _keys k "
                "ON k.key = keyed.key WHERE list_contains(?, k.kind)",
                [kinds],
            ).fetchall()
            for req, rid, kind, fragment in rows:
                hit = hits.setdefault(
                    (req, table, column, int(rid)), FreeTextHit(table, column, int(rid))
                )
                hit.kinds.add(kind)
                hit.fragments.add(fragment)
        if with_names:
            rows = con.execute(
                f"SELECT k.req, t.rowid, k.key FROM {source} t JOIN _keys k "
                f"ON k.kind = 'name' AND contains(k.key, ' ') "
                f"AND contains(lower(strip_accents(CAST(t.{col} AS VARCHAR))), k.key)"
            ).fetchall()
            for req, rid, _name in rows:
                hit = hits.setdefault(
                    (req, table, column, int(rid)), FreeTextHit(table, column, int(rid))
                )
                hit.kinds.add("name")
                text = con.execute(
                    f"SELECT CAST({col} AS VARCHAR) FROM {source} WHERE rowid = ?", [rid]
                ).fetchone()
                if text and text[0]:
                    hit.fragments.update(_name_fragments(text[0], _name))
    return [(req, hit) for (req, *_), hit in sorted(hits.items(), key=lambda kv: kv[0])]


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

    Candidates share the first or the last name token exactly (blocking keeps a batch of
    a thousand requests from comparing every name with every row); a misspelling in one
    token is still found through the other.
    """
    columns = {link.table: link.column for link in space.links if link.kind == "name"}
    if not columns:
        return []
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _nidx AS SELECT tbl, rid, key, split_part(key, ' ', 1) AS f, "
        "regexp_extract(key, '(\\S+)$', 1) AS l FROM _idx WHERE kind = 'name'"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _nkeys AS SELECT DISTINCT req, key, "
        "split_part(key, ' ', 1) AS f, regexp_extract(key, '(\\S+)$', 1) AS l "
        "FROM _keys WHERE kind = 'name'"
    )
    rows = con.execute(
        "WITH cand AS ("
        "  SELECT k.req, i.tbl, i.rid, i.key AS ik, k.key AS kk FROM _nidx i "
        "  JOIN _nkeys k ON i.f = k.f "
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
        out.append((req, PossibleMatch(table, int(rid), columns[table], float(sim), reason)))
    return out


def rows_by_table(
    ws: Workspace, table: str, rowids: Sequence[int]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The full rows (every column) with these rowids."""
    cur = ws.con.execute(
        f"SELECT * FROM {table_ident(table)} WHERE rowid IN (SELECT UNNEST(?::BIGINT[])) "
        "ORDER BY rowid",
        [list(rowids)],
    )
    cols = [d[0] for d in cur.description]
    return cols, [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
