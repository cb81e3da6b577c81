"""Scan findings as SARIF 2.1.0: one rule per entity, one result per personal-data column."""

from __future__ import annotations

from typing import Any

from tutela import __version__
from tutela.detect.model import ENTITIES, TableScan

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(scans: list[TableScan], sources: dict[str, str | None]) -> dict[str, Any]:
    results = []
    for scan in scans:
        for col in scan.columns:
            if not col.entity:
                continue
            uri = sources.get(scan.table) or f"tutela://table/{scan.table}"
            results.append(
                {
                    "ruleId": col.entity,
                    "level": "warning",
                    "message": {
                        "text": f"{scan.table}.{col.column} holds {col.entity}"
                        + (f" ({col.subtype})" if col.subtype else "")
                        + f": {col.matched} of {col.non_empty} values, "
                        f"confidence {col.confidence:.2f}"
                    },
                    "locations": [
                        {
                            "physicalLocation": {"artifactLocation": {"uri": uri}},
                            "logicalLocations": [
                                {
                                    "fullyQualifiedName": f"{scan.table}.{col.column}",
                                    "kind": "column",
                                }
                            ],
                        }
                    ],
                    "partialFingerprints": {"column": f"{scan.table}.{col.column}"},
                    "properties": {
                        "category": col.category,
                        "confidence": col.confidence,
                        "free_text": col.free_text,
                        "baselined": bool(col.evidence.get("baselined")),
                    },
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tutela",
                        "version": __version__,
                        "rules": [
                            {"id": e, "shortDescription": {"text": f"Personal data: {e}"}}
                            for e in sorted(ENTITIES)
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
