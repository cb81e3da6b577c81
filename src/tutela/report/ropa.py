"""The record of processing activities (GDPR Art. 30) as Markdown and HTML; the record
itself is built by `tutela.policy.ropa.build_ropa`."""

from __future__ import annotations

import html
from typing import Any

from tutela.policy.ropa import Ropa

_FIELDS = [
    ("description", "Description"),
    ("legal_basis", "Legal basis (Art. 6)"),
    ("legitimate_interest", "Legitimate interest"),
    ("consent_required", "Consent required"),
    ("data_subjects", "Categories of data subjects"),
    ("data_categories", "Categories of personal data"),
    ("systems", "Systems and tables"),
    ("recipients", "Recipients"),
    ("transfers", "Transfers outside the EEA and safeguards"),
    ("storage", "Storage locations"),
    ("retention", "Time limits for erasure"),
    ("erasure", "Erasure on request (Art. 17)"),
    ("security", "Technical and organisational measures (access)"),
]


def _text(value: Any) -> list[str]:
    if value is None or value == []:
        return ["—"]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def to_markdown(ropa: Ropa) -> str:
    c = ropa.controller
    lines = [
        "# Records of processing activities (GDPR Art. 30)",
        "",
        f"- **Controller:** {c['name'] or '—'} ({c['country'] or '—'})",
        f"- **Contact:** {c['contact'] or '—'}",
        f"- **Data protection officer:** {c['dpo'] or '—'}",
        f"- **Generated:** {ropa.generated}",
    ]
    for record in ropa.records:
        lines += ["", f"## {record.purpose}", ""]
        for key, label in _FIELDS:
            values = _text(getattr(record, key))
            if len(values) == 1:
                lines.append(f"- **{label}:** {values[0]}")
            else:
                lines.append(f"- **{label}:**")
                lines += [f"  - {v}" for v in values]
    return "\n".join(lines) + "\n"


def to_html(ropa: Ropa) -> str:
    e = html.escape
    c = ropa.controller
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Records of processing activities</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}"
        "th{text-align:left;vertical-align:top;padding-right:1rem}td ul{margin:0}</style>",
        "</head><body>",
        "<h1>Records of processing activities (GDPR Art. 30)</h1>",
        f"<p>Controller: {e(c['name'] or '—')} ({e(c['country'] or '—')})<br>"
        f"Contact: {e(c['contact'] or '—')}<br>DPO: {e(c['dpo'] or '—')}<br>"
        f"Generated: {e(ropa.generated)}</p>",
    ]
    for record in ropa.records:
        parts.append(f"<h2>{e(record.purpose)}</h2><table>")
        for key, label in _FIELDS:
            values = _text(getattr(record, key))
            cell = (
                e(values[0])
                if len(values) == 1
                else "<ul>" + "".join(f"<li>{e(v)}</li>" for v in values) + "</ul>"
            )
            parts.append(f"<tr><th>{e(label)}</th><td>{cell}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
