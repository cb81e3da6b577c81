"""The one writer for every data file Tutela writes (CSV/TSV, Parquet, JSON): formats by
suffix from `tutela.formats`, spreadsheet-safe text in delimited files, owner-only files
moved into place whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tutela.base.errors import UsageError
from tutela.base.sql import quote_ident, sql_literal
from tutela.engine import Connection
from tutela.formats import BY_SUFFIX, COPY_OPTIONS

FORMATS = COPY_OPTIONS  # suffix -> COPY options: the writable formats of `tutela.formats`
DELIMITED = tuple(s for s in FORMATS if BY_SUFFIX[s].delimited)

# Spreadsheet formula triggers (OWASP CSV injection); plain negative numbers are data.
FORMULA = r"^[=+\-@\t\r]"
NEGATIVE = r"^-[0-9]+([.,][0-9]+)?([eE][+-]?[0-9]+)?$"
_NESTED = ("[]", "STRUCT(", "MAP(", "UNION(")


def output_format(out: Path, allowed: tuple[str, ...] | None = None) -> str:
    """The COPY options for a file name's suffix, or a usage error naming the choices."""
    names = allowed or tuple(FORMATS)
    fmt = FORMATS.get(out.suffix.lower()) if out.suffix.lower() in names else None
    if fmt is None:
        raise UsageError(
            f"cannot tell the output format of {out.name}", hint="use one of " + ", ".join(names)
        )
    return fmt


def safe_header(name: str) -> str:
    """A column name as a spreadsheet may show it: a leading formula character gets `'`."""
    import re

    if re.match(FORMULA, name) and not re.fullmatch(NEGATIVE, name):
        return "'" + name
    return name


def delimited_select(con: Connection, sql: str, params: Any) -> str:
    """`sql` made safe for a CSV/TSV file: text values and header names that a spreadsheet
    would run as a formula get a leading `'`; LIST/STRUCT/MAP values are written as JSON."""
    described = con.execute(f"DESCRIBE SELECT * FROM ({sql})", params).fetchall()
    parts = []
    for row in described:
        name, dtype = str(row[0]), str(row[1]).upper()
        c = quote_ident(name)
        if any(marker in dtype for marker in _NESTED) or dtype == "JSON":
            expr = f"CAST(to_json({c}) AS VARCHAR)"  # JSON never starts with a trigger
        elif dtype in ("VARCHAR", "STRING", "TEXT"):
            expr = (
                f"CASE WHEN regexp_matches({c}, {sql_literal(FORMULA)}) "
                f"AND NOT regexp_full_match({c}, {sql_literal(NEGATIVE)}) "
                f"THEN '''' || {c} ELSE {c} END"
            )
        else:
            expr = c
        parts.append(f"{expr} AS {quote_ident(safe_header(name))}")
    return f"SELECT {', '.join(parts)} FROM ({sql})"


def copy_query(con: Connection, sql: str, params: Any, target: Path, suffix: str) -> None:
    """COPY `sql` into `target` (a temporary path the caller moves into place) in the format
    of `suffix`, owner-readable only. Every CSV/TSV goes through `delimited_select`."""
    fmt = output_format(Path("x" + suffix))
    if suffix.lower() in DELIMITED:
        sql = delimited_select(con, sql, params)
    con.execute(f"COPY ({sql}) TO {sql_literal(str(target))} {fmt}", params)
    os.chmod(target, 0o600)
