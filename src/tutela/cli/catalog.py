"""`tutela tables`, `tutela sources`, `tutela show`: what the workspace holds."""

from __future__ import annotations

import typer

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.services import catalog


def tables_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the tables in the workspace with row and column counts."""
    tables = catalog.tables(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json({"tables": [t.to_dict() for t in tables]})
        return
    output.render_table(
        "Tables",
        ["table", "rows", "columns", "source", "file"],
        [
            (
                t.table,
                "?" if t.rows is None else f"{t.rows:,}",
                "?" if t.columns is None else t.columns,
                t.source,
                t.path,
            )
            for t in tables
        ],
    )
    for t in tables:
        if t.problem:
            output.warn(f"{t.table}: {t.problem}")


def sources_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Show where every table came from: system, file, hash, size, rows, load time."""
    sources = catalog.sources(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json({"sources": [s.to_dict() for s in sources]})
        return
    output.render_sources(sources)


def show_cmd(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="Table to show."),
    limit: int = typer.Option(10, "--limit", "-n", min=0, max=1_000_000, help="Number of rows."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Show the first rows of a table (personal data in clear: mind who is watching)."""
    shown = catalog.preview(session(ctx), table, limit)
    if fmt is OutputFormat.json:
        output.emit_json(shown.to_dict())
        return
    output.render_table(table, shown.columns, shown.rows)
