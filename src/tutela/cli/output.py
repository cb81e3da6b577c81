"""Rendering for the CLI: data to stdout, diagnostics and progress to stderr."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tutela.base.progress import ProgressCallback
from tutela.report.certificate import lists_others_note
from tutela.report.jsonout import to_json

# emoji=False: `:100:` in a file name, a value or a policy stays `:100:`, never 💯.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


# Characters that change how a terminal shows the text around them: C0/C1 controls (but
# line breaks and tabs) and the bidirectional overrides and isolates (U+202E makes
# `evil\u202etxt.csv` display as `evilvsc.txt`). Shown as escapes, never printed raw.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with control and bidi-override characters shown as `\\u202e` escapes."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _safe(text: str) -> str:
    return escape(visible(text))


def emit_json(data: Any) -> None:
    """JSON to stdout, unstyled, so `| jq` works."""
    print(to_json(data))


def print_error(slug: str, message: str, hint: str | None = None) -> None:
    err.print(f"[bold red]{escape(f'error[{slug}]')}[/]: {_safe(message)}")
    if hint:
        err.print(f"  [dim]hint: {_safe(hint)}[/]")


def info(message: str) -> None:
    err.print(_safe(message))


def warn(message: str) -> None:
    err.print(f"[yellow]warning[/]: {_safe(message)}")


def render_table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=_safe(title) if title else None, show_lines=False)
    for h in headers:
        table.add_column(_safe(h), overflow="fold")
    for row in rows:
        table.add_row(*(_safe("" if v is None else str(v)) for v in row))
    out.print(table)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr driven by the core's progress callback."""
    if not enabled or not err.is_terminal:
        yield lambda label, fraction: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # a terminal

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(label: str, fraction: float) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(escape(label), total=1.0)
            bar.update(tasks[label], completed=max(0.0, min(1.0, fraction)))

        yield update


def render_load_results(results: Sequence[Any]) -> None:
    ok = [r for r in results if r.error is None]
    if ok:
        render_table(
            None,
            ["table", "status", "rows", "cols", "format", "encoding", "file"],
            [
                (
                    r.table,
                    r.status,
                    f"{r.rows:,}",
                    len(r.columns),
                    r.format,
                    r.encoding or "",
                    r.path + (f" [{r.sheet}]" if r.sheet else ""),
                )
                for r in ok
            ],
        )
    for r in ok:
        change = r.schema_change
        if change:
            parts = []
            if change.added:
                parts.append("added " + ", ".join(change.added))
            if change.removed:
                parts.append("removed " + ", ".join(change.removed))
            if change.retyped:
                parts.append(
                    "retyped "
                    + ", ".join(f"{c['column']} {c['from']}→{c['to']}" for c in change.retyped)
                )
            warn(f"schema of {r.table} changed: " + "; ".join(parts))
        if r.status == "unchanged":
            info(f"{r.path}: already loaded as {r.table} (same SHA-256); nothing to do")
        for note in getattr(r, "notes", []):
            info(note)


def render_possible(possible: Sequence[dict[str, Any]], title: str) -> None:
    if possible:
        render_table(
            title,
            ["table", "row", "score", "values (masked)", "why"],
            [
                (
                    p["table"],
                    p["row"],
                    p["score"],
                    ", ".join(f"{k}: {v}" for k, v in p["values"].items()),
                    "; ".join([p["reason"], *p["evidence"]]),
                )
                for p in possible
            ],
        )


def render_held_back(held: Sequence[dict[str, Any]]) -> None:
    if held:
        render_table(
            "Identifiers shared with other people or placeholders (not followed)",
            ["kind", "value (masked)", "status", "why", "rows held back"],
            [(h["kind"], h["value"], h["status"], h["why"], h["rows_held_back"]) for h in held],
        )


def render_subject_summary(summary: Any) -> None:
    """Where one person's rows are, and what was held back (`tutela subject find`)."""
    if not summary.found and summary.possible_matches:
        out.print("no row is certainly this person's; the possible matches below await review")
    elif not summary.found:
        out.print("no data held for these identifiers")
    else:
        render_table("Rows found", ["table", "rows"], list(summary.tables.items()))
    if summary.free_text_mentions:
        render_table(
            "Free-text mentions",
            ["table", "column", "identifiers found"],
            [(m.table, m.column, ", ".join(m.kinds)) for m in summary.free_text_mentions],
        )
    render_held_back(summary.shared_identifiers)
    render_possible(
        summary.possible_matches,
        "Possible matches (for human review; never reported or erased automatically)",
    )
    for note in summary.not_searched:
        warn(f"not searched: {note}")
    render_read_on_spark(summary.read_on_spark)


