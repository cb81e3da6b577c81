"""`tutela attach`, `tutela detach`, `tutela attachments`: live PostgreSQL and SQLite sources."""

from __future__ import annotations

import os

import typer

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.services import live


def attach_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name, e.g. crm (its tables become crm.schema.table)."),
    target: str = typer.Argument(
        "",
        help="postgresql:// URL, libpq key=value string, an SQLite file, a lake folder "
        "(delta:/path, parquet:/path, iceberg:/path) or a Spark master (spark://host:7077, "
        "local[2]) (empty with --type postgres: the PG* environment variables).",
    ),
    kind: str | None = typer.Option(
        None,
        "--type",
        help="postgres, sqlite, delta, parquet, iceberg or spark (default: from the target).",
    ),
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        help="With a Spark master (spark://host:7077 or local[N]): the folder of the lake's "
        "tables (<database>.db/<table>/ Parquet folders).",
    ),
    spark_conf: list[str] = typer.Option(
        [], "--spark-conf", help="An extra Spark setting key=value (repeatable; no secrets)."
    ),
    read_only: bool = typer.Option(
        False, "--read-only", help="Scan and report only: Tutela will never write to it."
    ),
    replace: bool = typer.Option(False, "--replace", help="Point an existing name elsewhere."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Attach a live database, a lake folder or a Spark lake: its tables are scanned and searched
    in place, not copied."""
    request = live.AttachRequest(
        name, target, kind=kind, read_only=read_only, replace=replace, warehouse=warehouse,
        spark_conf=tuple(spark_conf),
    )  # fmt: skip
    result = live.attach(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json(result.to_dict())
    else:
        att = result.attachment
        mode = "read-only" if att.read_only else "read-write (erasure may change it)"
        output.info(
            f"attached {att.name}: {att.kind} {att.target}, {mode}, {len(result.tables)} tables"
        )
        for table in result.tables:
            output.info(f"  {table}")
    if result.password_given and not (os.environ.get("PGPASSWORD") or os.environ.get("PGPASSFILE")):
        output.warn(
            "the password was used for this check only and is not stored; later commands "
            "read it from PGPASSWORD, PGPASSFILE or ~/.pgpass"
        )


def detach_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Attachment to forget."),
) -> None:
    """Forget an attached database (its data is not touched)."""
    live.detach(session(ctx), name)
    output.info(f"detached {name}")


def attachments_cmd(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the attached live databases (connection strings shown without passwords)."""
    items = live.attachments(session(ctx))
    if fmt is OutputFormat.json:
        output.emit_json({"attachments": [a.to_dict() for a in items]})
        return
    output.render_table(
        "Live sources",
        ["name", "type", "target", "mode"],
        [(a.name, a.kind, a.target, "read-only" if a.read_only else "read-write") for a in items],
    )
