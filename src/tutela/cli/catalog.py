"""`tutela tables`, `tutela sources`, `tutela show`: what the workspace holds."""

from __future__ import annotations

import typer

from tutela import catalog
from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, state
from tutela.keyguard import workspace_key


def tables_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the tables in the workspace with row and column counts."""
    with state(ctx).open_workspace(read_only=True) as ws:
        tables = catalog.list_tables(ws)
    if fmt is OutputFormat.json:
        output.emit_json({"tables": [t.to_dict() for t in tables]})
        return
    output.render_table(
        "Tables",
        ["table", "rows", "columns", "source", "file"],
        [(t.table, f"{t.rows:,}", t.columns, t.source, t.path) for t in tables],
    )


def sources_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Show where every table came from: system, file, hash, size, rows, load time."""
    with state(ctx).open_workspace(read_only=True) as ws:
        sources = catalog.list_sources(ws)
    if fmt is OutputFormat.json:
        output.emit_json({"sources": sources})
        return
    output.render_table(
        "Provenance",
        [
            "table",
            "source",
            "file",
            "sheet",
            "format",
            "encoding",
            "sha256",
            "bytes",
            "rows",
            "loaded at",
            "tutela",
        ],
        [
            (
                s["table_name"],
                s["source_system"],
                s["path"],
                s["sheet"],
                s["format"],
                s["encoding"],
                s["sha256"][:12],
                f"{s['size_bytes']:,}",
                f"{s['row_count']:,}",
                s["loaded_at"][:19],
                s["tool_version"],
            )
            for s in sources
        ],
    )


def show_cmd(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="Table to show."),
    limit: int = typer.Option(10, "--limit", "-n", min=0, max=1_000_000, help="Number of rows."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Show the first rows of a table (personal data in clear: mind who is watching)."""
    with state(ctx).open_workspace() as ws:
        columns, rows = catalog.preview(ws, table, limit, audit_key=workspace_key(ws))
    if fmt is OutputFormat.json:
        output.emit_json(
            {"table": table, "rows": [dict(zip(columns, r, strict=True)) for r in rows]}
        )
        return
    output.render_table(table, columns, rows)
