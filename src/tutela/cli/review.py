"""`tutela review list|confirm|reject`: a human decides the possible matches of a request."""

from __future__ import annotations

import typer

from tutela.cli import output
from tutela.cli.options import FormatOption, OutputFormat, session
from tutela.services import subjects
from tutela.subjects import review

review_app = typer.Typer(
    help="Possible matches awaiting a human decision, per request.", no_args_is_help=True
)


@review_app.command("list")
def list_cmd(
    ctx: typer.Context,
    request_id: str | None = typer.Argument(None, help="One request (default: every request)."),
    all_items: bool = typer.Option(False, "--all", help="Also items already decided."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Open possible matches: table, row to look up, masked values, why, and the evidence."""
    items = subjects.review_items(session(ctx), request_id, open_only=not all_items)
    if fmt is OutputFormat.json:
        output.emit_json({"items": [i.to_dict() for i in items]})
        return
    output.render_review(items)


def _decide(ctx: typer.Context, request_id: str, items: list[int], decision: str,
            note: str | None, fmt: OutputFormat) -> None:  # fmt: skip
    request = subjects.ReviewDecision(request_id, items, decision, note)
    done = subjects.decide(session(ctx), request)
    if fmt is OutputFormat.json:
        output.emit_json({"items": [i.to_dict() for i in done]})
        return
    output.out.print(
        f"{len(done)} item(s) of request {request_id} {decision}; the next sar, erase or "
        "requests run of this request uses the decision"
    )
    for i in done:
        if i.unchanged is False:
            output.warn(
                f"item {i.item} ({' '.join(filter(None, [i.table, i.row_ref]))}): the row "
                "was erased or changed "
                "since it was found: the decision applies to nothing (a changed row is "
                "judged afresh by the next run of the request)"
            )


@review_app.command("confirm")
def confirm_cmd(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="The request the items belong to."),
    items: list[int] = typer.Argument(..., help="Item numbers from `tutela review list`."),
    note: str | None = typer.Option(None, "--note", help="Why (kept in the review record)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """These rows are the person's: the next run of the request reports and erases them."""
    _decide(ctx, request_id, items, review.CONFIRMED, note, fmt)


@review_app.command("reject")
def reject_cmd(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="The request the items belong to."),
    items: list[int] = typer.Argument(..., help="Item numbers from `tutela review list`."),
    note: str | None = typer.Option(None, "--note", help="Why (kept in the review record)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """These rows are not the person's: never listed again for this request."""
    _decide(ctx, request_id, items, review.REJECTED, note, fmt)
