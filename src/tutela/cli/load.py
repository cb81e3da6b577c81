"""`tutela load`: files into workspace tables, with provenance."""

from __future__ import annotations

from pathlib import Path

import typer

from tutela.base.errors import ExitCode
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, state
from tutela.ingest import load_files
from tutela.keyguard import workspace_key


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
    with state(ctx).open_workspace(create=True) as ws, output.progress_bar() as progress:
        results = load_files(
            ws,
            paths,
            audit_key=workspace_key(ws),
            table=table,
            source=source,
            replace=replace,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            progress=progress,
        )
    failed = [r for r in results if r.error is not None]
    if fmt is OutputFormat.json:
        output.emit_json({"results": [r.to_dict() for r in results]})
    else:
        output.render_load_results(results)
    for r in failed:
        assert r.error is not None
        output.print_error(r.error.slug, r.error.message, r.error.hint)
    if failed:
        raise typer.Exit(int(max(r.error.exit_code for r in failed if r.error)))
    raise typer.Exit(int(ExitCode.OK))
