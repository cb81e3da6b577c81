"""Sniffing a file: format, text encoding and CSV dialect, streaming, never whole in memory."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tutela.base.errors import InputFileError
from tutela.formats import BY_SUFFIX

CHUNK = 1 << 20
SAMPLE = 1 << 16

# Single-byte encodings we choose between when a file is not UTF-8 (Western, Central
# European/Polish, Greek, Cyrillic). Order breaks ties in favour of the more common one.
LEGACY_ENCODINGS = ["cp1252", "cp1250", "cp1253", "iso8859_7", "iso8859_2", "cp1251", "latin_1"]


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    head: bytes
    utf8_error: int | None
    """Byte offset of the first invalid UTF-8 sequence; None when the file is valid UTF-8."""


def hash_file(path: Path, progress: Callable[[float], None] | None = None) -> FileFacts:
    """SHA-256, size, first bytes and UTF-8 validity of a file, in one streaming pass."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = path.stat().st_size
    done = 0
    head = b""
    utf8_error: int | None = None
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[:SAMPLE]
            digest.update(chunk)
            if utf8_error is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_error = done + exc.start
            done += len(chunk)
            if progress and size:
                progress(done / size)
    if utf8_error is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_error = done
    return FileFacts(digest.hexdigest(), size, head, utf8_error)


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of a byte offset."""
    line = 1
    remaining = offset
    with path.open("rb") as fh:
        while remaining > 0 and (chunk := fh.read(min(CHUNK, remaining))):
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def detect_encoding(path: Path, facts: FileFacts) -> str:
    """The text encoding of a file, or an InputFileError naming the line of bad bytes."""
    head = facts.head
    if not head:
        raise InputFileError(f"{path}: file is empty")
    if head.startswith(codecs.BOM_UTF8):
        if facts.utf8_error is not None:  # the BOM says UTF-8: damaged bytes are an error
            raise InputFileError(
                f"{path}:{_line_of(path, facts.utf8_error)}: bytes that are not valid UTF-8 "
                "in a UTF-8 file",
                hint="fix the file, or pass --encoding if it is in another encoding",
            )
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even_nuls = head[0::2].count(0)
    odd_nuls = head[1::2].count(0)
    half = len(head) // 2
    if half and odd_nuls > 0.3 * half and even_nuls == 0:
        return "utf-16-le"
    if half and even_nuls > 0.3 * half and odd_nuls == 0:
        return "utf-16-be"
    if b"\x00" in head:
        raise InputFileError(f"{path}: binary data, not a text file (NUL bytes near the start)")
    bad = facts.utf8_error
    if bad is None:
        return "utf-8"
    legacy = _guess_legacy(path, head)
    bad_line = _line_of(path, bad)
    utf8_line = _first_utf8_line(path, legacy)
    if utf8_line is not None and utf8_line < bad_line:
        # UTF-8 text before the bad byte: a damaged UTF-8 file, not another encoding
        # (guessing a legacy code page would silently garble every accented letter)
        raise InputFileError(
            f"{path}:{bad_line}: bytes that are not valid UTF-8 in a UTF-8 file",
            hint="fix the file, or pass --encoding if it is in another encoding",
        )
    if utf8_line is not None:
        raise InputFileError(
            f"{path}:{utf8_line}: this line is UTF-8, but line {bad_line} is not (it reads "
            f"as {legacy}): the file mixes encodings, and decoding it as one would garble "
            "names",
            hint="convert the file to one encoding, or pass --encoding to force one",
        )
    return legacy


_UTF8_CHAR = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_MAX_CANDIDATES = 200


def _first_utf8_line(path: Path, legacy: str) -> int | None:
    """The first line that is UTF-8 text: it holds multi-byte UTF-8 characters, decodes as
    UTF-8, and reads at least as well so as in `legacy` (`WÓŁ` in cp1250 holds the bytes of
    a valid UTF-8 character, but reads as mixed scripts in UTF-8)."""
    checked = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not _UTF8_CHAR.search(raw):
                continue
            try:
                as_utf8 = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if _clean_text(as_utf8) or _plausibility(as_utf8) >= _plausibility(
                raw.decode(legacy, errors="replace")
            ):
                return number
            checked += 1
            if checked >= _MAX_CANDIDATES:
                return None
    return None


def _clean_text(text: str) -> bool:
    """Non-ASCII letters and nothing that costs plausibility: no controls, no symbols inside
    words, no word mixing scripts (`Zoë Müller` yes; `WӣCZYьSKI`, cp1250 read as UTF-8, no)."""
    letters = sum(1 for c in text if ord(c) > 127 and c.isalpha())
    return letters > 0 and _plausibility(text) >= letters - 2


def _plausibility(text: str) -> int:
    """How much a decoding reads like real text; higher is better.

    Wrong single-byte decodings show up as symbols inside words (Polish "ł" read as
    cp1252 gives "³"), control characters, words mixing scripts, or Latin words made
    mostly of accented letters (Greek bytes read as cp1252).
    """
    score = 0
    for i, ch in enumerate(text):
        code = ord(ch)
        if code < 128:
            continue
        if 0x80 <= code <= 0x9F:
            score -= 8
        elif ch.isalpha():
            score += 1
            if ch in "œŒæÆŸ":  # common in mis-decoded Polish, rare in the languages we meet
                score -= 2
        elif ch not in "€°ºª·«»¡¿–—‘’“”…§©®±×÷½¼¾£$¥¢\xa0":
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            score -= 4 if (before.isalpha() or after.isalpha()) else 1
    for word in re.findall(r"[^\W\d_]{3,}", text):
        scripts = {unicodedata.name(c, "X").split()[0] for c in word}
        if len(scripts) > 1:
            score -= 5
        elif scripts == {"LATIN"}:
            non_ascii = sum(1 for c in word if ord(c) > 127)
            if non_ascii * 2 > len(word):
                score -= 3
    return score


def _guess_legacy(path: Path, head: bytes) -> str:
    """Pick the single-byte encoding whose decoding of a sample reads most like text."""
    with path.open("rb") as fh:
        sample = fh.read(4 * CHUNK)
    control = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    if len(control.findall(head)) > max(2, len(head) // 1000):
        raise InputFileError(
            f"{path}: binary data, not a text file (control bytes)",
            hint="is it really a CSV file? if so, pass --encoding",
        )
    best: tuple[int, str] | None = None
    for encoding in LEGACY_ENCODINGS:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best is None or score > best[0]:
            best = (score, encoding)
    if best is None:
        raise InputFileError(
            f"{path}: cannot decode the file as text in any supported encoding",
            hint="pass --encoding",
        )
    return best[1]


def transcode_to_utf8(
    path: Path, encoding: str, target: Path, progress: Callable[[float], None] | None = None
) -> None:
    """Stream-decode `path` with `encoding` into UTF-8 at `target`; bad bytes name their line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    size = path.stat().st_size or 1
    consumed = 0
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            try:
                dst.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                line = _line_of(path, consumed + exc.start)
                raise InputFileError(
                    f"{path}:{line}: bytes that cannot be decoded as {encoding}",
                    hint="pass --encoding with the file's real encoding",
                ) from exc
            consumed += len(chunk)
            if progress:
                progress(consumed / size)
        try:
            dst.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: file ends inside a {encoding} character") from exc


