"""The governance report as one self-contained HTML page: inline CSS, charts as static SVG
images in data: URLs, every chart beside a table of its numbers, no script, and a Content
Security Policy that lets the page load nothing at all. Prints on A4 landscape."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from tutela.report import charts
from tutela.report.governance import UNCLASSIFIED, GovernanceReport, OpenRequest

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

CSS = """
:root{--ink:#0f172a;--muted:#475569;--line:#cbd5e1;--bad:#b91c1c;--warn:#b45309;--ok:#15803d}
*{box-sizing:border-box}
body{font:14px/1.45 "DejaVu Sans","Liberation Sans",Arial,sans-serif;color:var(--ink);
 margin:0 auto;padding:20px 28px;max-width:1480px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;padding-top:8px;
 border-top:2px solid var(--ink)}h3{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}
nav ol{display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:8px 0 0;list-style:none}
nav a{color:var(--ink)}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 0;padding:0;list-style:none}
.kpis li{border:1px solid var(--line);border-radius:6px;padding:6px 10px;min-width:150px}
.kpis b{display:block;font-size:20px}
.pair{display:flex;flex-wrap:wrap;gap:18px 28px;align-items:flex-start}
figure{margin:0;max-width:100%}figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:12px;margin-top:4px;max-width:70ch}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0 8px}
caption{text-align:left;font-weight:bold;padding:2px 0 6px}
th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f1f5f9}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:var(--bad);font-weight:bold}.warn{color:var(--warn);font-weight:bold}
.ok{color:var(--ok);font-weight:bold}tr.overdue td{color:var(--bad);background:#fef2f2}
.status{border-radius:6px;padding:10px 14px;margin:6px 0 10px;border:2px solid}
.status.ok{border-color:var(--ok);background:#f0fdf4}.status.bad{border-color:var(--bad);
 background:#fef2f2}.empty{color:var(--muted);font-style:italic}
code{font-size:12px}
@page{size:A4 landscape;margin:10mm}
@media print{body{padding:0;max-width:none;font-size:11px}nav{display:none}
 h2{break-after:avoid}figure,tr,.status{break-inside:avoid}table{font-size:10px}
 .kpis li{min-width:120px}}
"""

SECTIONS = (
    ("data-map", "Data map"),
    ("findings", "Findings"),
    ("retention", "Retention"),
    ("consent", "Consent"),
    ("requests", "Requests"),
    ("integrity", "Integrity"),
)


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cls(name: str) -> str:
    return f' class="{name}"' if name else ""


def _num(value: object) -> str:
    return f'<td class="n">{e(value)}</td>'


def _table(
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[int] = (),
    row_class: Callable[[int], str] | None = None,
) -> str:
    """`rows` hold cells already rendered as HTML (`<td>...</td>`)."""
    nums = set(numeric)
    head = "".join(
        f'<th scope="col"{_cls("n" if i in nums else "")}>{e(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for i, row in enumerate(rows):
        cls = row_class(i) if row_class else ""
        body.append(f"<tr{_cls(cls)}>{''.join(row)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="empty">none</td></tr>')
    return (
        f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _td(value: object, cls: str = "") -> str:
    return f"<td{_cls(cls)}>{e(value)}</td>"


def _code(value: str) -> str:
    return f"<td><code>{e(value)}</code></td>"


def _figure(chart: Any, ident: str, alt_text: str, caption: str) -> str:
    if chart is None:
        return ""
    svg = charts.to_svg(chart)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure id="{e(ident)}"><img src="data:image/svg+xml;base64,{data}" '
        f'alt="{e(alt_text)}"><figcaption>{e(caption)}</figcaption></figure>'
    )


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# -- sections ----------------------------------------------------------------------------------


def _header(r: GovernanceReport) -> str:
    org = r.organisation.get("name") or "the controller"
    s = r.summary()
    kpis = [
        ("tables", s["tables"], ""),
        ("personal-data columns", s["personal_columns"], ""),
        ("unclassified personal-data columns", s["unclassified_columns"],
         "bad" if s["unclassified_columns"] else "ok"),
        ("transfers outside the EEA without safeguard", s["transfers_without_safeguard"],
         "bad" if s["transfers_without_safeguard"] else "ok"),
        ("rows past retention", s["rows_past_retention"],
         "bad" if s["rows_past_retention"] else "ok"),
        ("open requests (overdue)", f"{s['open_requests']} ({s['overdue_requests']})",
         "bad" if s["overdue_requests"] else ""),
        ("audit chain", "verified" if s["audit_chain_verified"] else "NOT VERIFIED",
         "ok" if s["audit_chain_verified"] else "bad"),
    ]  # fmt: skip
    items = "".join(f"<li><b{_cls(cls)}>{e(v)}</b>{e(k)}</li>" for k, v, cls in kpis)
    links = "".join(f'<li><a href="#{k}">{i}. {e(v)}</a></li>' for i, (k, v) in
                    enumerate(SECTIONS, start=1))  # fmt: skip
    dpo = r.organisation.get("dpo")
    policy = ", ".join(r.policy_files) or "the policy"
    return (
        f"<header><h1>Personal-data governance report — {e(org)}</h1>"
        f'<p class="meta">As of {e(r.as_of.isoformat())}; generated {e(_when(r.generated_at))} '
        f"UTC by {e(r.tool)} from {e(policy)} and the workspace"
        + (f"; DPO: {e(dpo)}" if dpo else "")
        + f'.</p><ul class="kpis">{items}</ul>'
        f'<nav aria-label="sections"><ol>{links}</ol></nav></header>'
    )


def _data_map(r: GovernanceReport) -> str:
    dm = r.data_map
    figure = _figure(
        charts.data_map_chart(dm),
        "data-map-diagram",
        "Data map: source systems, tables, data categories, purposes, recipients and storage",
        "Flows from source systems to tables (rows, personal-data columns), to the data "
        "categories of their columns, to the purposes that use them and the recipients and "
        "storage locations of each purpose. Red: outside the EEA with no safeguard; amber: "
        "outside the EEA under a safeguard, or personal data the policy does not classify.",
    )
    tables = _table(
        "Tables",
        ["system", "table", "rows", "columns", "personal-data columns", "unclassified",
         "data categories", "purposes"],
        [
            [
                _td(t.system), _td(t.table + ("" if t.in_policy else " (not in policy)")),
                _num(t.rows if t.rows is not None else "?"), _num(t.columns),
                _num(len(t.personal)),
                _td(", ".join(t.unclassified) or "—", "bad" if t.unclassified else ""),
                _td(", ".join(c for c in t.categories if c != UNCLASSIFIED) or "—"),
                _td(", ".join(t.purposes) or "none", "" if t.purposes or not t.personal
                    else "warn"),
            ]
            for t in dm.tables
        ],
        numeric=(2, 3, 4),
    )  # fmt: skip
    purposes = _table(
        "Purposes, recipients and storage",
        ["purpose", "legal basis", "data categories", "recipients and storage", "transfer"],
        [
            [
                _td(p.purpose),
                _td(p.legal_basis or "NONE", "" if p.legal_basis else "bad"),
                _td(", ".join(p.categories) or "—"),
                _td("; ".join(f"{pl.label} — {pl.kind}" for pl in p.places) or "—"),
                "<td>" + ("; ".join(
                    f'<span class="{"bad" if pl.unsafe else "warn"}">{e(pl.label)}: '
                    f"{e(pl.transfer)}</span>" for pl in p.places if pl.outside_eea
                ) or "within EEA") + "</td>",
            ]
            for p in dm.purposes
        ],
    )  # fmt: skip
    unclassified = [
        [_td(t.table), _td(c.column), _td(c.scan_entity or "—"), _td(c.unclassified)]
        for t in dm.tables
        for c in t.personal
        if c.unclassified
    ]
    extra = ""
    if unclassified:
        extra += _table(
            "Personal-data columns the policy does not classify",
            ["table", "column", "scan found", "policy check rule"],
            unclassified,
        )
    if dm.not_loaded:
        extra += f"<p>Declared in the policy but not loaded: {e(', '.join(dm.not_loaded))}.</p>"
    return (
        f'<section id="data-map"><h2>1. Data map</h2><p>{len(dm.tables)} tables from '
        f"{len(dm.systems)} source systems hold {dm.personal_columns} personal-data columns"
        f" ({dm.unclassified_columns} unclassified), used for {len(dm.purposes)} purposes.</p>"
        f'{figure}<div class="pair">{tables}{purposes}</div>{extra}</section>'
    )


def _findings(r: GovernanceReport) -> str:
    f = r.findings
    figure = _figure(
        charts.heat_map_chart(f),
        "findings-heat-map",
        "Heat map of scan findings: tables by entity",
        "Columns per table and entity found by the last scan, with the share of non-empty "
        "values that match (checksums applied where the identifier has one).",
    )
    rows = [
        [_td(c.table), _td(c.entity), _num(len(c.columns)), _td(", ".join(c.columns)),
         _num(c.matched), _num(c.non_empty),
         _num(f"{c.share:.1%}" if c.share is not None else "—")]
        for c in f.cells
    ]  # fmt: skip
    table = _table(
        "Findings per table and entity",
        ["table", "entity", "columns", "column names", "matching values", "non-empty",
         "validated share"],
        rows,
        numeric=(2, 4, 5, 6),
    )  # fmt: skip
    free = _table(
        "Free-text columns with mentions of personal data",
        ["table", "column", "main entity", "rows with mentions", "non-empty rows", "mentions"],
        [
            [_td(t.table), _td(t.column), _td(t.entity), _num(t.rows_with_mentions),
             _num(t.non_empty), _td(", ".join(f"{k} {v}" for k, v in t.mentions.items()))]
            for t in f.free_text
        ],
        numeric=(3, 4),
    )  # fmt: skip
    note = ""
    if f.unscanned:
        note = (
            f'<p class="warn">Not scanned: {e(", ".join(f.unscanned))} '
            "(run <code>tutela scan</code>).</p>"
        )
    if not f.cells:
        figure = '<p class="empty">No stored scan finds personal data.</p>'
    return (
        f'<section id="findings"><h2>2. Findings</h2>{note}'
        f'<div class="pair">{figure}{table}</div>{free}</section>'
    )


def _retention(r: GovernanceReport) -> str:
    ret = r.retention
    figure = _figure(
        charts.retention_chart(ret),
        "retention-chart",
        "Rows past retention now and rows reaching the end of retention per month",
        f"Rows past their retention period on {ret.as_of.isoformat()}, then rows whose period "
        "ends in each of the next 12 months (legal holds excluded), by the action the policy "
        "takes.",
    )
    months = _table(
        "Rows reaching the end of retention, per month",
        ["month", *sorted({f"{line.table} ({line.action})" for line in ret.lines}), "total"],
        _month_rows(r),
        numeric=range(1, 2 + len({f"{line.table} ({line.action})" for line in ret.lines})),
    )
    rules = _table(
        "Retention rules",
        ["table", "rule", "action", "cutoff", "past retention now", "oldest", "legal hold",
         "rows held", "note"],
        [
            [_td(line.table), _td(f"{line.period} after {line.after}"), _td(line.action),
             _td(line.cutoff.isoformat()), _num(line.expired),
             _td(line.oldest.isoformat() if line.oldest else "—"),
             _td("; ".join(line.legal_hold) or "—"), _num(line.held), _td(line.skipped or "")]
            for line in ret.lines
        ],
        numeric=(4, 7),
        row_class=lambda i: "overdue" if ret.lines[i].expired else "",
    )  # fmt: skip
    if not ret.lines:
        return (
            '<section id="retention"><h2>3. Retention</h2>'
            '<p class="empty">The policy declares no retention period.</p></section>'
        )
    return (
        f'<section id="retention"><h2>3. Retention</h2><p>{ret.expired} rows are past their '
        f"retention period; {ret.held} more are kept under a legal hold.</p>"
        f'<div class="pair">{figure}{months}</div>{rules}</section>'
    )


def _month_rows(r: GovernanceReport) -> list[list[str]]:
    ret = r.retention
    keys = sorted({f"{line.table} ({line.action})" for line in ret.lines})
    per: dict[str, list[int]] = {k: [0] * (len(ret.months) + 1) for k in keys}
    for line in ret.lines:
        key = f"{line.table} ({line.action})"
        per[key][0] += line.expired
        for i, n in enumerate(line.upcoming):
            per[key][i + 1] += n
    out = []
    for i, label in enumerate(["past retention now", *ret.months]):
        values = [per[k][i] for k in keys]
        out.append([_td(label), *(_num(v) for v in values), _num(sum(values))])
    return out


def _consent(r: GovernanceReport) -> str:
    c = r.consent
    if not c.lines:
        return (
            '<section id="consent"><h2>4. Consent</h2>'
            '<p class="empty">No purpose of the policy is based on consent.</p></section>'
        )
    figure = _figure(
        charts.consent_chart(c.lines),
        "consent-chart",
        "Consent per consent-based purpose: current, withdrawn, never asked",
        f"Distinct subjects (by {c.subject_kind}) per purpose: latest consent event granted, "
        "latest event a withdrawal, or processed in the purpose's tables without any event.",
    )
    table = _table(
        f"Consent state on {_when(c.at)}",
        ["purpose", "current consent", "withdrawn", "never asked", "subjects processed",
         "processed without current consent", "tables counted"],
        [
            [_td(line.purpose), _num(line.current), _num(line.withdrawn),
             _num(line.never_asked), _num(line.processed),
             f'<td class="n{" bad" if line.processed_without_consent else ""}">'
             f"{line.processed_without_consent}</td>",
             _td(", ".join(line.tables) + (f" (no {c.subject_kind} link: "
                 f"{', '.join(line.not_linked)})" if line.not_linked else ""))]
            for line in c.lines
        ],
        numeric=range(1, 6),
    )  # fmt: skip
    return (
        f'<section id="consent"><h2>4. Consent</h2><div class="pair">{figure}{table}</div>'
        "</section>"
    )


def _request_row(req: OpenRequest) -> list[str]:
    due = f"OVERDUE by {-req.days_left} days" if req.overdue else f"{req.days_left} days left"
    tasks = "; ".join(f"{t.system}: {t.state} ({t.mode})" for t in req.tasks) or "—"
    review = "; ".join(f"{v.table}: {v.open}" for v in req.review) or "—"
    return [
        _td(req.request_id), _td(req.type or "?"), _td(req.state),
        _td(req.received.isoformat()), _td(req.deadline.isoformat()),
        _td(due, "bad" if req.overdue else ""), _td(tasks), _td(review), _td(req.reason or ""),
    ]  # fmt: skip


def _requests(r: GovernanceReport) -> str:
    q = r.requests
    states = ", ".join(f"{k}: {v}" for k, v in q.by_state.items()) or "none tracked"
    figure = _figure(
        charts.requests_chart(q.open),
        "requests-chart",
        "Open data-subject requests and the days left to their deadline",
        f"Open requests, most urgent first (at most {charts.MAX_REQUEST_BARS} shown); the "
        "deadline is one month after receipt (Art. 12(3)).",
    )
    table = _table(
        "Open requests",
        ["request", "type", "state", "received", "deadline", "due", "per-system tasks",
         "possible matches to review", "reason"],
        [_request_row(req) for req in q.open],
        row_class=lambda i: "overdue" if q.open[i].overdue else "",
    )  # fmt: skip
    notes = []
    if not q.tasks_tracked:
        notes.append("per-system tasks are not tracked in this workspace")
    if q.review_tracked:
        notes.append(f"{q.review_open} possible matches await a decision")
    else:
        notes.append("no review queue in this workspace")
    return (
        f'<section id="requests"><h2>5. Requests</h2><p>{q.total} requests tracked ({e(states)});'
        f" {len(q.open)} open, <span{_cls('bad' if q.overdue else '')}>{q.overdue} overdue"
        f"</span>; {e('; '.join(notes))}.</p>"
        f'<div class="pair">{figure or ""}{table}</div></section>'
    )


def _integrity(r: GovernanceReport) -> str:
    i = r.integrity
    if i.verified:
        status = (
            f'<div class="status ok" role="status"><b>Audit chain verified</b>: {i.entries} '
            f"entries, every hash recomputed; head <code>{e(i.head)}</code> (keep it elsewhere "
            "to detect truncation).</div>"
        )
    else:
        problems = "".join(f"<li>{e(p)}</li>" for p in i.problems)
        status = (
            f'<div class="status bad" role="alert"><b>AUDIT CHAIN NOT VERIFIED</b> '
            f"({i.entries} entries):<ul>{problems}</ul></div>"
        )
    entries = _table(
        f"Last {len(i.last_entries)} audit entries",
        ["#", "time (UTC)", "command", "tables", "result", "hash"],
        [
            [_num(a.seq), _td(a.at[:19].replace("T", " ")), _td(a.command),
             _td(", ".join(a.tables)), _td(a.result), _code(a.entry_hash[:16])]
            for a in i.last_entries
        ],
        numeric=(0,),
    )  # fmt: skip
    scans = _table(
        f"Scans (current rule version {i.rule_version})",
        ["table", "rule version", "scanned (UTC)", "rows then", "rows now", "state"],
        [
            [_td(s.table), _td(s.rule_version), _td(_when(s.scanned_at)), _num(s.rows_at_scan),
             _num(s.rows_now if s.rows_now is not None else "?"),
             _td("rescan: rules or rows changed" if s.outdated else "current",
                 "warn" if s.outdated else "")]
            for s in i.scans
        ] + [[_td(t), _td("—"), _td("never scanned"), _td(""), _td(""),
              _td("not scanned", "warn")] for t in i.never_scanned],
        numeric=(3, 4),
    )  # fmt: skip
    return (
        f'<section id="integrity"><h2>6. Integrity</h2>{status}'
        f'<div class="pair">{entries}{scans}</div></section>'
    )


def render_html(report: GovernanceReport) -> str:
    org = report.organisation.get("name") or "governance"
    body = "".join(
        part(report) for part in (_data_map, _findings, _retention, _consent, _requests,
                                  _integrity)
    )  # fmt: skip
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>Governance report — {e(org)} — {e(report.as_of.isoformat())}</title>"
        f"<style>{CSS}</style></head><body>{_header(report)}<main>{body}</main>"
        '<footer><p class="meta">Counts and names only: this report holds no personal '
        "data values.</p></footer></body></html>\n"
    )
