"""Physical erasure of the workspace file: rewrite the database into a fresh file and swap it
in, then look for leftover bytes.

Deleting or overwriting rows in DuckDB leaves the old values in free blocks of the file
until they are reused; `VACUUM` and `CHECKPOINT` do not clear them. Copying the database
into a new file does: the copy holds only live data. The swap is crash-safe:

1. the caller's transaction commits the change together with a *pending-purge* marker row
   (`_tutela.purge_pending`), so a crash after the commit can never leave residue silently;
2. `CHECKPOINT`, then `COPY FROM DATABASE` into `tutela.duckdb.rewrite`, the marker is
   cleared in the copy, the copy is detached (checkpointed) and fsynced;
3. the connection is closed (no WAL may remain), the copy replaces the database with
   `os.replace`, the directory is fsynced;
4. the old file's blocks, still held open, are overwritten with zeros when no other link to
   them exists, and DuckDB's temporary files (`spill/`) are removed.

A kill before step 3 leaves the old file with its marker: the next command that opens the
workspace for writing redoes the rewrite and says so. A kill after it leaves the new file.

The byte search is the check, not the guarantee (DuckDB compresses strings, so the absence
of a value's bytes alone proves little): it reads every file the engine keeps in the
workspace and reports which of the given values occur in which file.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import signal
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.engine import Connection

REWRITE_SUFFIX = ".rewrite"
SPILL_DIR = "spill"
MIN_NEEDLE_BYTES = 6
"""Shorter values are not searched: six bytes or fewer occur by chance in compressed data."""

_ZERO_BLOCK = 1 << 20
FAULT_ENV = "TUTELA_FAULT"
"""Crash tests only: `TUTELA_FAULT=<stage>` makes the process SIGKILL itself at that stage
of the rewrite (committed, copied, closed, replaced), so each one is tested, not sampled."""


def fault_point(stage: str) -> None:
    if os.environ.get(FAULT_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


class PurgeFailed(Exception):
    """The rewrite could not be completed; the old file (and its marker) are untouched."""


@dataclass(frozen=True)
class RewriteResult:
    size_before: int
    size_after: int
    seconds: float
    old_file_zeroed: bool
    temp_files_removed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "size_before": self.size_before,
            "size_after": self.size_after,
            "seconds": round(self.seconds, 3),
            "old_file_zeroed": self.old_file_zeroed,
            "temp_files_removed": self.temp_files_removed,
        }


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def rewrite_path(db: Path) -> Path:
    return db.with_name(db.name + REWRITE_SUFFIX)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_leftovers(db: Path) -> int:
    """Delete a half-written rewrite (a kill during step 2) and its WAL."""
    n = 0
    for path in (rewrite_path(db), wal_path(rewrite_path(db))):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            n += 1
    return n


def clear_spill(root: Path) -> int:
    """Remove DuckDB's temporary files (only while holding the workspace lock exclusively)."""
    spill = root / SPILL_DIR
    n = 0
    if not spill.is_dir():
        return 0
    for entry in spill.iterdir():
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                _zero_and_unlink(entry)
            n += 1
    return n


def _zero_and_unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            if os.fstat(fd).st_nlink == 1:
                _zero_fd(fd)
        finally:
            os.close(fd)
    path.unlink()


def _zero_fd(fd: int) -> None:
    size = os.fstat(fd).st_size
    block = bytes(_ZERO_BLOCK)
    offset = 0
    while offset < size:
        n = min(_ZERO_BLOCK, size - offset)
        os.pwrite(fd, block[:n], offset)
        offset += n
    os.fsync(fd)


