"""The workspace lock file: one writer or many readers, and who holds it.

DuckDB's own file lock is not enough: rewriting the database into a fresh file (see
`purge.py`) closes and reopens the connection, and in that window DuckDB holds no lock.
`tutela.lock` is held with `flock` for the whole command: exclusive for a command that
writes, shared for one that only reads. The kernel drops it when the process dies, even
by SIGKILL, so a crash never leaves a stale lock behind.

The holder writes its command name, pid and start time into the file, so a command that
finds the workspace busy can say which command holds it. Only command names are written
(never arguments: they may hold an e-mail address).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: DuckDB's own file lock only
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "tutela.lock"
_POLL = 0.1


@dataclass(frozen=True)
class Holder:
    """What the lock file says about the command holding it (best effort)."""

    command: str
    pid: int
    since: str

    def describe(self) -> str:
        return f"`{self.command}` (pid {self.pid}, since {self.since})"


class LockBusy(Exception):
    """The lock could not be taken in time; `holder` is who has it, when known."""

    def __init__(self, holder: Holder | None) -> None:
        super().__init__("workspace lock busy")
        self.holder = holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(root: Path) -> Holder | None:
    """The holder recorded in the lock file, if it names a live process."""
    try:
        data = json.loads((root / LOCK_FILE).read_text(encoding="utf-8") or "null")
        holder = Holder(str(data["command"]), int(data["pid"]), str(data["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return holder if _alive(holder.pid) else None


class WorkspaceLock:
    """`flock` on `<workspace>/tutela.lock`; released by `release()` or process death."""

    def __init__(self, root: Path, fd: int | None, exclusive: bool) -> None:
        self.root = root
        self._fd = fd
        self.exclusive = exclusive

    @classmethod
    def acquire(
        cls, root: Path, *, exclusive: bool, command: str, wait_seconds: float
    ) -> WorkspaceLock:
        """Take the lock, waiting up to `wait_seconds`; raises LockBusy with the holder."""
        path = root / LOCK_FILE
        fd: int | None
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            if exclusive:
                raise
            try:  # a read-only directory: still share a lock file that exists
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return cls(root, None, exclusive)  # nothing to lock: reads only
        if fcntl is None:
            return cls(root, fd, exclusive)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = read_holder(root)
                    os.close(fd)
                    raise LockBusy(holder) from None
                time.sleep(_POLL)
        lock = cls(root, fd, exclusive)
        lock._record(command)
        return lock

    def _record(self, command: str) -> None:
        """Write who holds the lock. A reader does not overwrite a live reader's name."""
        if self._fd is None:
            return
        if not self.exclusive and read_holder(self.root) is not None:
            return
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        body = json.dumps({"command": command, "pid": os.getpid(), "since": since})
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, body.encode("utf-8"), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            if self.exclusive:  # nobody else holds it: leave no stale name behind
                os.ftruncate(fd, 0)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
