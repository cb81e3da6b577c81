"""Findings as SARIF 2.1.0, so code-scanning tools show them on the policy file's lines.

Valid for `@microsoft/sarif-multitool validate` (see `tutela.base.sarif`).
"""

from __future__ import annotations

from typing import Any

from tutela import __version__
from tutela.base import sarif
from tutela.policy.findings import RULES, CheckReport, Severity

SARIF_SCHEMA = sarif.SCHEMA
_LEVEL = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}


def to_sarif(report: CheckReport) -> dict[str, Any]:
    """One SARIF run; one result per finding; rule ids are the finding rule slugs."""
    rule_ids = list(RULES)
    results = []
    fallback = report.policy_files[0] if report.policy_files else None
    for f in report.findings:
        location: dict[str, Any] = {}
        if f.location is not None:
            location["physicalLocation"] = {
                "artifactLocation": sarif.artifact_location(f.location.file),
                "region": sarif.region(f.location.line, f.location.column),
            }
        elif fallback:
            # no line of its own (a finding on the data): the top of the policy file
            location["physicalLocation"] = {
                "artifactLocation": sarif.artifact_location(fallback),
                "region": sarif.region(1),
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
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tutela",
                        "version": __version__,
                        "informationUri": sarif.INFORMATION_URI,
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.name,
                                "shortDescription": {"text": r.summary},
                                "fullDescription": {"text": r.summary},
                            }
                            for r in RULES.values()
                        ],
                    }
                },
                "originalUriBaseIds": sarif.original_uri_base_ids(),
                "results": results,
                "properties": {"as_of": report.as_of.isoformat()},
            }
        ],
    }
