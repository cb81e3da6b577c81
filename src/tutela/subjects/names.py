"""Possible matches by name: rows that may be the person although no identifier links them.

A shared name alone is not evidence (a common name has dozens of namesakes in a large CRM),
so a row with a similar name becomes a possible match only when

- something corroborates it: the same birth date, postcode or city, or the same last four
  digits of a phone number (a birth date that differs rules the row out); or
- nothing else links it to anyone: it carries no unique identifier (customer id, national
  id...) of another person.

Blocking survives a typo anywhere in either name, swapped given and family names, merged or
split words and accents: a pair of names is compared when one word of one name equals a
word of the other and another word agrees on its first two letters, its last two, its first
and last letter, or its letters in any order; or when the names are equal without spaces.
Pairs are scored with Jaro-Winkler over the names as written, with their words sorted, and
without spaces (the best of the three).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tutela.base.normalize import (
    CORROBORATING,
    digits_sql,
    holds_digits,
    key_sql,
    placeholder_sql,
)
from tutela.engine import Connection
from tutela.subjects.index import index_link, usable
from tutela.subjects.links import LinkSpec, SearchSpace
from tutela.workspace import quote_ident

NAME_SIMILARITY = 0.88
"""Least similarity for a name alone (a row nothing else links to anyone)."""
CORROBORATED_SIMILARITY = 0.80
"""Least similarity when a birth date, postcode or partial phone agrees."""
WORD_SIMILARITY = 0.88
"""Least word-by-word similarity (benchmarks/names.py: removes 81 of 91 wrong listings)."""
MAX_POSSIBLE_PER_REQUEST = 25

_MACROS = [
    # the words of a name in order (list_distinct would not keep the order)
    "CREATE OR REPLACE TEMP MACRO _nwords(n) AS list_filter(string_split("
    "regexp_replace(n, '[^\\pL\\pN]+', ' ', 'g'), ' '), lambda w: length(w) >= 1)",
    "CREATE OR REPLACE TEMP MACRO _ntoks(n) AS list_distinct(list_filter(_nwords(n), "
    "lambda w: length(w) >= 2))",
    "CREATE OR REPLACE TEMP MACRO _sorted_letters(w) AS "
    "array_to_string(list_sort(string_split(w, '')), '')",
    # blocking keys: an exact word of 3+ letters paired with a fuzzy form of another word
    "CREATE OR REPLACE TEMP MACRO _nblock(n) AS list_concat("
    "flatten(list_transform(list_filter(_ntoks(n), lambda x: length(x) >= 3), lambda x: "
    "flatten(list_transform(list_filter(_ntoks(n), lambda y: y <> x), lambda y: ["
    "x || '|p' || left(y, 2), x || '|s' || right(y, 2), "
    "x || '|f' || left(y, 1) || right(y, 1), x || '|a' || _sorted_letters(y)])))), "
    "['m|' || array_to_string(_nwords(n), '')])",
    "CREATE OR REPLACE TEMP MACRO _nsim(a, b) AS greatest("
    "jaro_winkler_similarity(a, b), "
    "jaro_winkler_similarity(array_to_string(list_sort(_ntoks(a)), ' '), "
    "array_to_string(list_sort(_ntoks(b)), ' ')), "
    "jaro_winkler_similarity(array_to_string(_nwords(a), ''), "
    "array_to_string(_nwords(b), '')))",
    # word by word (Monge-Elkan): each word of the shorter name finds a close word in the
    # other; one shared word and a lookalike whole string is not the same name
    # two words: Jaro-Winkler, or a swap of two neighbouring letters, which Jaro-Winkler
    # scores low in short words (`Mas`/`Msa`: 0.56)
    "CREATE OR REPLACE TEMP MACRO _wsim(x, y) AS greatest(jaro_winkler_similarity(x, y), "
    "CASE WHEN length(x) >= 3 AND damerau_levenshtein(x, y) = 1 AND levenshtein(x, y) = 2 "
    f"THEN {WORD_SIMILARITY} ELSE 0.0 END)",
    "CREATE OR REPLACE TEMP MACRO _nwordsim(a, b) AS CASE "
    "WHEN array_to_string(_nwords(a), '') = array_to_string(_nwords(b), '') THEN 1.0 "
    "WHEN len(_ntoks(a)) <= len(_ntoks(b)) THEN list_avg(list_transform(_ntoks(a), "
    "lambda x: list_max(list_transform(_ntoks(b), lambda y: _wsim(x, y))))) "
    "ELSE list_avg(list_transform(_ntoks(b), lambda x: list_max(list_transform(_ntoks(a), "
    "lambda y: _wsim(x, y))))) END",
    f"CREATE OR REPLACE TEMP MACRO _nscore(a, b) AS CASE WHEN _nwordsim(a, b) >= {WORD_SIMILARITY} "
    "THEN _nsim(a, b) ELSE 0.0 END",
]


@dataclass
class NameCandidate:
    request: str
    table: str
    rowid: int
    column: str
    similarity: float
    evidence: list[str] = field(default_factory=list)
    linked: bool = False


def name_candidates(
    con: Connection,
    space: SearchSpace,
    *,
    unique_kinds: Sequence[str],
) -> list[NameCandidate]:
    """Possible matches by name for every request, from the names in `_keys` (kind 'name':
    the names on the person's certain rows and any name the requester gave) and the
    corroborating attributes in `_corr`. Certain rows (`_hits`) are never candidates."""
    name_links = [link for link in space.links if link.kind == "name" and not link.attribute_only]
    if not name_links:
        return []
    for sql in _MACROS:
        con.execute(sql)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _qnames AS SELECT DISTINCT req, key AS n FROM _keys "
        "WHERE kind = 'name' AND key IS NOT NULL"
    )
    if not con.execute("SELECT count(*) FROM _qnames").fetchone()[0]:  # type: ignore[index]
        return []
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _qblock AS SELECT DISTINCT req, n, unnest(_nblock(n)) "
        "AS b FROM _qnames"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _qtok AS SELECT DISTINCT unnest(list_filter(_ntoks(n), "
        "lambda w: length(w) >= 3)) AS tok FROM _qnames"
    )
    tokens = [r[0] for r in con.execute("SELECT tok FROM _qtok ORDER BY tok").fetchall()]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ncand (req VARCHAR, tbl VARCHAR, rid BIGINT, "
        "col VARCHAR, sim DOUBLE)"
    )
    # The names to score are gathered first, link by link, and scored together at the end
    # (`_score_gathered`): the scoring expression is large, and bound once per search
    # rather than once per link. `_nrows`: rows of any request, scored against every name
    # of every request sharing a blocking key; `_npairs`: rows picked for one request.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _nrows (tbl VARCHAR, rid BIGINT, col VARCHAR, n VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _npairs (req VARCHAR, tbl VARCHAR, rid BIGINT, "
        "col VARCHAR, n VARCHAR)"
    )
    for link in name_links:
        key = link.key_sql("v")
        if len(tokens) <= 40:  # a few people: rows holding one of their words, cheaply
            where = " OR ".join(["contains(lower(strip_accents(v)), ?)"] * len(tokens))
            params: list[object] = list(tokens)
        else:
            where = "list_has_any(_ntoks(lower(strip_accents(v))), (SELECT list(tok) FROM _qtok))"
            params = []
        # by name alone, only rows no unique identifier ties to a known person qualify
        # (those need corroboration, found below): skip the others before blocking
        anchors = [
            f"coalesce(trim(CAST({quote_ident(other.column)} AS VARCHAR)), '') = ''"
            for other in space.links
            if other.table == link.table
            and other.is_unique
            and other.matches
            and not other.list_column
        ]
        # names repeat (a large CRM holds many rows per common name): each distinct value is
        # normalised once, and its key joined back to its rows
        con.execute(
            f"""INSERT INTO _nrows
            WITH rows AS (
                SELECT rid, v FROM {link.source_sql(" AND ".join(anchors))} WHERE v IS NOT NULL
            ), names AS MATERIALIZED (
                SELECT v, {key} AS n FROM (SELECT DISTINCT v FROM rows)
                WHERE {where or "false"}
            )
            SELECT ?, r.rid, ?, n.n FROM names n JOIN rows r ON r.v = n.v
            WHERE n.n IS NOT NULL""",
            [*params, link.table, link.column],
        )
        if anchors:  # rows of known people: the very same name (any order) is scored too,
            # so a birth date typed one digit off can still corroborate it
            con.execute(
                f"""INSERT INTO _ncand
                WITH rows AS (
                    SELECT rid, v FROM {link.source_sql()} WHERE v IS NOT NULL
                ), names AS MATERIALIZED (
                    SELECT v, {key} AS n FROM (SELECT DISTINCT v FROM rows)
                    WHERE {where or "false"}
                ), same AS (
                    SELECT q.req, n.v FROM names n JOIN _qnames q
                      ON list_sort(_ntoks(q.n)) = list_sort(_ntoks(n.n))
                )
                SELECT s.req, ?, r.rid, ?, 1.0 FROM same s JOIN rows r ON r.v = s.v
                WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = s.req AND h.tbl = ?
                                  AND h.rid = r.rid)""",
                [*params, link.table, link.column, link.table],
            )
    _partial_phone_candidates(con, space, name_links)
    _corroborated_candidates(con, space, name_links)
    _score_gathered(con)
    rows = con.execute(
        "SELECT req, tbl, rid, col, max(sim) FROM _ncand "
        f"WHERE sim >= {CORROBORATED_SIMILARITY} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    candidates = [NameCandidate(r[0], r[1], int(r[2]), r[3], float(r[4])) for r in rows]
    if not candidates:
        return []
    _add_evidence(con, space, candidates, unique_kinds)
    kept: list[NameCandidate] = []
    for c in candidates:
        if "birth date differs" in c.evidence:
            continue  # a different birth date: another person of the same name
        agrees = [e for e in c.evidence if e.endswith(" matches") or e.startswith("same ")]
        nearly = any(e.startswith("birth date nearly") for e in c.evidence)
        corroborated = (bool(agrees) and c.similarity >= CORROBORATED_SIMILARITY) or (
            nearly and c.similarity >= NAME_SIMILARITY
        )
        if corroborated or (not c.linked and c.similarity >= NAME_SIMILARITY):
            kept.append(c)
    kept.sort(key=lambda c: (c.request, -c.similarity - 0.05 * len(c.evidence), c.table, c.rowid))
    out: list[NameCandidate] = []
    count: dict[str, int] = {}
    for c in kept:
        count[c.request] = count.get(c.request, 0) + 1
        if count[c.request] <= MAX_POSSIBLE_PER_REQUEST:
            out.append(c)
    return out


def _corroborated_candidates(
    con: Connection, space: SearchSpace, name_links: list[LinkSpec]
) -> None:
    """Rows of a table holding a name link that share a birth date, postcode or city with
    the person: the name is then scored even if no word of it agrees exactly."""
    by_table = {link.table: link for link in name_links}
    for link in space.links:
        # a city is shared by too many people to look for namesakes in; it only scores
        if link.kind not in ("birth_date", "postcode") or link.table not in by_table:
            continue
        name = by_table[link.table]
        key = link.key_sql("v")
        picked = (
            f"SELECT DISTINCT c.req, s.rid FROM (SELECT rid, {key} AS k FROM "
            f"{link.source_sql()}) s JOIN _corr c ON c.kind = ? AND c.key = s.k"
        )
        _score_names(con, space, name, picked, [link.kind])


def _partial_phone_candidates(
    con: Connection, space: SearchSpace, name_links: list[LinkSpec]
) -> None:
    """Rows of a table holding a name link whose phone ends in the same four digits as one
    of the person's own numbers: the name is then scored too."""
    by_table = {link.table: link for link in name_links}
    ends = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT right(key, 4) FROM _tkeys WHERE kind = 'phone' AND length(key) >= 7"
        ).fetchall()
    ]
    if not ends:
        return
    for link in space.links:
        if link.kind != "phone" or link.table not in by_table:
            continue
        name = by_table[link.table]
        if len(ends) <= 64:  # a cheap test first; a large batch joins the endings instead
            # the value's digits hold an ending, whatever stands between them ("612 345
            # 6+78", a no-break space): a superset of the rows whose key ends with it
            cheap, pattern = holds_digits("v", ends, anything_between=True)
            probes = [pattern]
        else:  # the digits end as the key does (a superset: the key is computed next)
            cheap = (
                f"right({digits_sql('v')}, 4) IN (SELECT right(key, 4) FROM _tkeys "
                "WHERE kind = 'phone' AND length(key) >= 7)"
            )
            probes = []
        picked = (
            f"SELECT DISTINCT c.req, s.rid FROM (SELECT rid, right({link.key_sql('v')}, "
            f"4) AS k FROM {link.source_sql()} WHERE {cheap}) s JOIN _tkeys c "
            "ON c.kind = 'phone' AND length(c.key) >= 7 AND right(c.key, 4) = s.k"
        )
        _score_names(con, space, name, picked, probes)


