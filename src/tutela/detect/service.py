"""Scanning workspace tables: reuse stored results for unchanged tables, store new ones,
apply a baseline of accepted findings, and decide the CI gate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tutela.base.errors import InputFileError, UsageError
from tutela.base.progress import ProgressCallback, no_progress
from tutela.detect.decisions import apply_decisions
from tutela.detect.engine import scan_table
from tutela.detect.model import ENTITIES, TableScan
from tutela.detect.store import RULE_VERSION, load_stored_scan, store_scan, table_fingerprint
from tutela.workspace import Workspace


@dataclass
class ScanRun:
    scans: list[TableScan]
    cached: set[str] = field(default_factory=set)
    suppressed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_version": RULE_VERSION,
            "tables": [{**s.to_dict(), "cached": s.table in self.cached} for s in self.scans],
            "suppressed_by_baseline": self.suppressed,
        }


def parse_fail_on(text: str | None) -> set[str]:
    if not text:
        return set()
    wanted = {t.strip().upper() for t in text.split(",") if t.strip()}
    if "ANY" in wanted:
        return set(ENTITIES)
    unknown = sorted(wanted - set(ENTITIES))
    if unknown:
        raise UsageError(
            f"--fail-on: unknown entity {', '.join(unknown)}",
            hint=f"use ANY or entities from: {', '.join(sorted(ENTITIES))}",
        )
    return wanted


def load_baseline(path: Path) -> set[tuple[str, str, str]]:
    """Accepted findings: a previous `tutela scan --format json` output."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError(f"{path}: no such baseline file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: not a scan JSON file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise InputFileError(f'{path}: not a scan JSON file (no "tables" list)')
    accepted = set()
    for table in data["tables"]:
        for col in table.get("columns", []) if isinstance(table, dict) else []:
            if isinstance(col, dict) and col.get("entity"):
                accepted.add((str(table.get("table")), str(col.get("column")), str(col["entity"])))
    return accepted


def scan_workspace(
    ws: Workspace,
    tables: Sequence[str] = (),
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
    ner_model: str | None = None,
) -> ScanRun:
    """Scan the named tables (all when none); unchanged tables come from the store.

    `ner_model`: a spaCy pipeline the user installed, used for names in free text; results
    made with it are stored under their own rule version, so they are not mixed up."""
    rule = rule_version(ner_model)
    if ner_model:
        from tutela.detect.freetext import load_ner_model

        load_ner_model(ner_model)  # a clear error before any work when it is absent
    names = list(tables) or ws.user_tables()
    for name in names:
        ws.require_table(name)
    run = ScanRun([])
    for i, name in enumerate(names):
        own = ws.source_fingerprint(name)  # a lake's files: no read of the rows
        # a live PostgreSQL table is read once; a table behind Spark is not copied at all
        with ws.snapshots([] if own else [name]):
            fingerprint = own or table_fingerprint(ws.con, name, tables=ws)
            stored = None if force else load_stored_scan(ws.con, name)
            if stored and stored[1] == fingerprint and stored[2] == rule:
                scan = stored[0]
                run.cached.add(name)
            else:
                place = ws.placement(name, progress)  # DuckDB, or the attachment's Spark
                scan = scan_table(
                    place.queries, name, progress=progress, ner_model=ner_model,
                    tables=place.tables,
                )  # fmt: skip
                scan.engine = place.engine
                with ws.transaction() as con:  # the scanner's own verdicts:
                    store_scan(con, scan, fingerprint=fingerprint, rule_version=rule)
            apply_decisions(
                ws.con, scan, tables=ws
            )  # human decisions are read over them, never stored in
            run.scans.append(scan)
        progress("scanning tables", (i + 1) / len(names))
    return run


def rule_version(ner_model: str | None) -> str:
    """The rule version results are stored under: a user NER model makes its own."""
    if not ner_model:
        return RULE_VERSION
    return f"{RULE_VERSION}+ner:{Path(ner_model).name}"


def apply_baseline(run: ScanRun, accepted: set[tuple[str, str, str]]) -> None:
    """Findings already accepted are reported with `baselined: true` and do not gate CI."""
    for scan in run.scans:
        for col in scan.columns:
            if col.entity and (scan.table, col.column, col.entity) in accepted:
                col.evidence["baselined"] = True
                run.suppressed += 1


def gate(run: ScanRun, fail_on: set[str]) -> list[tuple[str, str, str]]:
    """The findings that fail the CI gate: entity in --fail-on and not baselined (a human
    decision has already replaced the scanner's entity, see `apply_decisions`)."""
    return [
        (scan.table, col.column, col.entity)
        for scan in run.scans
        for col in scan.columns
        if col.entity in fail_on and not col.evidence.get("baselined")
    ]


def scanned_at() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
