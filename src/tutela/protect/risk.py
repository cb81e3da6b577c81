"""Re-identification risk over quasi-identifiers: k-anonymity, unique rows, l-diversity.

One GROUP BY in DuckDB. Only sizes and counts come out, never the quasi-identifier
values of the small groups (those are exactly the people who stand out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutela.base.errors import UsageError
from tutela.base.sql import sql_literal
from tutela.protect.reidentify import READERS, resolve_source
from tutela.workspace import Workspace, quote_ident

_BUCKETS = ((1, 1), (2, 4), (5, 9), (10, 99), (100, None))


@dataclass
class RiskReport:
    source: str
    rows: int
    quasi: list[str]
    sensitive: str | None
    k: int  # smallest equivalence-class size (0 for an empty table)
    groups: int
    unique_rows: int  # rows alone in their group
    rows_below_threshold: int | None
    threshold: int | None
    l_diversity: int | None  # smallest number of distinct sensitive values in a group
    group_sizes: dict[str, int]  # bucket -> number of groups

    @property
    def passes(self) -> bool:
        return self.threshold is None or self.k >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "quasi_identifiers": self.quasi,
            "sensitive": self.sensitive,
            "k_anonymity": self.k,
            "groups": self.groups,
            "unique_rows": self.unique_rows,
            "unique_share": round(self.unique_rows / self.rows, 6) if self.rows else 0.0,
            "threshold": self.threshold,
            "rows_below_threshold": self.rows_below_threshold,
            "l_diversity": self.l_diversity,
            "group_sizes": self.group_sizes,
            "passes": self.passes,
        }


def assess(
    ws: Workspace,
    source: str,
    quasi: list[str],
    *,
    sensitive: str | None = None,
    fail_below: int | None = None,
) -> RiskReport:
    """k-anonymity of a table (or a protected file) over the given quasi-identifiers."""
    if not quasi:
        raise UsageError("give at least one quasi-identifier column (--quasi age,postcode)")
    if fail_below is not None and fail_below < 1:
        raise UsageError("--fail-below must be at least 1")
    src = resolve_source_for_risk(ws, source)
    layout = [str(r[0]) for r in ws.query(f"DESCRIBE SELECT * FROM {src}")]
    missing = [c for c in [*quasi, *([sensitive] if sensitive else [])] if c not in layout]
    if missing:
        raise UsageError(
            f"no column {', '.join(map(repr, missing))} in {source}",
            hint="columns: " + ", ".join(layout),
        )
    if sensitive in quasi:
        raise UsageError("the sensitive column cannot also be a quasi-identifier")
    keys = ", ".join(quote_ident(c) for c in quasi)
    l_expr = f"count(DISTINCT {quote_ident(sensitive)})" if sensitive else "NULL"
    threshold = fail_below or 0
    cases = ", ".join(
        f"count(*) FILTER (WHERE n >= {lo}{f' AND n <= {hi}' if hi else ''})" for lo, hi in _BUCKETS
    )
    row = ws.query(
        f"WITH g AS (SELECT count(*) AS n, {l_expr} AS l FROM {src} GROUP BY {keys}) "
        f"SELECT coalesce(sum(n), 0), coalesce(min(n), 0), count(*), "
        f"coalesce(sum(n) FILTER (WHERE n = 1), 0), "
        f"coalesce(sum(n) FILTER (WHERE n < ?), 0), min(l), {cases} FROM g",
        [threshold],
    )[0]
    sizes = {
        (f"{lo}" if lo == hi else f"{lo}-{hi}" if hi else f"{lo}+"): int(v)
        for (lo, hi), v in zip(_BUCKETS, row[6:], strict=True)
    }
    return RiskReport(
        source=source,
        rows=int(row[0]),
        quasi=quasi,
        sensitive=sensitive,
        k=int(row[1]),
        groups=int(row[2]),
        unique_rows=int(row[3]),
        rows_below_threshold=int(row[4]) if fail_below is not None else None,
        threshold=fail_below,
        l_diversity=int(row[5]) if sensitive and row[5] is not None else None,
        group_sizes=sizes,
    )


def resolve_source_for_risk(ws: Workspace, source: str) -> str:
    """A FROM item: a workspace table, or any Parquet/CSV/JSON file (no manifest needed)."""
    path = Path(source)
    if path.suffix.lower() in READERS and path.is_file() and not ws.has_table(source):
        return f"{READERS[path.suffix.lower()]}({sql_literal(str(path))})"
    return resolve_source(ws, source).sql
