"""Scan result types, the entity vocabulary and its fideslang categories."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tutela.base.identifiers import ENTITY_CATEGORY
from tutela.base.identifiers import QUASI_CATEGORIES as _QUASI
from tutela.base.identifiers import SUBTYPES as _SUBTYPES

# Derived from the registry (`tutela.base.identifiers`): entity -> fideslang category,
# subtype -> entity, quasi-identifier kind -> category.
CATEGORIES: dict[str, str] = {e.value: c for e, c in ENTITY_CATEGORY.items()}
ENTITIES = frozenset(CATEGORIES)
SUBTYPES: dict[str, str] = {code: e.value for code, e in _SUBTYPES.items()}
QUASI_CATEGORIES: dict[str, str] = dict(_QUASI)


@dataclass
class ColumnFinding:
    column: str
    data_type: str
    entity: str | None = None
    subtype: str | None = None
    category: str | None = None
    confidence: float = 0.0
    free_text: bool = False
    quasi_identifier: bool = False
    matched: int = 0
    non_empty: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # why the column was not analysed, if it was not

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnFinding:
        return cls(**data)


@dataclass
class TableScan:
    table: str
    rows: int
    columns: list[ColumnFinding] = field(default_factory=list)
    engine: str = "duckdb"
    """Where the plans ran: the workspace's DuckDB, or the attachment's Spark."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": self.table,
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns],
        }
        if self.engine != "duckdb":
            out["engine"] = self.engine
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableScan:
        return cls(
            table=data["table"],
            rows=int(data["rows"]),
            columns=[ColumnFinding.from_dict(c) for c in data["columns"]],
            engine=str(data.get("engine", "duckdb")),
        )

    @property
    def personal(self) -> list[ColumnFinding]:
        """Columns holding personal data (an entity was found)."""
        return [c for c in self.columns if c.entity is not None]
