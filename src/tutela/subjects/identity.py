"""Whose value is this? Judging each identifier value the search reaches from the data itself.

A value (a phone number, an e-mail, a cookie) is carried by rows in one or more tables. Those
rows say who they are about through their *identity attributes*: unique identifiers first
(customer id, account id, national id, tax id, and any link the policy declares unique), then
e-mail, then name. Two carrier rows *conflict* when the strongest attribute both of them have
differs (two customer ids; two e-mails; two names that are not the same name written
differently). Then:

- **unique**: no two carriers conflict — every row carrying the value is about one person;
- **ambiguous**: carriers conflict (a household landline, a family e-mail, a shared tablet,
  a recycled number), or the link is declared `shared: true`;
- **placeholder**: on the built-in or policy placeholder lists, shaped like one
  (+34 900 000 000, noemail@noemail.com), or carried by many people (>= PLACEHOLDER_PEOPLE
  distinct identities, or too many different-looking rows to compare).

Statuses depend on the data only, not on the request, so one judgement serves a whole batch.
Everything is set-based SQL over the carrier rows of the values reached in a round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from tutela.base.normalize import (
    ANCHOR_KINDS,
    CORROBORATING,
    EXPANDING,
    key_sql,
    nobody_sql,
    placeholder_sql,
    walk_in_sql,
)
from tutela.base.sql import json_list, sql_literal
from tutela.engine import Connection
from tutela.subjects.ledger import Ledger
from tutela.subjects.links import LinkSpec, SearchSpace

PLACEHOLDER_PEOPLE = 10
"""A value carried by this many distinct people (of one attribute kind) is a placeholder."""
MAX_SIGNATURES = 50
"""Carrier rows of more distinct identity signatures than this are not compared pairwise."""

UNIQUE, AMBIGUOUS, PLACEHOLDER = "unique", "ambiguous", "placeholder"

WEAK_REACH = ("phone", "device_id", "cookie_id", "ip_address", "name", "iban")
"""Kinds a household, a shared device or a joint bank account share without the data showing
it: a row reached only through them is the person's while nothing on it belongs to someone
else (`IdentityJudge.ban_bridges`). Ids, e-mails and accounts vouch for the rows they reach."""

MACHINE_KINDS = ("ip_address", "device_id", "cookie_id")
"""Kinds that name a connection, a device or a browser, each used inside the one before it:
a row carrying one of them and something of another person's that is used inside it (his
phone, his name; his browser's cookie, on a device) shows that he uses it too."""

USED_BY_SEVERAL = (*MACHINE_KINDS, "iban")
"""Things several people use unseen (a machine, a joint bank account): a row carrying another
person's shows that the thing is shared, not that he used her device or her phone."""

LIST_ITEM = "list_item"
"""`_ban` kind of a row reached only through an item of a list of several phones or devices
that the requester did not give (`IdentityJudge._ban_weak_lists`)."""

SHARED_LIST = "shared_list"
"""`_ban` kind of a row reached through the given phone or device as one item of a list,
that lists several people by name and carries no id or e-mail (a shop's card of a couple):
a question for each of them, which does not make the given value someone else's."""

_GIVEN_CC = "(g.cc IS NULL OR h.cc IS NULL OR g.cc = h.cc)"
"""SQL: a given value `g` and a hit `h` of one phone number are of one country, when both
say which."""

_ANCHORS = f"[{', '.join(sql_literal(k) for k in ANCHOR_KINDS)}]"
"""SQL list of the kinds that name one customer (customer, account, national, tax id)."""


def _inside(kind: str, *, outer: bool) -> str:
    """SQL: how deep a kind of value is used (a connection 3, a device 2, a browser's cookie
    1, a person's own identifier 0). For the thing judged (`outer`) only machines rank; for
    what a row carries of another person, a joint account shows no user at all (99)."""
    ranks = " ".join(f"WHEN {sql_literal(k)} THEN {3 - i}" for i, k in enumerate(MACHINE_KINDS))
    other = "0" if outer else f"CASE WHEN {kind} = 'iban' THEN 99 ELSE 0 END"
    return f"(CASE {kind} {ranks} ELSE {other} END)"


SOFT_KINDS = ("email", "name", "cookie_id")
"""Attributes that tell people apart when no unique identifier does; a browser cookie is the
weakest (two cookies on one tablet may be two people, or one who cleared them)."""

_KIND_WORDS = {
    "customer_id": ("customer id", "customer ids"),
    "account_id": ("account", "accounts"),
    "national_id": ("national id", "national ids"),
    "tax_id": ("tax id", "tax ids"),
    "email": ("e-mail address", "e-mail addresses"),
    "name": ("name", "names"),
    "cookie_id": ("cookie", "cookies"),
}

# Two names are the same name written differently when one's words are all in the other
# ("Anna Puig" / "Anna Puig i Ferrer"), or they differ only in spacing ("MansoJover") or in
# word order turned round, surname first ("Puig Anna"), or by one typo inside a middle
# word. Every word counts, short words too, an initial only for a word it starts: "J.
# Smith" and "Mr Smith" are not "Mary Smith", nor "Wang Li" "Wang Fang" (a family e-mail
# carries them all); "M. Carmen Ruiz" is "Maria del Carmen Ruiz" (particles are optional).
# A similar-looking given name is NOT the same person here: "Joan Soler" and "Joana Soler"
# share a phone in many households. (Known limits: a bare surname, "Smith", is all in
# "Mary Smith" and reads as her name; so is a father's "Juan Garcia" in his son's "Juan
# Garcia Lopez".)
_PARTICLES = (
    "['de', 'del', 'la', 'las', 'los', 'el', 'i', 'y', 'e', 'da', 'das', 'do', 'dos', 'di', "
    "'van', 'der', 'den', 'von', 'zu', 'le', 'du', 'des']"
)
_UNICODE_PUNCT = "’‘“”·«»–—‐´¨¡¿\u00a0"
"""Punctuation and spaces beyond ASCII's that names are written with."""
_NAME_MACROS = [
    # the words of a name key: punctuation is a space, "ª" and "º" ("Mª") are dropped. The
    # punctuation is listed, not "[^\\pL\\pN]" (not a letter or digit): this macro is
    # expanded ~20 times in a statement that compares names, and each expansion compiled
    # the Unicode letter tables when the statement was bound (~7 ms each)
    "CREATE OR REPLACE TEMP MACRO _words(n) AS "
    "list_filter(string_split(regexp_replace(replace(replace(n, 'ª', ''), 'º', ''), "
    f"'[[:punct:][:space:]{_UNICODE_PUNCT}]+', ' ', 'g'), ' '), lambda w: length(w) >= 1)",
    # the words that tell a name: particles (de, del, i, da, van der...) are optional
    f"CREATE OR REPLACE TEMP MACRO _nwords(n) AS list_filter(_words(n), lambda w: "
    f"NOT list_contains({_PARTICLES}, w))",
    # every word of p is in q, an initial ("M.", "Mª") standing for a word it starts, and
    # at least one whole word agrees ("J. Smith" is "John Smith", not "Mary Smith")
    "CREATE OR REPLACE TEMP MACRO _within(p, q) AS len(list_filter(_nwords(p), "
    "lambda x: length(x) >= 2)) > 0 AND len(list_filter(_nwords(p), lambda x: NOT "
    "(list_contains(_nwords(q), x) OR (length(x) = 1 AND len(list_filter(_nwords(q), "
    "lambda y: starts_with(y, x))) > 0)))) = 0",
    # the same words in another order are one name only written surname first ("Puig
    # Anna", "Garcia Lopez, Juan"): the words turned round, not reshuffled. "Jose Maria
    # Garcia" is not "Maria Jose Garcia" (a brother and a sister)
    "CREATE OR REPLACE TEMP MACRO _turned(p, q) AS list_transform([[array_to_string("
    "_nwords(p), ' '), array_to_string(_nwords(q), ' ')]], lambda w: length(w[1]) = "
    "length(w[2]) AND contains(w[1] || ' ' || w[1], w[2]))[1]",
    "CREATE OR REPLACE TEMP MACRO _same_name(p, q) AS p = q "
    "OR (_within(p, q) AND NOT _within(q, p)) OR (_within(q, p) AND NOT _within(p, q)) "
    "OR (_within(p, q) AND _within(q, p) AND (len(_nwords(p)) <> len(_nwords(q)) "
    "OR _turned(p, q))) "
    "OR replace(p, ' ', '') = replace(q, ' ', '')",
    # one slip of the keyboard inside a middle word, first and last words the same: one
    # person ("Sara Pooza Roca"). The given name may be first or last ("Soler Joan"), so a
    # change there ("Joan"/"Joana") is another person, as is another surname ("Josep Pujol
    # Poza"/"Josep Pujol Roca", father and son).
    "CREATE OR REPLACE TEMP MACRO _names_alike(p, q) AS _same_name(p, q) "
    "OR (len(_words(p)) >= 3 AND len(_words(p)) = len(_words(q)) "
    "AND _words(p)[1] = _words(q)[1] AND _words(p)[-1] = _words(q)[-1] "
    "AND damerau_levenshtein(p, q) <= 1)",
    # a full name as the set of its words: "Ruiz, Alba" is "Alba Ruiz"
    "CREATE OR REPLACE TEMP MACRO _fullname(n) AS list_sort(list_distinct(_nwords(n)))",
    "CREATE OR REPLACE TEMP MACRO _names_agree(a, b) AS "
    "len(list_filter(a, lambda p: len(list_filter(b, lambda q: _names_alike(p, q))) > 0)) > 0",
    # the same name as many words long ("A. Ruiz", "Ruiz, Alba" for "Alba Ruiz"): not a
    # father's "Juan Garcia" in his son's "Juan Garcia Lopez"
    "CREATE OR REPLACE TEMP MACRO _names_match(a, b) AS "
    "len(list_filter(a, lambda p: len(list_filter(b, lambda q: _names_alike(p, q) "
    "AND len(_nwords(p)) = len(_nwords(q)))) > 0)) > 0",
    # close enough to be the same person misspelt: not proof, but no reason to discard. One
    # slip anywhere ("nna Costa" for "Anna Costa"), or word for word the same words with at
    # most one slip in each word of 4+ letters ("Jon Smith" for "John Smith"). Not close: a
    # shared surname with another given name or an initial ("J. Smith", "Mr Smith"), and
    # the other form of a given name ("Joana Soler" for "Joan Soler", `_gendered`).
    # the two forms of one given name, in the given name's place (the first word): "Mario"/
    # "Maria", "Paolo"/"Paola", "Joan"/"Joana", "Luis"/"Luisa". One letter apart, yet a
    # brother and a sister, a husband and a wife (who share a family e-mail), never a slip:
    # only o/a endings and a consonant followed by "a" (e/a, i/a and a dropped "e" are
    # spellings of one name as often: "Anna"/"Anne", "Maria"/"Marie"; surnames, "Romero"/
    # "Romeri", "Costa"/"Cost", are typos here). Known limit: a name written surname first.
    # (cheap string tests only: it is judged for every pair of close names)
    "CREATE OR REPLACE TEMP MACRO _gendered(x, y) AS abs(length(x) - length(y)) <= 1 "
    "AND least(length(x), length(y)) >= 3 AND left(x, 2) = left(y, 2) AND x <> y "
    "AND ((right(x, 1) || right(y, 1) IN ('ao', 'oa') AND left(x, -1) = left(y, -1)) "
    "OR (y = x || 'a' AND NOT contains('aeiou', right(x, 1))) "
    "OR (x = y || 'a' AND NOT contains('aeiou', right(y, 1))))",
    # names are keys (lower case, one space between words): the first word is split_part's
    "CREATE OR REPLACE TEMP MACRO _gendered_pair(p, q) AS "
    "_gendered(split_part(p, ' ', 1), split_part(q, ' ', 1))",
    "CREATE OR REPLACE TEMP MACRO _words_close(p, q) AS len(_words(p)) >= 2 "
    "AND len(_words(p)) = len(_words(q)) AND len(list_filter(_words(p), lambda x: "
    "len(list_filter(_words(q), lambda y: x = y "
    "OR (greatest(length(x), length(y)) >= 4 AND damerau_levenshtein(x, y) <= 1))) = 0)) = 0",
    "CREATE OR REPLACE TEMP MACRO _names_close(a, b) AS "
    "len(list_filter(a, lambda p: len(list_filter(b, lambda q: _same_name(p, q) "
    "OR ((damerau_levenshtein(p, q) <= 1 OR _words_close(p, q)) "
    "AND NOT _gendered_pair(p, q)))) > 0)) > 0",
    # might be the same person (a reviewer decides): only names unlike all of hers make a
    # row recognisably someone else's
    "CREATE OR REPLACE TEMP MACRO _names_maybe(a, b) AS _names_close(a, b) OR "
    "len(list_filter(a, lambda p: len(list_filter(b, lambda q: "
    "jaro_winkler_similarity(p, q) >= 0.88)) > 0)) > 0",
]


