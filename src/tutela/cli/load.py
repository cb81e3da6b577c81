"""`tutela load`: files into workspace tables, with provenance."""

from __future__ import annotations

from pathlib import Path

import typer

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.services.load import LoadRequest, load


def load_cmd(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="CSV/TSV, Parquet, JSON/NDJSON or .xlsx files."),
    table: str | None = typer.Option(None, "--table", "-t", help="Table name (one file only)."),
    source: str | None = typer.Option(None, "--source", "-s", help="Source system, e.g. crm."),
    replace: bool = typer.Option(False, "--replace", help="Replace a table whose file changed."),
    sheet: str | None = typer.Option(None, "--sheet", help="Load only this Excel sheet."),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Text encoding, e.g. cp1250 (default: detected)."
    ),
    delimiter: str | None = typer.Option(
        None, "--delimiter", help="CSV delimiter (default: detected)."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Load customer data files into the workspace, one table per file (or Excel sheet)."""
    request = LoadRequest(paths, table, source, replace, sheet, encoding, delimiter)
    with output.progress_bar() as progress:
        outcome = load(session(ctx), request, progress)
    if fmt is OutputFormat.json:
        output.emit_json({"results": [r.to_dict() for r in outcome.results]})
    else:
        output.render_load_results(outcome.results)
    for r in outcome.failed:
        assert r.error is not None
        output.print_error(r.error.slug, r.error.message, r.error.hint)
    raise typer.Exit(outcome.exit_code)
