"""The `tutela` Typer application: global options and command registration."""

from __future__ import annotations

from pathlib import Path

import typer

from tutela.cli.options import state
from tutela.cli.root import Lazy, RootGroup

# Every command, in the order `tutela --help` lists them. Each is imported only when it runs
# (start-up stays small); the help line is the command's own, checked by a test.
COMMANDS: dict[str, Lazy] = {
    "load": Lazy(
        "tutela.cli.load",
        "load_cmd",
        "Load customer data files into the workspace, one table per file (or Excel sheet).",
    ),
    "tables": Lazy(
        "tutela.cli.catalog",
        "tables_cmd",
        "List the tables in the workspace with row and column counts.",
    ),
    "sources": Lazy(
        "tutela.cli.catalog",
        "sources_cmd",
        "Show where every table came from: system, file, hash, size, rows, load time.",
    ),
    "show": Lazy(
        "tutela.cli.catalog",
        "show_cmd",
        "Show the first rows of a table (personal data in clear: mind who is watching).",
    ),
    "attach": Lazy(
        "tutela.cli.live",
        "attach_cmd",
        "Attach a live database, a lake folder or a Spark lake: its tables are scanned and "
        "searched in place, not copied.",
    ),
    "detach": Lazy(
        "tutela.cli.live",
        "detach_cmd",
        "Forget an attached database (its data is not touched).",
    ),
    "attachments": Lazy(
        "tutela.cli.live",
        "attachments_cmd",
        "List the attached live databases (connection strings shown without passwords).",
    ),
    "scan": Lazy(
        "tutela.cli.scan",
        "scan_cmd",
        "Scan every column of the loaded tables for personal data.",
    ),
    "classify": Lazy(
        "tutela.cli.classify",
        "classify_cmd",
        "Record a human decision on a column: rescans, --fail-on, policy init and SARIF honour it.",
    ),
    "sar": Lazy(
        "tutela.cli.subjects",
        "sar_cmd",
        "Subject-access report (Art. 15/20): JSON, self-contained HTML and Markdown, mode 0600.",
    ),
    "erase": Lazy(
        "tutela.cli.subjects",
        "erase_cmd",
        "Erase one person (Art. 17): a plan by default; --apply runs it.",
    ),
    "pseudonymize": Lazy(
        "tutela.cli.protect",
        "pseudonymize_cmd",
        "Pseudonymize columns: keyed tokens, AES-SIV, shaped tokens, masks or shredding.",
    ),
    "reidentify": Lazy(
        "tutela.cli.protect",
        "reidentify_cmd",
        "Turn reversible tokens back into values, for a role allowed to see them; audited.",
    ),
    "risk": Lazy(
        "tutela.cli.protect",
        "risk_cmd",
        "Re-identification risk: k-anonymity, unique rows and l-diversity over quasi-identifiers.",
    ),
    "export": Lazy(
        "tutela.cli.enforce",
        "export_cmd",
        "Export a table for a purpose (consent enforced) or a role (its view); 0600, audited.",
    ),
    "report": Lazy(
        "tutela.cli.report",
        "report_cmd",
        "Governance report for a DPO: one self-contained HTML file (or JSON).",
    ),
    "policy": Lazy(
        "tutela.cli.policy",
        "policy_app",
        "Policy as code: draft, validate and check GDPR policies; print Art. 30 records.",
    ),
    "keys": Lazy(
        "tutela.cli.protect",
        "keys_app",
        "Manage the workspace keys: the master key and versioned protection keys.",
    ),
    "audit": Lazy(
        "tutela.cli.audit",
        "audit_app",
        "Show and verify the audit log.",
    ),
    "subject": Lazy(
        "tutela.cli.subjects",
        "subject_app",
        "Find a data subject across every table.",
    ),
    "requests": Lazy(
        "tutela.cli.requests",
        "requests_app",
        "Process batches of data-subject requests.",
    ),
    "review": Lazy(
        "tutela.cli.review",
        "review_app",
        "Possible matches awaiting a human decision, per request.",
    ),
    "retention": Lazy(
        "tutela.cli.enforce",
        "retention_app",
        "Rows past their retention period.",
    ),
    "consent": Lazy(
        "tutela.cli.enforce",
        "consent_app",
        "The consent ledger.",
    ),
    "view": Lazy(
        "tutela.cli.enforce",
        "view_app",
        "Per-role DuckDB views.",
    ),
}


class TutelaGroup(RootGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="tutela",
    help="Find, govern and answer for the personal data in your customer data drops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    cls=TutelaGroup,  # the one error handler and lazy commands (cli/root.py)
)


def _version(value: bool) -> None:
    if value:
        from tutela import __version__

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


def main() -> None:
    """Entry point once the app is imported (the console script is `tutela.cli:main`)."""
    app()
