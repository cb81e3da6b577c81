"""SARIF 2.1.0 pieces both SARIF renderers need: valid artifact locations and regions.

SARIF forbids an absolute path without a scheme as `artifactLocation.uri`: a file under the
current directory is written relative to it with `uriBaseId: "%SRCROOT%"` (declared in
`originalUriBaseIds`), any other file as a `file://` URI, and a table that is not a file
(a live database table) under `TUTELA_TABLES`. Every result gets a region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

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
