"""Finding data subjects across every table, set-based: one request or a thousand in one pass.

1. The requester's identifiers are normalised (see `normalize`) into keys per kind.
2. The rows carrying a key are found over whole columns: a cheap probe over the column picks
   candidates, the exact key is computed on those only.
3. Every value reached is judged from the data (see `identity`): unique to one person,
   ambiguous (shared by people who can be told apart: a household landline, a family
   e-mail, a shared tablet) or a placeholder. A row reached through a unique value is
   certain; a row reached only through ambiguous values is a *possible match* with the
   reason; placeholders are reported and ignored.
4. Only certain rows give new keys, so the search never passes through a shared value: the
   CRM row gives the customer id and phone, the phone finds the call-centre tickets.
   Names and IP addresses never extend a match.
5. Free-text columns are searched for every unique key found and for the person's full
   names. Rows with a similar name are possible matches when corroborated or unlinked
   (see `names`). Decisions a reviewer recorded are applied last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from tutela.base.errors import UsageError
from tutela.base.normalize import (
    ANCHOR_KINDS,
    CORROBORATING,
    EXPANDING,
    country_sql,
    holds_digits,
    key_sql,
    nobody_sql,
    phone_key_sql,
    placeholder_sql,
    strip_separators,
)
from tutela.base.sql import sql_literal
from tutela.detect.mask import mask
from tutela.engine import Connection
from tutela.subjects import narrow
from tutela.subjects.identity import (
    AMBIGUOUS,
    LIST_ITEM,
    SHARED_LIST,
    SOFT_KINDS,
    IdentityJudge,
    ValueStatus,
)
from tutela.subjects.index import (
    SEVERAL,
    create_several,
    email_candidates,
    index_link,
    usable,
)
from tutela.subjects.ledger import Ledger
from tutela.subjects.links import LinkSpec, SearchSpace, search_space
from tutela.subjects.names import name_candidates
from tutela.workspace import Workspace, json_list, quote_ident

__all__ = [
    "FreeTextHit",
    "HeldBack",
    "LinkSpec",
    "PossibleMatch",
    "SearchSpace",
    "SubjectMatch",
    "find_subjects",
    "row_fingerprints",
    "rows_by_table",
    "search_space",
]

MAX_ROUNDS = 10

_ENTITY_OF_KIND = {
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "ip_address": "IP_ADDRESS",
    "name": "PERSON",
    "birth_date": "DATE_OF_BIRTH",
    "city": "PERSON",
    "postcode": None,
}


def mask_value(kind: str, value: str) -> str:
    """A value as reports may show it: enough to recognise, never the value."""
    entity = _ENTITY_OF_KIND.get(kind, "ID")
    return mask(str(value), entity)


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
    """A row that may be the person's: never reported as theirs, never erased, until a
    reviewer confirms it (`tutela review`)."""

    table: str
    rowid: int
    column: str
    similarity: float
    reason: str
    evidence: list[str] = field(default_factory=list)
    row_ref: str = ""
    """How a reviewer finds the row: its key column and value, or its row number."""
    fingerprint: str = ""
    """A hash of the row's content: decisions are stored against it."""
    masked: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """For review lists and plans: where, why, and masked values only."""
        return {
            "table": self.table,
            "row": self.row_ref,
            "column": self.column,
            "score": round(self.similarity, 3),
            "reason": self.reason,
            "evidence": list(self.evidence),
            "values": dict(self.masked),
        }

    def public_dict(self) -> dict[str, Any]:
        """For the person's own report: that something was held back, and why; nothing of
        the row itself (it may be someone else's)."""
        return {"table": self.table, "reason": self.reason}


@dataclass(frozen=True)
class HeldBack:
    """An identifier of the person that is shared or a placeholder: what it held back."""

    kind: str
    masked: str
    status: str
    detail: str
    tables: tuple[str, ...]
    rows_held_back: int
    key: str = ""
    """The normalised value and its calling code: kept in memory, never reported."""
    cc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.masked,
            "status": self.status,
            "why": self.detail,
            "tables": list(self.tables),
            "rows_held_back": self.rows_held_back,
        }


@dataclass
class SubjectMatch:
    """Everything found for one request."""

    request: str
    rows: dict[str, list[int]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    """Identifiers that are the person's alone (shared ones are in `held_back`)."""
    countries: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """(kind, key) -> the calling codes the person's phone key is known with (none: any)."""
    free_text: list[FreeTextHit] = field(default_factory=list)
    possible: list[PossibleMatch] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    confirmed: dict[str, list[int]] = field(default_factory=dict)
    """Rows a reviewer confirmed (also in `rows`)."""
    lists_others: dict[str, dict[str, int]] = field(default_factory=dict)
    """table -> list column -> how many of the person's rows list items there not shown to
    be hers (`_lists_of_others`): her household record listing her son's mobile and name.
    Erasing the row removes them with it; the plan and the certificate say so."""
    rejected: int = 0
    """Possible matches a reviewer rejected (not listed again)."""
    picked_on_spark: dict[str, int] = field(default_factory=dict)
    """Lake tables the search read as the rows a Spark job picked: table -> rows picked
    (`subjects/narrow.py`); what the search found does not depend on it."""
    read_whole: dict[str, str] = field(default_factory=dict)
    """Lake tables Spark could not pick rows of, read whole by DuckDB: table -> why."""
    search_passes: int = 1

    @property
    def found(self) -> bool:
        return bool(self.rows or self.free_text)

    def row_count(self) -> int:
        return sum(len(v) for v in self.rows.values())


Decisions = Mapping[str, Mapping[tuple[str, str], str]]
"""request id -> {(table, row fingerprint): 'confirmed' | 'rejected'}"""


def find_subjects(
    ws: Workspace,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    names: bool = True,
    decisions: Decisions | None = None,
    ledger: Ledger | None = None,
) -> dict[str, SubjectMatch]:
    """Resolve every request ({request id: {kind: [values]}}) in one set-based pass
    (live PostgreSQL tables are read once, into a temporary copy, for the pass).
    `ledger`: values shared with people erased earlier (judged ambiguous). Inside
    `narrow.narrowing`, lake tables behind Spark are read as the rows Spark picks."""

    def run() -> dict[str, SubjectMatch]:
        return _find_subjects(
            ws, space, requests, names=names, decisions=decisions or {}, ledger=ledger
        )

    lake = narrow.lake_tables(ws, space)
    if not lake:
        with ws.snapshots(space.tables()):
            return run()
    results, narrowing = narrow.search(ws, space, requests, lake, run)
    for match in results.values():
        match.picked_on_spark = dict(sorted(narrowing.rows.items()))
        match.read_whole = dict(sorted(narrowing.failed.items()))
        match.search_passes = narrowing.passes
    return results


def _find_subjects(
    ws: Workspace,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    names: bool,
    decisions: Decisions,
    ledger: Ledger | None,
) -> dict[str, SubjectMatch]:
    con = ws.con
    known_kinds = space.kinds()
    for req, idents in requests.items():
        for kind in idents:
            if kind not in known_kinds:
                raise UsageError(
                    f"request {req}: no table declares a {kind!r} identity link",
                    hint="identity links are declared under `subjects` in the policy",
                )
    _seed(con, space, requests)
    judge = IdentityJudge(con, space, ledger)
    _close(con, space, judge)
    _attribute_by_period(con, space, judge)
    judge.demote_unvouched()
    _unlink(con, space, judge)
    agreement = judge.drop_known_others()
    _subject_names(con, space)
    results = {req: SubjectMatch(req) for req in requests}
    for req, tbl, rid in con.execute(
        "SELECT DISTINCT req, tbl, rid FROM _hits ORDER BY req, tbl, rid"
    ).fetchall():
        results[req].rows.setdefault(tbl, []).append(int(rid))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tkeys AS SELECT k.req, k.kind, k.key, k.cc FROM _keys k "
        "LEFT JOIN _vstat s ON s.kind = k.kind AND s.key = k.key "
        "AND s.cc IS NOT DISTINCT FROM k.cc "
        f"WHERE k.kind = 'name' OR list_contains({_sql_list(CORROBORATING)}, k.kind) "
        "OR (s.status = 'unique' AND NOT EXISTS (SELECT 1 FROM _kconf c WHERE c.req = k.req "
        "AND c.kind = k.kind AND c.key = k.key AND c.cc IS NOT DISTINCT FROM k.cc))"
    )
    for req, kind, key, cc in con.execute(
        "SELECT DISTINCT req, kind, key, cc FROM _tkeys WHERE NOT list_contains(?, kind)",
        [list(CORROBORATING)],
    ).fetchall():
        results[req].keys.setdefault(kind, set()).add(key)
        known = results[req].countries.setdefault((kind, key), set())
        if cc is not None:
            known.add(cc)
    _held_back(con, judge, results)
    linked = {(r, t, rid) for r, m in results.items() for t, rids in m.rows.items() for rid in rids}
    short: dict[str, list[FreeTextHit]] = {}
    possible: dict[tuple[str, str, int], PossibleMatch] = {}
    split = _apart(con)
    for hit_req, hit in _free_text(con, space, with_names=names and len(requests) <= 200):
        if hit_req in split and (hit_req, hit.table, hit.rowid) not in linked:
            # the identifiers given lead to different people: whose text this is, a human
            # decides (it is neither reported nor redacted as the requester's)
            possible[(hit_req, hit.table, hit.rowid)] = PossibleMatch(
                hit.table,
                hit.rowid,
                hit.column,
                0.5,
                f"the text mentions an identifier given, but {split[hit_req]} to different "
                "people: whose it is, is for a human to decide",
            )
            continue
        if hit.kinds == {"name"} and (hit_req, hit.table, hit.rowid) not in linked:
            # a full name alone may be a namesake: a human decides
            possible[(hit_req, hit.table, hit.rowid)] = PossibleMatch(
                hit.table,
                hit.rowid,
                hit.column,
                1.0,
                "the text names the person; no identifier confirms it",
            )
            continue
        if short_number_only(hit) and (hit_req, hit.table, hit.rowid) not in linked:
            short.setdefault(hit_req, []).append(hit)  # judged below
            continue
        results[hit_req].free_text.append(hit)
    _short_numbers(ws, space, results, short)
    _shared_value_matches(con, space, possible, agreement)
    _several_addresses(con, space, possible)
    _several_numbers(con, space, possible)
    _tagged_addresses(con, space, possible)
    _padded_ids(con, space, possible)
    if names:
        unique_kinds = [k for k in judge.attr_kinds if k not in SOFT_KINDS]
        for c in name_candidates(con, space, unique_kinds=unique_kinds):
            key = (c.request, c.table, c.rowid)
            reason = (
                "same name, but no identifier links this row to the person"
                if c.similarity >= 0.999
                else f"similar name (similarity {c.similarity:.2f}), no identifier in common"
            )
            found = possible.get(key)
            if found is None:
                possible[key] = PossibleMatch(
                    c.table, c.rowid, c.column, c.similarity, reason, list(c.evidence)
                )
            else:
                # reached through an identifier already: what the name adds is that it agrees
                said = (
                    []
                    if any("name matches" in e for e in found.evidence)
                    else [
                        "same name"
                        if c.similarity >= 0.999
                        else f"similar name ({c.similarity:.2f})"
                    ]
                )
                found.evidence += [e for e in [*said, *c.evidence] if e not in found.evidence]
    _describe(ws, space, possible)
    for (req, _, _), p in sorted(possible.items(), key=lambda kv: kv[0]):
        results[req].possible.append(p)
    if decisions:
        _apply_decisions(ws, space, results, decisions)
    _lists_of_others(con, space, results)
    return results


