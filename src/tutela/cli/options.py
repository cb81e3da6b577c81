"""Shared CLI state and common options (errors are handled once, in cli/root.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tutela.services.session import Session


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


@dataclass
class State:
    workspace: Path | None = None
    debug: bool = False
    command: str = "tutela"
    """The running command's name (`tutela erase`), recorded in the workspace lock file."""

    def session(self) -> Session:
        """The workspace the core services open; their notices become warnings."""
        from tutela.cli.output import warn
        from tutela.services.session import Session

        return Session(self.workspace, self.command, notify=warn)


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    if ctx is not root:  # the subcommand's context: its name goes into the lock file
        root.obj.command = " ".join(["tutela", *ctx.command_path.split()[1:]])
    return root.obj


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


def session(ctx: typer.Context) -> Session:
    """The running command's session: what every core service call takes first."""
    return state(ctx).session()
