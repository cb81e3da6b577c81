"""Services of `tutela tables`, `sources`, `show`: what the workspace holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tutela import catalog
from tutela.services.session import Session


@dataclass(frozen=True)
class Source:
    """Where one table came from (the provenance row `tutela load` recorded)."""

    table_name: str
    source_system: str | None
    path: str
    sheet: str | None
    format: str
    encoding: str | None
    delimiter: str | None
    sha256: str
    size_bytes: int
    row_count: int
    columns: list[Any]
    loaded_at: str
    tool_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Preview:
    table: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": [dict(zip(self.columns, r, strict=True)) for r in self.rows],
        }


def tables(session: Session) -> list[catalog.TableSummary]:
    with session.open(read_only=True) as ws:
        return catalog.list_tables(ws)


def sources(session: Session) -> list[Source]:
    with session.open(read_only=True) as ws:
        return [Source(**record) for record in catalog.list_sources(ws)]


def preview(session: Session, table: str, limit: int) -> Preview:
    """The first rows of a table; the read is audited (the rows may be personal)."""
    from tutela.keyguard import workspace_key  # the keys (cryptography): only `show` needs them

    with session.open() as ws:
        columns, rows = catalog.preview(ws, table, limit, audit_key=workspace_key(ws))
    return Preview(table, columns, rows)