def _lists_of_others(con: Connection, space: SearchSpace, results: dict[str, SubjectMatch]) -> None:
    """`SubjectMatch.lists_others`: the person's rows whose list columns (a household's
    phones and names, a card's e-mails) hold items not shown to be hers. An item is hers
    when she gave it or one of her rows carries it outside a list, maybe as a token (a
    list's items are followed as hers, and a shared one held back may be the other
    member's: neither shows it to be hers); a name, when it is one of those names written
    any way (`_names_alike`; with none, names are not judged). One statement per link
    column of her tables."""
    lists = [
        link
        for link in space.links
        if link.list_column and any(link.table in m.rows for m in results.values())
    ]
    if not lists:
        return
    mine = [
        (req, t, rid) for req, m in results.items() for t, rids in m.rows.items() for rid in rids
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _mrows AS SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS req, "
        "UNNEST(CAST(?::JSON AS VARCHAR[])) AS tbl, UNNEST(CAST(?::JSON AS BIGINT[])) AS rid",
        [json_list(r[i] for r in mine) for i in range(3)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _mkeys AS SELECT DISTINCT req, kind, key FROM _given "
        "WHERE req IN (SELECT req FROM _mrows)"
    )
    tables = {t for m in results.values() for t in m.rows}
    kinds = {link.kind for link in lists}
    for link in space.links:  # a column of tokens reads as the keys the search reached
        if link.list_column or link.table not in tables or link.kind not in kinds:
            continue
        table = sql_literal(link.table)
        rows = link.source_sql(f"rowid IN (SELECT rid FROM _mrows WHERE tbl = {table})")
        con.execute(
            f"INSERT INTO _mkeys SELECT DISTINCT m.req, {sql_literal(link.kind)}, s.k FROM "
            f"(SELECT rid, {link.key_sql('v')} AS k FROM {rows}) s JOIN _mrows m "
            f"ON m.tbl = {table} AND m.rid = s.rid WHERE {usable('s.k', link.kind)} "
            f"AND NOT {nobody_sql(link.kind, 's.k', space.placeholders)}"
        )
    for link in lists:
        table = sql_literal(link.table)
        rows = link.source_sql(f"rowid IN (SELECT rid FROM _mrows WHERE tbl = {table})")
        if link.kind == "name":
            hers = (
                "(NOT EXISTS (SELECT 1 FROM _mkeys p WHERE p.req = m.req AND p.kind = 'name') "
                "OR EXISTS (SELECT 1 FROM _mkeys p WHERE p.req = m.req AND p.kind = 'name' "
                "AND _names_alike(p.key, s.k)))"
            )
        else:
            hers = (
                "EXISTS (SELECT 1 FROM _mkeys p WHERE p.req = m.req "
                f"AND p.kind = {sql_literal(link.kind)} AND p.key = s.k)"
            )
        found = con.execute(
            f"SELECT m.req, count(DISTINCT m.rid) FROM (SELECT rid, {link.key_sql('v')} AS k "
            f"FROM {rows}) s JOIN _mrows m ON m.tbl = {table} AND m.rid = s.rid "
            f"WHERE {usable('s.k', link.kind)} "
            f"AND NOT {nobody_sql(link.kind, 's.k', space.placeholders)} AND NOT {hers} "
            "GROUP BY m.req"
        ).fetchall()
        for req, n in found:
            results[req].lists_others.setdefault(link.table, {})[link.column] = int(n)


def search_residue(
    ws: Workspace,
    space: SearchSpace,
    keys: Mapping[str, Sequence[tuple[str, str, str | None]]],
) -> dict[str, SubjectMatch]:
    """Every row and free-text mention still carrying one of these normalised keys (the
    person's own identifiers, found while planning: kind, key, calling code or None): no
    judging, no following. A number of another country is not hers. Used to verify an
    erasure."""
    with ws.snapshots(space.tables()):
        con = ws.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _keys (req VARCHAR, kind VARCHAR, key VARCHAR, "
            "cc VARCHAR, probed BOOLEAN DEFAULT false)"
        )
        flat = [(req, *k) for req, triples in keys.items() for k in triples]
        con.execute(
            "INSERT INTO _keys (req, kind, key, cc) SELECT UNNEST(CAST(?::JSON AS VARCHAR[])), "
            "UNNEST(CAST(?::JSON AS VARCHAR[])), UNNEST(CAST(?::JSON AS VARCHAR[])), "
            "UNNEST(CAST(?::JSON AS VARCHAR[]))",
            [json_list(x[i] for x in flat) for i in range(4)],
        )
        kinds = [k for _, k, _, _ in flat]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _idx (tbl VARCHAR, rid BIGINT, link INTEGER, "
            "kind VARCHAR, key VARCHAR, cc VARCHAR)"
        )
        create_several(con)
        present = set(kinds)
        for i, link in enumerate(space.links):
            if link.matches and link.kind in present:
                index_link(con, i, link)
        results = {req: SubjectMatch(req) for req in keys}
        for req, tbl, rid in con.execute(
            "SELECT DISTINCT k.req, i.tbl, i.rid FROM _keys k JOIN _idx i ON i.kind = k.kind "
            f"AND i.key = k.key AND {_SAME_COUNTRY} ORDER BY ALL"
        ).fetchall():
            results[req].rows.setdefault(tbl, []).append(int(rid))
        con.execute("CREATE OR REPLACE TEMP TABLE _tkeys AS SELECT req, kind, key, cc FROM _keys")
        con.execute("CREATE OR REPLACE TEMP TABLE _rawnames (raw VARCHAR)")
        for req, hit in _free_text(con, space, with_names=False):
            results[req].free_text.append(hit)
        return results


SHORT_NUMBER = 8
"""A customer or account id of fewer digits than this, met on its own in a text that is not
the person's, may be any number there ("Order 10234"): not a mention of her. Such texts are
neither reported nor redacted; the report and the certificate say how many were held back."""


def short_number_only(hit: FreeTextHit) -> bool:
    return hit.kinds <= {"customer_id", "account_id"} and all(
        f.strip().isdigit() and len(f.strip()) < SHORT_NUMBER for f in hit.fragments
    )


# "Cliente 10234", "customer ID: 10234", "Kundennummer 10234": the number is a customer's
_CUSTOMER_WORD = re.compile(
    r"(?i)\b(?:client[ea]?|customer|cust|kunde|kundennummer|kundennr|klant|klantnummer|"
    r"cliente|abonné|abonado|account|cuenta|compte|konto)"
    r"(?:\W{0,3}(?:id|n[º°o]|nr|no|num|number|número|numero|nummer))?\W{0,4}$"
)


def _short_numbers(
    ws: Workspace,
    space: SearchSpace,
    results: dict[str, SubjectMatch],
    short: Mapping[str, list[FreeTextHit]],
) -> None:
    """Texts where her short customer id stands alone, in rows not hers: mentions, unless
    held back (`held_short_numbers`)."""
    held_at = held_short_numbers(ws, space, [h for hits in short.values() for h in hits])
    for req, hits in short.items():
        held = [h for h in hits if (h.table, h.column, h.rowid) in held_at]
        results[req].free_text += [h for h in hits if (h.table, h.column, h.rowid) not in held_at]
        _short_numbers_held(results, req, held)


def held_short_numbers(
    ws: Workspace, space: SearchSpace, hits: Sequence[FreeTextHit]
) -> set[tuple[str, str, int]]:
    """(table, column, rowid) of the texts where a short customer id is held back: the row
    names someone (a usable identity value that is no placeholder: someone else, since the
    row is not hers) and the text does not call the number a customer's ("cliente 10234");
    there "Order 10234" may be any number. The same rule checks the erasure afterwards."""
    identity = (*ANCHOR_KINDS, "email", "phone", "name")
    wanted = {(h.table, h.column, h.rowid) for h in hits}
    texts: dict[tuple[str, str, int], str] = {}
    named: set[tuple[str, int]] = set()
    for table in sorted({t for t, _, _ in wanted}):
        rowids = sorted({r for t, _, r in wanted if t == table})
        cols = sorted({c for t, c, _ in wanted if t == table})
        someone = []
        for ln in space.links:
            if ln.table == table and ln.kind in identity:
                key = key_sql(ln.value_sql(), ln.normalize)
                nobody = placeholder_sql(sql_literal(ln.kind), key, space.placeholders)
                someone.append(f"({usable(key, ln.kind)} AND NOT coalesce({nobody}, false))")
        rows = ws.con.execute(
            f"SELECT rowid, {' OR '.join(someone) or 'false'}, "
            + ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in cols)
            + f" FROM {space.relation(table)} WHERE rowid IN "
            "(SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(rowids)],
        ).fetchall()
        for rid, names_someone, *values in rows:
            if names_someone:
                named.add((table, int(rid)))
            for col, value in zip(cols, values, strict=True):
                texts[(table, col, int(rid))] = value or ""
    held = set()
    for hit in hits:
        where = (hit.table, hit.column, hit.rowid)
        text = texts.get(where, "")
        called = any(
            _CUSTOMER_WORD.search(text[: m.start()])
            for f in hit.fragments
            for m in re.finditer(rf"(?<![0-9]){re.escape(f.strip())}(?![0-9])", text)
        )
        if (hit.table, hit.rowid) in named and not called:
            held.add(where)
    return held