TRAILING_PREFIX = "__tutela_trailing_"


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    has_header: bool
    columns: list[str]
    trailing: int = 0
    """Unnamed columns at the end of the header (a delimiter ending every line): they are
    read under placeholder names and dropped when empty."""
    generated: tuple[tuple[int, str], ...] = ()
    """(position, generated name) of unnamed header cells before the last named one, such
    as the empty first cell pandas writes above its row index."""
    text_columns: frozenset[str] = frozenset()
    """Columns the source itself typed as text (Excel text cells): never re-typed."""


MAX_NAME = 512  # characters in a column name: a longer "name" is data, not a header (and
# YAML cannot take it as a plain key: PyYAML refuses simple keys over 1024 characters)


_DATA_LIKE = re.compile(r"^\s*([-+]?\d[\d .,/:-]*|[^@\s]+@[^@\s]+\.\w+)\s*$")


def sniff_dialect(path: Path, text_path: Path, forced_delimiter: str | None = None) -> Dialect:
    """Delimiter and header of a UTF-8 CSV file; validates the header names."""
    with text_path.open("r", encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(SAMPLE)
    if not sample.strip():
        raise InputFileError(f"{path}: file has no data")
    if len(sample) == SAMPLE and "\n" not in sample and "\r" not in sample:
        raise InputFileError(
            f"{path}:1: no line break in the first {SAMPLE:,} characters: this is not a "
            "CSV file with a header row",
            hint="check the file (a single huge line), or export it again as CSV",
        )
    if len(sample) == SAMPLE and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    delimiter = forced_delimiter
    if delimiter is None:
        fixed = BY_SUFFIX.get(path.suffix.lower())
        if fixed is not None and fixed.delimiter is not None:
            delimiter = fixed.delimiter
        else:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                first_line = sample.splitlines()[0]
                counts = {d: first_line.count(d) for d in ",;\t|"}
                delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"'))
    rows = [r for r in rows if r]
    if not rows:
        raise InputFileError(f"{path}: file has no data")
    first = [c.strip() for c in rows[0]]
    has_header = True
    if any(_DATA_LIKE.match(c) for c in first if c):
        try:
            has_header = csv.Sniffer().has_header(sample)
        except csv.Error:
            has_header = False
    if not has_header:
        return Dialect(delimiter, False, [f"column_{i + 1}" for i in range(len(first))])
    trailing = 0
    while len(first) - trailing > 1 and not first[-1 - trailing]:
        trailing += 1
    named = first[: len(first) - trailing]
    taken = {n.casefold() for n in named}
    generated: list[tuple[int, str]] = []
    for i, name in enumerate(named[:1]):
        if not name and len(named) > 1:  # pandas' index column: a name is made up, and said
            made = f"column_{i + 1}"
            while made.casefold() in taken:
                made = f"_{made}"
            taken.add(made.casefold())
            named[i] = made
            generated.append((i + 1, made))
    check_column_names(path, named, line=1)
    placeholders = [f"{TRAILING_PREFIX}{i}" for i in range(trailing)]
    return Dialect(delimiter, True, named + placeholders, trailing, tuple(generated))


def check_column_names(path: Path | str, names: list[str], *, line: int | None = None) -> None:
    where = f"{path}:{line}" if line else f"{path}"
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if not name:
            raise InputFileError(
                f"{where}: column {i} has an empty name", hint="give every column a header"
            )
        if "\x00" in name:
            raise InputFileError(f"{where}: column {i} name contains a NUL character")
        if len(name) > MAX_NAME:
            raise InputFileError(
                f"{where}: column {i} has a name of {len(name):,} characters (at most "
                f"{MAX_NAME}): the first line does not look like a header",
                hint="check the file's first line, or give it a header row",
            )
        key = name.casefold()
        if key in seen:
            raise InputFileError(
                f"{where}: duplicate column name {name!r} (columns {seen[key]} and {i}; "
                "names are case-insensitive)",
                hint="rename one of the columns",
            )
        seen[key] = i
