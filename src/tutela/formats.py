"""The one table of data file formats, by suffix: what `tutela load` reads, what Tutela
writes (pseudonymized copies, exports), and what DuckDB function reads a written file back.

Adding a format is one `FileFormat` entry here, plus its staging function registered in
`tutela.ingest.readers.STAGERS` under the entry's `name` (when `tutela load` reads it).
Every other module asks this table (`format_for`, `COPY_OPTIONS`, `SQL_READERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutela.base.errors import InputFileError


@dataclass(frozen=True)
class FileFormat:
    name: str
    """What a load reports (`format`), and the key of its reader in `ingest.readers.STAGERS`."""
    suffixes: tuple[str, ...]
    text: bool = False
    """A text file: its encoding is sniffed and it is decoded to UTF-8 before reading."""
    delimiter: str | None = None
    """A delimited text file's fixed delimiter (None: sniffed from the file)."""
    sheets: bool = False
    """A workbook: one table per sheet (`--sheet` picks one)."""
    copy: str | None = None
    """DuckDB COPY options when Tutela writes this format (None: never written)."""
    sql_reader: str | None = None
    """DuckDB table function reading a file Tutela wrote (re-identify, risk)."""

    @property
    def delimited(self) -> bool:
        """CSV-like: written through the spreadsheet-safe select."""
        return self.name == "csv"


FORMATS: tuple[FileFormat, ...] = (
    FileFormat(
        "csv", (".csv",), text=True, copy="(FORMAT csv, HEADER true)", sql_reader="read_csv"
    ),
    FileFormat(
        "csv",
        (".tsv",),
        text=True,
        delimiter="\t",
        copy="(FORMAT csv, HEADER true, DELIMITER '\t')",
        sql_reader="read_csv",
    ),
    FileFormat("csv", (".tab",), text=True, delimiter="\t"),
    FileFormat("csv", (".txt",), text=True),
    FileFormat("parquet", (".parquet",), copy="(FORMAT parquet)", sql_reader="read_parquet"),
    FileFormat("parquet", (".pq",)),
    FileFormat(
        "json", (".json",), text=True, copy="(FORMAT json, ARRAY true)", sql_reader="read_json"
    ),
    FileFormat(
        "ndjson", (".jsonl", ".ndjson"), text=True, copy="(FORMAT json)", sql_reader="read_json"
    ),
    FileFormat("xlsx", (".xlsx", ".xlsm"), sheets=True),
)

BY_SUFFIX: dict[str, FileFormat] = {s: f for f in FORMATS for s in f.suffixes}
COPY_OPTIONS: dict[str, str] = {s: f.copy for f in FORMATS if f.copy for s in f.suffixes}
"""Suffix -> COPY options, for every format Tutela writes, in table order."""
SQL_READERS: dict[str, str] = {s: f.sql_reader for f in FORMATS if f.sql_reader for s in f.suffixes}
"""Suffix -> DuckDB table function, for every format Tutela reads back after writing it."""


def format_for(path: Path) -> FileFormat:
    """The format `tutela load` reads `path` as, or an InputFileError naming the choices."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputFileError(
            f"{path}: legacy .xls workbooks are not supported", hint="save it as .xlsx or CSV"
        )
    fmt = BY_SUFFIX.get(suffix)
    if fmt is None:
        known = ", ".join(sorted(BY_SUFFIX))
        raise InputFileError(f"{path}: unknown file type {suffix or '(none)'} (supported: {known})")
    return fmt
