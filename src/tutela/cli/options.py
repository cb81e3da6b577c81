"""Shared CLI state and common options (errors are handled once, in cli/root.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tutela.workspace import Workspace


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


@dataclass
class State:
    workspace: Path | None = None
    debug: bool = False
    command: str = "tutela"
    """The running command's name (`tutela erase`), recorded in the workspace lock file."""

    def open_workspace(self, *, create: bool = False, read_only: bool = False) -> Workspace:
        from tutela.workspace import Workspace

        ws = Workspace.open(
            self.workspace, create=create, read_only=read_only, command=self.command
        )
        _report_purge(ws)
        return ws


def _report_purge(ws: Workspace) -> None:
    """Say so when this command completed, or could not complete, an earlier purge."""
    from tutela.cli.output import warn

    if ws.resumed_purge is not None:
        warn(
            "an earlier command ("
            + ", ".join(ws.resumed_purge.commands)
            + ") committed its change but was interrupted before rewriting the workspace "
            "file; the rewrite was completed now, so no old value is left in it"
        )
    elif ws.pending_purge:
        warn(
            "an earlier command ("
            + ", ".join(ws.pending_purge)
            + ") committed its change but the workspace file is not rewritten yet, so old "
            "values may remain in its free blocks"
            + (f" ({ws.purge_error})" if ws.purge_error else "")
            + "; the next command that writes to the workspace completes it"
        )


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
