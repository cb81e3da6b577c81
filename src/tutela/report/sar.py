"""Markdown and self-contained HTML renderings of a subject-access report."""

from __future__ import annotations

import html
import json
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _md_cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(sar: dict[str, Any]) -> str:
    out = [f"# Subject-access report {sar['request_id']}", ""]
    ctrl = sar.get("controller")
    if ctrl:
        out.append(
            f"Controller: **{ctrl['name']}** ({ctrl['country']})"
            + (f", DPO: {ctrl['dpo']}" if ctrl.get("dpo") else "")
        )
    out.append(f"Generated {sar['generated_at']} by {sar['tool']}.")
    out.append("")
    if not sar["data_held"]:
        out += ["**We hold no personal data about you** under the identifiers searched:", ""]
        out += [f"- {k}: {', '.join(v)}" for k, v in sar["identifiers_searched"].items()]
        out += ["", sar["your_rights"], ""]
        return "\n".join(out)
    s = sar["summary"]
    out += [
        f"We hold **{s['rows']} records** about you in **{s['tables']} systems**"
        + (f", and {s['free_text_mentions']} mentions in notes" if s["free_text_mentions"] else "")
        + ".",
        "",
    ]
    for t in sar["tables"]:
        prov = t.get("provenance") or {}
        out += [f"## {t['table']}", ""]
        if t.get("description"):
            out += [t["description"], ""]
        out.append(
            f"- Source: {prov.get('source_system') or t.get('source_system') or 'n/a'}"
            f" — file `{prov.get('file', 'n/a')}` loaded {prov.get('loaded_at', 'n/a')}"
        )
        for p in t["purposes"]:
            rec = ", ".join(f"{r['name']} ({r['country']})" for r in p["recipients"]) or "none"
            out.append(
                f"- Purpose **{p['purpose']}**, legal basis {p['legal_basis']}; recipients: {rec}"
            )
        for r in t["retention"]:
            out.append(f"- Kept {r['period']} after {r['after']}, then {r['action']}")
        if t["categories"]:
            cats = ", ".join(f"{c['column']} ({c['category']})" for c in t["categories"])
            out.append(f"- Categories: {cats}")
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
            out.append(f"### {m['table']}.{m['column']} ({m['mentions']})")
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
            f"{_md_cell(c['recorded_at'])} | {_md_cell(c['source'])} |"
            for c in sar["consent"]
        ]
        out.append("")
    out += _systems_markdown(sar)
    out += [
        "## Automated decision-making",
        "",
        sar["automated_decision_making"],
        "",
        "## Your rights",
        "",
        sar["your_rights"],
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
    parts.append(f"<p class=muted>Generated {e(sar['generated_at'])} by {e(sar['tool'])}</p>")
    if not sar["data_held"]:
        parts.append(
            "<p><strong>We hold no personal data about you</strong> under the "
            "identifiers searched.</p>"
        )
    else:
        s = sar["summary"]
        parts.append(
            f"<p>We hold <strong>{s['rows']} records</strong> about you in "
            f"<strong>{s['tables']} systems</strong>.</p>"
        )
    for t in sar["tables"]:
        prov = t.get("provenance") or {}
        parts.append(f"<h2>{e(t['table'])}</h2>")
        items = [
            f"Source: {e(_fmt(prov.get('source_system') or t.get('source_system')))}, "
            f"file <code>{e(_fmt(prov.get('file')))}</code>, loaded "
            f"{e(_fmt(prov.get('loaded_at')))}"
        ]
        for p in t["purposes"]:
            rec = ", ".join(f"{r['name']} ({r['country']})" for r in p["recipients"]) or "none"
            items.append(
                f"Purpose <strong>{e(p['purpose'])}</strong>, legal basis "
                f"{e(_fmt(p['legal_basis']))}; recipients: {e(rec)}"
            )
        for r in t["retention"]:
            items.append(f"Kept {e(r['period'])} after {e(r['after'])}, then {e(r['action'])}")
        parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
        parts.append(table(t["columns"], [[row.get(c) for c in t["columns"]] for row in t["rows"]]))
    if sar["free_text_mentions"]:
        parts.append("<h2>Mentions in free text</h2>")
        for m in sar["free_text_mentions"]:
            parts.append(f"<h3>{e(m['table'])}.{e(m['column'])}</h3>")
            parts += [f"<blockquote>{e(_fmt(text))}</blockquote>" for text in m["texts"]]
    if sar["consent"]:
        parts.append("<h2>Consent</h2>")
        parts.append(
            table(
                ["purpose", "status", "recorded at", "source"],
                [
                    [c["purpose"], c["status"], c["recorded_at"], c["source"]]
                    for c in sar["consent"]
                ],
            )
        )
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
