"""The one SARIF 2.1.0 writer: `scan --format sarif` (one rule per entity, one result per
personal-data column) and `policy check --format sarif` (one rule per check, one result per
finding, on the policy file's lines).

Valid for Microsoft's SARIF validator (`@microsoft/sarif-multitool validate`). SARIF forbids
an absolute path without a scheme as `artifactLocation.uri`: a file under the current
directory is written relative to it with `uriBaseId: "%SRCROOT%"` (declared in
`originalUriBaseIds`), any other file as a `file://` URI, and a table that is not a file (a
live database table) under `TUTELA_TABLES`. Every result gets a region (line 1: the header
row that names the column, or the top of the policy file). A column a reviewer declared not
personal (`tutela classify --not-personal`) and a finding accepted by `--baseline` are
reported with `suppressions`, so code-scanning UIs show them as dismissed, with the reason.

A new SARIF output builds its rules (`Rule`) and results and calls `sarif_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tutela import __version__
from tutela.detect.model import ENTITIES, ColumnFinding, TableScan
from tutela.policy.findings import RULES, CheckReport, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
TABLES = "TUTELA_TABLES"
INFORMATION_URI = "https://tutela.invalid/docs"


def artifact_location(path: str | None, *, table: str | None = None) -> dict[str, Any]:
    """The `artifactLocation` of a file (relative to the current directory when under it)."""
    if not path:
        return {"uri": quote(f"{table or 'unknown'}", safe=""), "uriBaseId": TABLES}
    p = Path(path)
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return {"uri": p.as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}


def original_uri_base_ids() -> dict[str, Any]:
    """Where the relative URIs of a run point to."""
    return {
        SRCROOT: {"uri": Path.cwd().resolve().as_uri().rstrip("/") + "/"},
        TABLES: {
            "uri": "urn:tutela:tables/",
            "description": {"text": "tables of the Tutela workspace that are not files"},
        },
    }


def region(line: int | None = None, column: int | None = None) -> dict[str, Any]:
    """A region: the given line/column, else line 1 (a file's header row)."""
    out: dict[str, Any] = {"startLine": max(1, line or 1)}
    if column:
        out["startColumn"] = max(1, column)
    return out


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    short: str
    full: str


def sarif_log(
    rules: list[Rule], results: list[dict[str, Any]], properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A SARIF log of one run of Tutela with these rules and results."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tutela",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "shortDescription": {"text": r.short},
                        "fullDescription": {"text": r.full},
                    }
                    for r in rules
                ],
            }
        },
        "originalUriBaseIds": original_uri_base_ids(),
        "results": results,
    }
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


# -- scan findings ------------------------------------------------------------------------


def _suppressions(col: ColumnFinding) -> list[dict[str, Any]]:
    out = []
    decision = col.evidence.get("decision")
    if isinstance(decision, dict) and decision.get("not_personal") and not decision.get("stale"):
        out.append(
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"not personal data (tutela classify, "
                f"{decision.get('decided_at')}): {decision.get('reason')}",
            }
        )
    if col.evidence.get("baselined"):
        out.append(
            {"kind": "external", "status": "accepted", "justification": "accepted in --baseline"}
        )
    return out


def _reported(col: ColumnFinding) -> str | None:
    """The entity a result is about: the finding's, or the one a human set aside."""
    if col.entity:
        return col.entity
    decision = col.evidence.get("decision")
    if isinstance(decision, dict) and decision.get("not_personal"):
        scanner = decision.get("scanner_entity")
        return str(scanner) if scanner in ENTITIES else None
    return None


def scan_to_sarif(scans: list[TableScan], sources: dict[str, str | None]) -> dict[str, Any]:
    """Scan findings: one rule per entity, one result per personal-data column."""
    rule_ids = sorted(ENTITIES)
    results = []
    for scan in scans:
        for col in scan.columns:
            entity = _reported(col)
            if entity is None:
                continue
            results.append(_scan_result(scan, col, entity, rule_ids, sources))
    rules = [
        Rule(
            e,
            "PersonalData" + "".join(w.capitalize() for w in e.split("_")),
            f"Personal data: {e}",
            f"A column holding {e} (personal data under the "
            "GDPR): classify it in the policy, protect or minimise it.",
        )
        for e in rule_ids
    ]
    return sarif_log(rules, results)


def _scan_result(
    scan: TableScan,
    col: ColumnFinding,
    entity: str,
    rule_ids: list[str],
    sources: dict[str, str | None],
) -> dict[str, Any]:
    decision = col.evidence.get("decision")
    human = isinstance(decision, dict) and not decision.get("stale")
    text = (
        f"{scan.table}.{col.column} holds {entity}"
        + (f" ({col.subtype})" if col.subtype else "")
        + (
            f": {col.matched} of {col.non_empty} values, confidence {col.confidence:.2f}"
            if col.entity and not human
            else " (decided by a reviewer)"
            if col.entity
            else " according to the scanner; a reviewer decided it is not personal data"
        )
    )
    result: dict[str, Any] = {
        "ruleId": entity,
        "ruleIndex": rule_ids.index(entity),
        "level": "warning" if col.entity else "note",
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(
                        sources.get(scan.table), table=scan.table
                    ),
                    "region": region(1),
                },
                "logicalLocations": [
                    {"fullyQualifiedName": f"{scan.table}.{col.column}", "kind": "member"}
                ],
            }
        ],
        "partialFingerprints": {"column": f"{scan.table}.{col.column}"},
        "properties": {
            "category": col.category,
            "confidence": col.confidence,
            "free_text": col.free_text,
            "baselined": bool(col.evidence.get("baselined")),
            "human_decision": bool(human),
        },
    }
    suppressions = _suppressions(col)
    if suppressions:
        result["suppressions"] = suppressions
    return result


# -- policy check findings ----------------------------------------------------------------

_LEVEL = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}


def check_to_sarif(report: CheckReport) -> dict[str, Any]:
    """One SARIF run; one result per finding; rule ids are the finding rule slugs."""
    rule_ids = list(RULES)
    results = []
    fallback = report.policy_files[0] if report.policy_files else None
    for f in report.findings:
        location: dict[str, Any] = {}
        if f.location is not None:
            location["physicalLocation"] = {
                "artifactLocation": artifact_location(f.location.file),
                "region": region(f.location.line, f.location.column),
            }
        elif fallback:
            # no line of its own (a finding on the data): the top of the policy file
            location["physicalLocation"] = {
                "artifactLocation": artifact_location(fallback),
                "region": region(1),
            }
        if f.table:
            name = f"{f.table}.{f.column}" if f.column else f.table
            location["logicalLocations"] = [
                {"name": name, "kind": "member" if f.column else "object"}
            ]
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.message}. Fix: {f.fix}"},
            "properties": {
                k: v
                for k, v in f.to_dict().items()
                if k in ("severity", "table", "column", "count", "oldest", "purpose", "role")
                and v is not None
            },
        }
        if location:
            result["locations"] = [location]
        results.append(result)
    rules = [Rule(r.id, r.name, r.summary, r.summary) for r in RULES.values()]
    return sarif_log(rules, results, {"as_of": report.as_of.isoformat()})
