"""The subject search over lake tables behind Spark: the whole-column work runs there.

A lake attached through Spark (`tutela attach lake spark://... --warehouse ...`) may be far
larger than this machine can copy. For `subject find` and `sar`, each of its tables in the
search is read as the rows a Spark job picks over the whole table, not as a full copy:
rows where a linked column holds one of the person's identifiers (or a free-text column
mentions one), tested on values folded to letters and digits (`letters_and_digits`).

The picking is wider than any statement of the search reads, so the search gives on those
rows what it gives on the whole table:
- each identifier is tested by fragments every value keyed to it must hold: a phone
  number's last four digits (however the number is written, with an extension, among other
  numbers, or as the partial match of the name candidates), each word of an e-mail address
  without its tag, each word of a name and, for name columns, any of its words of three
  letters or more (the name candidates' own pre-filter), a date's year, month and day, an
  identifier's letters and digits without leading zeros (`_padded_ids`);
- the search follows what it finds (her phone on her CRM row leads to her orders): after
  each pass, every identifier the search held (`_keys`; `_corr`, the birth dates and
  postcodes it compared namesakes by; `_ckeys`, the namesakes' own identifiers) is tested
  too, and the search runs again, until the identifiers of a pass pick no row more (tests
  only gain anchors, so as many rows are the same rows). The result of that last pass is
  the answer: it ran on rows picked for every identifier it held;
- the two whole-table questions that are not about the person are asked of Spark too
  (`Workspace.column_unique`) or read from the files (`Workspace.whole_relation`).

A table whose links read pseudonymized tokens, a value that folds to nothing, or a search
that has not settled after `MAX_PASSES` passes is read whole, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from tutela.base.errors import TutelaError
from tutela.base.text import letters_and_digits
from tutela.engine import Connection
from tutela.subjects.links import SearchSpace
from tutela.workspace import Workspace

T = TypeVar("T")
MAX_PASSES = 4
Anchor = tuple[str, ...]
"""Fragments that must all be in a folded value."""
Pair = tuple[str, str]
"""(kind, value): an identifier the search holds (a request's as given, or a key)."""

_WORDS = re.compile(r"[\W_]+")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def anchors(normalize: str, value: str, *, text: bool = False) -> list[Anchor] | None:
    """The anchors a value keyed to `value` under `normalize` holds one of; None when the
    value folds to nothing (no test can pick its rows). `text`: for a free-text column."""
    if normalize == "e164":
        digits = "".join(c for c in value if c.isdigit())
        return [(digits[-4:],)] if digits else None
    if normalize == "email":
        local, _, domain = value.rpartition("@")
        words = _folded_words(local.split("+", 1)[0] + " " + domain if local else value)
        return [tuple(words)] if words else None
    if normalize == "name":
        words = _folded_words(value)
        if not words:
            return None
        if text:  # the text mentions a full name: every word of it
            return [tuple(words)]
        return [tuple(words)] + [(w,) for w in words if len(w) >= 3]
    if normalize == "date" and (m := _DATE.fullmatch(value.strip())):
        return [(m.group(1), str(int(m.group(2))), str(int(m.group(3))))]
    folded = letters_and_digits(value)
    if folded.isdigit():
        folded = folded.lstrip("0") or "0"
    return [(folded,)] if folded else None


def _folded_words(value: str) -> list[str]:
    return [w for w in (letters_and_digits(p) for p in _WORDS.split(value)) if w]


@dataclass
class Narrowing:
    """The lake tables of one search read as picked rows, and what picked them."""

    tables: list[str]
    pairs: set[Pair] = field(default_factory=set)
    tests: dict[str, dict[str, set[Anchor]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """Rows picked per table (a table read whole is not here)."""
    whole: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    """Tables Spark did not pick rows of (read whole by DuckDB instead), and why."""
    passes: int = 0

    def tests_for(self, space: SearchSpace, table: str) -> dict[str, set[Anchor]] | None:
        """Column -> anchors for one table from every identifier held; None: read it whole."""
        out: dict[str, set[Anchor]] = {}
        methods: dict[str, set[str]] = {}
        for link in space.links:
            methods.setdefault(link.kind, set()).add(link.normalize)
        for link in space.links:  # every link: names and attributes pick namesakes too
            if link.table != table:
                continue
            if link.tokens is not None:
                return None  # tokens stand for values: no fragment of the value is in them
            for kind, value in self.pairs:
                if kind != link.kind:
                    continue
                found = anchors(link.normalize, value)
                if found is None:
                    return None
                if link.parts:  # a name over several columns: each word may be in any part
                    words = {w for anchor in found for w in anchor}
                    # words of 3 letters or more, as for a name column (not "i" of
                    # "Puig i Ferrer"); all of them for a name of short words ("Li Wu")
                    long = {(w,) for w in words if len(w) >= 3} or {(w,) for w in words}
                    for column in link.columns:
                        out.setdefault(column, set()).update(long)
                else:
                    out.setdefault(link.column, set()).update(found)
        for text_table, column in space.free_text:
            if text_table != table:
                continue
            for kind, value in self.pairs:
                if kind == "name" and " " not in value.strip():
                    continue  # only full names are looked for in texts
                for method in methods.get(kind, {"trim"}):
                    found = anchors(method, value, text=True)
                    if found is None:
                        return None
                    out.setdefault(column, set()).update(found)
        return out


def lake_tables(ws: Workspace, space: SearchSpace) -> list[str]:
    """The tables of the search that Spark can pick rows of (not already copied whole)."""
    if not ws.narrowing:
        return []
    return [t for t in space.tables() if ws.can_narrow(t)]


def search(
    ws: Workspace,
    space: SearchSpace,
    requests: Mapping[str, Mapping[str, Sequence[str]]],
    tables: list[str],
    run: Callable[[], T],
) -> tuple[T, Narrowing]:
    """Run the search (`run`) over picked rows of the lake `tables` until the identifiers a
    pass held pick no row more (see the module docstring). The picked copies stay for the
    rest of the `narrowing` block (the report reads her rows from them)."""
    narrowing = Narrowing(list(tables))
    narrowing.pairs = {(k, v) for ids in requests.values() for k, vs in ids.items() for v in vs}
    results: list[T] = []
    for _ in range(MAX_PASSES + 1):
        changed = _pick(ws, space, narrowing)
        if results and not changed:
            return results[-1], narrowing  # the last pass ran on rows picked for all it held
        if narrowing.passes == MAX_PASSES:
            break
        narrowing.passes += 1
        with ws.snapshots(space.tables()):
            results.append(run())
        narrowing.pairs |= held(ws.con)
    for table in narrowing.tables:  # not settled: every table whole, once more
        ws.drop_copy(table)
    narrowing.rows.clear()
    narrowing.passes += 1
    with ws.snapshots(space.tables()):
        return run(), narrowing


def _pick(ws: Workspace, space: SearchSpace, narrowing: Narrowing) -> bool:
    """Pick each lake table's rows again where the identifiers held add a test (one Spark
    job per table, side by side); whether any table's rows changed."""
    changed = False
    todo: dict[str, dict[str, list[Anchor]]] = {}
    for table in narrowing.tables:
        if table in narrowing.whole:
            continue
        tests = narrowing.tests_for(space, table)
        if tests is None:
            _whole(
                ws,
                narrowing,
                table,
                "an identifier has no letter or digit to pick rows by, or a link reads "
                "pseudonymized tokens",
            )
            changed = True
        elif tests != narrowing.tests.get(table):
            narrowing.tests[table] = tests
            todo[table] = {c: sorted(a) for c, a in sorted(tests.items())}
    for table, got in (ws.narrow(todo) if todo else {}).items():
        if isinstance(got, TutelaError):  # Spark cannot read it: DuckDB reads the files whole
            _whole(ws, narrowing, table, got.message)
            changed = True
        else:
            # tests only ever gain anchors, so the rows picked only ever grow: as many rows
            # as before are the same rows, and the search would read what it read
            changed = changed or got != narrowing.rows.get(table)
            narrowing.rows[table] = got
    return changed


def _whole(ws: Workspace, narrowing: Narrowing, table: str, why: str) -> None:
    """From now on the table is read whole (`snapshots`), and the output says why."""
    narrowing.whole.add(table)
    narrowing.failed[table] = why
    narrowing.rows.pop(table, None)
    ws.drop_copy(table)


def held(con: Connection) -> set[Pair]:
    """Every identifier the search that just ran held: its keys, the birth dates and
    postcodes it compared namesakes by, and the namesakes' own identifiers it looked up
    (`names._linked_elsewhere`: another row carrying them says whose row it is)."""
    tables = {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary "
            "AND table_name IN ('_keys', '_corr', '_ckeys')"
        ).fetchall()
    }
    parts = [f"SELECT kind, key FROM {t} WHERE key IS NOT NULL" for t in sorted(tables)]
    if not parts:
        return set()
    rows = con.execute(" UNION ".join(parts)).fetchall()
    return {(str(k), str(v)) for k, v in rows}


@contextmanager
def narrowing(ws: Workspace) -> Iterator[None]:
    """For the block, subject searches read lake tables behind Spark as the rows Spark
    picks for them (read-only commands: `subject find`, `sar`); the copies are dropped
    after it."""
    before = ws.narrowing
    ws.narrowing = True
    try:
        yield
    finally:
        ws.narrowing = before
        ws.drop_narrowed()
