"""Shared CLI state and common options (errors are handled once, in cli/root.py)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer

from tutela.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


@dataclass
class State:
    workspace: Path | None = None
    debug: bool = False

    def open_workspace(self, *, create: bool = False, read_only: bool = False) -> Workspace:
        return Workspace.open(self.workspace, create=create, read_only=read_only)


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def guarded(fn: F) -> F:
    """Kept for commands written before the root handler: errors are handled once, for every
    command, by `cli/root.py` (the app's RootGroup), so this returns `fn` unchanged."""
    return fn


FormatOption = typer.Option(
    OutputFormat.table,
    "--format",
    "-f",
    help="Output format: a table for people, json for scripts.",
)


PolicyPathOption = typer.Option(
    Path("policies"),
    "--policy",
    "-p",
    envvar="TUTELA_POLICY",
    help="Policy file or directory of YAML files.",
)


def parse_identifiers(
    email: list[str] | None,
    phone: list[str] | None,
    customer_id: list[str] | None,
    national_id: list[str] | None,
    other: list[str] | None,
) -> dict[str, list[str]]:
    """Identifier options into {kind: [values]}; --id takes KIND=VALUE for any link kind."""
    ids: dict[str, list[str]] = {}
    for kind, values in (
        ("email", email),
        ("phone", phone),
        ("customer_id", customer_id),
        ("national_id", national_id),
    ):
        if values:
            ids.setdefault(kind, []).extend(values)
    for item in other or []:
        kind, sep, value = item.partition("=")
        if not sep or not kind.strip() or not value.strip():
            raise typer.BadParameter(f"--id takes KIND=VALUE, got {item!r}")
        ids.setdefault(kind.strip(), []).append(value.strip())
    return ids


EmailOption = typer.Option(None, "--email", help="E-mail address (repeatable).")
PhoneOption = typer.Option(None, "--phone", help="Phone number, any format (repeatable).")
CustomerIdOption = typer.Option(None, "--customer-id", help="Customer id (repeatable).")
NationalIdOption = typer.Option(None, "--national-id", help="National ID number (repeatable).")
OtherIdOption = typer.Option(
    None, "--id", help="Any identity-link kind as KIND=VALUE, e.g. iban=ES91... (repeatable)."
)
