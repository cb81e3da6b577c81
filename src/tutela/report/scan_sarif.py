"""Scan findings as SARIF 2.1.0: one rule per entity, one result per personal-data column.

Valid for Microsoft's SARIF validator (`@microsoft/sarif-multitool validate`): locations are
relative URIs with a `uriBaseId` or `file://` URIs, and every result has a region (line 1:
the header row that names the column). A column a reviewer declared not personal
(`tutela classify --not-personal`) and a finding accepted by `--baseline` are reported with
`suppressions`, so code-scanning UIs show them as dismissed, with the reason.
"""

from __future__ import annotations

from typing import Any

from tutela import __version__
from tutela.base import sarif
from tutela.detect.model import ENTITIES, ColumnFinding, TableScan


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


def to_sarif(scans: list[TableScan], sources: dict[str, str | None]) -> dict[str, Any]:
    rule_ids = sorted(ENTITIES)
    results = []
    for scan in scans:
        for col in scan.columns:
            entity = _reported(col)
            if entity is None:
                continue
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
                            "artifactLocation": sarif.artifact_location(
                                sources.get(scan.table), table=scan.table
                            ),
                            "region": sarif.region(1),
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
            results.append(result)
    return {
        "$schema": sarif.SCHEMA,
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
                                "id": e,
                                "name": "PersonalData"
                                + "".join(w.capitalize() for w in e.split("_")),
                                "shortDescription": {"text": f"Personal data: {e}"},
                                "fullDescription": {
                                    "text": f"A column holding {e} (personal data under the "
                                    "GDPR): classify it in the policy, protect or minimise it."
                                },
                            }
                            for e in rule_ids
                        ],
                    }
                },
                "originalUriBaseIds": sarif.original_uri_base_ids(),
                "results": results,
            }
        ],
    }