def _score_names(
    con: Connection, space: SearchSpace, name: LinkSpec, picked: str, params: Sequence[object]
) -> None:
    """Gather the names of the rows `picked` (a SELECT of c.req, s.rid, with `params`) to be
    scored against the person's names (`_npairs`); rows already the person's are left out.
    The rows are picked first (MATERIALIZED), then only their names are normalised."""
    nkey = key_sql(name.value_sql("t."), name.normalize)
    con.execute(
        f"""INSERT INTO _npairs
        WITH s AS MATERIALIZED (
          {picked} WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = c.req
                AND h.tbl = ? AND h.rid = s.rid)
        ), t AS MATERIALIZED (
          SELECT rowid AS _nrid, {", ".join(quote_ident(c) for c in name.columns)}
          FROM {space.relation(name.table)}
          WHERE rowid IN (SELECT rid FROM s)
        )
        SELECT DISTINCT s.req, ?, s.rid, ?, {nkey} AS n FROM s JOIN t ON t._nrid = s.rid
        WHERE n IS NOT NULL""",
        [*params, name.table, name.table, name.column],
    )


def _score_gathered(con: Connection) -> None:
    """Score the gathered names into `_ncand`, each distinct name once: those of `_nrows`
    against every name of a request sharing a blocking key with it (rows already that
    person's left out), those of `_npairs` against every name of their request."""
    con.execute(
        """INSERT INTO _ncand
        WITH names AS (SELECT DISTINCT n FROM _nrows),
        blocks AS (SELECT n, unnest(_nblock(n)) AS b FROM names),
        scored AS (
            SELECT q.req, b.n, max(_nscore(q.n, b.n)) AS sim FROM blocks b
            JOIN _qblock q ON q.b = b.b GROUP BY q.req, b.n
        )
        SELECT s.req, r.tbl, r.rid, r.col, s.sim FROM scored s JOIN _nrows r ON r.n = s.n
        WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = s.req AND h.tbl = r.tbl
                          AND h.rid = r.rid)"""
    )
    con.execute(
        """INSERT INTO _ncand
        WITH pairs AS (SELECT DISTINCT req, n FROM _npairs),
        scored AS (
            SELECT p.req, p.n, max(_nscore(q.n, p.n)) AS sim FROM pairs p
            JOIN _qnames q ON q.req = p.req GROUP BY p.req, p.n
        )
        SELECT t.req, t.tbl, t.rid, t.col, s.sim FROM _npairs t
        JOIN scored s ON s.req = t.req AND s.n = t.n"""
    )