def copy_database(con: Connection, db: Path, clear_tables: Sequence[str]) -> None:
    """Steps 1-2: write the live content of the connection's database into the rewrite
    file, with `clear_tables` emptied in the copy. The connection stays open."""
    from tutela.base.sql import quote_ident, sql_literal

    target = rewrite_path(db)
    remove_leftovers(db)
    catalog = con.execute("SELECT current_database()").fetchone()
    if catalog is None:
        raise PurgeFailed("cannot tell the workspace database's name")
    alias = "_tutela_rewrite"
    con.execute("CHECKPOINT")
    con.execute(f"ATTACH {sql_literal(str(target))} AS {alias}")
    try:
        con.execute(f"COPY FROM DATABASE {quote_ident(str(catalog[0]))} TO {alias}")
        for table in clear_tables:
            con.execute(f"DELETE FROM {alias}.{table}")
    finally:
        con.execute(f"DETACH {alias}")  # checkpoints the copy and closes it
    if wal_path(target).exists():
        raise PurgeFailed(f"{wal_path(target).name} was left after detaching the copy")
    _fsync_path(target)
    fault_point("copied")


def swap(db: Path) -> RewriteResult:
    """Steps 3-4, after the connection to `db` is closed: replace it by the rewrite."""
    start = time.monotonic()
    target = rewrite_path(db)
    if wal_path(db).exists() and wal_path(db).stat().st_size > 0:
        # the WAL belongs to the old file: replayed onto the new one it would corrupt it
        raise PurgeFailed(f"{wal_path(db).name} is not empty after closing the workspace")
    size_before = db.stat().st_size
    fault_point("closed")
    old_fd = os.open(db, os.O_RDWR)
    try:
        os.replace(target, db)
        _fsync_path(db.parent, directory=True)
        fault_point("replaced")
        with contextlib.suppress(FileNotFoundError):
            wal_path(db).unlink()  # an empty WAL of the old file
        zeroed = os.fstat(old_fd).st_nlink == 0  # no other name (a hard-linked backup) left
        if zeroed:
            _zero_fd(old_fd)
    finally:
        os.close(old_fd)
    removed = clear_spill(db.parent)
    return RewriteResult(size_before, db.stat().st_size, time.monotonic() - start, zeroed, removed)


# -- the byte-level check ------------------------------------------------------------------


def engine_files(root: Path, db_name: str) -> list[Path]:
    """Every file the engine keeps in the workspace: the database, its WAL, any rewrite or
    other `tutela.*` file, the lock file, and DuckDB's temporary files (not `keys/`, not
    reports a user chose to write there)."""
    files = sorted(p for p in root.glob(f"{db_name}*") if p.is_file())
    lock = root / "tutela.lock"
    if lock.is_file() and lock not in files:
        files.append(lock)
    spill = root / SPILL_DIR
    if spill.is_dir():
        files += sorted(p for p in spill.rglob("*") if p.is_file() and not p.is_symlink())
    return files


def needle_bytes(values: Iterable[str]) -> tuple[list[bytes], int]:
    """The UTF-8 forms to search (as stored, and lower-cased), and how many values were too
    short to search. DuckDB stores every string as UTF-8, whatever the source encoding."""
    out: set[bytes] = set()
    short = 0
    for value in values:
        raw = value.encode("utf-8")
        low = value.lower().encode("utf-8")
        if len(raw) >= MIN_NEEDLE_BYTES:
            out.add(raw)
        if len(low) >= MIN_NEEDLE_BYTES:
            out.add(low)
        elif len(raw) < MIN_NEEDLE_BYTES:
            short += 1
    return list(out), short


@dataclass
class ByteSearch:
    files: list[str]
    searched: int
    found: dict[bytes, list[str]] = field(default_factory=dict)
    """needle -> files (relative to the workspace) where its bytes occur"""


def search_bytes(root: Path, files: Sequence[Path], needles: Sequence[bytes]) -> ByteSearch:
    """One Aho-Corasick pass over each file (memory-mapped) for every needle at once."""
    import ahocorasick_rs

    result = ByteSearch([str(p.relative_to(root)) for p in files], len(needles))
    if not needles:
        return result
    automaton = ahocorasick_rs.BytesAhoCorasick(list(needles))
    for path in files:
        try:
            size = path.stat().st_size
            if size == 0:
                continue
            with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                hits = {i for i, _, _ in automaton.find_matches_as_indexes(mm, overlapping=True)}
        except (OSError, ValueError):
            continue  # gone meanwhile (a temp file): nothing left to read
        for i in hits:
            result.found.setdefault(needles[i], []).append(str(path.relative_to(root)))
    return result
