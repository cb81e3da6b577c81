"""Writing report files: private (0600), inside the chosen directory, never clobbering."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tutela.errors import UsageError


def safe_stem(text: str) -> str:
    """A file-name-safe version of a request id or similar (no separators, no dots first)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80]
    return stem or "report"


def write_private(directory: Path, name: str, content: str) -> Path:
    """Create `directory/name` with mode 0600; `name` may not climb out of `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise UsageError(f"report name {name!r} would leave the output directory")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    return target
