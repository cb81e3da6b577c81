"""Writing report files: private (0600), inside the chosen directory, never clobbering."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from tutela.base.errors import UsageError


def safe_stem(text: str) -> str:
    """A file-name-safe version of a request id or similar (no separators, no dots first)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80]
    return stem or "report"


def prepare_output_dir(directory: Path) -> Path:
    """Make sure reports can be written there, before anything is changed."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(f"--out {directory} is not a directory") from exc
    except OSError as exc:
        raise UsageError(f"cannot create --out directory {directory}: {exc.strerror}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into --out directory {directory}")
    return directory


def write_private(directory: Path, name: str, content: str) -> Path:
    """Create `directory/name` with mode 0600, never overwriting: an existing name gets a
    numbered sibling (`x-2.json`). `name` may not climb out of `directory`."""
    prepare_output_dir(directory)
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise UsageError(f"report name {name!r} would leave the output directory")
    stem, dot, suffix = target.name.partition(".")
    for n in range(1, 10_000):
        candidate = target if n == 1 else target.with_name(f"{stem}-{n}{dot}{suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        return candidate
    raise UsageError(f"too many reports named {name!r} in {directory}")


def check_target(path: Path, *, force: bool = False) -> None:
    """Refuse an output file that cannot be written, before any work is done."""
    if not path.parent.is_dir():
        raise UsageError(f"directory {path.parent} does not exist")
    if (path.exists() or path.is_symlink()) and not force:
        raise UsageError(f"{path} exists", hint="pass --force to replace it")


def write_private_file(path: Path, content: str, *, force: bool = False) -> Path:
    """Write `path` whole, mode 0600, through a private temporary file in the same
    directory: readers never see half a file, and an existing file (or symlink) is replaced
    only with `force`."""
    check_target(path, force=force)
    fd, name = tempfile.mkstemp(prefix=".tutela-", suffix=".tmp", dir=path.parent)  # 0600
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the name exists: never clobbers
            except FileExistsError:
                raise UsageError(f"{path} exists", hint="pass --force to replace it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path
