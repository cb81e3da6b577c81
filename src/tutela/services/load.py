"""Service of `tutela load`: files into workspace tables, each load audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutela.base.errors import ExitCode
from tutela.base.progress import ProgressCallback, no_progress
from tutela.ingest import LoadResult, load_files
from tutela.keyguard import workspace_key
from tutela.services.session import Session


@dataclass(frozen=True)
class LoadRequest:
    paths: Sequence[Path]
    table: str | None = None
    source: str | None = None
    replace: bool = False
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class LoadOutcome:
    results: list[LoadResult] = field(default_factory=list)

    @property
    def failed(self) -> list[LoadResult]:
        return [r for r in self.results if r.error is not None]

    @property
    def exit_code(self) -> int:
        """The worst exit code of the files that failed (0 when all loaded)."""
        return int(max((r.error.exit_code for r in self.failed if r.error), default=ExitCode.OK))


def load(
    session: Session, request: LoadRequest, progress: ProgressCallback = no_progress
) -> LoadOutcome:
    """Load every file; a file that fails does not stop the others (see `failed`)."""
    with session.open(create=True) as ws:
        return LoadOutcome(
            load_files(
                ws,
                request.paths,
                audit_key=workspace_key(ws),
                table=request.table,
                source=request.source,
                replace=request.replace,
                sheet=request.sheet,
                encoding=request.encoding,
                delimiter=request.delimiter,
                progress=progress,
            )
        )
