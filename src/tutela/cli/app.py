"""The `tutela` Typer application: global options and command registration."""

from __future__ import annotations

from pathlib import Path

import typer

from tutela import __version__
from tutela.cli import catalog, load
from tutela.cli import live as live_cli
from tutela.cli.audit import audit_app
from tutela.cli.enforce import register as register_enforce
from tutela.cli.options import state
from tutela.cli.policy import policy_app
from tutela.cli.protect import keys_app, pseudonymize_cmd, reidentify_cmd, risk_cmd
from tutela.cli.report import report_cmd
from tutela.cli.requests import requests_app
from tutela.cli.review import review_app
from tutela.cli.root import RootGroup
from tutela.cli.scan import scan_cmd
from tutela.cli.subjects import erase_cmd, sar_cmd, subject_app

app = typer.Typer(
    name="tutela",
    help="Find, govern and answer for the personal data in your customer data drops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    cls=RootGroup,  # the one error handler (cli/root.py)
)


def _version(value: bool) -> None:
    if value:
        print(f"tutela {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="TUTELA_WORKSPACE",
        help="Workspace directory (default ./.tutela).",
        show_default=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Tutela: a data-governance toolkit over an embedded DuckDB workspace."""
    st = state(ctx)
    st.workspace = workspace
    st.debug = debug


app.command("load")(load.load_cmd)
app.command("tables")(catalog.tables_cmd)
app.command("sources")(catalog.sources_cmd)
app.command("show")(catalog.show_cmd)
app.command("attach")(live_cli.attach_cmd)
app.command("detach")(live_cli.detach_cmd)
app.command("attachments")(live_cli.attachments_cmd)
app.command("scan")(scan_cmd)
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(subject_app, name="subject")
app.command("sar")(sar_cmd)
app.command("erase")(erase_cmd)
app.add_typer(requests_app, name="requests")
app.add_typer(review_app, name="review")
app.command("pseudonymize")(pseudonymize_cmd)
app.command("reidentify")(reidentify_cmd)
app.command("risk")(risk_cmd)
register_enforce(app)
app.command("report")(report_cmd)


def main() -> None:
    """Entry point once the app is imported (the console script is `tutela.cli:main`)."""
    app()