def _short_numbers_held(
    results: dict[str, SubjectMatch], req: str, hits: Sequence[FreeTextHit]
) -> None:
    by_value: dict[tuple[str, str], list[FreeTextHit]] = {}
    for hit in hits:
        for fragment in hit.fragments:
            by_value.setdefault((min(hit.kinds), fragment.strip()), []).append(hit)
    for (kind, value), found in sorted(by_value.items()):
        results[req].held_back.append(
            HeldBack(
                kind,
                mask_value(kind, value),
                AMBIGUOUS,
                "a short number met on its own in texts about someone else: it may be "
                "another number there (an order, an amount); not reported, not redacted",
                tuple(sorted({h.table for h in found})),
                len(found),
            )
        )


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _seed(
    con: Connection,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
) -> None:
    # each value as given, and for a phone number also as read in each region of the
    # policy's phone links where it is a valid number ("34612345678" is +34 612 345 678 in
    # a Spanish column, and stays as written for a column whose rows name their region)
    rows: list[tuple[str, str, str, str | None, str | None]] = []
    for req, idents in requests.items():
        for kind, vals in idents.items():
            regions = _input_regions(space, kind)
            for value in vals:
                codes = {r: _input_country(value, r) for r in regions}
                valid = {r: c for r, c in codes.items() if c}
                one = next(iter(valid.values())) if len(set(valid.values())) == 1 else None
                rows.append((req, kind, value, one, None))
                rows += [(req, kind, value, code, r) for r, code in valid.items()]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _in AS "
        "SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) AS req, "
        "UNNEST(CAST(?::JSON AS VARCHAR[])) AS kind, UNNEST(CAST(?::JSON AS VARCHAR[])) AS v, "
        "UNNEST(CAST(?::JSON AS VARCHAR[])) AS rcc, UNNEST(CAST(?::JSON AS VARCHAR[])) AS rg",
        [json_list(r[i] for r in rows) for i in range(5)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _keys (req VARCHAR, kind VARCHAR, key VARCHAR, "
        "cc VARCHAR, probed BOOLEAN DEFAULT false)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _run AS SELECT DISTINCT req FROM _in")
    _seed_keys(con, space)
    con.execute("CREATE OR REPLACE TEMP TABLE _given AS SELECT req, kind, key, cc FROM _keys")
    create_several(con)
    for name in ("_hits", "_maybe"):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (req VARCHAR, tbl VARCHAR, rid BIGINT, "
            "via VARCHAR, link INTEGER, key VARCHAR, cc VARCHAR)"
        )
    # what one search of the requests (`_close`) adds to; `_idx` holds rows of values, for
    # every request
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _idx (tbl VARCHAR, rid BIGINT, link INTEGER, "
        "kind VARCHAR, key VARCHAR, cc VARCHAR)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _split (req VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _expanded (req VARCHAR, tbl VARCHAR, rid BIGINT)")
    # rows certain or possible before a request was searched again without a bridge (`_unlink`)
    con.execute("CREATE OR REPLACE TEMP TABLE _was AS SELECT * FROM _hits LIMIT 0")
    con.execute("CREATE OR REPLACE TEMP TABLE _lost (req VARCHAR, tbl VARCHAR, rid BIGINT)")


def _seed_keys(con: Connection, space: SearchSpace) -> None:
    """The keys of the given identifiers (`_in`) of the requests in `_run`."""
    pairs = con.execute(
        "SELECT DISTINCT kind, rg FROM _in WHERE req IN (SELECT req FROM _run)"
    ).fetchall()
    for kind, region in sorted(pairs, key=lambda x: (x[0], x[1] or "")):
        norm = _input_normalization(space, kind)
        key = phone_key_sql("v", region) if region else key_sql("v", norm)
        cc = f"coalesce({country_sql('v')}, rcc)" if norm == "e164" else "NULL"
        con.execute(
            f"INSERT INTO _keys (req, kind, key, cc) SELECT DISTINCT req, kind, {key}, {cc} "
            f"FROM _in WHERE kind = ? AND rg IS NOT DISTINCT FROM ? AND {key} IS NOT NULL "
            "AND req IN (SELECT req FROM _run) EXCEPT SELECT req, kind, key, cc FROM _keys",
            [kind, region],
        )


def _unlink(con: Connection, space: SearchSpace, judge: IdentityJudge) -> None:
    """Search again, without them, the requests whose certain rows include one that links
    the person to someone else (`IdentityJudge.ban_bridges`): what was followed from that
    row may be the other person's. Rows banned stay possible matches. A request still
    linking after MAX_ROUNDS searches is left to a human whole (as when its identifiers lead
    to different people), and so is one at once when the bridge was reached through the
    only kind of identifier it gave, a weak one (a phone or a device only: whose they are,
    the data cannot say). Rows certain or possible before a search again and not reached
    by it (`_lost`: reached only through the bridge) are possible matches: nothing of the
    person is dropped unseen. Last, a request that no id, e-mail or account it gave anchors must
    end with one person's rows: certain rows of two people send it to a human whole, and so
    does a weak identifier it gave that reaches a row held back as another person's (the
    home IP on an event with his mobile), or a certain row carrying someone else's value
    (his sign-up with his mother's address), or a certain row carrying a customer id that a
    row held back carries too (her household record listing her son's mobile:
    `IdentityJudge.given_reaches_others`)."""
    _search_without_bridges(con, space, judge)
    con.execute(
        "INSERT INTO _lost SELECT DISTINCT req, tbl, rid FROM _was "
        "EXCEPT SELECT req, tbl, rid FROM _hits EXCEPT SELECT req, tbl, rid FROM _maybe "
        "EXCEPT SELECT req, tbl, rid FROM _lost"
    )
    con.execute(
        "INSERT INTO _maybe SELECT DISTINCT w.* FROM _was w JOIN _lost l ON l.req = w.req "
        "AND l.tbl = w.tbl AND l.rid = w.rid WHERE NOT EXISTS (SELECT 1 FROM _maybe m "
        "WHERE m.req = w.req AND m.tbl = w.tbl AND m.rid = w.rid)"
    )
    others = judge.given_reaches_others()
    if others:
        _to_human(con, others)
    judge.split_requests(judge.unanchored_sql("h.req"))


def _search_without_bridges(con: Connection, space: SearchSpace, judge: IdentityJudge) -> None:
    for attempt in range(MAX_ROUNDS + 1):
        again = judge.ban_bridges()
        if not again:
            return
        if attempt == MAX_ROUNDS:
            _to_human(con, again)
            return
        apart = judge.given_leads_apart(again)
        if apart:  # the identifier given itself leads to two people
            _to_human(con, apart)
            again = [req for req in again if req not in apart]
            if not again:
                return
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _run AS SELECT UNNEST(?::VARCHAR[]) AS req", [again]
        )
        # what the search held, certain or possible: what it no longer reaches stays possible
        con.execute(
            "INSERT INTO _was SELECT * FROM _hits WHERE req IN (SELECT req FROM _run) "
            "UNION ALL SELECT * FROM _maybe WHERE req IN (SELECT req FROM _run)"
        )
        for table in ("_keys", "_hits", "_maybe", "_kconf", "_split", "_expanded"):
            con.execute(f"DELETE FROM {table} WHERE req IN (SELECT req FROM _run)")
        _seed_keys(con, space)
        _close(con, space, judge)
        _attribute_by_period(con, space, judge)
        judge.demote_unvouched()