NameUse = Literal["back", "judge", "drop"]
"""What a request's names are taken for (`IdentityJudge.mine_sql`)."""


@lru_cache(maxsize=65536)
def is_landline(national: str, country_code: str) -> bool:
    """Whether a number (national significant number, country calling code) is a fixed
    line: a household's, not one person's (numbers that may be either are not)."""
    # keys drop leading zeros; in Italy (and San Marino, the Vatican) the 0 of a landline
    # belongs to the number: `+39 06 ...` is keyed `6...`, which alone is no valid number
    for digits in (national, "0" + national):
        try:
            number = phonenumbers.parse(f"+{country_code}{digits}")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
    return False


@dataclass(frozen=True)
class ValueStatus:
    kind: str
    key: str
    cc: str | None
    status: str
    people: int
    rows: int
    tables: tuple[str, ...]
    detail: str

    def describe(self, masked: str) -> str:
        """A sentence for reports and review lists (the value already masked)."""
        what = self.kind.replace("_", " ")
        where = ", ".join(self.tables)
        if self.status == PLACEHOLDER:
            return f"{what} {masked} is a placeholder ({self.detail}); not followed"
        return f"{what} {masked} is shared ({self.detail}) in {where}"


class IdentityJudge:
    """Reads the identity attributes of carrier rows and judges each value reached."""

    def __init__(self, con: Connection, space: SearchSpace, ledger: Ledger | None = None) -> None:
        self.con = con
        self.space = space
        self.ledger = ledger
        self.attr_kinds = attribute_kinds(space.links)
        # the attribute index of names, -1 when no link is of kind name
        self.nm = self.attr_kinds.index("name") if "name" in self.attr_kinds else -1
        self.attr_links = [
            (i, link)
            for i, link in enumerate(space.links)
            if _attribute_of(link, self.attr_kinds) is not None
        ]
        self.shared_links = [i for i, link in enumerate(space.links) if link.shared]
        self._lines: dict[tuple[str, str], bool] = {}
        for sql in _NAME_MACROS:
            con.execute(sql)
        cols = ", ".join(f"a{i} VARCHAR[]" for i in range(len(self.attr_kinds)))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sig (tbl VARCHAR, rid BIGINT"
            + (f", {cols}" if cols else "")
            + ", own VARCHAR[], scal VARCHAR[])"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _kconf (req VARCHAR, kind VARCHAR, key VARCHAR, "
            "cc VARCHAR, nobody_agrees BOOLEAN)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ban (req VARCHAR, tbl VARCHAR, rid BIGINT, "
            "kind VARCHAR, hop INTEGER)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _vstat (kind VARCHAR, key VARCHAR, cc VARCHAR, "
            "status VARCHAR, people INTEGER, nrows BIGINT, tables VARCHAR[], detail VARCHAR)"
        )
        # rows attributed to a holder by the period of a recycled value (find.py fills it)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _attrib (kind VARCHAR, key VARCHAR, tbl VARCHAR, "
            "rid BIGINT, otbl VARCHAR, orid BIGINT)"
        )

    # -- attributes of carrier rows ---------------------------------------------------
    def read_attributes(self, index: str = "_idx", *, tokens: bool = True) -> None:
        """Signatures of the carrier rows indexed (in `index`) since the last call (one
        statement per table, over the table's rows that carry a value reached). `tokens`:
        first make the clear values reached so far known to columns of keyed tokens (and
        read the rows of those tables again)."""
        if tokens:
            self._map_tokens()
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _newrows AS SELECT DISTINCT tbl, rid FROM {index} "
            "EXCEPT SELECT tbl, rid FROM _sig"
        )
        tables = [r[0] for r in self.con.execute("SELECT DISTINCT tbl FROM _newrows").fetchall()]
        n = len(self.attr_kinds)
        for table in tables:
            parts = []
            for _, link in self.attr_links:
                if link.table != table:
                    continue
                a = _attribute_of(link, self.attr_kinds)
                key = link.key_sql("v")
                opaque = link.tokens is not None
                if opaque:  # the token of someone not reached: a value of its own, not a key
                    key = f"CASE WHEN starts_with(v, chr(1)) THEN v ELSE {key} END"
                rows = link.source_sql(
                    "rowid IN (SELECT rid FROM _newrows WHERE tbl = $t)", opaque=opaque
                )
                # a placeholder (`N/A` as a customer id, `unknown` as a name) says nothing
                # about who the row is: not an attribute of it
                nobody = nobody_sql(link.kind, "k", self.space.placeholders)
                # a list of names two of which are not one name written differently (a
                # household's members, not "Alba Ruiz", "Ruiz, Alba", "A. Ruiz") names
                # several people; "Juan García" and "Juan García López" are a father and
                # his son as often as one man (`_names_match`)
                val = f"CASE WHEN {nobody} THEN NULL ELSE k END"
                if link.list_column and link.kind == "name":
                    parts.append(
                        "SELECT rid, a, val, len(list_filter(ks, lambda p: len(list_filter("
                        "ks, lambda q: NOT _names_match([p], [q]))) > 0)) > 0 AS many, "
                        "true AS listed FROM ("
                        f"SELECT rid, {a} AS a, {val} AS val, list(k) FILTER "
                        f"(WHERE NOT ({nobody})) OVER (PARTITION BY rid) AS ks "
                        f"FROM (SELECT rid, {key} AS k FROM {rows}))"
                    )
                else:
                    parts.append(
                        f"SELECT rid, {a} AS a, {val} AS val, false AS many, "
                        # a token of a name not reached says nothing of which names are
                        # hers: left out of her names outside lists (`scal`)
                        f"{'true' if link.list_column or opaque else 'false'} AS listed "
                        f"FROM (SELECT rid, {key} AS k FROM {rows})"
                    )
            lists = ", ".join(
                f"list_sort(list_distinct(list(val) FILTER (WHERE a = {i} AND val IS NOT NULL)))"
                for i in range(n)
            )
            nm = self.nm
            own = (
                "list_sort(list_distinct(list(val) FILTER "
                f"(WHERE a = {nm} AND val IS NOT NULL AND NOT many)))"
                if nm >= 0
                else "NULL"
            )
            scal = (
                "list_sort(list_distinct(list(val) FILTER "
                f"(WHERE a = {nm} AND val IS NOT NULL AND NOT listed)))"
                if nm >= 0
                else "NULL"
            )
            if parts and n:
                self.con.execute(
                    f"INSERT INTO _sig SELECT $t, rid, {lists}, {own}, {scal} FROM ("
                    + " UNION ALL ".join(parts)
                    + ") GROUP BY rid",
                    {"t": table},
                )
            # rows without any attribute still get a (blank) signature: read once
            self.con.execute(
                "INSERT INTO _sig (tbl, rid) SELECT tbl, rid FROM _newrows WHERE tbl = $t "
                "AND rid NOT IN (SELECT rid FROM _sig WHERE tbl = $t)",
                {"t": table},
            )

    def _map_tokens(self) -> None:
        """A column of keyed tokens (`links.Tokens`) reads a token as the clear value it
        stands for when the search knows that value. Here the clear attribute values of the
        carrier rows reached so far are made known, so a token of her customer id reads as
        that id and agrees with her row elsewhere (unknown, it would look like another
        person's); rows of those tables are read again as more values become known."""
        tokenised = [link for _, link in self.attr_links if link.tokens is not None]
        if not tokenised:
            return
        for kind in sorted({link.kind for link in tokenised}):
            clear = []
            for _, other in self.attr_links:
                if other.kind == kind and other.tokens is None:
                    rows = f"rowid IN (SELECT rid FROM _idx WHERE tbl = {sql_literal(other.table)})"
                    clear.append(
                        f"SELECT {key_sql('v', other.normalize)} AS key "
                        f"FROM {other.source_sql(rows)}"
                    )
            if not clear:
                continue
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _clear AS SELECT DISTINCT ? AS kind, key FROM ("
                + " UNION ALL ".join(clear)
                + ") WHERE key IS NOT NULL",
                [kind],
            )
            for link in tokenised:
                if link.kind == kind and link.tokens is not None:
                    link.tokens.remember(self.con, link, "_clear")
        tables = sorted({link.table for link in tokenised})
        self.con.execute(
            "DELETE FROM _sig WHERE list_contains(?::VARCHAR[], tbl)", [tables]
        )  # read again below, with the tokens known now

    # -- judging values ---------------------------------------------------------------
    def mine_sql(self, s: str, i: int, use: NameUse = "judge") -> str:
        """SQL aggregate: the person's values of attribute `i` over signatures `s` (a
        request's rows). A list of several names (a household record listing Alba and her
        son Leo) does not make the names it lists hers (`_sig.own`); nor does a list of one
        person's names when a name of hers outside lists (`_sig.scal`) is not one of them
        (with a list column of names in the policy). `use`:
        - "back", what backs a row as hers: her own names only;
        - "judge", what a row is judged against (does it contradict her?): her own names;
          when only such a list names her, a name no row carries (which of them she is,
          the data does not say: any name on a row is unlike hers);
        - "drop", what a row must be unlike to be left out as someone else's: her own
          names, or, when only such a list names her, its names.
        Judged itself, a row with such a list agrees with any of them."""
        every = f"list_distinct(flatten(list({s}.a{i}) FILTER (WHERE {s}.a{i} IS NOT NULL)))"
        if self.attr_kinds[i] != "name":
            return every
        own = f"list_distinct(flatten(list({s}.own) FILTER (WHERE {s}.own IS NOT NULL)))"
        lists = any(link.list_column for _, link in self.attr_links if link.kind == "name")
        if use != "drop" and lists:
            # a list's names are hers when a name of hers outside lists is one of them
            # written another way, or none is (her mother's record listing only her son)
            scal = f"list_distinct(flatten(list({s}.scal) FILTER (WHERE {s}.scal IS NOT NULL)))"
            own = (
                f"CASE WHEN len(coalesce({scal}, [])) > 0 THEN list_filter({own}, lambda p: "
                f"len(list_filter({scal}, lambda q: _names_alike(p, q))) > 0) ELSE {own} END"
            )
        if use == "back":
            return own
        listed = "[chr(1)]" if use == "judge" else every
        return (
            f"CASE WHEN len(coalesce({own}, [])) > 0 THEN {own} "
            f"WHEN len(coalesce({every}, [])) > 0 THEN {listed} END"
        )

    def conflict_sql(self, x: str, y: str, judged: str | None = None) -> str:
        """SQL: the index of the strongest attribute kind on which two signatures (lists
        `{x}0..`, `{y}0..`) both have values and disagree; NULL when they agree.

        `judged`: SQL for the kind of the value being judged. Carriers of an e-mail all have
        that e-mail: agreeing on it says nothing, so the next attribute (the name) decides
        (a customer id, by contrast, is compared with itself: it names one customer).

        Agreement does not always settle it:
        - the same e-mail with names that are not even close is two people (a family's
          address: Marta's CRM row and her husband's order), so after agreeing e-mails the
          names are compared too (`_names_close`: a typo is the same person here);
        - the same unique id with both another e-mail and a name not even close (a shared
          surname is not enough) is an id that two systems number differently (the shop's
          customer 1002, José García, is not the CRM's 1002, María García): a conflict,
          reported at the e-mail level. Less is not enough: people change e-mails, and a
          spouse orders on the other's account (a nickname with a changed e-mail, "Bob
          Smith", is a conflict: a human decides).

        Known limit: given names one letter apart other than the two forms of one name
        ("Maria"/"Marta" are, "Mario"/"Maria" are not) are close here, so such people
        sharing a family e-mail are told apart only by other evidence."""
        kinds = self.attr_kinds

        def both(i: int) -> str:
            sql = f"len(coalesce({x}{i}, [])) > 0 AND len(coalesce({y}{i}, [])) > 0"
            if judged is not None and kinds[i] in SOFT_KINDS:  # an anchor judges itself
                sql += f" AND {judged} <> '{kinds[i]}'"
            return sql

        def agree(i: int) -> str:
            if kinds[i] == "name":
                return f"_names_agree({x}{i}, {y}{i})"
            return f"list_has_any({x}{i}, {y}{i})"

        def differ(i: int | None) -> str:
            """Both have values, and not even close ones: a typo in a name is no other
            person here (the agreement that precedes it says who they are)."""
            if i is None:
                return "false"
            close = "_nc" if kinds[i] == "name" else agree(i)
            return f"(({both(i)}) AND NOT {close})"

        email = kinds.index("email") if "email" in kinds else None
        name = kinds.index("name") if "name" in kinds else None
        # another e-mail and a name not even close: another person numbered alike (a
        # shared surname is no proof: "José García" is not the CRM's "María García"); a
        # nickname with a changed e-mail ("Bob Smith") is then a possible match for a human
        stranger = (
            f"{differ(email)} AND {differ(name)}"
            if email is not None and name is not None
            else "false"
        )
        levels = []
        for i, kind in enumerate(kinds):
            if kind == "email":
                after = f"CASE WHEN {differ(name)} THEN {name} END" if name is not None else "NULL"
            elif kind not in SOFT_KINDS:
                after = f"CASE WHEN {stranger} THEN {email} END" if email is not None else "NULL"
            else:
                after = "NULL"
            levels.append(f"WHEN {both(i)} THEN CASE WHEN {agree(i)} THEN {after} ELSE {i} END")
        if not levels:
            return "NULL"
        judge = f"CASE {' '.join(levels)} ELSE NULL END"
        if name is None:
            return judge
        # whether the names are close is asked in several places: computed once (a one-item
        # lambda), since each expansion of the macro is bound again (~25 ms each)
        return f"list_transform([_names_close({x}{name}, {y}{name})], lambda _nc: {judge})[1]"

    def comparable_sql(self, x: str, y: str, judged: str) -> str:
        """SQL: a carrier's signature (`{x}0..`) and the person's (`{y}0..`) both have some
        attribute other than the kind of the value judged (an e-mail says nothing of the
        carriers of that e-mail), so whether they agree can be told."""
        return " OR ".join(
            f"(len(coalesce({x}{i}, [])) > 0 AND len(coalesce({y}{i}, [])) > 0 "
            + (f"AND {judged} <> '{kind}')" if kind in SOFT_KINDS else ")")
            for i, kind in enumerate(self.attr_kinds)
        )

    def subject_signatures(self, use: NameUse = "judge") -> None:
        """`_mine`: per request, every identity attribute of its certain rows so far (names
        as `mine_sql` takes them for `use`)."""
        n = len(self.attr_kinds)
        mine = ", ".join(f"{self.mine_sql('s', i, use)} AS m{i}" for i in range(n))
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _mine AS SELECT h.req"
            + (f", {mine}" if mine else "")
            + " FROM _hits h JOIN _sig s ON s.tbl = h.tbl AND s.rid = h.rid GROUP BY h.req"
        )

    def against_subject(self) -> None:
        """`_kconf`: fresh keys of a request carried by a row that contradicts what the
        request's certain rows say about the person (another customer id, another e-mail,
        another name): reached from the person's rows, but someone else's too. Their rows
        are possible matches only, for that request. `nobody_agrees`: no carrier with
        comparable attributes agrees with the person (the value is someone else's)."""
        self.subject_signatures()
        if not self.attr_kinds:
            return
        comparable = self.comparable_sql("s.a", "m.m", "k.kind")
        conflict = self.conflict_sql("s.a", "m.m", judged="k.kind")
        self.con.execute(
            f"""INSERT INTO _kconf SELECT k.req, k.kind, k.key, k.cc,
                NOT bool_or(({comparable}) AND ({conflict}) IS NULL)
            FROM _keys k
            JOIN _idx i ON i.kind = k.kind AND i.key = k.key
             AND (i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)
            JOIN _sig s ON s.tbl = i.tbl AND s.rid = i.rid
            JOIN _mine m ON m.req = k.req
            WHERE NOT k.probed
            GROUP BY k.req, k.kind, k.key, k.cc
            HAVING bool_or(({conflict}) IS NOT NULL)"""
        )

    def split_requests(self, which: str = "h.req IN (SELECT req FROM _run)") -> None:
        """`_split`: requests whose own identifiers lead straight to rows of different
        people (her e-mail to her record, the phone given to her husband's: two customer
        ids, names not even close). Which are the requester's is for a human: none of those
        rows is certain, none of their identifiers is followed. Only the requests being
        searched (`_run`) are judged: called after the first round of their search. Also
        called at the end with `which` = the requests no identifier they gave anchors
        (`unanchored_sql`): all their certain rows must be one person's."""
        n = len(self.attr_kinds)
        if not n:
            return
        cols = ", ".join(f"s.a{i} AS a{i}" for i in range(n))
        # pairs of distinct signatures, not of rows: rows signed alike never conflict, and
        # one customer's 60,000 orders are one signature (pairs of rows were quadratic)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _hsig AS SELECT row_number() OVER () AS sid, * "
            f"FROM (SELECT DISTINCT h.req, {cols} "
            "FROM _hits h JOIN _sig s ON s.tbl = h.tbl AND s.rid = h.rid "
            f"WHERE {which})"
        )
        name = self.attr_kinds.index("name") if "name" in self.attr_kinds else None
        same = (
            f"(len(coalesce(x.a{name}, [])) > 0 AND len(coalesce(y.a{name}, [])) > 0 "
            f"AND _names_close(x.a{name}, y.a{name}))"
            if name is not None
            else "false"
        )
        self.con.execute(
            "INSERT INTO _split SELECT DISTINCT x.req FROM _hsig x JOIN _hsig y "
            "ON x.req = y.req AND x.sid < y.sid "
            f"WHERE ({self.conflict_sql('x.a', 'y.a')}) IS NOT NULL AND NOT {same}"
        )
        self.con.execute(
            "INSERT INTO _maybe SELECT * FROM _hits WHERE req IN (SELECT req FROM _split)"
        )
        self.con.execute("DELETE FROM _hits WHERE req IN (SELECT req FROM _split)")

    def demote_unvouched(self) -> int:
        """Certain rows that say nothing of who they are about (no id, e-mail or name) and
        were reached only through a value that may well be someone else's: one that belongs
        to one other person (unique in the data, but contradicting this request's person,
        `_kconf`), or a landline, which a household shares whatever the data shows. They
        become possible matches, and are not followed further (called each round, before
        the certain rows' identifiers are searched for). Returns how many rows moved."""
        self._mark_landlines()
        empty = (
            " AND ".join(f"len(coalesce(s.a{i}, [])) = 0" for i in range(len(self.attr_kinds)))
            or "true"
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _demote AS SELECT DISTINCT h.* FROM _hits h
            JOIN _sig s ON s.tbl = h.tbl AND s.rid = h.rid AND {empty}
            WHERE EXISTS (SELECT 1 FROM _idx i JOIN _kconf c ON c.req = h.req
                          AND c.kind = i.kind AND c.key = i.key AND c.nobody_agrees
                          WHERE i.tbl = h.tbl AND i.rid = h.rid)
               OR NOT EXISTS (SELECT 1 FROM _hits w WHERE w.req = h.req AND w.tbl = h.tbl
                              AND w.rid = h.rid AND NOT (w.via = 'phone' AND EXISTS (
                                  SELECT 1 FROM _landline l WHERE l.key = w.key
                                  AND l.cc = w.cc)))"""
        )
        row = self.con.execute("SELECT count(*) FROM _demote").fetchone()
        if not row or not row[0]:
            return 0
        self.con.execute("INSERT INTO _maybe SELECT * FROM _demote")
        self.con.execute(
            "DELETE FROM _hits WHERE EXISTS (SELECT 1 FROM _demote d WHERE d.req = _hits.req "
            "AND d.tbl = _hits.tbl AND d.rid = _hits.rid)"
        )
        return int(row[0])

    def ban_bridges(self) -> list[str]:
        """`_ban` (req, tbl, rid, kind, hop): certain rows of a request reached only through a
        value a household or a shared device shares unseen (`WEAK_REACH`) that also carry a
        value belonging to someone else: rows that contradict the person (another customer
        id, e-mail or name) carry it, and none that agrees with her does, this row left out.
        Such a row links two people: Bruno's mobile on Alba's newsletter sign-up, Alba's
        cookie on the device of Bruno's app, a list of e-mails holding Alba's and Bruno's
        (reached through one item of a list, a row is weak too). It is a possible match for
        each of them. One hop further, a row whose value such a banned row carries, and no
        row that agrees with the person does, links them too (Bruno's mobile on a sign-up
        whose cookie Alba's web event carries), and so does a row held back for the request
        because a value on it is someone else's (Alba's call, from her mobile, on the tablet
        of Bruno's events); `hop` 1 or 2, and the chain is not followed beyond. Rows
        carrying nothing to compare (events with only that cookie) neither agree nor
        contradict: her events behind the family tablet become questions. Nor do the
        request's other weak rows agree: two events on the tablet are not each other's
        proof.

        A value both people's rows carry (the tablet Bruno's app runs on and Alba called
        from) says nothing of whose a row is: a row it ties to the person, and nothing else
        that only she carries, is a question for both (the tablet's events, certain for
        Bruno before; her browser's cookie on it would have kept them hers, as his IBAN
        keeps the order from the household's landline his). Another person is known to
        carry it by a row that contradicts her; a device, a cookie or an IP also by a row
        held back or banned because it carries something of his used inside it (`_inside`):
        his phone or name (her call from the tablet), or on a device or an IP his browser's
        cookie (her browser on his tablet: its other events are no longer his alone). A
        row carrying his device does not show that he uses her browser's cookie, nor does
        his IBAN show who uses her phone (their joint account registered to him, paid from
        her phone, leaves her phone's events hers); a list holding her e-mail and his does
        not make her e-mail his. A value attributed to the row by its period
        (`_attrib`, a recycled number) is judged by that period.

        The person is read from her vouched rows only (reached through an id, an e-mail or
        an account the requester gave, or through one a vouched row carries; when what was
        given reaches only a list holding it among others, the list, which vouches for the
        given value alone; when nothing given reaches a row, one that two of her rows
        carry), so the linking row does not vouch for itself. When the requester gave an
        id, an e-mail or an account that reached her, a weak row carrying a customer,
        account, national or tax id, or an e-mail address, that none of her vouched rows
        carries is about someone she is not known to be: a bridge too (a guest's login on a
        phone where customer A300's app runs, or on the phone of a customer whose record
        has no address). An address is hers all the same when a weak row carrying her full
        name carries it; a list reached through her address is not judged by its other
        items. Nor do those items vouch: a list of several on a row of hers (her account's
        addresses) may hold a guest's, so what they lead to is judged, as a request by one
        of them does not make her account certain. A list the request started from that
        holds, beside the given value, one another row carries is a question (a namesake's
        address in a contact list with Alba's), and so is one naming someone other than the
        name given (`_ban_list_starts`). A list of several phones or devices (a household
        record's) is judged the same way (`_ban_weak_lists`). Carriers are compared by
        distinct signature (one customer's 60,000 orders are one), so the cost grows with
        the rows and values reached, not their pairs. Returns the requests with new bans:
        what was followed from those rows must be searched again without them."""
        kinds = self.attr_kinds
        n = len(kinds)
        if not n:
            return []
        con = self.con
        weak = f"[{', '.join(sql_literal(k) for k in WEAK_REACH)}]"
        # Vouched: reached through an id, an e-mail or an account that the requester gave or
        # that another of the request's rows carries (not one only the row itself carries: a
        # second address on the linking row vouches for nothing). A list of e-mails is one
        # person's addresses only while the data says so: reached through one item, the row
        # may hold another person's address in the next. Carriers counted per value, not
        # compared per pair of rows (one customer's 60,000 orders carry one e-mail).
        # When an id, an e-mail or an account the requester gave reaches a row (through
        # a link that is not a list), only a chain of vouched rows vouches (a fixpoint
        # from those rows): Alba's customer id on her app session, reached through the
        # device a guest's address was seen on, vouches for nothing, nor for her CRM row
        # that carries it too. A request with no such row has no such start: any two of
        # its rows carrying a value do.
        strong = f"NOT list_contains({weak}, h.via) AND NOT list_contains($lists, h.link)"
        lists = {"lists": [i for i, link in enumerate(self.space.links) if link.list_column]}
        # a list holding the given value and nothing else of its kind starts it too
        alone = (
            "(SELECT count(DISTINCT i.key) FROM _idx i WHERE i.tbl = h.tbl AND i.rid = h.rid "
            "AND i.link = h.link AND i.kind = h.via) = 1"
            if lists["lists"]
            else "false"
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _vouched AS
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            WHERE NOT list_contains({weak}, h.via)
              AND (NOT list_contains($lists, h.link) OR {alone})
              AND EXISTS (SELECT 1 FROM _given g
                  WHERE g.req = h.req AND g.kind = h.via AND g.key = h.key
                  AND g.cc IS NOT DISTINCT FROM h.cc)""",
            lists,
        )
        # a list holding the given value among other items, when nothing else given reaches
        # a row: the requester's own, but its other items vouch for nothing (one may be
        # someone else's); the rows it leads to are judged against it (a guest's profile of
        # two addresses, made on Alba's phone, does not make Alba's customer id his)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _vlist AS
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            WHERE list_contains($lists, h.link) AND NOT list_contains({weak}, h.via)
              AND h.req NOT IN (SELECT req FROM _vouched)
              AND EXISTS (SELECT 1 FROM _given g
                  WHERE g.req = h.req AND g.kind = h.via AND g.key = h.key
                  AND g.cc IS NOT DISTINCT FROM h.cc)""",
            lists,
        )
        con.execute("INSERT INTO _vouched SELECT * FROM _vlist")
        # a request started from a list only: the person is what the requester gave
        given = ", ".join(
            f"list_distinct(list(g.key) FILTER (WHERE g.kind = {sql_literal(k)})) AS m{i}"
            for i, k in enumerate(kinds)
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _gsig AS SELECT g.req, {given} FROM _given g "
            "WHERE g.req IN (SELECT req FROM _vlist) GROUP BY g.req"
        )
        # the items of a list holding several that the requester did not give: a list on a
        # row of hers (her account's addresses) may hold someone else's (a guest's, a
        # partner's), so they vouch for nothing; the rows they reach are judged
        if lists["lists"]:
            con.execute(
                """CREATE OR REPLACE TEMP TABLE _lother AS
                SELECT DISTINCT r.req, i.tbl, i.rid, i.kind, i.key FROM _idx i
                JOIN (SELECT tbl, rid, link FROM _idx WHERE list_contains($lists, link)
                      GROUP BY ALL HAVING count(DISTINCT key) > 1) m
                  ON m.tbl = i.tbl AND m.rid = i.rid AND m.link = i.link
                JOIN (SELECT DISTINCT req, tbl, rid FROM _hits) r
                  ON r.tbl = i.tbl AND r.rid = i.rid
                WHERE NOT EXISTS (SELECT 1 FROM _given g WHERE g.req = r.req
                                  AND g.kind = i.kind AND g.key = i.key)""",
                lists,
            )
        else:  # no list column: nothing to read in `_idx`
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _lother "
                "(req VARCHAR, tbl VARCHAR, rid BIGINT, kind VARCHAR, key VARCHAR)"
            )
        notlist = (
            "NOT EXISTS (SELECT 1 FROM _lother u WHERE u.req = {r} AND u.tbl = i.tbl "
            "AND u.rid = i.rid AND u.kind = i.kind AND u.key = i.key)"
        )
        con.execute("CREATE OR REPLACE TEMP TABLE _vseed AS SELECT DISTINCT req FROM _vouched")
        con.execute(
            f"""INSERT INTO _vouched
            WITH carried AS (
                SELECT o.req, i.kind, i.key, count(DISTINCT (o.tbl, o.rid)) AS n
                FROM (SELECT DISTINCT req, tbl, rid FROM _hits) o
                JOIN _idx i ON i.tbl = o.tbl AND i.rid = o.rid
                WHERE {notlist.format(r="o.req")} GROUP BY ALL
            )
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            JOIN carried c ON c.req = h.req AND c.kind = h.via AND c.key = h.key AND c.n >= 2
            WHERE {strong} AND h.req NOT IN (SELECT req FROM _vouched)""",
            lists,
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _vnew AS SELECT * FROM _vouched "
            "EXCEPT SELECT * FROM _vlist"
        )
        while con.execute("SELECT count(*) FROM _vnew").fetchone()[0]:  # type: ignore[index]
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _vnew AS
                WITH carried AS (
                    SELECT DISTINCT v.req, i.kind, i.key FROM _vnew v
                    JOIN _idx i ON i.tbl = v.tbl AND i.rid = v.rid
                    WHERE {notlist.format(r="v.req")}
                )
                SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
                JOIN carried c ON c.req = h.req AND c.kind = h.via AND c.key = h.key
                WHERE {strong} AND NOT EXISTS (SELECT 1 FROM _vouched v WHERE v.req = h.req
                                               AND v.tbl = h.tbl AND v.rid = h.rid)""",
                lists,
            )
            con.execute("INSERT INTO _vouched SELECT * FROM _vnew")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _weak AS SELECT DISTINCT req, tbl, rid FROM _hits "
            "EXCEPT SELECT req, tbl, rid FROM _vouched"
        )
        if not con.execute("SELECT count(*) FROM _weak").fetchone()[0]:  # type: ignore[index]
            return self._ban_lists(lists)
        mine = ", ".join(f"{self.mine_sql('s', i)} AS m{i}" for i in range(n))
        nm = self.nm
        # `own`: her names that back a row as hers (`_wbacked`)
        own = self.mine_sql("s", nm, "back") if nm >= 0 else "NULL::VARCHAR[]"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _vmine AS SELECT v.req, {mine}, {own} AS own "
            "FROM _vouched v JOIN _sig s ON s.tbl = v.tbl AND s.rid = v.rid "
            "WHERE v.req NOT IN (SELECT req FROM _vlist) GROUP BY v.req"
        )
        con.execute(f"INSERT INTO _vmine SELECT *, {f'm{nm}' if nm >= 0 else 'NULL'} FROM _gsig")
        # the values the weak rows carry: followed kinds, from links not declared shared,
        # not placeholders (those say nothing of anyone)
        followed = f"[{', '.join(sql_literal(k) for k in sorted(EXPANDING))}]"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _wkeys AS
            SELECT DISTINCT w.req, w.tbl, w.rid, k.kind, k.key, k.cc FROM _weak w
            JOIN _keys k ON k.req = w.req
            JOIN _idx i ON i.tbl = w.tbl AND i.rid = w.rid AND i.kind = k.kind
             AND i.key = k.key AND (i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)
            JOIN _vstat v ON v.kind = k.kind AND v.key = k.key
             AND v.cc IS NOT DISTINCT FROM k.cc AND v.status <> '{PLACEHOLDER}'
            WHERE list_contains({followed}, k.kind) AND NOT list_contains($shared, i.link)
              AND w.req IN (SELECT req FROM _vmine)
              -- a value the row was attributed through by its period: judged by the period
              AND NOT EXISTS (SELECT 1 FROM _attrib a WHERE a.tbl = w.tbl AND a.rid = w.rid
                              AND a.kind = k.kind AND a.key = k.key)""",
            {"shared": self.shared_links},
        )
        # rows held back for a request because they carry a value that is someone else's
        # (`_kconf`: another person's row carries it and none of hers does): Alba's call
        # from her mobile, reached from Bruno's tablet events through the tablet's device.
        # They link the person to someone else as banned rows do; `depth`: how deep the
        # other person's value is used (`_inside`), so what machine it shows him using.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _held AS
            SELECT m.req, m.tbl, m.rid,
                   min({_inside("c.kind", outer=False)}) AS depth
            FROM _maybe m
            JOIN _idx i ON i.tbl = m.tbl AND i.rid = m.rid
            JOIN _kconf c ON c.req = m.req AND c.kind = i.kind AND c.key = i.key
             AND (i.cc IS NULL OR c.cc IS NULL OR i.cc = c.cc) AND c.nobody_agrees
            WHERE m.req IN (SELECT req FROM _wkeys)
              AND NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = m.req AND h.tbl = m.tbl
                              AND h.rid = m.rid)
            GROUP BY ALL"""
        )
        attrs = ", ".join(f"s.a{i}" for i in range(n))
        # every carrier of those values, one line per distinct signature: how many rows,
        # whether they are the person's vouched rows, and whether they were banned as
        # linking her to someone else by a value of their own (hop 1: one hop further, a
        # row sharing a cookie only with a web event that carries another person's e-mail
        # links the two as well; the chain is not followed beyond), and how deep that
        # value is used (`depth`: whether it shows him using the value judged)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _wsig AS
            SELECT k.req, k.kind, k.key, k.cc, v.rid IS NOT NULL AS vouched,
                   b.rid IS NOT NULL AS banned, coalesce(b.depth, 99) AS depth,
                   wk.rid IS NOT NULL AS weak, {attrs}, count(DISTINCT (i.tbl, i.rid)) AS n
            FROM (SELECT DISTINCT req, kind, key, cc FROM _wkeys) k
            JOIN _idx i ON i.kind = k.kind AND i.key = k.key
             AND (i.cc IS NULL OR k.cc IS NULL OR i.cc = k.cc)
            JOIN _sig s ON s.tbl = i.tbl AND s.rid = i.rid
            LEFT JOIN (SELECT v.req, v.tbl, v.rid, l.rid IS NOT NULL AS list FROM _vouched v
                       LEFT JOIN _vlist l ON l.req = v.req AND l.tbl = v.tbl
                        AND l.rid = v.rid) v
              ON v.req = k.req AND v.tbl = i.tbl AND v.rid = i.rid
             -- a list the request started from vouches for the given value only, and a
             -- list of several on a row of hers for none it holds
             AND (NOT v.list OR EXISTS (SELECT 1 FROM _given g WHERE g.req = k.req
                                        AND g.kind = k.kind AND g.key = k.key))
             AND {notlist.format(r="k.req")}
            LEFT JOIN (SELECT req, tbl, rid, min(depth) AS depth FROM (
                           SELECT req, tbl, rid, {_inside("kind", outer=False)} AS depth
                           FROM _ban WHERE hop = 1
                           UNION ALL SELECT req, tbl, rid, depth FROM _held) GROUP BY ALL) b
              ON b.req = k.req AND b.tbl = i.tbl AND b.rid = i.rid
            LEFT JOIN _weak wk ON wk.req = k.req AND wk.tbl = i.tbl AND wk.rid = i.rid
            GROUP BY ALL"""
        )
        comparable = self.comparable_sql("w.a", "m.m", "w.kind")
        conflict = self.conflict_sql("w.a", "m.m", judged="w.kind")
        # another cookie, and nothing stronger to compare, is no other person: one who
        # cleared her cookies on her phone, whose old and new events share its device
        cookie = kinds.index("cookie_id") if "cookie_id" in kinds else -1
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _wjudge AS
            SELECT *, NOT vouched AND (banned OR contradicts) AS conflicts,
                   NOT vouched AND (contradicts OR depth < {_inside("kind", outer=True)})
                     AS someone FROM (
                SELECT w.*,
                       w.vouched OR (NOT w.banned AND NOT w.weak AND ({comparable})
                                     AND ({conflict}) IS NULL) AS agrees,
                       NOT w.vouched AND coalesce(({conflict}) <> {cookie}, false)
                         AS contradicts
                FROM _wsig w JOIN _vmine m ON m.req = w.req)"""
        )
        # the row itself is one carrier of its signature's line: left out of the counts
        itself = " AND ".join(f"j.a{i} IS NOT DISTINCT FROM s.a{i}" for i in range(n))
        others = f"j.n - CASE WHEN NOT j.vouched AND NOT j.banned AND {itself} THEN 1 ELSE 0 END"
        # a customer, account, national or tax id that none of the person's vouched rows
        # carries, on a row reached through a device or a phone, when the requester gave
        # an id, an e-mail or an account that reached her: the row is about someone the
        # search does not know to be her (a guest's address seen on Alba's phone, whose
        # app session carries Alba's customer id). So is an e-mail address (a guest's login
        # on the phone of a customer whose record has no address), unless a row reached the
        # weak way that carries her full name, word for word, carries it too (her sign-up on
        # her phone with a private address, her profile listing it; not a list of several
        # names: a household record naming her and her son). A list of addresses
        # reached through one a vouched row carries is not judged by its other items (her
        # profile), nor does it vouch for them: a recipient list holding a guest's address
        # and another's.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _whers AS
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            WHERE list_contains($lists, h.link) AND NOT list_contains({weak}, h.via)
              AND EXISTS (SELECT 1 FROM _vouched v JOIN _idx i ON i.tbl = v.tbl
                          AND i.rid = v.rid WHERE v.req = h.req AND i.kind = h.via
                          AND i.key = h.key)""",
            lists,
        )
        # her full name: the same words, in any order, two or more of them not initials (not
        # "A. Ruiz", nor "Juan García" within his son's "Juan García López")
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _wbacked AS
            SELECT DISTINCT w.req, i.key FROM _weak w
            JOIN _sig s ON s.tbl = w.tbl AND s.rid = w.rid JOIN _vmine m ON m.req = w.req
            JOIN _idx i ON i.tbl = w.tbl AND i.rid = w.rid AND i.kind = 'email'
            WHERE list_has_any(
                list_transform(list_filter(coalesce(s.own, []), lambda n: len(list_filter(
                    _nwords(n), lambda w: length(w) >= 2)) >= 2), lambda n: _fullname(n)),
                list_transform(coalesce(m.own, []), lambda n: _fullname(n)))"""
            if nm >= 0
            else "CREATE OR REPLACE TEMP TABLE _wbacked (req VARCHAR, key VARCHAR)"
        )
        rows = con.execute(
            f"""INSERT INTO _ban
            SELECT x.req, x.tbl, x.rid,
                   arg_min(x.kind, (x.agrees, list_contains({weak}, x.kind),
                                    {_inside("x.kind", outer=False)}, x.kind))
                     FILTER (WHERE x.conflicts OR x.unknown),
                   CASE WHEN bool_or(x.direct OR x.unknown) THEN 1 ELSE 2 END
            FROM (
                SELECT x.req, x.tbl, x.rid, x.kind,
                       (list_contains({_ANCHORS}, x.kind) OR (x.kind = 'email' AND NOT EXISTS (
                           SELECT 1 FROM _wbacked o WHERE o.req = x.req AND o.key = x.key)
                           AND NOT EXISTS (SELECT 1 FROM _whers o WHERE o.req = x.req
                                           AND o.tbl = x.tbl AND o.rid = x.rid)))
                         AND NOT bool_or(j.vouched)
                         AND x.req IN (SELECT req FROM _vseed) AS unknown,
                       coalesce(sum({others}) FILTER (WHERE j.conflicts), 0) > 0 AS conflicts,
                       coalesce(sum({others}) FILTER (WHERE j.agrees), 0) > 0 AS agrees,
                       coalesce(sum({others}) FILTER (WHERE j.someone), 0) > 0 AS someone,
                       coalesce(sum({others}) FILTER (WHERE j.contradicts), 0) > 0 AS direct
                FROM _wkeys x
                JOIN _sig s ON s.tbl = x.tbl AND s.rid = x.rid
                JOIN _wjudge j ON j.req = x.req AND j.kind = x.kind AND j.key = x.key
                 AND j.cc IS NOT DISTINCT FROM x.cc
                GROUP BY x.req, x.tbl, x.rid, x.kind, x.key, x.cc
            ) x
            WHERE NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = x.req AND b.tbl = x.tbl
                              AND b.rid = x.rid)
            GROUP BY x.req, x.tbl, x.rid
            HAVING bool_or(x.conflicts AND NOT x.agrees) OR bool_or(x.unknown)
                OR (bool_or(x.agrees AND x.someone) AND NOT bool_or(x.agrees AND NOT x.someone))
            RETURNING req"""
        ).fetchall()
        rows += [(req,) for req in self._ban_lists(lists)]
        return sorted({r[0] for r in rows})

    def _ban_lists(self, lists: dict[str, list[int]]) -> list[str]:
        """The bans of lists (`_ban_list_starts`, `_ban_weak_lists`); first, per request,
        the rows what was given reaches straight, not through a list (`_wdirect`), and
        what they and the given values carry (`_wmine`), which both judge lists by."""
        if not lists["lists"]:
            return []
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _wdirect AS
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            JOIN _given g ON g.req = h.req AND g.kind = h.via AND g.key = h.key
             AND {_GIVEN_CC}
            WHERE NOT list_contains($lists, h.link)""",
            lists,
        )
        self._sets("_wmine", "_wdirect")
        return sorted({*self._ban_list_starts(lists), *self._ban_weak_lists(lists)})

    def _sets(self, table: str, rows: str) -> None:
        """`table` (req, m0, m1, ...): per request, the values of each attribute kind that
        the given values and the signatures of `rows` (req, tbl, rid) carry, as sets."""
        kinds = self.attr_kinds
        given = ", ".join(
            f"list(g.key) FILTER (WHERE g.kind = {sql_literal(k)}) AS g{i}"
            for i, k in enumerate(kinds)
        )
        theirs = ", ".join(f"{self.mine_sql('t', i, 'back')} AS t{i}" for i in range(len(kinds)))
        both = ", ".join(
            f"list_distinct(coalesce(t.t{i}, []) || coalesce(g.g{i}, [])) AS m{i}"
            for i in range(len(kinds))
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT r.req, {both} FROM (SELECT DISTINCT req FROM _hits) r
            LEFT JOIN (SELECT d.req, {theirs} FROM {rows} d
                       JOIN _sig t ON t.tbl = d.tbl AND t.rid = d.rid GROUP BY d.req) t
              ON t.req = r.req
            LEFT JOIN (SELECT g.req, {given} FROM _given g GROUP BY g.req) g
              ON g.req = r.req"""
        )

    def _ban_weak_lists(self, lists: dict[str, list[int]]) -> list[str]:
        """Ban what a list of several phones, devices or other weak values leads to that
        nothing else shows to be the person's; returns the requests with new bans.

        - A row reached through a weak value the requester gave that is one item of such a
          list, beside one not given (Alba's household record: her customer id, her mobile
          and her son Leo's), when it carries an id, an e-mail or a name and none of them is
          carried by a row reached straight through a value given (not through a list), nor
          was given: whose record it is, the data does not say (Leo asking by his mobile).
          Her request by her mobile keeps it when her CRM row, which carries the number,
          carries her customer id too.
        - A row reached, through a weak value, only from an item of such a list that the
          requester did not give (`_lother`): not from a row reached from what was given
          through values other than those items (`_lbase`). Leo's calls from his mobile,
          reached from her household record for her request, and a session on the device
          one of those calls carries. Unless it carries one of the ids or e-mails of the
          request's other rows or of what was given, or a name agreeing with one of theirs
          (her name on a call from her second number, "Alba Ruiz Garcia" for "Alba Ruiz");
          a row carrying nothing to compare is a question (`LIST_ITEM`).
        """
        con = self.con
        kinds = self.attr_kinds
        weak = f"[{', '.join(sql_literal(k) for k in WEAK_REACH)}]"
        nm = self.nm
        # one of its ids or e-mails, or a name agreeing with one of the names (the same
        # name written differently: "Ruiz, Alba", "Alba Ruiz Garcia", "A. Ruiz"; not a list
        # of several names, which names her among others)
        ids = [i for i in range(len(kinds)) if i != nm]
        has_id = " OR ".join(f"len(coalesce(s.a{i}, [])) > 0" for i in ids) or "false"
        backs = (
            "("
            + " OR ".join(
                [f"list_has_any(coalesce(s.a{i}, []), m.m{i})" for i in ids]
                + ([f"_names_match(coalesce(s.own, []), m.m{nm})"] if nm >= 0 else [])
            )
            + ")"
        )
        # a list start that lists several people by name, her among them, and carries no id
        # or e-mail (a shop's card of a couple, with both their phones): a question for
        # each, not a sign that the given phone is someone else's (`SHARED_LIST`); her
        # household record, asked for by her son with his name, carries an id nothing of
        # his carries: that is someone's record
        shared = (
            f"CASE WHEN _names_agree(coalesce(s.a{nm}, []), m.m{nm}) AND NOT ({has_id}) "
            f"THEN '{SHARED_LIST}' END"
            if nm >= 0
            else "NULL"
        )
        carries = " OR ".join(f"len(coalesce(s.a{i}, [])) > 0" for i in range(len(kinds)))
        first = " ".join(
            f"WHEN len(coalesce(s.a{i}, [])) > 0 THEN {sql_literal(k)}" for i, k in enumerate(kinds)
        )
        rows = con.execute(
            f"""INSERT INTO _ban
            SELECT DISTINCT h.req, h.tbl, h.rid, coalesce({shared}, CASE {first} END), 1
            FROM _hits h
            JOIN _given g ON g.req = h.req AND g.kind = h.via AND g.key = h.key AND {_GIVEN_CC}
            JOIN _sig s ON s.tbl = h.tbl AND s.rid = h.rid
            JOIN _wmine m ON m.req = h.req
            WHERE list_contains($lists, h.link) AND list_contains({weak}, h.via)
              AND EXISTS (SELECT 1 FROM _idx i WHERE i.tbl = h.tbl AND i.rid = h.rid
                          AND i.link = h.link AND NOT EXISTS (
                              SELECT 1 FROM _given o WHERE o.req = h.req
                              AND o.kind = i.kind AND o.key = i.key))
              AND ({carries}) AND NOT {backs}
              AND NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = h.req AND b.tbl = h.tbl
                              AND b.rid = h.rid)
            RETURNING req""",
            lists,
        ).fetchall()
        # the weak items of such lists that the requester did not give (a list of e-mails
        # is judged by `ban_bridges`' own rules)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _lweak AS SELECT * FROM _lother "
            f"WHERE list_contains({weak}, kind)"
        )
        if not con.execute("SELECT count(*) FROM _lweak").fetchone()[0]:  # type: ignore[index]
            return sorted({r[0] for r in rows})
        # the request's rows reached other than through such an item: from what was given,
        # through the values those rows carry but as such an item (not a row's own values
        # finding it again: Leo's call, reached through his mobile on her household
        # record, carries his device, which reaches the call itself)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _lbase AS
            SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
            JOIN _given g ON g.req = h.req AND g.kind = h.via AND g.key = h.key AND {_GIVEN_CC}
            WHERE h.req IN (SELECT req FROM _lweak)"""
        )
        con.execute("CREATE OR REPLACE TEMP TABLE _lnew AS SELECT * FROM _lbase")
        while con.execute("SELECT count(*) FROM _lnew").fetchone()[0]:  # type: ignore[index]
            con.execute(
                """CREATE OR REPLACE TEMP TABLE _lnew AS
                WITH carried AS (
                    SELECT DISTINCT b.req, i.kind, i.key FROM _lnew b
                    JOIN _idx i ON i.tbl = b.tbl AND i.rid = b.rid
                    WHERE NOT EXISTS (SELECT 1 FROM _lweak u WHERE u.req = b.req
                                      AND u.tbl = i.tbl AND u.rid = i.rid
                                      AND u.kind = i.kind AND u.key = i.key))
                SELECT DISTINCT h.req, h.tbl, h.rid FROM _hits h
                JOIN carried c ON c.req = h.req AND c.kind = h.via AND c.key = h.key
                WHERE NOT EXISTS (SELECT 1 FROM _lbase b WHERE b.req = h.req
                                  AND b.tbl = h.tbl AND b.rid = h.rid)"""
            )
            con.execute("INSERT INTO _lbase SELECT * FROM _lnew")
        self._sets("_lmine", "_lbase")
        # the rows of those requests reached otherwise only through such an item, and
        # through a weak value (a row reached through an e-mail or an id found on such a
        # row is lost when the search runs again without it)
        rows += con.execute(
            f"""INSERT INTO _ban
            SELECT DISTINCT h.req, h.tbl, h.rid, '{LIST_ITEM}', 1 FROM _hits h
            JOIN _sig s ON s.tbl = h.tbl AND s.rid = h.rid
            JOIN _lmine m ON m.req = h.req
            WHERE h.req IN (SELECT req FROM _lweak) AND list_contains({weak}, h.via)
              AND NOT {backs}
              AND NOT EXISTS (SELECT 1 FROM _lbase b WHERE b.req = h.req AND b.tbl = h.tbl
                              AND b.rid = h.rid)
              AND NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = h.req AND b.tbl = h.tbl
                              AND b.rid = h.rid)
            RETURNING req"""
        ).fetchall()
        return sorted({r[0] for r in rows})

    def _ban_list_starts(self, lists: dict[str, list[int]]) -> list[str]:
        """Ban (hop 1) the lists a request started from (`_vlist`) that are not shown to be
        the requester's; returns the requests with new bans. A list that also carries a
        customer, account, national or tax id is that customer's record holding the given
        address among hers (Alba's account listing a guest's address); so is one holding,
        beside the given value, one that another row carries (a class list holding a
        namesake's address and Alba's, which her order carries): whose list it is, the data
        does not say. And one whose name or other attribute contradicts what the requester
        gave (`_gsig`, made by `ban_bridges`: Dan Roca's profile listing the address Gina
        Sol asks by), or that carries a name no name given agrees with, nor one on a row
        reached straight through what was given (the same profile, asked by the address
        alone: it may be Dan's list holding her address)."""
        con = self.con
        starts = con.execute("SELECT count(*) FROM _vlist").fetchone()
        if not starts or not starts[0]:  # most requests start from no list
            return []
        kinds = self.attr_kinds
        names = f"[{', '.join(sql_literal(k) for k in kinds)}]"
        conflict = self.conflict_sql("s.a", "m.m")
        nm = self.nm
        # a list naming someone when no name given, nor on a row what was given reaches
        # straight, agrees: Dan Roca's profile listing the address a guest asks by
        unnamed = (
            f"""UNION ALL
                SELECT l.req, l.tbl, l.rid, 'name' FROM _vlist l
                JOIN _sig s ON s.tbl = l.tbl AND s.rid = l.rid
                JOIN _wmine w ON w.req = l.req
                WHERE len(coalesce(s.a{nm}, [])) > 0
                  AND NOT _names_agree(s.a{nm}, w.m{nm})"""
            if nm >= 0
            else ""
        )
        rows = con.execute(
            f"""INSERT INTO _ban
            SELECT req, tbl, rid, min(kind), 1 FROM (
                SELECT l.req, l.tbl, l.rid, i.kind FROM _vlist l
                JOIN _idx i ON i.tbl = l.tbl AND i.rid = l.rid
                JOIN _vstat v ON v.kind = i.kind AND v.key = i.key
                 AND v.cc IS NOT DISTINCT FROM i.cc AND v.status <> '{PLACEHOLDER}'
                WHERE list_contains({_ANCHORS}, i.kind)
                   OR (list_contains($lists, i.link)
                       AND NOT EXISTS (SELECT 1 FROM _given g WHERE g.req = l.req
                                       AND g.kind = i.kind AND g.key = i.key)
                       AND EXISTS (SELECT 1 FROM _idx o WHERE o.kind = i.kind
                                   AND o.key = i.key AND NOT EXISTS (
                                       SELECT 1 FROM _vlist m WHERE m.req = l.req
                                       AND m.tbl = o.tbl AND m.rid = o.rid)))
                UNION ALL
                SELECT l.req, l.tbl, l.rid, {names}[({conflict}) + 1] FROM _vlist l
                JOIN _sig s ON s.tbl = l.tbl AND s.rid = l.rid
                JOIN _gsig m ON m.req = l.req
                WHERE ({conflict}) IS NOT NULL
                {unnamed}
            ) l
            WHERE NOT EXISTS (SELECT 1 FROM _ban b WHERE b.req = l.req AND b.tbl = l.tbl
                              AND b.rid = l.rid)
            GROUP BY ALL RETURNING req""",
            lists,
        ).fetchall()
        return sorted({r[0] for r in rows})

    def given_leads_apart(self, reqs: Sequence[str]) -> list[str]:
        """Of `reqs`, those with a new bridge (`ban_bridges`) reached straight through an
        identifier the requester gave, when all they gave is weak (a phone, a device, an
        IBAN, a name): that identifier itself leads to two people (a household's mobile on
        Alba's sign-up and on Bruno's calls; the tablet of Bruno's app that Alba called
        from, her mobile on the call), so which of them asked is for a human to decide. An
        id, an e-mail or an account given says who; then the bridge is only held back, a
        possible match."""
        if not reqs:
            return []
        several = f"[{', '.join(sql_literal(k) for k in USED_BY_SEVERAL)}]"
        # the bridge carries an id, an e-mail, an account, a phone or a name of someone else
        # (a device or a joint account it shares with another person's row makes that row
        # a question, not the identifier)
        rows = self.con.execute(
            f"""SELECT DISTINCT b.req FROM _ban b
            JOIN _hits h ON h.req = b.req AND h.tbl = b.tbl AND h.rid = b.rid
            JOIN _given g ON g.req = h.req AND g.kind = h.via AND g.key = h.key
             AND {_GIVEN_CC}
            WHERE list_contains($reqs, b.req) AND NOT list_contains({several}, b.kind)
              AND b.kind <> '{SHARED_LIST}' AND {self.unanchored_sql("b.req")}
            ORDER BY 1""",
            {"reqs": list(reqs)},
        ).fetchall()
        return [r[0] for r in rows]

    def given_reaches_others(self) -> list[str]:
        """Requests that gave only weak identifiers, one of which reaches straight a row
        held back because it carries another person's value used inside that identifier
        (`_inside`): the household's home IP on an event with Bruno's phone or his device,
        a call-centre agent's device on calls from other customers' phones. The given
        identifier leads to him as well as to her: which of them asked is for a human. So
        does a certain row of such a request that carries a value someone else's rows
        carry and none of the request's agree with (`_kconf.nobody_agrees`; not a machine
        or a joint account, which several use): his mobile on a sign-up with his mother's
        address, which her record carries. And so does a certain row carrying a customer,
        account, national or tax id that another row, held back for the request, carries
        too: the customer the id names is in doubt, so the row may be hers (her household
        record listing her son's mobile, the son asking by it)."""
        given = _inside("g.kind", outer=True)
        several = f"[{', '.join(sql_literal(k) for k in USED_BY_SEVERAL)}]"
        rows = self.con.execute(
            f"""SELECT DISTINCT h.req FROM _hits h
            JOIN _idx i ON i.tbl = h.tbl AND i.rid = h.rid
            JOIN _kconf c ON c.req = h.req AND c.kind = i.kind AND c.key = i.key
             AND (i.cc IS NULL OR c.cc IS NULL OR i.cc = c.cc) AND c.nobody_agrees
            WHERE NOT list_contains({several}, c.kind) AND {self.unanchored_sql("h.req")}
            UNION
            SELECT DISTINCT m.req FROM _maybe m
            JOIN _given g ON g.req = m.req AND g.kind = m.via AND g.key = m.key
             AND (g.cc IS NULL OR m.cc IS NULL OR g.cc = m.cc)
            JOIN _idx i ON i.tbl = m.tbl AND i.rid = m.rid
            JOIN _kconf c ON c.req = m.req AND c.kind = i.kind AND c.key = i.key
             AND (i.cc IS NULL OR c.cc IS NULL OR i.cc = c.cc) AND c.nobody_agrees
            WHERE NOT (c.kind = g.kind AND c.key = g.key)
              AND {_inside("c.kind", outer=False)} < greatest({given}, 1)
              AND NOT EXISTS (SELECT 1 FROM _hits h WHERE h.req = m.req AND h.tbl = m.tbl
                              AND h.rid = m.rid)
              AND {self.unanchored_sql("m.req")}
            UNION
            SELECT DISTINCT c.req FROM (
                SELECT DISTINCT h.req, i.kind, i.key, i.cc FROM _hits h
                JOIN _idx i ON i.tbl = h.tbl AND i.rid = h.rid
                WHERE list_contains({_ANCHORS}, i.kind)) c
            JOIN (SELECT DISTINCT m.req, o.kind, o.key FROM _maybe m
                  JOIN _idx o ON o.tbl = m.tbl AND o.rid = m.rid
                  WHERE list_contains({_ANCHORS}, o.kind)
                    AND NOT EXISTS (SELECT 1 FROM _hits x WHERE x.req = m.req
                                    AND x.tbl = m.tbl AND x.rid = m.rid)) m
              ON m.req = c.req AND m.kind = c.kind AND m.key = c.key
            JOIN _vstat v ON v.kind = c.kind AND v.key = c.key
             AND v.cc IS NOT DISTINCT FROM c.cc AND v.status <> '{PLACEHOLDER}'
            WHERE {self.unanchored_sql("c.req")}
            ORDER BY 1"""
        ).fetchall()
        return [r[0] for r in rows]

    def unanchored_sql(self, req: str) -> str:
        """SQL: no id, e-mail or account the request gave reaches a row of the data (one
        given that matches nothing says nothing of who asked)."""
        weak = f"[{', '.join(sql_literal(k) for k in (*WEAK_REACH, *CORROBORATING))}]"
        return (
            f"NOT EXISTS (SELECT 1 FROM _given g JOIN _hits a ON a.req = g.req "
            f"AND a.via = g.kind AND a.key = g.key WHERE g.req = {req} "
            f"AND NOT list_contains({weak}, g.kind))"
        )

    def _mark_landlines(self) -> None:
        """`_landline`: the phone keys reached so far that are fixed lines (phonenumbers'
        metadata for the number's country; numbers of unknown country are not)."""
        rows = self.con.execute(
            "SELECT DISTINCT key, cc FROM _hits WHERE via = 'phone' AND cc IS NOT NULL"
        ).fetchall()
        for key, cc in rows:
            if (key, cc) not in self._lines:
                self._lines[(key, cc)] = is_landline(str(key), str(cc))
        fixed = [kc for kc, landline in self._lines.items() if landline]
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _landline AS SELECT UNNEST(?::VARCHAR[]) AS key, "
            "UNNEST(?::VARCHAR[]) AS cc",
            [[k for k, _ in fixed], [c for _, c in fixed]],
        )

    def judge(self) -> None:
        """Statuses of the values in `_fresh` (kind, key, cc) not judged yet."""
        con = self.con
        n = len(self.attr_kinds)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _todo AS SELECT DISTINCT kind, key, cc FROM _fresh "
            "EXCEPT SELECT kind, key, cc FROM _vstat"
        )
        erased: list[tuple[str, str, str | None]] = []
        if self.ledger is not None and self.ledger.digests:
            todo = con.execute("SELECT kind, key, cc FROM _todo").fetchall()
            erased = self.ledger.known((str(k), str(v), c) for k, v, c in todo)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _erased AS SELECT UNNEST(CAST(?::JSON AS VARCHAR[])) "
            "AS kind, UNNEST(CAST(?::JSON AS VARCHAR[])) AS key, "
            "UNNEST(CAST(?::JSON AS VARCHAR[])) AS cc",
            [json_list(e[i] for e in erased) for i in range(3)],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _carry AS SELECT t.kind, t.key, t.cc, i.tbl, i.rid, "
            "i.link, i.cc AS rcc FROM _todo t JOIN _idx i ON i.kind = t.kind AND i.key = t.key "
            "AND (t.cc IS NULL OR i.cc IS NULL OR t.cc = i.cc)"
        )
        attrs = ", ".join(f"coalesce(s.a{i}, []) AS a{i}" for i in range(n))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _vsig AS SELECT DISTINCT c.kind, c.key, c.cc"
            + (f", {attrs}" if attrs else "")
            + " FROM _carry c LEFT JOIN _sig s ON s.tbl = c.tbl AND s.rid = c.rid"
        )
        people = ", ".join(f"len(list_distinct(flatten(list(a{i})))) AS n{i}" for i in range(n))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _vcount AS SELECT kind, key, cc, count(*) AS nsig"
            + (f", {people}" if people else "")
            + " FROM _vsig GROUP BY ALL"
        )
        # pairwise: the strongest attribute two carriers both have must agree
        level = self.conflict_sql("x.a", "y.a", judged="x.kind")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _vconf AS
            WITH s AS (
                SELECT v.*, row_number() OVER (PARTITION BY v.kind, v.key, v.cc) AS sid
                FROM _vsig v JOIN _vcount c ON c.kind = v.kind AND c.key = v.key
                  AND c.cc IS NOT DISTINCT FROM v.cc
                WHERE c.nsig BETWEEN 2 AND {MAX_SIGNATURES}
            )
            SELECT x.kind, x.key, x.cc, min({level}) AS lvl FROM s x JOIN s y
              ON x.kind = y.kind AND x.key = y.key AND x.cc IS NOT DISTINCT FROM y.cc
             AND x.sid < y.sid
            GROUP BY ALL"""
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _vrows AS SELECT kind, key, cc, count(*) AS nrows, "
            "list_sort(list_distinct(list(tbl))) AS tables, "
            "bool_or(list_contains($shared, link)) AS shared, "
            "count(DISTINCT rcc) AS ncc FROM _carry GROUP BY kind, key, cc",
            {"shared": self.shared_links},
        )
        most = f"greatest({', '.join(f'c.n{i}' for i in range(n))})" if n else "0"
        words = (
            "CASE "
            + " ".join(
                f"WHEN f.lvl = {i} THEN '{_KIND_WORDS.get(k, (k, k + 's'))[1]}'"
                for i, k in enumerate(self.attr_kinds)
            )
            + " ELSE 'people' END"
            if n
            else "'people'"
        )
        count_at = (
            "CASE " + " ".join(f"WHEN f.lvl = {i} THEN c.n{i}" for i in range(n)) + " ELSE 2 END"
            if n
            else "2"
        )
        placeholder = placeholder_sql("t.kind", "t.key", self.space.placeholders)
        walk_in = walk_in_sql("t.kind", "t.key")
        # a number of unknown country met as numbers of two countries: whose is it?
        countries = "(CASE WHEN t.cc IS NULL THEN coalesce(r.ncc, 0) ELSE 0 END)"
        con.execute(
            f"""INSERT INTO _vstat
            SELECT t.kind, t.key, t.cc,
              CASE
                WHEN {placeholder} THEN '{PLACEHOLDER}'
                WHEN coalesce({most}, 0) >= {PLACEHOLDER_PEOPLE}
                     OR coalesce(c.nsig, 0) > {MAX_SIGNATURES} THEN '{PLACEHOLDER}'
                WHEN {walk_in} THEN '{PLACEHOLDER}'
                WHEN coalesce(r.shared, false) OR f.lvl IS NOT NULL OR {countries} >= 2
                     OR e.kind IS NOT NULL THEN '{AMBIGUOUS}'
                ELSE '{UNIQUE}' END,
              CASE WHEN f.lvl IS NOT NULL THEN {count_at}
                   WHEN {countries} >= 2 THEN {countries}
                   ELSE coalesce({most}, 0) END,
              coalesce(r.nrows, 0), coalesce(r.tables, []),
              CASE
                WHEN {placeholder} THEN 'a known placeholder value'
                WHEN coalesce({most}, 0) >= {PLACEHOLDER_PEOPLE}
                     OR coalesce(c.nsig, 0) > {MAX_SIGNATURES}
                  THEN 'carried by ' || coalesce(r.nrows, 0) || ' rows of '
                       || greatest(coalesce({most}, 0), coalesce(c.nsig, 0))
                       || ' or more different people'
                WHEN f.lvl IS NOT NULL THEN 'carried on rows with ' || ({count_at})
                       || ' different ' || ({words})
                WHEN {countries} >= 2 THEN 'a number without its country, carried in '
                       || {countries} || ' countries'
                WHEN {walk_in} THEN 'shaped like an id walk-in sales are filed under'
                WHEN e.kind IS NOT NULL THEN 'shared with a person erased earlier'
                WHEN coalesce(r.shared, false) THEN 'the policy declares this link shared'
                ELSE '' END
            FROM _todo t
            LEFT JOIN _vcount c ON c.kind = t.kind AND c.key = t.key
                 AND c.cc IS NOT DISTINCT FROM t.cc
            LEFT JOIN _vconf f ON f.kind = t.kind AND f.key = t.key
                 AND f.cc IS NOT DISTINCT FROM t.cc
            LEFT JOIN _vrows r ON r.kind = t.kind AND r.key = t.key
                 AND r.cc IS NOT DISTINCT FROM t.cc
            LEFT JOIN (SELECT DISTINCT kind, key, cc FROM _erased) e
                 ON e.kind = t.kind AND e.key = t.key AND e.cc IS NOT DISTINCT FROM t.cc"""
        )

    def drop_known_others(self) -> dict[tuple[str, str, int], list[str]]:
        """Rows reached through a shared value that are recognisably someone else's are not
        even possible matches of this request: a row with a unique identifier the person
        does not have (another customer id) unless its name is the person's (a duplicate
        record is for a reviewer to decide), or a row whose e-mail and name all differ
        from the person's and that has none of her unique ids. An e-mail address alone
        (no name to compare it by) or a name alone (no address) makes the row
        someone else's only when another person's row carries it too
        (`_values_of_others`): her login from her phone with a mistyped or a second
        address, and her order delivered to a friend named nowhere else, stay possible
        matches. For the rows that stay, says which attributes agree."""
        kinds = self.attr_kinds
        if not kinds:
            return {}
        strong = [i for i, k in enumerate(kinds) if k not in SOFT_KINDS]
        soft = [i for i, k in enumerate(kinds) if k in ("email", "name")]
        self.subject_signatures("drop")

        def both(i: int) -> str:
            return f"(len(coalesce(s.a{i}, [])) > 0 AND len(coalesce(m.m{i}, [])) > 0)"

        def agree(i: int) -> str:
            if kinds[i] == "name":
                return f"_names_maybe(s.a{i}, m.m{i})"
            return f"list_has_any(s.a{i}, m.m{i})"

        named = kinds.index("name") if "name" in kinds else None
        email = kinds.index("email") if "email" in kinds else None
        other_id = " OR ".join(f"({both(i)} AND NOT {agree(i)})" for i in strong) or "false"
        same_name = f"({both(named)} AND {agree(named)})" if named is not None else "false"
        name_known = both(named) if named is not None else "false"
        soft_known = " OR ".join(both(i) for i in soft) or "false"
        soft_agrees = " OR ".join(f"({both(i)} AND {agree(i)})" for i in soft) or "false"
        # her own customer id with another e-mail and name (a nickname, or a number that
        # two systems gave two people): ambiguous, for a human, never silently dropped
        id_agrees = " OR ".join(f"({both(i)} AND {agree(i)})" for i in strong) or "false"
        differs = f"(({soft_known}) AND NOT ({soft_agrees}) AND NOT ({id_agrees}))"
        mailed = both(email) if email is not None else "false"
        # another customer id, or a name unlike hers: whose e-mail addresses those are
        theirs = f"((({other_id}) AND NOT {same_name}) OR ({differs} AND {name_known}))"
        # another customer id or e-mail address: whose names those are
        own_id = (
            f"(({other_id}) OR ({mailed} AND NOT {agree(email)}))"
            if email is not None
            else other_id
        )
        addresses = f"coalesce(s.a{email}, [])" if email is not None else "[]::VARCHAR[]"
        names = f"coalesce(s.a{named}, [])" if named is not None else "[]::VARCHAR[]"
        # each macro bound once (each expansion costs milliseconds to bind)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _mjudge AS SELECT *, (oid AND NOT sname) OR (diff "
            "AND NOT mail_only AND NOT name_only) AS theirs FROM (SELECT req, tbl, rid, oid, "
            "sname, diff, diff AND NOT (oid AND NOT sname) AND mailed AND NOT named "
            "AS mail_only, diff AND NOT (oid AND NOT sname) AND named AND NOT mailed "
            "AS name_only, addresses, names FROM ("
            f"SELECT DISTINCT x.req, x.tbl, x.rid, {other_id} AS oid, {same_name} AS sname, "
            f"{name_known} AS named, {mailed} AS mailed, {differs} AS diff, "
            f"{addresses} AS addresses, {names} AS names "
            "FROM _maybe x JOIN _sig s ON s.tbl = x.tbl AND s.rid = x.rid "
            "JOIN _mine m ON m.req = x.req))"
        )
        # another e-mail address alone, or another name alone, is someone else's only when
        # a row recognisably someone else's carries it too: people have several addresses
        # and mistype them, and order for others (a gift, with the recipient's name)
        self._values_of_others(theirs, own_id)
        self.con.execute(
            "DELETE FROM _maybe WHERE EXISTS (SELECT 1 FROM _mjudge j WHERE j.req = _maybe.req "
            "AND j.tbl = _maybe.tbl AND j.rid = _maybe.rid AND (j.theirs OR EXISTS (SELECT 1 "
            "FROM _theirs t WHERE t.req = j.req AND ((j.mail_only AND t.kind = 'email' "
            "AND list_contains(j.addresses, t.key)) OR (j.name_only AND t.kind = 'name' "
            "AND list_contains(j.names, t.key))))))"
        )
        checks = [
            f"CASE WHEN {both(i)} THEN CASE WHEN {agree(i)} THEN '{_word(kinds[i])} matches "
            f"the person''s' ELSE '{_word(kinds[i])} differs from the person''s' END END"
            for i in range(len(kinds))
        ]
        rows = self.con.execute(
            f"SELECT DISTINCT x.req, x.tbl, x.rid, list_filter([{', '.join(checks)}], "
            "lambda e: e IS NOT NULL) FROM _maybe x JOIN _sig s ON s.tbl = x.tbl "
            "AND s.rid = x.rid JOIN _mine m ON m.req = x.req"
        ).fetchall()
        return {(r[0], r[1], int(r[2])): list(r[3]) for r in rows}

    def _values_of_others(self, theirs: str, own_id: str) -> None:
        """`_theirs` (req, kind, key): of the values on the request's possible rows whose
        only difference from the person is one e-mail address or one name (`_mjudge`),
        those that a row recognisably someone else's carries too (SQL over `s`, a row's
        signature, and `m`, the person's): an address on a row with another customer id or
        a name unlike hers (`theirs`: Bruno's address on his login from her phone, which
        his record carries); a name on a row with another customer id or e-mail address
        (`own_id`: Bruno's name on a call from the household's landline). A value no such
        row carries (a typo of hers, her second address, the recipient of a gift she sent)
        says nothing of whose a row is; a name close to it (an agent's typo) on such a row
        does. Only those values are searched for: addresses as typed (lower-cased) in every
        e-mail column, names by their words in every name column; not in columns of keyed
        tokens (an address not found there leaves the row to a reviewer)."""
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _theirs AS SELECT DISTINCT req, 'email' AS kind, "
            "UNNEST(addresses) AS key FROM _mjudge WHERE mail_only UNION "
            "SELECT DISTINCT req, 'name', UNNEST(names) FROM _mjudge WHERE name_only"
        )
        kinds = {r[0] for r in con.execute("SELECT DISTINCT kind FROM _theirs").fetchall()}
        if not kinds:
            return
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _akeys AS SELECT DISTINCT kind, key, "
            "NULL::VARCHAR AS cc, false AS probed FROM _theirs"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _aidx (tbl VARCHAR, rid BIGINT, link INTEGER, "
            "kind VARCHAR, key VARCHAR, cc VARCHAR)"
        )
        # a name's words of 4 letters or more (all of them if none is): a typo in one of
        # them still leaves another to find the name by
        words = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT UNNEST(coalesce(NULLIF(list_filter(w, lambda x: length(x) >= 4), "
                "[]), w)) FROM (SELECT _nwords(key) AS w FROM _akeys WHERE kind = 'name') "
                "ORDER BY 1"
            ).fetchall()
        ]
        # one exact test per column (a typed address is its key), and not in columns of
        # keyed tokens: an address found in fewer places leaves more rows to a reviewer
        for i, link in enumerate(self.space.links):
            if link.tokens is not None:
                continue
            if link.kind == "email" and "email" in kinds:
                con.execute(
                    f"INSERT INTO _aidx SELECT ?, rid, ?, 'email', lower(trim(v)), NULL "
                    f"FROM {link.source_sql()} WHERE lower(trim(v)) IN "
                    "(SELECT key FROM _akeys WHERE kind = 'email')",
                    [link.table, i],
                )
            elif link.kind == "name" and words:
                # names repeat: each distinct value keyed once; a batch's many words are
                # matched as a list
                params: list[object]
                if len(words) <= 40:
                    where = " OR ".join(["contains(lower(strip_accents(v)), ?)"] * len(words))
                    params = list(words)
                else:
                    where = "list_has_any(_nwords(lower(strip_accents(v))), ?::VARCHAR[])"
                    params = [words]
                con.execute(
                    f"INSERT INTO _aidx SELECT ?, r.rid, ?, 'name', n.k, NULL FROM "
                    f"(SELECT rid, v FROM {link.source_sql()}) r JOIN (SELECT v, "
                    f"{link.key_sql('v')} AS k FROM (SELECT DISTINCT v FROM "
                    f"{link.source_sql()} WHERE {where})) n ON n.v = r.v "
                    "WHERE n.k IS NOT NULL",
                    [link.table, i, *params],
                )
        self.read_attributes("_aidx", tokens=False)
        con.execute(
            "DELETE FROM _theirs WHERE NOT EXISTS (SELECT 1 FROM _aidx c "
            "JOIN _sig s ON s.tbl = c.tbl AND s.rid = c.rid JOIN _mine m ON m.req = _theirs.req "
            "WHERE c.kind = _theirs.kind AND CASE WHEN c.kind = 'email' "
            f"THEN c.key = _theirs.key AND {theirs} "
            f"ELSE _names_close([c.key], [_theirs.key]) AND {own_id} END)"
        )

    def statuses(self) -> list[ValueStatus]:
        rows = self.con.execute(
            "SELECT kind, key, cc, status, people, nrows, tables, detail FROM _vstat "
            "WHERE status <> 'unique' ORDER BY ALL"
        ).fetchall()
        return [
            ValueStatus(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), tuple(r[6]), r[7])
            for r in rows
        ]


def _word(kind: str) -> str:
    return _KIND_WORDS.get(kind, (kind.replace("_", " "), ""))[0]


def attribute_kinds(links: list[LinkSpec]) -> list[str]:
    """Identity attribute kinds, strongest first: unique kinds (anchors in their usual order,
    then others declared unique), then e-mail and name when not declared unique."""
    unique = {link.kind for link in links if link.is_unique}
    order = [k for k in ANCHOR_KINDS if k in unique]
    order += sorted(unique - set(order))
    for soft in SOFT_KINDS:
        if soft not in order and any(link.kind == soft for link in links):
            order.append(soft)
    return order


def _attribute_of(link: LinkSpec, kinds: list[str]) -> int | None:
    """The attribute index this link's values feed, if any. A link declared shared is no
    evidence of who a row is about."""
    if link.shared or link.kind not in kinds:
        return None
    if link.kind in SOFT_KINDS or link.is_unique:
        return kinds.index(link.kind)
    return None