def render_read_on_spark(read: dict[str, Any]) -> None:
    """Lake tables behind Spark: the rows Spark picked for the search, and any it did not."""
    if not read:
        return
    picked = ", ".join(f"{escape(t)} {n:,}" for t, n in read["rows_picked"].items())
    if picked:
        passes = read["passes"]
        out.print(f"rows picked on Spark: {picked} ({passes} pass{'es' if passes > 1 else ''})")
    for table, why in read.get("read_whole_by_duckdb", {}).items():
        warn(f"{table}: read whole on this machine, not picked on Spark ({why})")


def render_erasure_plan(plan: dict[str, Any]) -> None:
    if not plan["found"] and plan["possible_matches_for_review"]:
        out.print("no row is certainly this person's: nothing to erase until the possible "
                  "matches below are reviewed")  # fmt: skip
    elif not plan["found"]:
        out.print("nothing found for these identifiers; nothing to erase")
    else:
        render_table(
            f"Erasure plan {plan['request_id']}",
            ["table", "action", "rows", "columns", "kept because"],
            [
                (
                    t["table"],
                    t["action"],
                    t["rows"],
                    ", ".join(t["columns"]),
                    f"{t['legal_basis']}: {t['reason']}" if t["action"] == "keep" else "",
                )
                for t in plan["tables"]
            ],
        )
    for t in plan.get("tables", []):
        note = lists_others_note(t)
        if note:
            warn(note)
    for r in plan["free_text_redactions"]:
        out.print(f"redact mentions in {escape(r['column'])}: {r['rows']} row(s)")
    for r in plan.get("not_erasable", []):
        warn(
            f"{r['table']} is not erased by Tutela: {r['reason']}. Owed at the source: "
            f"{r['owed_at_source']}. --apply is refused while it is in the plan"
        )
    render_held_back(plan.get("held_back", []))
    render_possible(plan["possible_matches_for_review"], "Possible matches (not erased)")
    if plan["possible_matches_for_review"]:
        info(
            f"review them with `tutela review list {plan['request_id']}`, then run the "
            f"erasure again with --request-id {plan['request_id']}"
        )


def render_certificate(cert: dict[str, Any], files: Sequence[str]) -> None:
    v = cert["verification"]
    status = "[green]verified: no residue[/]" if v["ok"] else "[red]RESIDUE FOUND[/]"
    out.print(f"erasure applied; {status}; audit entry #{cert['audit_entry']['seq']}")
    for r in v["residue"]:
        warn(
            f"residue in {r['table']}{'.' + r['column'] if 'column' in r else ''}: "
            f"{r['rows']} row(s)"
        )
    render_storage(cert.get("live_sources", []))
    phys = cert.get("physical")
    if phys:
        out.print(f"  {escape(phys['summary'])}")
        for r in phys["residue"]:
            warn(f"bytes of a value from {', '.join(r['from'])} remain in {', '.join(r['files'])}")
        if phys.get("rewrite_error"):
            warn(phys["rewrite_error"])
    for s in cert.get("systems") or []:
        if s.get("action_owed"):
            out.print(f"  owed {escape(s['action_owed'])}")
    for f in files:
        out.print(f"  wrote {escape(f)}")


def _decision_note(decision: dict[str, Any]) -> str:
    """How a human decision reads in the scan table (the reason is data: escaped)."""
    if decision.get("stale"):
        return "REVIEW: values changed since the human decision "
    return f"human decision ({str(decision.get('reason', ''))[:60]}) "


def render_review(items: Sequence[Any]) -> None:
    if not items:
        out.print("no possible matches awaiting review")
        return
    render_table(
        "Possible matches to review",
        ["request", "item", "table", "row", "values (masked)", "why", "decision"],
        [
            (
                i.request_id,
                i.item,
                i.table,
                i.row_ref,
                ", ".join(f"{k}: {v}" for k, v in i.masked.items()),
                "; ".join([i.reason or "", *i.evidence]),
                (i.decision or "open")
                + (" (row erased or changed since)" if i.unchanged is False else ""),
            )
            for i in items
        ],
    )
    info("decide with `tutela review confirm REQUEST ITEM...` or `tutela review reject ...`")


