"""The erasure actions a policy can name (`erasure: tables: orders: {action: anonymize}`), one
object each: what the policy rule must give, what it erases, what the plan and the certificate
say, and how it is applied through `sources.Writes`.

Adding an action is one `ErasureAction(...)` in `ACTIONS` below (or `register(...)` from
another module). The policy model validates names against this table; the plan
(`subjects/plan.py`), the application (`subjects/erase.py` `apply_plans`), verification, the
certificate and the systems owed (`subjects/physical.py`, `subjects/systems.py`) read it.
It lives in `policy/` because the policy model needs it and `subjects/` imports `policy/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

if TYPE_CHECKING:
    from tutela.sources import Writes

Erases = Literal["rows", "columns", "nothing"]
"""What an action removes of the person's rows in a table: the rows themselves, the rule's
`columns` in them, or nothing (the rows are kept as they are, under a stated legal basis)."""

Apply = Callable[["Writes", str, Sequence[str], Sequence[int]], None]
"""`apply(writes, table, columns, rowids)`: one set-based call per table, action and column
list for every request applied together (`columns` is the rule's, empty unless it takes them)."""

RESERVED = frozenset({"redact"})
"""Names the plan and the certificate already use for something else (free-text mentions
redacted in rows that stay)."""


class ErasureAction(str):
    """One erasure action. It is its own name (`action == "delete"`, `str(action)`), so a
    rule's `action`, a plan's and the certificate's show it as the policy spells it."""

    erases: Erases
    legal_basis: bool
    """The rule must state `legal_basis` and `reason` (Art. 17(3)); always for an action that
    erases nothing."""
    done: str
    """Its count in the results and the certificate (`{"orders": {"anonymized": 2}}`)."""
    owed: str | None
    """What is owed at a source Tutela does not change, with `{rows}` and `{columns}`
    (None: nothing is owed, the rows are kept)."""
    requirement: str | None
    """The error when a rule lacks what the action needs (its columns, or a legal basis and
    reason), with the YAML to write: the loader shows the part after `write:` as the hint."""
    apply: Apply | None
    """How the rows change, through the `Writes` methods (None for an action erasing nothing)."""

    # The built-in actions by attribute, as when this was an enum (`ErasureAction.delete`).
    delete: ClassVar[ErasureAction]
    anonymize: ClassVar[ErasureAction]
    keep: ClassVar[ErasureAction]

    def __new__(
        cls,
        name: str,
        *,
        erases: Erases,
        done: str,
        owed: str | None = None,
        requirement: str | None = None,
        apply: Apply | None = None,
        legal_basis: bool | None = None,
    ) -> ErasureAction:
        self = super().__new__(cls, name)
        needs_basis = erases == "nothing" if legal_basis is None else legal_basis
        if erases == "nothing" and not needs_basis:
            raise ValueError(f"action {name}: keeping rows as they are needs a legal basis")
        if (apply is None) != (erases == "nothing"):
            raise ValueError(f"action {name}: an action applies something iff it erases something")
        if (erases == "columns" or needs_basis) and not requirement:
            raise ValueError(f"action {name}: say what the rule must give (`requirement`)")
        if (owed is None) != (erases == "nothing"):
            raise ValueError(f"action {name}: say what is owed at a source (`owed`)")
        for attr, value in (
            ("erases", erases),
            ("legal_basis", needs_basis),
            ("done", done),
            ("owed", owed),
            ("requirement", requirement),
            ("apply", apply),
        ):
            object.__setattr__(self, attr, value)
        return self

    def __repr__(self) -> str:
        return f"<ErasureAction.{self}: {str(self)!r}>"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"erasure action {self} is immutable")

    # An action is a singleton: copies and pickles resolve to the registered one.
    def __copy__(self) -> ErasureAction:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ErasureAction:
        return self

    def __reduce__(self) -> tuple[Callable[[str], ErasureAction], tuple[str]]:
        return named, (str(self),)

    @property
    def columns(self) -> bool:
        """The rule must list `columns` (and only such an action takes them)."""
        return self.erases == "columns"

    @property
    def keeps(self) -> bool:
        """The person's rows stay as they are: nothing is written, free-text mentions in
        them are not redacted, what the search still finds there is not residue, and the
        person's subject keys are not shredded (the kept values must stay readable)."""
        return self.erases == "nothing"

    @property
    def can_be_default(self) -> bool:
        """Whether `erasure: default:` may name it (it needs nothing from a rule)."""
        return not self.columns and not self.legal_basis

    @property
    def last(self) -> bool:
        """Applied after the actions that update rows: those address rows by rowid."""
        return self.erases == "rows"

    def removes(self, column: str, columns: Sequence[str]) -> bool:
        """Whether the person's value in `column` is gone after the action (with the
        rule's `columns`)."""
        return self.erases == "rows" or (self.erases == "columns" and column in columns)

    def owed_at_source(self, rows: int, columns: Sequence[str]) -> str | None:
        return self.owed.format(rows=rows, columns=", ".join(columns)) if self.owed else None

    # -- as a policy field: validated against the registry, shown as an enum -------------
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate,
            ref="ErasureAction",
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=core_schema.str_schema(), when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"enum": list(ACTIONS), "title": "ErasureAction", "type": "string"}

    @classmethod
    def choices(cls) -> list[str]:
        """Every registered name, in order (the loader's hints: `one of: delete, ...`)."""
        return list(ACTIONS)


def _delete(writes: Writes, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
    writes.delete_rows(table, rowids)


def _blank(writes: Writes, table: str, columns: Sequence[str], rowids: Sequence[int]) -> None:
    writes.set_null(table, columns, rowids)


ErasureAction.delete = ErasureAction(
    "delete",
    erases="rows",  # delete the person's rows
    done="deleted",
    owed="delete {rows} row(s)",
    apply=_delete,
)
ErasureAction.anonymize = ErasureAction(
    "anonymize",
    erases="columns",  # keep the rows, irreversibly blank the listed columns
    done="anonymized",
    owed="blank {columns} in {rows} row(s)",
    requirement="action anonymize needs the columns to blank; write:\n"
    "  action: anonymize\n  columns: [shipping_address]",
    apply=_blank,
)
ErasureAction.keep = ErasureAction(
    "keep",
    erases="nothing",  # keep as is, under a stated legal basis (Art. 17(3))
    done="kept",
    requirement="keeping data after an erasure request needs a stated basis (Art. 17(3)); "
    "write:\n  action: keep\n  legal_basis: legal_obligation\n"
    "  reason: invoices kept 6 years (Código de Comercio art. 30)",
)

ACTIONS: dict[str, ErasureAction] = {
    str(a): a for a in (ErasureAction.delete, ErasureAction.anonymize, ErasureAction.keep)
}
"""Every action a policy may name, by name, in the order error messages list them."""


def register(action: ErasureAction) -> ErasureAction:
    """Add an action policies may name (from a plugin or a test); returns it."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", action) or action in RESERVED:
        raise ValueError(f"{str(action)!r} cannot name an erasure action")
    if action in ACTIONS:
        raise ValueError(f"erasure action {str(action)!r} is already registered")
    ACTIONS[str(action)] = action
    return action


def named(name: str) -> ErasureAction:
    """The registered action called `name` (KeyError if none)."""
    return ACTIONS[name]


def _validate(value: object) -> ErasureAction:
    found = ACTIONS.get(value) if isinstance(value, str) else None
    if found is None:
        names = [repr(str(a)) for a in ACTIONS]
        expected = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise PydanticCustomError("enum", "Input should be {expected}", {"expected": expected})
    return found