def _hold_banned(con: Connection) -> None:
    """Certain rows banned for their request (`_ban`) become possible matches."""
    con.execute(
        "INSERT INTO _maybe SELECT * FROM _hits h WHERE EXISTS (SELECT 1 FROM _ban b "
        "WHERE b.req = h.req AND b.tbl = h.tbl AND b.rid = h.rid)"
    )
    con.execute(
        "DELETE FROM _hits WHERE EXISTS (SELECT 1 FROM _ban b WHERE b.req = _hits.req "
        "AND b.tbl = _hits.tbl AND b.rid = _hits.rid)"
    )


def _to_human(con: Connection, reqs: list[str]) -> None:
    """Leave these requests to a human whole: every certain row becomes a possible match."""
    con.execute(
        "INSERT INTO _split SELECT UNNEST(?::VARCHAR[]) EXCEPT SELECT req FROM _split", [reqs]
    )
    con.execute("INSERT INTO _maybe SELECT * FROM _hits WHERE list_contains(?, req)", [reqs])
    con.execute("DELETE FROM _hits WHERE list_contains(?, req)", [reqs])


def _attributed_bridges(con: Connection, space: SearchSpace, judge: IdentityJudge) -> None:
    """Rows attributed by period (`_attrib`) are not followed, so a value of someone else
    on them would go unseen: the call from Jordi's old number, in his period, that carries
    the device of Bruno's app. Their other identifiers are looked up here: a row carrying
    one whose other carriers contradict the number's holder, and none agrees with him,
    links two people (`_abridge`): a possible match for the holder, as a bridge reached
    through a phone is (`IdentityJudge.ban_bridges`); still no one else's."""
    con.execute("CREATE OR REPLACE TEMP TABLE _abridge (tbl VARCHAR, rid BIGINT)")
    tables = [r[0] for r in con.execute("SELECT DISTINCT tbl FROM _attrib").fetchall()]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _akeys (tbl VARCHAR, rid BIGINT, kind VARCHAR, "
        "key VARCHAR, cc VARCHAR, probed BOOLEAN DEFAULT false)"
    )
    for link in space.links:
        if link.table not in tables or not link.matches or link.shared:
            continue
        if link.kind not in EXPANDING:
            continue
        rows = link.source_sql("rowid IN (SELECT rid FROM _attrib WHERE tbl = $tbl)")
        con.execute(
            f"INSERT INTO _akeys (tbl, rid, kind, key, cc) SELECT $tbl, rid, $kind, k, cc "
            f"FROM (SELECT rid, {link.key_sql('v')} AS k, {link.country_sql('v', 'rg')} AS cc "
            f"FROM {rows}) WHERE {usable('k', link.kind)} "
            f"AND NOT {placeholder_sql('$kind', 'k', space.placeholders)}",
            {"tbl": link.table, "kind": link.kind},
        )
    con.execute(  # the value the row was attributed through is judged by its period
        "DELETE FROM _akeys WHERE EXISTS (SELECT 1 FROM _attrib a WHERE a.tbl = _akeys.tbl "
        "AND a.rid = _akeys.rid AND a.kind = _akeys.kind AND a.key = _akeys.key)"
    )
    kinds = {r[0] for r in con.execute("SELECT DISTINCT kind FROM _akeys").fetchall()}
    if not kinds:
        return
    for i, link in enumerate(space.links):
        if link.matches and link.kind in kinds:
            index_link(con, i, link, keys="_akeys")
    judge.read_attributes()
    comparable = judge.comparable_sql("s.a", "h.a", "k.kind")
    conflict = judge.conflict_sql("s.a", "h.a", judged="k.kind")
    con.execute(
        f"""INSERT INTO _abridge SELECT tbl, rid FROM _attrib WHERE EXISTS (
            SELECT 1 FROM _akeys k JOIN _sig h ON h.tbl = _attrib.otbl AND h.rid = _attrib.orid
            JOIN _idx i ON i.kind = k.kind AND i.key = k.key
             AND (i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)
             AND NOT (i.tbl = k.tbl AND i.rid = k.rid)
             AND NOT list_contains($shared, i.link)
            JOIN _sig s ON s.tbl = i.tbl AND s.rid = i.rid
            WHERE k.tbl = _attrib.tbl AND k.rid = _attrib.rid
            GROUP BY k.kind, k.key
            HAVING bool_or(({conflict}) IS NOT NULL)
               AND NOT bool_or(({comparable}) AND ({conflict}) IS NULL))""",
        {"shared": judge.shared_links},
    )


def _input_normalization(space: SearchSpace, kind: str) -> str:
    for link in space.links:
        if link.kind == kind:
            return link.normalize
    from tutela.base.normalize import default_normalization

    return default_normalization(kind)


def _input_country(value: str, region: str | None) -> str | None:
    """The calling code of a number given without one (`--phone 612345678`, or
    `34612345678` as an SMS tool stores it): the region's when the number is valid there
    (`07700 900123` is no Spanish number: unknown, not +34). Unknown, such a number matches
    numbers of any country, and one carried in two countries is judged ambiguous
    (`IdentityJudge.judge`). Its key is read in SQL as the data's are (`phone_key_sql`);
    a +CC or 00CC prefix too (`country_sql`)."""
    if region is None or value.strip().startswith(("+", "00")):
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return str(number.country_code) if phonenumbers.is_valid_number(number) else None


def _input_regions(space: SearchSpace, kind: str) -> list[str]:
    """The regions a number of that kind given without its country may be read in: those
    the policy's phone links name."""
    if _input_normalization(space, kind) != "e164":
        return []
    return sorted({x.region.upper() for x in space.links if x.kind == kind and x.region})


_SAME_COUNTRY = "(i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)"


def _close(con: Connection, space: SearchSpace, judge: IdentityJudge) -> None:
    """Follow identifiers that are the person's alone until no new row or key turns up.

    Each round indexes only candidate rows: a cheap expression over the whole column is
    matched against the new keys, and the exact key is computed on the few rows that pass.
    The values reached are then judged (unique, ambiguous, placeholder) over all the rows
    that carry them; rows reached through unique values are certain and give the next
    round's keys. The same statements serve one request or a thousand. Phone keys carry
    their country code when known, and numbers from different countries never match.
    """
    matching = [(i, link) for i, link in enumerate(space.links) if link.matches]
    banned = bool(con.execute("SELECT count(*) FROM _ban").fetchone()[0])  # type: ignore[index]
    for round_ in range(MAX_ROUNDS):
        fresh = {
            r[0] for r in con.execute("SELECT DISTINCT kind FROM _keys WHERE NOT probed").fetchall()
        }
        if not fresh:
            break
        for i, link in matching:
            if link.kind in fresh:
                index_link(con, i, link)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _fresh AS SELECT DISTINCT kind, key, cc FROM _keys "
            "WHERE NOT probed"
        )
        judge.read_attributes()
        judge.judge()
        judge.against_subject()
        contradicted = (
            "EXISTS (SELECT 1 FROM _kconf c WHERE c.req = k.req AND c.kind = k.kind "
            "AND c.key = k.key AND c.cc IS NOT DISTINCT FROM k.cc)"
        )
        for target, rule in (
            ("_hits", f"s.status = 'unique' AND NOT {contradicted}"),
            ("_maybe", f"(s.status = '{AMBIGUOUS}' OR (s.status = 'unique' AND {contradicted}))"),
        ):
            con.execute(
                f"INSERT INTO {target} SELECT DISTINCT k.req, i.tbl, i.rid, k.kind, i.link, "
                "k.key, k.cc FROM _keys k "
                f"JOIN _idx i ON i.kind = k.kind AND i.key = k.key AND {_SAME_COUNTRY} "
                "JOIN _vstat s ON s.kind = k.kind AND s.key = k.key "
                "AND s.cc IS NOT DISTINCT FROM k.cc "
                f"WHERE NOT k.probed AND {rule}"
            )
        con.execute("UPDATE _keys SET probed = true")
        if banned:  # rows that link the person to someone else: possible matches only
            _hold_banned(con)
        if round_ == 0:  # the rows the request's own identifiers lead to: one person?
            judge.split_requests()
        judge.demote_unvouched()  # before their identifiers are followed
        # every identifier of every certain row becomes a key to search for: the rows that
        # became certain since the last round (keys are never removed, so the identifiers
        # of the others are keys already); tables without such rows are skipped
        grown = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT tbl FROM (SELECT req, tbl, rid FROM _hits "
                "EXCEPT SELECT req, tbl, rid FROM _expanded)"
            ).fetchall()
        }
        con.execute(
            "INSERT INTO _expanded SELECT req, tbl, rid FROM _hits "
            "EXCEPT SELECT req, tbl, rid FROM _expanded"
        )
        for link in space.links:
            if link.kind not in EXPANDING or not link.matches or link.table not in grown:
                continue
            key = link.key_sql("s.v")
            cc = link.country_sql("s.v", "s.rg")
            source = link.source_sql("rowid IN (SELECT rid FROM _hits WHERE tbl = $tbl)")
            # keyed once (MATERIALIZED): inlined, the checks would repeat the key's regexes
            con.execute(
                f"INSERT INTO _keys (req, kind, key, cc) WITH x AS MATERIALIZED (SELECT h.req, "
                f"{key} AS k, {cc} AS c FROM _hits h JOIN {source} s ON s.rid = h.rid "
                f"WHERE h.tbl = $tbl) SELECT DISTINCT req, $kind, k, c FROM x "
                f"WHERE {usable('k', link.kind)} EXCEPT SELECT req, kind, key, cc FROM _keys",
                {"kind": link.kind, "tbl": link.table},
            )


