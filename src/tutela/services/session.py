"""Where a service finds its workspace: the directory, the command for the lock file, notices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutela.workspace import Workspace

Notify = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default listener: notices are dropped (library use without a terminal)."""


@dataclass(frozen=True)
class Session:
    """How a command reaches its workspace. `notify` hears warnings a caller should show
    (an interrupted earlier purge); the core never prints them itself."""

    workspace: Path | None = None
    command: str = "tutela"
    notify: Notify = field(default=_quiet, compare=False)

    def open(self, *, create: bool = False, read_only: bool = False) -> Workspace:
        """The workspace, open (use it as a context manager); notices go to `notify`."""
        from tutela.sources import stored
        from tutela.workspace import Workspace

        ws = Workspace.open(
            self.workspace, create=create, read_only=read_only, command=self.command
        )
        try:
            if stored(ws.con):  # only then (start-up): live.py and lake.py cost a tenth of a second
                import tutela.live  # noqa: F401  # registers the attachment kinds (its own and the lake's)
        except BaseException:  # the caller never gets the workspace to close
            ws.close()
            raise
        notice = purge_notice(ws)
        if notice:
            self.notify(notice)
        return ws


def purge_notice(ws: Workspace) -> str | None:
    """What to say when opening completed, or could not complete, an earlier purge."""
    if ws.resumed_purge is not None:
        return (
            "an earlier command ("
            + ", ".join(ws.resumed_purge.commands)
            + ") committed its change but was interrupted before rewriting the workspace "
            "file; the rewrite was completed now, so no old value is left in it"
        )
    if ws.pending_purge:
        return (
            "an earlier command ("
            + ", ".join(ws.pending_purge)
            + ") committed its change but the workspace file is not rewritten yet, so old "
            "values may remain in its free blocks"
            + (f" ({ws.purge_error})" if ws.purge_error else "")
            + "; the next command that writes to the workspace completes it"
        )
    return None
