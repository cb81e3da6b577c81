"""SQL fragments built from policy values: identifiers quoted, every value a bound parameter."""

from __future__ import annotations

from typing import Any

from tutela.policy.models import Condition
from tutela.workspace import quote_ident

Fragment = tuple[str, list[Any]]

_DATE_TYPES = ("DATE", "TIMESTAMP")
# Text dates the policy check reads without a declared date_format (European order first).
TEXT_DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d"]


def _typed(column: str, sample: object) -> str:
    col = quote_ident(column)
    if isinstance(sample, bool):
        return f"TRY_CAST({col} AS BOOLEAN)"
    if isinstance(sample, int | float):
        return f"TRY_CAST({col} AS DOUBLE)"
    return f"CAST({col} AS VARCHAR)"


def condition_sql(cond: Condition) -> Fragment:
    """A boolean SQL expression that is never NULL: true when the row meets `cond`."""
    col = quote_ident(cond.column)
    op = cond.operator
    if op == "is_null":
        return (f"({col} IS NULL)" if cond.is_null else f"({col} IS NOT NULL)"), []
    if op in ("equals", "not_equals"):
        value = cond.equals if op == "equals" else cond.not_equals
        match = f"coalesce({_typed(cond.column, value)} = ?, false)"
        params: list[Any] = [value]
    else:
        chosen = cond.in_ if op == "in" else cond.not_in
        values: list[Any] = list(chosen or [])
        if all(isinstance(v, bool) for v in values) or all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            expr = _typed(cond.column, values[0])
        else:
            expr, values = f"CAST({col} AS VARCHAR)", [str(v) for v in values]
        match = f"coalesce(list_contains(?, {expr}), false)"
        params = [values]
    if op.startswith("not_"):
        return f"(NOT {match})", params
    return f"({match})", params


def any_of(conditions: list[Condition]) -> Fragment:
    """True when at least one condition holds (false for an empty list)."""
    if not conditions:
        return "false", []
    parts = [condition_sql(c) for c in conditions]
    return "(" + " OR ".join(p[0] for p in parts) + ")", [v for p in parts for v in p[1]]


def all_of(conditions: list[Condition]) -> Fragment:
    if not conditions:
        return "true", []
    parts = [condition_sql(c) for c in conditions]
    return "(" + " AND ".join(p[0] for p in parts) + ")", [v for p in parts for v in p[1]]


def date_expr(column: str, column_type: str, date_format: str | None) -> Fragment:
    """The column read as a TIMESTAMP (NULL when unreadable)."""
    col = quote_ident(column)
    if column_type.upper().startswith(_DATE_TYPES):
        return f"CAST({col} AS TIMESTAMP)", []
    text = f"CAST({col} AS VARCHAR)"
    if date_format:
        return f"try_strptime({text}, ?)", [date_format]
    return (
        f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, ?))",
        [TEXT_DATE_FORMATS],
    )
