"""`tutela keys`: the workspace master key (its id is shown, never the key)."""

from __future__ import annotations

import typer

from tutela.cli import output
from tutela.cli.options import guarded, state
from tutela.protect.keys import load_master_key

keys_app = typer.Typer(help="Manage the workspace key.", no_args_is_help=True)


@keys_app.command("init")
@guarded
def init_cmd(ctx: typer.Context) -> None:
    """Create the workspace master key (file mode 0600) if missing and print its id."""
    with state(ctx).open_workspace(create=True) as ws:
        key = load_master_key(ws.root, create=True)
    output.out.print(f"{key.key_id} ({key.source})")
