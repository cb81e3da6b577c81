"""The format registry (`tutela.formats`): one entry per suffix, every readable format has a
reader, and the writer and re-identification tables come from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela import fileout
from tutela.base.errors import InputFileError
from tutela.formats import BY_SUFFIX, COPY_OPTIONS, FORMATS, SQL_READERS, format_for
from tutela.ingest.readers import SHEETS, STAGERS


def test_every_suffix_has_one_format() -> None:
    suffixes = [s for f in FORMATS for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)), "a suffix listed in two formats"
    assert all(s.startswith(".") and s == s.lower() for s in suffixes)


def test_every_format_has_a_reader() -> None:
    assert {f.name for f in FORMATS} <= set(STAGERS)
    assert {f.name for f in FORMATS if f.sheets} <= set(SHEETS)


def test_written_formats_can_be_read_back() -> None:
    assert set(COPY_OPTIONS) <= set(SQL_READERS)
    assert fileout.FORMATS == COPY_OPTIONS
    assert set(fileout.DELIMITED) == {".csv", ".tsv"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.CSV", "csv"), ("b.tab", "csv"), ("c.pq", "parquet"), ("d.jsonl", "ndjson"),
     ("e.xlsm", "xlsx")],
)  # fmt: skip
def test_format_for_any_case(name: str, expected: str) -> None:
    assert format_for(Path(name)).name == expected
    assert BY_SUFFIX[Path(name).suffix.lower()].name == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [("old.xls", "legacy .xls"), ("notes.docx", "unknown file type .docx"),
     ("noext", r"unknown file type \(none\)")],
)  # fmt: skip
def test_unknown_formats_are_refused(name: str, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        format_for(Path(name))