def _add_evidence(
    con: Connection,
    space: SearchSpace,
    candidates: list[NameCandidate],
    unique_kinds: Sequence[str],
) -> None:
    """What corroborates or contradicts each candidate, and whether it is someone known."""
    by_row = {(c.request, c.table, c.rowid): c for c in candidates}
    # the candidates are the rows of `_ncand` read above; their values are keyed below
    # (MATERIALIZED: only those rows, never the whole column)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ncands AS SELECT DISTINCT req, tbl, rid FROM _ncand "
        f"WHERE sim >= {CORROBORATED_SIMILARITY}"
    )
    tables = sorted({c.table for c in candidates})
    for table in tables:
        for link in space.links:
            if link.table != table:
                continue
            their_rows = link.source_sql("rowid IN (SELECT rid FROM _ncands WHERE tbl = $tbl)")
            if link.kind in CORROBORATING:
                key = link.key_sql("v")
                rows = con.execute(
                    f"WITH m AS MATERIALIZED (SELECT * FROM {their_rows}) "
                    f"SELECT s.rid, c.req, s.k, list(c.key) FROM "
                    f"(SELECT rid, {key} AS k FROM m) s "
                    "JOIN _ncands x ON x.tbl = $tbl AND x.rid = s.rid "
                    "JOIN _corr c ON c.kind = $kind AND c.req = x.req "
                    "WHERE s.k IS NOT NULL GROUP BY s.rid, c.req, s.k",
                    {"tbl": table, "kind": link.kind},
                ).fetchall()
                word = link.kind.replace("_", " ")
                for rid, req, value, mine in rows:
                    c = by_row.get((req, table, int(rid)))
                    if c is None:
                        continue
                    if value in mine:
                        note = f"{word} matches"
                    elif link.kind == "birth_date" and any(date_typo(value, m) for m in mine):
                        note = "birth date nearly matches (a typo?)"
                    else:
                        note = f"{word} differs"
                    if note not in c.evidence:
                        c.evidence.append(note)
            elif link.kind == "phone":
                key = link.key_sql("v")
                rows = con.execute(
                    f"WITH m AS MATERIALIZED (SELECT * FROM {their_rows}) "
                    f"SELECT s.rid, k.req, bool_or(k.key = s.k) FROM "
                    f"(SELECT rid, {key} AS k FROM m) s "
                    "JOIN _ncands x ON x.tbl = $tbl AND x.rid = s.rid "
                    "JOIN _tkeys k ON k.req = x.req AND k.kind = 'phone' "
                    "AND length(k.key) >= 7 AND right(k.key, 4) = right(s.k, 4) GROUP BY ALL",
                    {"tbl": table},
                ).fetchall()
                for rid, req, whole in rows:
                    c = by_row.get((req, table, int(rid)))
                    # the whole number (a shared one, not followed) or its last digits only
                    note = "same phone number" if whole else "same last 4 phone digits"
                    if c is not None and note not in c.evidence:
                        c.evidence.append(note)
            elif link.kind in unique_kinds:
                rows = con.execute(
                    f"SELECT DISTINCT rid FROM {their_rows} WHERE v IS NOT NULL AND trim(v) <> ''",
                    {"tbl": table},
                ).fetchall()
                linked = {int(r[0]) for r in rows}
                for c in candidates:
                    if c.table == table and c.rowid in linked:
                        c.linked = True
    _linked_elsewhere(con, space, [c for c in candidates if not c.linked])
    for c in candidates:
        if c.linked and not any(e.startswith("the row") for e in c.evidence):
            c.evidence.append("the row belongs to another known customer record")


