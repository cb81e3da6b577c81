"""Values known to be shared with a person erased earlier.

A household's landline, a family e-mail or a shared tablet's cookie is judged ambiguous while
the rows of both people hold it. Once one of them is erased, the data alone no longer shows
the sharing: the anonymous rows still carrying the value would become the other person's for
certain (a web event from the shared tablet, a call from the landline that gave no name).
So an erasure records the shared values it held back, as keyed hashes (HMAC under a key
derived from the workspace's master key: never the values), and the search keeps judging
them ambiguous ("shared with a person erased earlier").

The hashes stay after every holder is erased, like the hashed identifiers of the erasure
certificates; they say nothing without the workspace's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tutela.base.keys import MasterKey, keyed_hash
from tutela.engine import Connection
from tutela.workspace import INTERNAL, internal_table_exists, json_list

TABLE = f"{INTERNAL}.shared_values"
_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    digest VARCHAR PRIMARY KEY,
    any_country VARCHAR,
    country_known BOOLEAN,
    kind VARCHAR,
    request_id VARCHAR,
    recorded_at TIMESTAMP
)"""

Value = tuple[str, str, str | None]
"""(kind, normalised key, calling code or None)"""


def _key(master: MasterKey) -> bytes:
    return master.derive("subjects/shared-values")


def digest(key: bytes, value: Value) -> str:
    kind, normalised, cc = value
    return keyed_hash(key, f"{kind}:{cc or ''}:{normalised}")


def _any_country(key: bytes, value: Value) -> str:
    kind, normalised, _ = value
    return keyed_hash(key, f"{kind}:*:{normalised}")


class Ledger:
    """The recorded digests, read once per search. Countries match as the search matches
    them: the same code, or either unknown (a French number with the digits of a Spanish
    landline is another number)."""

    def __init__(self, master: MasterKey, rows: Sequence[tuple[str, str, bool]] = ()) -> None:
        self._key = _key(master)
        self.digests = {r[0] for r in rows}
        self._any = {r[1] for r in rows}
        self._any_unknown = {r[1] for r in rows if not r[2]}

    @classmethod
    def load(cls, con: Connection, master: MasterKey) -> Ledger:
        if not internal_table_exists(con, "shared_values"):
            return cls(master)
        rows = con.execute(f"SELECT digest, any_country, country_known FROM {TABLE}").fetchall()
        return cls(master, [(str(a), str(b), bool(c)) for a, b, c in rows])

    def known(self, values: Iterable[Value]) -> list[Value]:
        """The values among these that were shared with a person erased earlier."""
        if not self.digests:
            return []
        out = []
        for v in values:
            anywhere = _any_country(self._key, v)
            if v[2] is None:
                hit = anywhere in self._any
            else:
                hit = digest(self._key, v) in self.digests or anywhere in self._any_unknown
            if hit:
                out.append(v)
        return out


def record(
    con: Connection, master: MasterKey, request_id: str, values: Sequence[Value], at: str
) -> int:
    """Remember these shared values of an erased person (inside the erasure's transaction)."""
    if not values:
        return 0
    con.execute(_DDL)
    key = _key(master)
    rows = {digest(key, v): (_any_country(key, v), v[2] is not None, v[0]) for v in values}
    digests = sorted(rows)
    con.execute(
        f"INSERT INTO {TABLE} SELECT d, a, c, k, ?, CAST(? AS TIMESTAMP) FROM (SELECT "
        "UNNEST(CAST(?::JSON AS VARCHAR[])) AS d, UNNEST(CAST(?::JSON AS VARCHAR[])) AS a, "
        "UNNEST(CAST(?::JSON AS BOOLEAN[])) AS c, UNNEST(CAST(?::JSON AS VARCHAR[])) AS k) "
        "ON CONFLICT DO NOTHING",
        [
            request_id,
            at,
            json_list(digests),
            json_list(rows[d][0] for d in digests),
            json_list(rows[d][1] for d in digests),
            json_list(rows[d][2] for d in digests),
        ],
    )
    return len(digests)