def render_scan(run: Any) -> None:
    for scan in run.scans:
        rows = []
        quiet = 0
        for col in scan.columns:
            decision = col.evidence.get("decision")
            if not (col.entity or col.quasi_identifier or col.skipped or decision):
                quiet += 1
                continue
            examples = ", ".join(col.evidence.get("examples", [])[:2]) if col.entity else ""
            sparse = col.evidence.get("sparse")
            rows.append(
                (
                    col.column,
                    col.entity
                    or ("quasi-identifier" if col.quasi_identifier else "")
                    or ("not personal" if decision else ""),
                    col.subtype or "",
                    f"{col.confidence:.2f}" if col.entity else "",
                    f"{col.matched:,}/{col.non_empty:,}" if col.entity else "",
                    ("free text " if col.free_text and col.entity else "")
                    + (f"{sparse['share']:.0%} of values " if sparse else "")
                    + ("unvalidated id " if col.evidence.get("unvalidated_identifier") else "")
                    + ("baselined " if col.evidence.get("baselined") else "")
                    + (_decision_note(decision) if decision else "")
                    + (f"skipped: {col.skipped}" if col.skipped else ""),
                    examples,
                )
            )
        cached = " (unchanged; stored result)" if scan.table in run.cached else ""
        render_table(
            f"{scan.table}: {scan.rows:,} rows{cached}",
            ["column", "entity", "subtype", "conf.", "matched", "notes", "masked examples"],
            rows,
        )
        if quiet:
            out.print(f"[dim]{quiet} other column(s) hold no personal data[/]")


def render_storage(entries: list[dict[str, Any]]) -> None:
    """One line per live or lake table changed: what was done there, and the file check."""
    for e in entries:
        state = "done" if e["done"] else "NOT done"
        note = f" ({e['note']})" if e["note"] else ""
        check = f"; {e['file_check']}" if e.get("file_check") else ""
        out.print(escape(f"  {e['table']}: {e['method']}; physical removal {state}{note}{check}"))


def render_sources(sources: Sequence[Any]) -> None:
    """The provenance table of `tutela sources` (one row per loaded table)."""
    render_table(
        "Provenance",
        ["table", "source", "file", "sheet", "format", "encoding", "sha256", "bytes", "rows",
         "loaded at", "tutela"],
        [
            (s.table_name, s.source_system, s.path, s.sheet, s.format, s.encoding,
             s.sha256[:12], f"{s.size_bytes:,}", f"{s.row_count:,}", s.loaded_at[:19],
             s.tool_version)
            for s in sources
        ],
    )  # fmt: skip


def render_decisions(decisions: Sequence[Any]) -> None:
    """The human decisions on columns (`tutela classify --list`)."""
    render_table(
        "Decisions",
        ["column", "verdict", "reason", "decided at"],
        [
            (f"{d.table}.{d.column}", d.entity or "not personal", d.reason,
             d.decided_at.isoformat(timespec="seconds"))
            for d in decisions
        ],
    )  # fmt: skip


def render_token_holdings(plan: Any) -> None:
    """The reversible columns and their tokens per key version (`tutela keys rekey`)."""
    render_table(
        f"Reversible columns (active version v{plan.active})",
        ["table", "column", "purpose", "tokens by version"],
        [
            (h.table, h.column, h.purpose,
             ", ".join(f"v{k}: {n:,}" for k, n in h.by_version.items()))
            for h in plan.holdings
        ],
    )  # fmt: skip


def render_risk(report: Any) -> None:
    """k-anonymity, unique rows and l-diversity as a two-column table (`tutela risk`)."""
    rows: list[tuple[str, Any]] = [
        ("rows", f"{report.rows:,}"),
        ("quasi-identifiers", ", ".join(report.quasi)),
        ("k-anonymity (smallest group)", report.k),
        ("groups", f"{report.groups:,}"),
        ("unique rows", f"{report.unique_rows:,} ({report.to_dict()['unique_share']:.1%})"),
    ]
    if report.threshold is not None:
        rows.append((f"rows in groups < {report.threshold}", report.rows_below_threshold))
    if report.sensitive:
        rows.append((f"l-diversity of {report.sensitive}", report.l_diversity))
    rows += [(f"groups of size {k}", v) for k, v in report.group_sizes.items()]
    render_table(f"Re-identification risk: {report.source}", ["measure", "value"], rows)


def render_access_report(result: Any) -> None:
    """What a subject-access report holds in short, and the files written (`tutela sar`)."""
    summary = result.summary
    if result.data_held:
        out.print(
            f"{summary.rows} rows in {summary.tables} tables, "
            f"{summary.free_text_mentions} free-text mentions, "
            f"{summary.possible_matches_for_review} possible matches for review"
        )
    elif summary.possible_matches_for_review:
        out.print(
            f"no row is certainly this person's; {summary.possible_matches_for_review} "
            "possible matches await review: not yet a complete Art. 15 answer "
            f"(tutela review list {escape(result.request_id)})"
        )
    else:
        out.print("no data held for these identifiers (a valid Art. 15 answer)")
    for f in result.files:
        out.print(f"  wrote {escape(f)}")
    for table, columns in sorted(result.lists_others.items()):
        warn(
            f"{table}: rows of the report list items not shown to be the person's (another "
            "member of a household or a card, maybe), in "
            + ", ".join(f"{c} ({n} row(s))" for c, n in sorted(columns.items()))
            + ": check them before sending the copy (GDPR Art. 15(4): it must not adversely "
            "affect others)"
        )
    render_read_on_spark(result.read_on_spark)
