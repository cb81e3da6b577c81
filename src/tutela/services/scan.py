"""Service of `tutela scan`: scan, read the baseline, decide the CI gate, in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutela import catalog
from tutela.base.progress import ProgressCallback, no_progress
from tutela.detect import service
from tutela.detect.service import ScanRun
from tutela.services.session import Session


@dataclass(frozen=True)
class ScanRequest:
    tables: Sequence[str] = ()
    fail_on: str | None = None
    """Entities that fail the run, comma-separated, or ANY."""
    baseline: Path | None = None
    """A previous `scan --format json`: its findings are accepted."""
    force: bool = False
    ner_model: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    run: ScanRun
    sources: dict[str, str | None] = field(default_factory=dict)
    """Table -> the file it was loaded from (for SARIF locations)."""
    failing: list[tuple[str, str, str]] = field(default_factory=list)
    """(table, column, entity) matching --fail-on and not baselined."""


def scan(
    session: Session, request: ScanRequest, progress: ProgressCallback = no_progress
) -> ScanOutcome:
    gate_on = service.parse_fail_on(request.fail_on)  # usage errors before any work
    accepted = service.load_baseline(request.baseline) if request.baseline else set()
    with session.open() as ws:
        run = service.scan_workspace(
            ws, request.tables, force=request.force, progress=progress, ner_model=request.ner_model
        )
        sources: dict[str, str | None] = {
            s["table_name"]: s["path"] for s in catalog.list_sources(ws)
        }
    service.apply_baseline(run, accepted)
    return ScanOutcome(run, sources, service.gate(run, gate_on))
