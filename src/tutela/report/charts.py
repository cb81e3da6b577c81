"""Charts for the governance report: Vega-Lite specifications rendered to static SVG by
vl-convert (the Vega project's renderer: Vega-Lite and Vega in an embedded JavaScript engine),
offline, with no JavaScript in the page and no URL allowed to load.

Each function takes rows of the report model and returns a `Chart` (a Vega-Lite spec whose
data are named datasets), or None when there is nothing to draw. The specs are written as
Vega-Lite JSON: building them with altair cost 0.9 s of import and, with inline data, seconds
of copying for a 50-table map, against a 5 s budget. The tests validate every spec against
the Vega-Lite schema. vl-convert is imported on first use (its engine takes about a second to
start), so other commands do not pay for it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutela.report.governance import (
        ConsentLine,
        DataMap,
        Findings,
        OpenRequest,
        RetentionSection,
    )

VEGA_LITE = "6.4"  # the Vega-Lite release the specs are written for (vl-convert bundles it)
SCHEMA = f"https://vega.github.io/schema/vega-lite/v{VEGA_LITE}.json"  # an identifier only
GREY, RED, AMBER, GREEN = "#94a3b8", "#dc2626", "#d97706", "#16a34a"
ACTION_COLOURS = {"delete": "#b91c1c", "anonymize": "#d97706", "pseudonymize": "#6366f1"}
# Vega's default font, measured by estimate; naming an installed font made vl-convert
# measure every label with it, about 5 ms a label
CONFIG = {"font": "sans-serif", "view": {"stroke": None}, "legend": {"columnPadding": 18}}

Spec = dict[str, Any]
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Chart:
    spec: Spec  # refers to its data by name
    data: dict[str, Rows]

    def to_dict(self) -> Spec:
        # room for labels: Vega estimates their width, the viewer's font may run wider
        padding = {"left": 28, "right": 10, "top": 6, "bottom": 6}
        return {"$schema": SCHEMA, "padding": padding, **self.spec, "datasets": self.data,
                "config": CONFIG}  # fmt: skip


def to_svg(chart: Chart) -> str:
    """The chart as an SVG document, rendered offline."""
    import vl_convert

    # allowed_base_urls=[]: the renderer may load nothing, whatever a spec says
    return str(
        vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=VEGA_LITE, allowed_base_urls=[])
    )


def _field(name: str, kind: str, **more: Any) -> Spec:
    return {"field": name, "type": kind, **more}


def _pixels(name: str) -> Spec:
    """A field used as a pixel position or a colour as it is (no scale)."""
    return {"field": name, "type": "quantitative", "scale": None}


# -- the data map: five layers of boxes joined by curves -------------------------------------

LAYERS = ("Source systems", "Tables", "Data categories", "Purposes", "Recipients and storage")
BOX_W, LAST_W, GAP, ROW_H, BOX_H, TOP = 216, 330, 54, 24, 18, 34
CHARS_PER_PX = 1 / 5.6  # 10.5 px sans-serif; Vega's own `limit` measures every label (slow)
CURVE_POINTS = 7
# curves cost vl-convert ~1 ms an edge; beyond this many, straight lines (7x cheaper)
CURVED_UP_TO = 250


def _fit(text: str, width: float) -> str:
    room = int((width - 10) * CHARS_PER_PX)
    return text if len(text) <= room else text[: room - 1] + "…"


@dataclass
class _Node:
    layer: int
    key: str
    label: str
    fill: str
    y: float = 0.0


def _nodes(dm: DataMap) -> list[list[_Node]]:
    from tutela.report.governance import UNCLASSIFIED

    layers: list[list[_Node]] = [[] for _ in LAYERS]
    layers[0] = [_Node(0, s, s, "#e2e8f0") for s in sorted(dm.systems)]
    for t in dm.tables:
        rows = "? rows" if t.rows is None else f"{t.rows} row{'' if t.rows == 1 else 's'}"
        label = f"{t.table} · {rows} · {len(t.personal)} PD"
        if t.unclassified:
            label = f"{t.table} · {len(t.unclassified)} UNCLASSIFIED · {len(t.personal)} PD"
        fill = "#fed7aa" if t.unclassified else ("#dbeafe" if t.personal else "#f1f5f9")
        layers[1].append(_Node(1, t.table, label, fill))
    for c in dm.categories:
        if c == UNCLASSIFIED:
            layers[2].append(_Node(2, c, "UNCLASSIFIED personal data", "#fdba74"))
        else:
            layers[2].append(_Node(2, c, c, "#ede9fe"))
    for p in dm.purposes:
        basis = p.legal_basis.replace("_", " ") if p.legal_basis else "NO LEGAL BASIS"
        layers[3].append(_Node(3, p.purpose, f"{p.purpose} ({basis})", "#dcfce7"))
    for place in dm.places:
        if place.unsafe:
            label, fill = f"NO SAFEGUARD · {place.label}", "#fecaca"
        elif place.outside_eea:
            label, fill = f"{place.label} · {place.transfer}", "#fef3c7"
        else:
            label, fill = place.label, "#f1f5f9"
        layers[4].append(_Node(4, place.label, label, fill))
    return layers


def _place_nodes(
    layers: list[list[_Node]], dm: DataMap
) -> tuple[dict[tuple[int, str], float], int]:
    """Barycentre layout: each node goes level with the nodes it comes from."""
    incoming: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for f in dm.flows:
        incoming[f.layer + 1][f.target].append(f.source)
    height = TOP + max(len(nodes) for nodes in layers) * ROW_H + 8
    placed: dict[tuple[int, str], float] = {}
    for index, nodes in enumerate(layers):
        if index:

            def centre(n: _Node, index: int = index) -> tuple[float, str]:
                ys = [placed[(index - 1, s)] for s in incoming[index].get(n.key, [])
                      if (index - 1, s) in placed]  # fmt: skip
                return (sum(ys) / len(ys) if ys else math.inf, n.key)

            nodes.sort(key=centre)
        step = (height - TOP - 8) / max(len(nodes), 1)
        for i, node in enumerate(nodes):
            node.y = TOP + (i + 0.5) * step
            placed[(index, node.key)] = node.y
    return placed, height


def data_map_chart(dm: DataMap) -> Chart | None:
    if not dm.tables:
        return None
    from tutela.report.governance import UNCLASSIFIED

    layers = _nodes(dm)
    placed, height = _place_nodes(layers, dm)
    last = len(LAYERS) - 1
    boxes = [
        {
            "x": n.layer * (BOX_W + GAP),
            "x2": n.layer * (BOX_W + GAP) + (LAST_W if n.layer == last else BOX_W),
            "y": n.y - BOX_H / 2,
            "y2": n.y + BOX_H / 2,
            "ty": n.y,
            "tx": n.layer * (BOX_W + GAP) + 5,
            "label": _fit(n.label, LAST_W if n.layer == last else BOX_W),
            "fill": n.fill,
        }
        for nodes in layers
        for n in nodes
    ]
    points: Rows = []
    segments: Rows = []
    curved = len(dm.flows) <= CURVED_UP_TO
    for i, f in enumerate(dm.flows):
        y0, y1 = placed.get((f.layer, f.source)), placed.get((f.layer + 1, f.target))
        if y0 is None or y1 is None:
            continue
        x0 = f.layer * (BOX_W + GAP) + BOX_W
        colour = RED if f.unsafe else AMBER if f.outside_eea or f.target == UNCLASSIFIED else GREY
        width = min(1.0 + math.log2(1 + f.weight), 6.0)
        if not curved:
            segments.append({"x": x0, "y": y0, "x2": x0 + GAP, "y2": y1, "c": colour, "w": width})
            continue
        for k in range(CURVE_POINTS):  # flat at both ends, smoothed by the interpolation
            s = k / (CURVE_POINTS - 1)
            y = y0 + (y1 - y0) * (3 * s * s - 2 * s * s * s)
            points.append({"edge": i, "o": k, "x": x0 + GAP * s, "y": y, "c": colour, "w": width})
    heads = [
        {"x": i * (BOX_W + GAP), "y": 12, "label": name.upper()} for i, name in enumerate(LAYERS)
    ]
    xy = {"x": _pixels("x"), "y": _pixels("y")}
    spec: Spec = {
        "width": last * (BOX_W + GAP) + LAST_W,
        "height": height,
        "padding": 6,
        "layer": [
            {
                "data": {"name": "points"},
                "mark": {"type": "line", "interpolate": "monotone", "opacity": 0.55},
                "encoding": {
                    **xy,
                    "detail": _field("edge", "nominal"),
                    "order": _field("o", "quantitative"),
                    "color": {"field": "c", "type": "nominal", "scale": None},
                    "strokeWidth": _pixels("w"),
                },
            } if curved else {
                "data": {"name": "segments"},
                "mark": {"type": "rule", "opacity": 0.45},
                "encoding": {
                    **xy,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "color": {"field": "c", "type": "nominal", "scale": None},
                    "strokeWidth": _pixels("w"),
                },
            },
            {
                "data": {"name": "boxes"},
                "mark": {"type": "rect", "cornerRadius": 3, "stroke": "#64748b",
                         "strokeWidth": 0.6},
                "encoding": {
                    **xy,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "fill": {"field": "fill", "type": "nominal", "scale": None},
                },
            },
            {
                "data": {"name": "boxes"},
                "mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": 10.5,
                         "color": "#0f172a"},
                "encoding": {"x": _pixels("tx"), "y": _pixels("ty"),
                             "text": _field("label", "nominal")},
            },
            {
                "data": {"name": "heads"},
                "mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": 10,
                         "fontWeight": "bold", "color": "#334155"},
                "encoding": {**xy, "text": _field("label", "nominal")},
            },
        ],
    }  # fmt: skip
    edges = {"points": points} if curved else {"segments": segments}
    return Chart(spec, {**edges, "boxes": boxes, "heads": heads})


# -- findings heat map ---------------------------------------------------------------------

HEAT_TEXT_CELLS = 400  # cell labels beyond this many cells cost more than they tell


def heat_map_chart(findings: Findings) -> Chart | None:
    if not findings.cells:
        return None
    rows = []
    for c in findings.cells:
        share = c.share
        text = f"{len(c.columns)}" + (f" · {share:.0%}" if share is not None else "")
        rows.append({"table": c.table, "entity": c.entity, "columns": len(c.columns), "t": text})
    tables = sorted({c.table for c in findings.cells})
    entities = sorted({c.entity for c in findings.cells})
    encoding = {
        "x": _field("entity", "nominal", sort=entities, title=None,
                    axis={"orient": "top", "labelAngle": -40}),
        "y": _field("table", "nominal", sort=tables, title=None),
    }  # fmt: skip
    layers: list[Spec] = [
        {
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
            "encoding": {
                "color": _field("columns", "quantitative", title="columns",
                                scale={"scheme": "blues", "domainMin": 0},
                                legend={"orient": "bottom", "tickMinStep": 1}),
            },
        },
    ]  # fmt: skip
    if len(rows) <= HEAT_TEXT_CELLS:
        layers.append(
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": _field("t", "nominal"),
                    "color": {"condition": {"test": "datum.columns >= 3", "value": "white"},
                              "value": "#0f172a"},
                },
            }
        )  # fmt: skip
    spec: Spec = {
        "data": {"name": "cells"},
        "width": max(len(entities) * 62, 200),
        "height": max(len(tables) * 20, 60),
        "encoding": encoding,
        "layer": layers,
    }
    return Chart(spec, {"cells": rows})


# -- retention -------------------------------------------------------------------------------


def retention_chart(ret: RetentionSection) -> Chart | None:
    if not ret.lines:
        return None
    buckets = ["past retention now", *ret.months]
    rows: Rows = []
    for line in ret.lines:
        if line.expired:
            rows.append({"when": buckets[0], "action": line.action, "rows": line.expired})
        for month, n in zip(ret.months, line.upcoming, strict=False):
            if n:
                rows.append({"when": month, "action": line.action, "rows": n})
    actions = sorted({line.action for line in ret.lines})
    spec: Spec = {
        "data": {"name": "rows"},
        "width": 520,
        "height": 220,
        "mark": "bar",
        "encoding": {
            "x": _field("when", "nominal", sort=buckets, scale={"domain": buckets}, title=None,
                        axis={"labelAngle": -40}),
            "y": {"aggregate": "sum", "field": "rows", "type": "quantitative", "title": "rows"},
            "color": _field("action", "nominal",
                            scale={"domain": actions,
                                   "range": [ACTION_COLOURS.get(a, GREY) for a in actions]},
                            legend={"orient": "top", "title": "action"}),
        },
    }  # fmt: skip
    return Chart(spec, {"rows": rows})


# -- consent ---------------------------------------------------------------------------------

CONSENT_STATES = ("current consent", "withdrawn", "never asked")


def consent_chart(lines: Sequence[ConsentLine]) -> Chart | None:
    if not lines:
        return None
    rows = [
        {"purpose": line.purpose, "state": state, "subjects": n, "o": k}
        for line in lines
        for k, (state, n) in enumerate(
            zip(CONSENT_STATES, (line.current, line.withdrawn, line.never_asked), strict=True)
        )
    ]
    spec: Spec = {
        "data": {"name": "rows"},
        "width": 460,
        "height": max(34 * len(lines), 60),
        "mark": "bar",
        "encoding": {
            "y": _field("purpose", "nominal", title=None),
            "x": {"aggregate": "sum", "field": "subjects", "type": "quantitative",
                  "title": "subjects"},
            "color": _field("state", "nominal",
                            scale={"domain": list(CONSENT_STATES), "range": [GREEN, RED, GREY]},
                            legend={"orient": "top", "title": None}),
            "order": _field("o", "quantitative"),
        },
    }  # fmt: skip
    return Chart(spec, {"rows": rows})


# -- requests --------------------------------------------------------------------------------

MAX_REQUEST_BARS = 30
REQUEST_STATES = ("overdue", "due within 7 days", "on time")


def requests_chart(open_requests: Sequence[OpenRequest]) -> Chart | None:
    if not open_requests:
        return None
    rows = [
        {
            "request": f"{r.request_id} ({r.type or '?'})",
            "days": r.days_left,
            "status": REQUEST_STATES[0 if r.days_left < 0 else 1 if r.days_left <= 7 else 2],
        }
        for r in list(open_requests)[:MAX_REQUEST_BARS]
    ]
    spec: Spec = {
        "width": 420,
        "height": max(22 * len(rows), 60),
        "layer": [
            {
                "data": {"name": "rows"},
                "mark": "bar",
                "encoding": {
                    "y": _field("request", "nominal", sort=[r["request"] for r in rows],
                                title=None),
                    "x": _field("days", "quantitative",
                                title="days to the deadline (negative: overdue)"),
                    "color": _field("status", "nominal",
                                    scale={"domain": list(REQUEST_STATES),
                                           "range": [RED, AMBER, GREEN]},
                                    legend={"orient": "top", "title": None}),
                },
            },
            {
                "data": {"name": "zero"},
                "mark": {"type": "rule", "color": "#0f172a"},
                "encoding": {"x": _field("z", "quantitative")},
            },
        ],
    }  # fmt: skip
    return Chart(spec, {"rows": rows, "zero": [{"z": 0}]})
