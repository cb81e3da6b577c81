"""Shared pieces of enforcement: the refusal error, parameter rebinding, literals, keys."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from tutela import workspace
from tutela.base.errors import ExitCode, TutelaError, UsageError
from tutela.base.keys import MasterKey, keyed_hash
from tutela.protect.sqlhmac import Binder
from tutela.workspace import Workspace


class RefusedError(TutelaError):
    """The policy does not allow what was asked (unknown role, table outside a purpose...)."""

    slug = "refused"
    exit_code = ExitCode.USAGE


def _substitute(sql: str, replace: Callable[[Any], str], params: Sequence[Any]) -> str:
    """Replace each `?` placeholder outside quoted identifiers and string literals."""
    values = iter(params)
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
            out.append(ch)
        elif ch in ('"', "'"):
            quote = ch
            out.append(ch)
        elif ch == "?":
            try:
                out.append(replace(next(values)))
            except StopIteration:
                raise ValueError("more placeholders than parameters") from None
        else:
            out.append(ch)
    if next(values, StopIteration) is not StopIteration:
        raise ValueError("more parameters than placeholders")
    return "".join(out)


def rebind(sql: str, params: Sequence[Any], binder: Binder) -> str:
    """Positional `?` fragments (policy.sql) into the named parameters of a Binder."""
    return _substitute(sql, binder.bind, params)


def literal(value: Any) -> str:
    """A SQL literal for a policy value, for view definitions (which cannot bind values)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"cannot use {value!r} in a view definition")
        return repr(value)
    if isinstance(value, datetime | date):
        kind = "TIMESTAMP" if isinstance(value, datetime) else "DATE"
        return f"CAST('{value.isoformat()}' AS {kind})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    text = str(value)
    if "\x00" in text:
        raise UsageError("a policy value contains a NUL character")
    return "'" + text.replace("'", "''") + "'"


def inline(sql: str, params: Sequence[Any]) -> str:
    """Positional `?` fragments with their values written as literals."""
    return _substitute(sql, literal, params)


def subject_hash(master: MasterKey, kind: str, key: str) -> str:
    """How a subject appears in the audit log: keyed hash, never the identifier."""
    return keyed_hash(master.derive("subject-identifiers"), f"{kind}:{key}")


def internal_table_exists(ws: Workspace, name: str) -> bool:
    return workspace.internal_table_exists(ws.con, name)
