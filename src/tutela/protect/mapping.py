"""Python-side methods over distinct values, joined back through a temp mapping table.

Row-by-row UPDATEs are slow and Python loops over rows are slower still; a column with
10M rows often has far fewer distinct values. The distinct values go to a temp table, are
read back in chunks, mapped in Python, and inserted as (raw, token) pairs bound as list
parameters; the caller joins the mapping on the raw value.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from tutela.engine import Connection
from tutela.workspace import json_list

CHUNK = 100_000
_names = count()


def temp_name(stem: str) -> str:
    return f"_tutela_{stem}_{next(_names)}"


def build_mapping(
    con: Connection,
    distinct_sql: str,
    params: dict[str, Any],
    fn: Callable[[tuple[Any, ...]], str | None],
    *,
    keys: tuple[str, ...] = ("raw",),
) -> str:
    """Create a temp table (raw VARCHAR, token VARCHAR) from `distinct_sql`'s rows.

    `distinct_sql` yields the raw value first (one row per distinct value), then any
    helper columns (e.g. an HMAC computed in SQL) that `fn` needs. Returns the table name.
    `keys` names the leading columns the mapping is keyed by, when more than the raw value
    (per-subject mappings: `("s", "raw")`).
    """
    source = temp_name("distinct")
    target = temp_name("map")
    # rowid is no use as a chunk key: rows added inside a transaction get rowids from 2^62
    con.execute(
        f"CREATE TEMP TABLE {source} AS SELECT row_number() OVER () - 1 AS _i, * "
        f"FROM ({distinct_sql})",
        params,
    )
    con.execute(
        f"CREATE TEMP TABLE {target} ({', '.join(f'{k} VARCHAR' for k in keys)}, token VARCHAR)"
    )
    unnest = ", ".join(f"unnest(CAST(${k}::JSON AS VARCHAR[]))" for k in (*keys, "tok"))
    row = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    total = int(row[0]) if row else 0
    for start in range(0, total, CHUNK):
        rows = con.execute(
            f"SELECT * EXCLUDE (_i) FROM {source} WHERE _i >= ? AND _i < ?",
            [start, start + CHUNK],
        ).fetchall()
        columns = {k: json_list(r[i] for r in rows) for i, k in enumerate(keys)}
        tokens = json_list(fn(r) for r in rows)
        con.execute(f"INSERT INTO {target} SELECT {unnest}", {**columns, "tok": tokens})
    con.execute(f"DROP TABLE {source}")
    return target


def drop_temp(con: Connection, names: list[str]) -> None:
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def joined_select(
    source_sql: str, layout: list[str], replacements: dict[str, str], *, order_by: str
) -> str:
    """SELECT every column of `source_sql` (aliased s), mapped ones through their tables."""
    from tutela.workspace import quote_ident

    exprs: list[str] = []
    joins: list[str] = []
    for name in layout:
        q = quote_ident(name)
        table = replacements.get(name)
        if table is None:
            exprs.append(f"s.{q}")
            continue
        alias = f"m{len(joins)}"
        joins.append(f"LEFT JOIN {table} AS {alias} ON {alias}.raw = CAST(s.{q} AS VARCHAR)")
        exprs.append(f"CASE WHEN s.{q} IS NULL THEN NULL ELSE {alias}.token END AS {q}")
    return (
        f"SELECT {', '.join(exprs)} FROM {source_sql} AS s {' '.join(joins)} ORDER BY s.{order_by}"
    )