def date_typo(a: str, b: str) -> bool:
    """Whether two dates (YYYY-MM-DD) differ as a typo would make them differ: day and month
    swapped, one day apart, or one digit wrong."""
    from datetime import date

    try:
        x, y = date.fromisoformat(a), date.fromisoformat(b)
    except ValueError:
        return False
    if x == y:
        return True
    if (x.year, x.month, x.day) == (y.year, y.day, y.month):
        return True
    if abs((x - y).days) == 1:
        return True
    return sum(p != q for p, q in zip(a.replace("-", ""), b.replace("-", ""), strict=True)) == 1


def _linked_elsewhere(con: Connection, space: SearchSpace, candidates: list[NameCandidate]) -> None:
    """Candidates whose own identifiers (e-mail, phone, IBAN, cookie...) other rows carry
    too are linked to someone: a name alone is then not enough (the identifier says who)."""
    if not candidates:
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ckeys (req VARCHAR, tbl VARCHAR, rid BIGINT, "
        "kind VARCHAR, key VARCHAR, cc VARCHAR, probed BOOLEAN DEFAULT false)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cidx (tbl VARCHAR, rid BIGINT, link INTEGER, "
        "kind VARCHAR, key VARCHAR, cc VARCHAR)"
    )
    by_table: dict[str, list[NameCandidate]] = {}
    for c in candidates:
        by_table.setdefault(c.table, []).append(c)
    kinds: set[str] = set()
    for table, items in by_table.items():
        for link in space.links:
            if link.table != table or not link.matches:
                continue
            key = link.key_sql("v")
            cc = link.country_sql("v", "rg")
            their_rows = link.source_sql("rowid IN (SELECT UNNEST($rids::BIGINT[]))")
            # the key written once (each copy of its expression is bound again)
            con.execute(
                f"INSERT INTO _ckeys (req, tbl, rid, kind, key, cc) "
                f"WITH m AS MATERIALIZED (SELECT rid, {key} AS k, {cc} AS cc "
                f"FROM {their_rows}) "
                f"SELECT c.req, $tbl, s.rid, $kind, s.k, s.cc FROM m s JOIN "
                "(SELECT UNNEST($reqs::VARCHAR[]) AS req, UNNEST($rids::BIGINT[]) AS rid) c "
                f"ON c.rid = s.rid WHERE {usable('s.k', link.kind)} "
                f"AND NOT {placeholder_sql('$kind', 's.k', space.placeholders)}",
                {
                    "tbl": table,
                    "kind": link.kind,
                    "reqs": [c.request for c in items],
                    "rids": [c.rowid for c in items],
                },
            )
            kinds.add(link.kind)
    for i, link in enumerate(space.links):
        if link.matches and link.kind in kinds:
            index_link(con, i, link, keys="_ckeys", target="_cidx")
    rows = con.execute(
        "SELECT DISTINCT c.req, c.tbl, c.rid FROM _ckeys c JOIN _cidx x ON x.kind = c.kind "
        "AND x.key = c.key AND (x.cc IS NULL OR c.cc IS NULL OR x.cc = c.cc) "
        "AND NOT (x.tbl = c.tbl AND x.rid = c.rid) "
        "WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = c.req AND h.tbl = x.tbl "
        "AND h.rid = x.rid)"
    ).fetchall()
    linked = {(r[0], r[1], int(r[2])) for r in rows}
    for c in candidates:
        if (c.request, c.table, c.rowid) in linked:
            c.linked = True
            c.evidence.append("the row's identifiers lead to someone else's records")