def _attribute_by_period(con: Connection, space: SearchSpace, judge: IdentityJudge) -> None:
    """Recycled identifiers: where the policy says during which period an identifier
    belonged to a row's person (valid_from / valid_until) and when other rows were recorded
    (observed_at), a row reached through a shared value is the person's if it was recorded
    while the value was theirs, and someone else's (not even a possible match) if it was
    recorded while it was another person's. Owner rows whose period never overlaps the
    person's are someone else's too. Rows attributed this way are not followed further."""
    owners = [
        f"SELECT i.kind, i.key, i.cc, i.tbl AS otbl, i.rid AS orid, "
        f"{_ts(link.valid_from, 't')} AS vf, {_ts(link.valid_until, 't')} AS vu "
        f"FROM _idx i JOIN {space.relation(link.table)} t ON t.rowid = i.rid WHERE i.link = {n}"
        for n, link in enumerate(space.links)
        if link.valid_from or link.valid_until
    ]
    events = [
        f"SELECT i.kind, i.key, i.cc, i.tbl, i.rid, {_ts(link.observed_at, 't')} AS ts "
        f"FROM _idx i JOIN {space.relation(link.table)} t ON t.rowid = i.rid WHERE i.link = {n}"
        for n, link in enumerate(space.links)
        if link.observed_at
    ]
    if not owners:
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE _owners AS {' UNION ALL '.join(owners)}")
    if events:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _attrib AS
            SELECT e.kind, e.key, e.tbl, e.rid, min(o.otbl) AS otbl, min(o.orid) AS orid
            FROM ({" UNION ALL ".join(events)}) e JOIN _owners o
              ON o.kind = e.kind AND o.key = e.key
             AND (o.cc IS NULL OR e.cc IS NULL OR o.cc = e.cc) AND e.ts IS NOT NULL
             AND (o.vf IS NULL OR e.ts >= o.vf) AND (o.vu IS NULL OR e.ts < o.vu)
            WHERE EXISTS (SELECT 1 FROM _owners p WHERE p.kind = e.kind AND p.key = e.key
                          AND (p.vf IS NOT NULL OR p.vu IS NOT NULL))
            GROUP BY e.kind, e.key, e.tbl, e.rid HAVING count(DISTINCT (o.otbl, o.orid)) = 1"""
        )
        # an event whose own name or e-mail contradicts the holder's stays a question
        con.execute(
            "DELETE FROM _attrib WHERE EXISTS (SELECT 1 FROM _sig x JOIN _sig y "
            "ON y.tbl = _attrib.otbl AND y.rid = _attrib.orid "
            "WHERE x.tbl = _attrib.tbl AND x.rid = _attrib.rid "
            f"AND ({judge.conflict_sql('x.a', 'y.a')}) IS NOT NULL)"
        )
        _attributed_bridges(con, space, judge)
        con.execute(
            "INSERT INTO _hits SELECT DISTINCT m.req, m.tbl, m.rid, m.via, m.link, m.key, m.cc "
            "FROM _maybe m JOIN _attrib a ON a.tbl = m.tbl AND a.rid = m.rid AND a.kind = m.via "
            "AND a.key = m.key JOIN _hits h ON h.req = m.req AND h.tbl = a.otbl "
            "AND h.rid = a.orid WHERE NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = m.req "
            "AND b.tbl = m.tbl AND b.rid = m.rid) AND NOT EXISTS (SELECT 1 FROM _abridge x "
            "WHERE x.tbl = m.tbl AND x.rid = m.rid)"
        )
        con.execute(  # attributed: the person's (moved above) or someone else's; a row
            # that links two people stays a possible match (for the holder)
            "DELETE FROM _maybe WHERE EXISTS (SELECT 1 FROM _attrib a WHERE a.tbl = _maybe.tbl "
            "AND a.rid = _maybe.rid AND a.kind = _maybe.via AND a.key = _maybe.key "
            "AND NOT (EXISTS (SELECT 1 FROM _abridge x WHERE x.tbl = a.tbl AND x.rid = a.rid) "
            "AND EXISTS (SELECT 1 FROM _hits h WHERE h.req = _maybe.req AND h.tbl = a.otbl "
            "AND h.rid = a.orid))) "
            "AND NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = _maybe.req "
            "AND b.tbl = _maybe.tbl AND b.rid = _maybe.rid)"
        )
        # a row the person reached through another of her values (the device of her app),
        # recorded while the number was another holder's: it links her to him, and is a
        # possible match (that holder's, above, when nothing else on it contradicts him)
        con.execute(
            "INSERT INTO _ban SELECT DISTINCT h.req, h.tbl, h.rid, a.kind, 1 FROM _hits h "
            "JOIN _attrib a ON a.tbl = h.tbl AND a.rid = h.rid WHERE NOT EXISTS (SELECT 1 "
            "FROM _hits o WHERE o.req = h.req AND o.tbl = a.otbl AND o.rid = a.orid) "
            "AND NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = h.req AND b.tbl = h.tbl "
            "AND b.rid = h.rid)"
        )
        _hold_banned(con)
    # owner rows (another person's period) that never overlap the person's own periods
    con.execute(
        """DELETE FROM _maybe WHERE EXISTS (
            SELECT 1 FROM _owners o WHERE o.otbl = _maybe.tbl AND o.orid = _maybe.rid
              AND o.kind = _maybe.via AND o.key = _maybe.key
              AND EXISTS (SELECT 1 FROM _owners mine JOIN _hits h ON h.tbl = mine.otbl
                          AND h.rid = mine.orid AND h.req = _maybe.req
                          WHERE mine.kind = o.kind AND mine.key = o.key)
              AND NOT EXISTS (SELECT 1 FROM _owners mine JOIN _hits h ON h.tbl = mine.otbl
                          AND h.rid = mine.orid AND h.req = _maybe.req
                          WHERE mine.kind = o.kind AND mine.key = o.key
                            AND (mine.vf IS NULL OR o.vu IS NULL OR mine.vf < o.vu)
                            AND (mine.vu IS NULL OR o.vf IS NULL OR o.vf < mine.vu)))"""
    )


def _ts(column: str | None, alias: str) -> str:
    if not column:
        return "CAST(NULL AS TIMESTAMP)"
    return f"TRY_CAST({alias}.{quote_ident(column)} AS TIMESTAMP)"


def _subject_names(con: Connection, space: SearchSpace) -> None:
    """Names and corroborating attributes on the certain rows become keys (for free text
    and possible matches)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rawnames (raw VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _corr (req VARCHAR, kind VARCHAR, key VARCHAR)")
    con.execute(
        "INSERT INTO _corr SELECT DISTINCT req, kind, key FROM _keys "
        f"WHERE list_contains({_sql_list(CORROBORATING)}, kind)"
    )
    for link in space.links:
        if (link.kind != "name" and link.kind not in CORROBORATING) or link.attribute_only:
            continue
        source = link.source_sql("rowid IN (SELECT rid FROM _hits WHERE tbl = $tbl)")
        key = link.key_sql("s.v")
        if link.kind == "name":
            con.execute(
                f"INSERT INTO _rawnames SELECT DISTINCT lower(s.v) FROM _hits h "
                f"JOIN {source} s ON s.rid = h.rid WHERE h.tbl = $tbl",
                {"tbl": link.table},
            )
            con.execute(
                f"INSERT INTO _keys (req, kind, key) SELECT DISTINCT h.req, 'name', {key} "
                f"FROM _hits h JOIN {source} s ON s.rid = h.rid "
                f"WHERE h.tbl = $tbl AND {key} IS NOT NULL "
                "EXCEPT SELECT req, kind, key FROM _keys",
                {"tbl": link.table},
            )
        else:
            con.execute(
                f"INSERT INTO _corr SELECT DISTINCT h.req, $kind, {key} FROM _hits h "
                f"JOIN {source} s ON s.rid = h.rid WHERE h.tbl = $tbl AND {key} IS NOT NULL "
                "EXCEPT SELECT req, kind, key FROM _corr",
                {"tbl": link.table, "kind": link.kind},
            )


def _held_back(con: Connection, judge: IdentityJudge, results: dict[str, SubjectMatch]) -> None:
    """Per request: the shared or placeholder identifiers reached, and the rows each held
    back (reached only through shared values, so not counted as the person's)."""
    statuses = {(s.kind, s.key, s.cc): s for s in judge.statuses()}
    if not statuses:
        return
    rows = con.execute(
        "SELECT k.req, k.kind, k.key, k.cc, count(DISTINCT (m.tbl, m.rid)) FILTER (WHERE "
        "m.rid IS NOT NULL AND h.rid IS NULL) FROM _keys k JOIN _vstat s ON s.kind = k.kind "
        "AND s.key = k.key AND s.cc IS NOT DISTINCT FROM k.cc AND s.status <> 'unique' "
        "LEFT JOIN _maybe m ON m.req = k.req AND m.via = k.kind AND m.key = k.key "
        "AND m.cc IS NOT DISTINCT FROM k.cc "
        "LEFT JOIN _hits h ON h.req = m.req AND h.tbl = m.tbl AND h.rid = m.rid "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    for req, kind, key, cc, held in rows:
        st: ValueStatus = statuses[(kind, key, cc)]
        results[req].held_back.append(
            HeldBack(
                kind,
                mask_value(kind, ("+" + cc + " " if cc else "") + key),
                st.status,
                st.detail,
                st.tables,
                int(held or 0),
                key,
                cc,
            )
        )


def _apart(con: Connection) -> dict[str, str]:
    """Requests left to a human because what they gave leads to different people (`_split`),
    each with the subject of that sentence: "the phone given leads" when one identifier was
    given (a name or a birth date beside it only corroborates), else "the identifiers given
    lead"."""
    rows = con.execute(  # as given (`_in`): a number without its country keys several ways
        "SELECT s.req, list(DISTINCT g.kind) FILTER (WHERE NOT list_contains(?, g.kind)), "
        "count(DISTINCT (g.kind, g.v)) FILTER (WHERE NOT list_contains(?, g.kind)) "
        "FROM (SELECT DISTINCT req FROM _split) s LEFT JOIN _in g ON g.req = s.req "
        "GROUP BY s.req",
        [[*CORROBORATING, "name"], [*CORROBORATING, "name"]],
    ).fetchall()
    return {
        req: (
            f"the {kinds[0].replace('_', ' ')} given leads"
            if n == 1 and kinds
            else "the identifiers given lead"
        )
        for req, kinds, n in rows
    }


def _shared_value_matches(
    con: Connection,
    space: SearchSpace,
    possible: dict[tuple[str, str, int], PossibleMatch],
    agreement: Mapping[tuple[str, str, int], list[str]],
) -> None:
    """Rows reached only through shared values: possible matches, with the reason and which
    of the person's attributes the row agrees with."""
    rows = con.execute(
        "SELECT m.req, m.tbl, m.rid, min(m.link), list(DISTINCT m.via || ' ' || CASE "
        "WHEN s.status <> 'unique' THEN s.detail "
        "WHEN EXISTS (SELECT 1 FROM _landline l WHERE l.key = m.key AND l.cc = m.cc) "
        "THEN 'is a landline, which a household shares' "
        "ELSE 'also leads to another person' END) "
        "FROM _maybe m JOIN _vstat s ON s.kind = m.via AND s.key = m.key "
        "AND s.cc IS NOT DISTINCT FROM m.cc "
        "WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = m.req AND h.tbl = m.tbl "
        "AND h.rid = m.rid) GROUP BY m.req, m.tbl, m.rid ORDER BY ALL"
    ).fetchall()
    split = _apart(con)
    bridges = {
        (r[0], r[1], int(r[2])): str(r[3])
        for r in con.execute("SELECT req, tbl, rid, kind FROM _ban").fetchall()
    }
    lost = {(r[0], r[1], int(r[2])) for r in con.execute("SELECT * FROM _lost").fetchall()}
    for req, tbl, rid, link, details in rows:
        column = space.links[int(link)].column
        other = bridges.get((req, tbl, int(rid)))
        if req in split:
            reason = (
                f"{split[req]} to different people: which rows are the requester's is for "
                "a human to decide"
            )
        elif other is None and (req, tbl, int(rid)) in lost:
            reason = (
                "reached only through a row that links the person to someone else: whose "
                "it is is for a human to decide"
            )
        elif other == LIST_ITEM:
            reason = (
                "reached only through an item of a list of several (a household's phones) "
                "that the requester did not give, and nothing on the row shows it to be theirs: "
                "for a human to decide"
            )
        elif other == SHARED_LIST:
            reason = (
                "a record listing several people (their names and phones), the requester "
                "among them: whose it is, and what of it to report or erase, is for a human "
                "to decide"
            )
        elif other is not None:
            reason = (
                f"reached through the person's {space.links[int(link)].kind.replace('_', ' ')}"
                f", but the row also carries the {other.replace('_', ' ')} of another person: "
                "it links two people, whose it is is for a human to decide"
            )
        else:
            reason = "reached only through a shared identifier: " + "; ".join(
                d.replace("_", " ") for d in sorted(details)
            )
        evidence = agreement.get((req, tbl, int(rid)), [])
        score = 0.5 + 0.2 * sum(e.endswith("matches the person's") for e in evidence)
        possible.setdefault(
            (req, tbl, int(rid)),
            PossibleMatch(tbl, int(rid), column, min(score, 0.9), reason, list(evidence)),
        )


# an address among others: a run around '@' up to a separator, a bracket or a quote
_ADDRESS_RE = r"""[^\s\p{Zs}<>,;"'()\[\]:/|@]+@[^\s\p{Zs}<>,;"'()\[\]:?/|@]+"""


def _several_addresses(
    con: Connection, space: SearchSpace, possible: dict[tuple[str, str, int], PossibleMatch]
) -> None:
    """Rows whose e-mail value names the person's address and other ones ("anna@x.es;
    pau@x.es", a family's newsletter entry): the row is no one person's, so it is neither
    reported as hers nor erased, but a human must see it (it holds her address)."""
    rows = con.execute(
        # each value's addresses listed once and joined on equality: a batch keeps every
        # row naming two addresses or more aside, and compares them with every key
        "SELECT DISTINCT k.req, s.tbl, s.rid, s.link FROM (SELECT tbl, rid, link, "
        f"unnest(regexp_extract_all(v, ?)) AS address FROM {SEVERAL}) s JOIN _tkeys k "
        "ON k.kind = 'email' AND k.key = s.address "
        "WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = k.req AND h.tbl = s.tbl "
        "AND h.rid = s.rid) ORDER BY ALL",
        [_ADDRESS_RE],
    ).fetchall()
    for req, tbl, rid, link in rows:
        possible.setdefault(
            (req, tbl, int(rid)),
            PossibleMatch(
                tbl,
                int(rid),
                space.links[int(link)].column,
                0.5,
                "the value holds the person's e-mail address together with other addresses: "
                "whose row it is, a human decides",
            ),
        )


def _offer(
    possible: dict[tuple[str, str, int], PossibleMatch],
    link: LinkSpec,
    rows: list[tuple[Any, ...]],
    score: float,
    reason: str,
) -> None:
    """Put rows (request, row id) of a link's table to a human as possible matches."""
    for req, rid in rows:
        possible.setdefault(
            (req, link.table, int(rid)),
            PossibleMatch(link.table, int(rid), link.column, score, reason),
        )


_UNTAGGED = "regexp_replace({}, '[+][^@]*@', '@')"
"""The mailbox an address delivers to without its tag ("maria+shop@x.es": maria@x.es)."""


def _tagged_addresses(
    con: Connection, space: SearchSpace, possible: dict[tuple[str, str, int], PossibleMatch]
) -> None:
    """Rows whose e-mail is the person's mailbox with a tag ("maria+shop@gmail.com" for
    maria@gmail.com, or the other way round): most providers deliver both to one mailbox,
    but a '+' can also be part of another address, so a human decides. Two different tags
    are not offered ("casa+maria@", "casa+jordi@": a family's mailbox, one tag each), nor a
    placeholder mailbox, nor one written with 10 or more tags in a table (a shop's
    "noemail+123@" stand-ins; the tags counted are those of every row holding a '+', so
    the count is the same alone and in a batch, whichever bare rows the probe picked)."""
    mail = [link for link in space.links if link.normalize == "email" and link.matches]
    if not mail:
        return
    boxes = con.execute(
        f"SELECT DISTINCT key, {_UNTAGGED.format('key')} FROM _tkeys WHERE kind = 'email'"
    ).fetchall()
    if not boxes:
        return
    # her address given with a tag: rows of the bare mailbox
    bare = sorted({box for key, box in boxes if box != key})
    probe, probe_params = email_candidates(bare, ("SELECT unnest(?::VARCHAR[])", [bare]))
    probe = " OR ".join(["contains(v, '+')", *([probe] if probe else [])])
    nobody = placeholder_sql("'email'", "m.box", space.placeholders)
    for link in mail:
        rows = con.execute(
            f"""WITH c AS MATERIALIZED (SELECT rid, {link.key_sql("v")} AS k
                FROM {link.source_sql()} WHERE {probe}),
            m AS (SELECT rid, k, {_UNTAGGED.format("k")} AS box FROM c),
            few AS (SELECT box FROM m GROUP BY box
                HAVING count(DISTINCT k) FILTER (WHERE k <> box) < 10)
            SELECT DISTINCT t.req, m.rid FROM m
            JOIN _tkeys t ON t.kind = 'email' AND {_UNTAGGED.format("t.key")} = m.box
            WHERE m.k <> t.key AND (m.k = m.box OR t.key = m.box)
              AND m.box IN (SELECT box FROM few) AND NOT coalesce({nobody}, false)
              AND NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = t.req
                AND h.tbl = ? AND h.rid = m.rid)
            ORDER BY ALL""",
            [*probe_params, link.table],
        ).fetchall()
        _offer(
            possible,
            link,
            rows,
            0.6,
            "the e-mail is the person's mailbox with a tag (name+tag@): usually "
            "the same mailbox, yet a human decides",
        )


def _padded_ids(
    con: Connection, space: SearchSpace, possible: dict[tuple[str, str, int], PossibleMatch]
) -> None:
    """Rows whose customer or account number is hers with other leading zeros ("00123" in
    the CRM, "123" in a spreadsheet export, which drops them): often the same customer, but
    systems number differently, so a human decides."""
    ids = [
        link
        for link in space.links
        if link.kind in ("customer_id", "account_id")
        and link.normalize in ("trim", "none")
        and link.matches
    ]
    if not ids:
        return
    numbers = con.execute(
        "SELECT DISTINCT ltrim(key, '0') FROM _tkeys WHERE list_contains(?, kind) "
        "AND regexp_full_match(key, '[0-9]+') AND ltrim(key, '0') <> ''",
        [[link.kind for link in ids]],
    ).fetchall()
    if not numbers:
        return
    for link in ids:
        rows = con.execute(
            f"""WITH c AS MATERIALIZED (SELECT rid, trim(v) AS k FROM {link.source_sql()}
                WHERE ltrim(trim(v), '0') IN (SELECT UNNEST(?::VARCHAR[])))
            SELECT DISTINCT t.req, c.rid FROM c JOIN _tkeys t ON t.kind = ?
             AND regexp_full_match(t.key, '[0-9]+') AND ltrim(t.key, '0') = ltrim(c.k, '0')
             AND t.key <> c.k
            WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = t.req AND h.tbl = ?
                              AND h.rid = c.rid)
            ORDER BY ALL""",
            [[n[0] for n in numbers], link.kind, link.table],
        ).fetchall()
        _offer(
            possible,
            link,
            rows,
            0.5,
            "the number is the person's with other leading zeros (a spreadsheet "
            "drops them): often the same customer, yet a human decides",
        )


# numbers listed in one value: "612 345 678 / 934 567 890", "612345678; 934567890",
# "612 345 678 or 934 567 890" (a slash inside one number, "612/345/678", gives pieces too
# short to be numbers)
_NUMBER_LIST = r"[/;,|\n]|\s(?:or|and|y|o|e|ou|et|oder|und|of|en)\s"
_NUMBER_DIGITS = 7
"""The digits a piece needs to be a phone number of its own."""


def _several_numbers(
    con: Connection, space: SearchSpace, possible: dict[tuple[str, str, int], PossibleMatch]
) -> None:
    """Rows whose phone value lists the person's number with other numbers ("612 345 678 /
    934 567 890": a landline shared at home, or her mobile next to someone's): keyed whole,
    the value is no number of hers, yet it holds hers. Neither reported as hers nor erased:
    a human decides whose row it is."""
    # values long enough for two numbers (nearly every number is shorter: ~1 ms per million
    # values), then one regex picks the few that list anything
    shortest = 2 * _NUMBER_DIGITS + 1
    for link in space.links:
        if link.normalize != "e164" or not link.matches:
            continue
        if not con.execute("SELECT 1 FROM _tkeys WHERE kind = ?", [link.kind]).fetchone():
            continue
        pieces = (
            f"SELECT rid, unnest(regexp_split_to_array(v, $sep, 'i')) AS p, rg "
            f"FROM {link.source_sql()} WHERE length(v) >= {shortest} "
            "AND regexp_matches(v, $sep, 'i')"
        )
        rows = con.execute(
            f"""WITH x AS MATERIALIZED ({pieces}),
            n AS MATERIALIZED (SELECT rid, p, rg FROM x
                WHERE length(regexp_replace(p, '[^0-9]', '', 'g')) >= {_NUMBER_DIGITS}),
            listed AS MATERIALIZED (SELECT rid, {link.key_sql("p")} AS k,
                {link.country_sql("p", "rg")} AS cc FROM n
                WHERE rid IN (SELECT rid FROM n GROUP BY rid HAVING count(*) >= 2))
            SELECT DISTINCT t.req, l.rid FROM listed l JOIN _tkeys t
              ON t.kind = $kind AND t.key = l.k
             AND (t.cc IS NULL OR l.cc IS NULL OR t.cc = l.cc)
            WHERE NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = t.req AND h.tbl = $tbl
                              AND h.rid = l.rid)
            ORDER BY ALL""",
            {"sep": _NUMBER_LIST, "tbl": link.table, "kind": link.kind},
        ).fetchall()
        _offer(
            possible,
            link,
            rows,
            0.5,
            "the value holds the person's phone number together with other numbers: "
            "whose row it is, a human decides",
        )


_EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
_IBAN_RE = r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
_TOKEN_RE = r"[A-Za-z0-9][A-Za-z0-9.\-/]{3,}[A-Za-z0-9]"
# a number as people type it: digits with spaces, tabs, dots, dashes and brackets
_PHONE_RE = r"(?:\+|00)?[0-9][0-9 \t.()\-]{6,}[0-9]"
# or with slashes ("612/345/678"): a standalone token of 3-4 short groups (group 1), so
# that slash-joined numbering ("pedidos 4612/3456/7890") never runs into a number
_SLASHED_PHONE_RE = r"(?:^|[^0-9/])([0-9]{2,4}(?:/[0-9]{2,4}){2,3})(?:$|[^0-9/])"


# The groups of digits of a fragment as typed, and every run of up to six whole consecutive
# groups joined (leading zeros dropped, as keys drop them): "+34 612 345 678 2" holds
# 612345678, "+34612345678 2" holds 34612345678 (the country code and the number). Six
# groups: a note of 400 figures makes 2,400 runs, not 80,000.
_DIGIT_MACROS = (
    "CREATE OR REPLACE TEMP MACRO _digit_groups(x) AS list_filter(string_split("
    "regexp_replace(x, '[^0-9]+', ' ', 'g'), ' '), lambda g: g <> '')",
    "CREATE OR REPLACE TEMP MACRO _digit_runs(g) AS flatten(list_transform(range(1, len(g) + 1), "
    "lambda i: list_transform(range(i, least(len(g), i + 5) + 1), "
    "lambda j: ltrim(array_to_string(g[i:j], ''), '0'))))",
)


_NEAR_KEYS = (
    "SELECT rid, x, unnest(_digit_runs(_digit_groups(x))) AS run FROM frag WHERE x IN ("
    "SELECT f.x FROM (SELECT x, substr(d, i, 7) AS w FROM (SELECT x, d, "
    "unnest(range(1, length(d) - 5)) AS i FROM (SELECT DISTINCT x, "
    "regexp_replace(x, '[^0-9]', '', 'g') AS d FROM frag))) f JOIN (SELECT DISTINCT "
    "right(key, 7) AS w FROM _tkeys WHERE kind = 'phone' AND length(key) >= 7) kw ON f.w = kw.w)"
)
"""The runs of digit groups (rid, x, run) of the fragments whose digits hold the last 7
digits of a phone key: only there can a run be that key (its last 7 digits are in the
fragment's digits)."""


def _free_text(
    con: Connection, space: SearchSpace, *, with_names: bool
) -> list[tuple[str, FreeTextHit]]:
    """Mentions of each request's keys inside free text, with the exact fragments."""
    hits: dict[tuple[str, str, str, int], FreeTextHit] = {}
    id_kinds = ["customer_id", "account_id", "national_id", "tax_id", "iban"]
    keys = con.execute(
        "SELECT DISTINCT kind, key FROM _tkeys WHERE (kind <> 'name' OR contains(key, ' ')) "
        "AND NOT list_contains(?, kind)",
        [list(CORROBORATING)],
    ).fetchall()
    if not keys:
        return []
    for macro in _DIGIT_MACROS:
        con.execute(macro)
    for table, column in space.free_text:
        col = quote_ident(column)
        prefilter, pre_params = _text_prefilter(col, keys)
        # the texts that can mention a key: read once, then searched by each extractor
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _ftext AS SELECT rowid AS rid, CAST({col} AS VARCHAR) "
            f"AS t FROM {space.relation(table)} WHERE {col} IS NOT NULL AND {prefilter}",
            pre_params,
        )
        text = "t"
        # A number may run into a neighbouring figure ("612 345 678 2 veces"): whole groups
        # of digits as typed must make the number (alone or after its country code), never
        # digits inside a longer one (a tracking number 16123456789 is not 612 345 678).
        # Listing a fragment's runs of groups costs ~2.7 us each, so runs are listed only
        # for fragments whose digits hold the last 7 digits of a key (`near`); each
        # fragment's own key is compared as it is. All by equality, so one person and a
        # batch are searched alike (a batch once compared the fragments' own keys only).
        long_key = "length(k.key) >= 7 AND "
        phone_cc = country_sql("x")
        phone_keyings = [
            (key_sql("x", "e164"), phone_cc, ["phone"], long_key + "k.key = keyed.key", "frag"),
            ("run", phone_cc, ["phone"], long_key + "k.key = keyed.key", "near"),
            ("run", phone_cc, ["phone"], long_key + "k.cc || k.key = keyed.key", "near"),
        ]
        # (fragments, the texts that can hold one, and how fragments are keyed); each text
        # is searched once per pattern, and not at all for kinds no request has a key of
        email, compact, trim = key_sql("x", "email"), key_sql("x", "compact"), key_sql("x", "trim")
        exact = "k.key = keyed.key"
        extractors = [  # (pattern, which group is the fragment, texts to search, keyings)
            (_EMAIL_RE, 0, "contains(t, '@')", [(email, "NULL", ["email"], exact, "frag")]),
            (_PHONE_RE, 0, "true", phone_keyings),
            (_SLASHED_PHONE_RE, 1, "contains(t, '/')",
             [(key_sql("x", "e164"), phone_cc, ["phone"], exact, "frag")]),
            (_IBAN_RE, 0, "true", [(compact, "NULL", ["iban"], exact, "frag")]),
            (_TOKEN_RE, 0, "true",
             [(compact, "NULL", id_kinds, exact, "frag"),
              (trim, "NULL", id_kinds, exact, "frag")]),
        ]  # fmt: skip
        present = {kind for kind, _ in keys}
        for pattern, group, texts, keyings in extractors:
            wanted = [k for k in keyings if present & set(k[2])]
            if not wanted:
                continue
            matched = " UNION ALL ".join(
                f"SELECT k.req, keyed.rid, k.kind, keyed.x FROM (SELECT rid, x, {key} AS key, "
                f"{cc} AS cc FROM {source}) keyed JOIN _tkeys k ON {match} "
                "AND (k.cc IS NULL OR keyed.cc IS NULL OR k.cc = keyed.cc) "
                f"WHERE list_contains(${n}, k.kind)"
                for n, (key, cc, _, match, source) in enumerate(wanted, start=1)
            )
            near = (
                f", near AS MATERIALIZED ({_NEAR_KEYS})"
                if any(k[4] == "near" for k in wanted)
                else ""
            )
            rows = con.execute(
                f"WITH frag AS MATERIALIZED (SELECT rid, unnest(regexp_extract_all({text}, "
                f"'{pattern}', {group})) AS x FROM _ftext WHERE {texts}){near} {matched}",
                [kinds for _, _, kinds, _, _ in wanted],
            ).fetchall()
            for req, rid, kind, fragment in rows:
                hit = hits.setdefault(
                    (req, table, column, int(rid)), FreeTextHit(table, column, int(rid))
                )
                hit.kinds.add(kind)
                hit.fragments.add(fragment)
        if with_names:
            _name_mentions(con, space, table, column, hits)
    return [(req, hit) for (req, *_), hit in sorted(hits.items(), key=lambda kv: kv[0])]


def _name_mentions(
    con: Connection,
    space: SearchSpace,
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
            "SELECT DISTINCT regexp_extract(n, '(\\S+)$', 1) FROM (SELECT key AS n FROM _tkeys "
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
        f"SELECT k.req, t.rowid, k.key, {text} FROM {space.relation(table)} t JOIN _tkeys k "
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
    numbers = [key for kind, key in keys if kind == "phone" and key.isascii() and key.isdigit()]
    if numbers:  # the digits, maybe with separators between them: one regex for them all
        test, pattern = holds_digits(text, numbers)
        tests.append(test)
        params.append(pattern)
    for kind, key in keys:
        if kind == "phone" and key in numbers:
            continue
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


_REF_NAMES = ("id", "ref", "reference", "number", "no", "num", "code", "key")


def _ref_column(ws: Workspace, space: SearchSpace, table: str, columns: list[str]) -> str | None:
    """The column a reviewer can look a row up by: one whose name says it is the row's id
    or reference (ticket_id, id_cliente, order_no), or else the first column, if its values
    are unique; failing those, a unique identity link."""
    links = {link.column for link in space.links if link.table == table}
    named = [
        c
        for c in columns
        if c not in links
        and (words := [w for w in c.lower().replace(".", "_").split("_") if w])
        and (words[-1] in _REF_NAMES or words[0] in ("id", "ref"))
    ]
    if not named and columns and columns[0] not in links:
        named = [columns[0]]
    for column in named[:2]:
        if ws.column_unique(table, column):
            return column
    for link in space.links:
        if link.table == table and link.is_unique and not link.list_column:
            return link.column
    return None


def fingerprint_sql(columns: Sequence[str], alias: str = "") -> str:
    """SQL: a hash of a row's content (stable across rewrites of the table, unlike rowid)."""
    parts = ", ".join(
        f"coalesce(CAST({alias}{quote_ident(c)} AS VARCHAR), chr(0))" for c in columns
    )
    return f"md5(concat_ws(chr(31), {parts}))" if columns else "md5('')"


def row_fingerprints(ws: Workspace, table: str, rowids: Sequence[int]) -> dict[int, str]:
    """The content fingerprint of these rows (see `fingerprint_sql`)."""
    if not rowids:
        return {}
    rows = ws.con.execute(
        f"SELECT rowid, {fingerprint_sql(_own_columns(ws, table))} FROM {ws.relation(table)} "
        "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
        [json_list(sorted(rowids))],
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def fingerprints_present(ws: Workspace, table: str, fingerprints: Sequence[str]) -> set[str]:
    """Which of these content fingerprints a row of the table still has (one pass)."""
    if not fingerprints or not ws.has_table(table):
        return set()
    rows = ws.con.execute(
        f"SELECT DISTINCT fp FROM (SELECT {fingerprint_sql(_own_columns(ws, table))} AS fp "
        f"FROM {ws.relation(table)}) WHERE fp IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
        [json_list(sorted(fingerprints))],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _own_columns(ws: Workspace, table: str) -> list[str]:
    return [c.name for c in ws.columns(table) if not (c.name == "rowid" and ws.star(table) != "*")]


def _describe(
    ws: Workspace, space: SearchSpace, possible: Mapping[tuple[str, str, int], PossibleMatch]
) -> None:
    """Row reference, content fingerprint and masked identity values of possible matches."""
    by_table: dict[str, list[PossibleMatch]] = {}
    for p in possible.values():
        by_table.setdefault(p.table, []).append(p)
    for table, items in by_table.items():
        columns = _own_columns(ws, table)
        ref = _ref_column(ws, space, table, columns)
        shown = [link for link in space.links if link.table == table and not link.list_column]
        select = [
            fingerprint_sql(columns),
            f"CAST({quote_ident(ref)} AS VARCHAR)" if ref else "NULL",
        ]
        select += [link.value_sql() for link in shown]
        rows = ws.con.execute(
            f"SELECT rowid, {', '.join(select)} FROM {ws.relation(table)} "
            "WHERE rowid IN (SELECT UNNEST(CAST(?::JSON AS BIGINT[])))",
            [json_list(sorted({p.rowid for p in items}))],
        ).fetchall()
        info = {int(r[0]): r[1:] for r in rows}
        for p in items:
            got = info.get(p.rowid)
            if got is None:
                continue
            p.fingerprint = got[0]
            p.row_ref = f"{ref}={got[1]}" if ref and got[1] is not None else f"row {p.rowid + 1}"
            p.masked = {
                "+".join(link.columns): mask_value(link.kind, value)
                for link, value in zip(shown, got[2:], strict=True)
                if value is not None and str(value).strip() and link.column != ref
            }


def _apply_decisions(
    ws: Workspace, space: SearchSpace, results: dict[str, SubjectMatch], decisions: Decisions
) -> None:
    """Confirmed rows join the person's rows; rejected ones are not listed again."""
    for req, decided in decisions.items():
        match = results.get(req)
        if match is None or not decided:
            continue
        kept = []
        for p in match.possible:
            verdict = decided.get((p.table, p.fingerprint))
            if verdict == "rejected":
                match.rejected += 1
            elif verdict != "confirmed":
                kept.append(p)
        match.possible = kept
        confirmed: dict[str, list[str]] = {}
        for (table, fp), verdict in decided.items():
            if verdict == "confirmed":
                confirmed.setdefault(table, []).append(fp)
        for table, fps in sorted(confirmed.items()):
            if not ws.has_table(table):
                continue
            rows = ws.con.execute(  # anywhere in the table, not only among picked rows
                f"SELECT rowid FROM {ws.whole_relation(table)} WHERE "
                f"{fingerprint_sql(_own_columns(ws, table))} IN "
                "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
                [json_list(fps)],
            ).fetchall()
            ws.include_rows(table, [int(r[0]) for r in rows])
            for (rid,) in rows:
                have = match.rows.setdefault(table, [])
                if int(rid) not in have:
                    have.append(int(rid))
                    have.sort()
                match.confirmed.setdefault(table, []).append(int(rid))


def rows_by_table(
    ws: Workspace, table: str, rowids: Sequence[int]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The full rows (every column) with these rowids."""
    cur = ws.con.execute(
        f"SELECT {ws.star(table)} FROM {ws.relation(table)} WHERE rowid IN "
        "(SELECT UNNEST(CAST(?::JSON AS BIGINT[]))) ORDER BY rowid",
        [json_list(rowids)],
    )
    cols = [d[0] for d in cur.description]
    return cols, [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
