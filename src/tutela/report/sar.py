"""Markdown and self-contained HTML renderings of a subject-access report."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any


def _fmt(value: Any) -> str:
    """A value as a person reads it: dates and times without `T` and microseconds."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
            return str(value.isoformat(sep=" ", timespec="seconds")) + " UTC"
        return str(value.isoformat(sep=" ", timespec="seconds"))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def readable_time(text: Any) -> str:
    """An ISO timestamp string (`2026-01-05T10:11:12.123+00:00`) as `2026-01-05 10:11 UTC`."""
    if not isinstance(text, str):
        return _fmt(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def file_name(path: Any) -> str:
    """Only the name of a loaded file: the controller's directories are not the subject's
    business (and may say more than they should)."""
    if not path:
        return "n/a"
    return PurePath(str(path)).name or str(path)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _text(value: Any) -> str:
    """Data or policy text for Markdown: raw HTML would run in a Markdown viewer."""
    return html.escape(_fmt(value), quote=False)


def _md_cell(value: Any) -> str:
    return _text(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def retention_lines(table: dict[str, Any]) -> list[str]:
    """Art. 15(1)(d): the period, or the criteria used to decide it, for every table."""
    rules = table.get("retention") or []
    if rules:
        return [
            f"Kept {_fmt(r['period'])} after {_fmt(r['after'])}, then {_fmt(r['action'])}"
            + (f" ({_fmt(r['reason'])})" if r.get("reason") else "")
            for r in rules
        ]
    purposes = [p["purpose"] for p in table.get("purposes") or []]
    erasure = table.get("erasure") or {}
    kept = (
        f"; if you ask for erasure, kept under {_fmt(erasure.get('legal_basis'))}"
        + (f" ({_fmt(erasure.get('reason'))})" if erasure.get("reason") else "")
        if erasure.get("action") == "keep"
        else "; deleted when you ask for erasure"
    )
    needed = (
        f"for as long as needed for {', '.join(purposes)}"
        if purposes
        else "for as long as the controller needs it for the purposes above"
    )
    return [f"Retention: no fixed period; criteria: kept {needed}{kept}"]


HELD_BACK_INTRO = (
    "Some records could not be attributed to you with certainty: they were reached only "
    "through identifiers that other people share too (a household phone, a family e-mail "
    "address, a shared device) or that stand for nobody in particular. They are not in this "
    "report; our staff will check them and tell you if any of them is yours."
)


def _nothing_certain(sar: dict[str, Any], bold: str, unbold: str | None = None) -> str:
    """The opening of a report without any record of the person: while records await
    review, it does not say "we hold no data" (one of them may be theirs)."""
    end = bold if unbold is None else unbold
    if sar.get("possible_matches"):
        return f"{bold}We found no record that is certainly about you{end}"
    return f"{bold}We hold no personal data about you{end}"


def _held_back_lines(sar: dict[str, Any]) -> list[str]:
    lines = []
    for h in sar.get("held_back", []):
        what = h["kind"].replace("_", " ")
        held = h["rows_held_back"]
        lines.append(
            f"{what} {h['value']}: {h['status']} ({h['why']})"
            + (f"; {held} record{'s' if held != 1 else ''} held back" if held else "")
        )
    pending = len(sar.get("possible_matches", []))
    if pending:
        lines.append(f"{pending} record{'s' if pending != 1 else ''} awaiting review in all")
    return lines


def to_markdown(sar: dict[str, Any]) -> str:
    t_ = _text
    out = [f"# Subject-access report {t_(sar['request_id'])}", ""]
    ctrl = sar.get("controller")
    if ctrl:
        out.append(
            f"Controller: **{t_(ctrl['name'])}** ({t_(ctrl['country'])})"
            + (f", DPO: {t_(ctrl['dpo'])}" if ctrl.get("dpo") else "")
        )
    out.append(f"Generated {readable_time(sar['generated_at'])} by {t_(sar['tool'])}.")
    out.append("")
    if not sar["data_held"]:
        out += [f"{_nothing_certain(sar, '**')} under the identifiers searched:", ""]
        out += [
            f"- {t_(k)}: {', '.join(t_(x) for x in v)}"
            for k, v in sar["identifiers_searched"].items()
        ]
        held = _held_back_lines(sar)
        if held:
            out += ["", "## Records held back for review", "", t_(HELD_BACK_INTRO), ""]
            out += [f"- {_md_cell(line)}" for line in held]
        out += ["", t_(sar["your_rights"]), ""]
        return "\n".join(out)
    s = sar["summary"]
    out += [
        f"We hold **{plural(s['rows'], 'record')}** about you in "
        f"**{plural(s['tables'], 'system')}**"
        + (
            f", and {plural(s['free_text_mentions'], 'mention')} in notes"
            if s["free_text_mentions"]
            else ""
        )
        + ".",
        "",
    ]
    for t in sar["tables"]:
        prov = t.get("provenance") or {}
        out += [f"## {t_(t['table'])}", ""]
        if t.get("description"):
            out += [t_(t["description"]), ""]
        loaded_from = t_(file_name(prov.get("file"))).replace("`", "'")
        out.append(
            f"- Source: {t_(prov.get('source_system') or t.get('source_system') or 'n/a')}"
            f" — file `{loaded_from}` loaded "
            f"{readable_time(prov.get('loaded_at')) if prov.get('loaded_at') else 'n/a'}"
        )
        for p in t["purposes"]:
            rec = ", ".join(f"{r['name']} ({r['country']})" for r in p["recipients"]) or "none"
            out.append(
                f"- Purpose **{t_(p['purpose'])}**, legal basis {t_(p['legal_basis'])}; "
                f"recipients: {t_(rec)}"
            )
        out += [f"- {t_(line)}" for line in retention_lines(t)]
        if t["categories"]:
            cats = ", ".join(f"{c['column']} ({c['category']})" for c in t["categories"])
            out.append(f"- Categories: {t_(cats)}")
        out += [
            "",
            "| " + " | ".join(_md_cell(c) for c in t["columns"]) + " |",
            "|" + "---|" * len(t["columns"]),
        ]
        for row in t["rows"]:
            out.append("| " + " | ".join(_md_cell(row.get(c)) for c in t["columns"]) + " |")
        out.append("")
    if sar["free_text_mentions"]:
        out += ["## Mentions in free text", ""]
        for m in sar["free_text_mentions"]:
            out.append(
                f"### {t_(m['table'])}.{t_(m['column'])} ({plural(m['mentions'], 'mention')})"
            )
            out += [f"> {_md_cell(text)}" for text in m["texts"]]
            out.append("")
    if sar["consent"]:
        out += [
            "## Consent",
            "",
            "| purpose | status | recorded at | source |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {_md_cell(c['purpose'])} | {_md_cell(c['status'])} | "
            f"{_md_cell(readable_time(c['recorded_at']))} | {_md_cell(c['source'])} |"
            for c in sar["consent"]
        ]
        out.append("")
    held = _held_back_lines(sar)
    if held:
        out += ["## Records held back for review", "", HELD_BACK_INTRO, ""]
        out += [f"- {_md_cell(line)}" for line in held]
        out.append("")
    out += _systems_markdown(sar)
    out += [
        "## Automated decision-making",
        "",
        t_(sar["automated_decision_making"]),
        "",
        "## Your rights",
        "",
        t_(sar["your_rights"]),
        "",
    ]
    return "\n".join(out)


_MODE = {"in_place": "read in place (live database)", "copy": "copy loaded from a file"}


def _systems_rows(sar: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            s["system"],
            _MODE.get(s["mode"], s["mode"]),
            ", ".join(t["table"] for t in s["tables"]),
            sum(t["rows"] for t in s["tables"]),
            ", ".join(sorted({str(t["file"]) for t in s["tables"] if t["file"]})),
        ]
        for s in sar.get("systems") or []
    ]


def _copies_rows(sar: dict[str, Any]) -> list[list[Any]]:
    return [
        [c["kind"], c.get("file") or c.get("request_id"), c["at"][:10], c["holds_person"]]
        for c in sar.get("copies_written") or []
    ]


_SYSTEM_HEADERS = ["system", "how", "tables", "records", "file"]
_COPY_HEADERS = ["copy", "file", "written", "holds your data"]


def _systems_markdown(sar: dict[str, Any]) -> list[str]:
    """Where the data came from, per source system, and copies made from it."""
    out: list[str] = []
    for title, headers, rows in (
        ("## Systems your data comes from", _SYSTEM_HEADERS, _systems_rows(sar)),
        ("## Copies we made", _COPY_HEADERS, _copies_rows(sar)),
    ):
        if rows:
            out += [title, "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
            out.append("")
    return out


def _systems_html(sar: dict[str, Any], table: Any) -> str:
    parts = []
    if _systems_rows(sar):
        parts.append("<h2>Systems your data comes from</h2>")
        parts.append(table(_SYSTEM_HEADERS, _systems_rows(sar)))
    if _copies_rows(sar):
        parts.append("<h2>Copies we made</h2>")
        parts.append(table(_COPY_HEADERS, _copies_rows(sar)))
    return "".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.muted{color:#666}blockquote{border-left:3px solid #ccc;margin:.3rem 0;
padding-left:.6rem}
"""


def to_html(sar: dict[str, Any]) -> str:
    e = html.escape

    def table(headers: list[str], rows: list[list[Any]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [f"<h1>Subject-access report {e(sar['request_id'])}</h1>"]
    ctrl = sar.get("controller")
    if ctrl:
        parts.append(
            f"<p>Controller: <strong>{e(ctrl['name'])}</strong> ({e(ctrl['country'])})"
            + (f", DPO: {e(ctrl['dpo'])}" if ctrl.get("dpo") else "")
            + "</p>"
        )
    parts.append(
        f"<p class=muted>Generated {e(readable_time(sar['generated_at']))} by {e(sar['tool'])}</p>"
    )
    if not sar["data_held"]:
        parts.append(
            f"<p>{_nothing_certain(sar, '<strong>', '</strong>')} under the identifiers "
            "searched.</p>"
        )
    else:
        s = sar["summary"]
        mentions = s["free_text_mentions"]
        parts.append(
            f"<p>We hold <strong>{plural(s['rows'], 'record')}</strong> about you in "
            f"<strong>{plural(s['tables'], 'system')}</strong>"
            + (f", and {plural(mentions, 'mention')} in notes" if mentions else "")
            + ".</p>"
        )
    for t in sar["tables"]:
        prov = t.get("provenance") or {}
        parts.append(f"<h2>{e(t['table'])}</h2>")
        items = [
            f"Source: {e(_fmt(prov.get('source_system') or t.get('source_system')))}, "
            f"file <code>{e(file_name(prov.get('file')))}</code>, loaded "
            f"{e(readable_time(prov.get('loaded_at')))}"
        ]
        for p in t["purposes"]:
            rec = ", ".join(f"{r['name']} ({r['country']})" for r in p["recipients"]) or "none"
            items.append(
                f"Purpose <strong>{e(p['purpose'])}</strong>, legal basis "
                f"{e(_fmt(p['legal_basis']))}; recipients: {e(rec)}"
            )
        items += [e(line) for line in retention_lines(t)]
        parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
        parts.append(table(t["columns"], [[row.get(c) for c in t["columns"]] for row in t["rows"]]))
    if sar["free_text_mentions"]:
        parts.append("<h2>Mentions in free text</h2>")
        for m in sar["free_text_mentions"]:
            parts.append(
                f"<h3>{e(m['table'])}.{e(m['column'])} ({plural(m['mentions'], 'mention')})</h3>"
            )
            parts += [f"<blockquote>{e(_fmt(text))}</blockquote>" for text in m["texts"]]
    if sar["consent"]:
        parts.append("<h2>Consent</h2>")
        parts.append(
            table(
                ["purpose", "status", "recorded at", "source"],
                [
                    [c["purpose"], c["status"], readable_time(c["recorded_at"]), c["source"]]
                    for c in sar["consent"]
                ],
            )
        )
    held = _held_back_lines(sar)
    if held:
        parts.append(f"<h2>Records held back for review</h2><p>{e(HELD_BACK_INTRO)}</p>")
        parts.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in held) + "</ul>")
    parts.append(_systems_html(sar, table))
    parts.append(f"<h2>Automated decision-making</h2><p>{e(sar['automated_decision_making'])}</p>")
    parts.append(f"<h2>Your rights</h2><p>{e(sar['your_rights'])}</p>")
    title = e(f"Subject-access report {sar['request_id']}")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
