"""The TutelaError tree: every failure a user can cause, with a stable slug and an exit code."""

from __future__ import annotations

import errno
import re
from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    FINDINGS = 1  # personal data found / policy violations / verification residue
    USAGE = 2  # bad command line
    INVALID_CONFIG = 3  # invalid policy, configuration or key
    DATA = 4  # bad input data or an engine failure
    INTERRUPTED = 130


class TutelaError(Exception):
    """Base of every error the core raises on purpose; the CLI prints `error[slug]: message`."""

    slug = "error"
    exit_code = ExitCode.DATA

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(TutelaError):
    slug = "usage"
    exit_code = ExitCode.USAGE


class WorkspaceError(TutelaError):
    slug = "workspace"
    exit_code = ExitCode.DATA


class WorkspaceLockedError(WorkspaceError):
    slug = "workspace-locked"


class WorkspaceDamagedError(WorkspaceError):
    """The workspace database file fails its own checksums: it was damaged on disk."""

    slug = "workspace-damaged"


class NoSpaceError(TutelaError):
    """A write failed because the device (or a file-size limit) is full."""

    slug = "no-space"
    exit_code = ExitCode.DATA


class InterruptedByUser(TutelaError):
    """Ctrl-C (SIGINT): whatever transaction was open has been rolled back."""

    slug = "interrupted"
    exit_code = ExitCode.INTERRUPTED


class InternalError(TutelaError):
    """Anything not foreseen. Its message never quotes the original one (it may hold data)."""

    slug = "internal"
    exit_code = ExitCode.DATA


class PurgeError(WorkspaceError):
    """A change was committed but the workspace file could not be rewritten yet."""

    slug = "purge-failed"


class InputFileError(TutelaError):
    """A file given on the command line cannot be read or parsed."""

    slug = "input"
    exit_code = ExitCode.DATA


class TableNotFoundError(TutelaError):
    slug = "no-such-table"
    exit_code = ExitCode.USAGE


class TableExistsError(TutelaError):
    slug = "table-exists"
    exit_code = ExitCode.DATA


class EngineError(TutelaError):
    """DuckDB failed in a way the input does not explain."""

    slug = "engine"
    exit_code = ExitCode.DATA


class ConfigError(TutelaError):
    slug = "config"
    exit_code = ExitCode.INVALID_CONFIG


class PolicyError(TutelaError):
    slug = "policy"
    exit_code = ExitCode.INVALID_CONFIG


class KeyMaterialError(TutelaError):
    slug = "key"
    exit_code = ExitCode.INVALID_CONFIG


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from or while handling, innermost last."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_interrupt(error: BaseException) -> bool:
    if isinstance(error, KeyboardInterrupt):
        return True
    # DuckDB turns SIGINT during a query into a plain RuntimeError("Query interrupted"), or
    # an InterruptException from `con.interrupt()`; neither is a KeyboardInterrupt.
    if type(error).__name__ == "InterruptException":
        return True
    return isinstance(error, RuntimeError) and str(error).startswith("Query interrupted")


_NO_SPACE = re.compile(r"no space left on device|disk quota exceeded|file too large", re.I)
_QUOTED_PATH = re.compile(r"""["'](/[^"']+)["']""")
_DAMAGED = re.compile(
    r"Corrupt database file|does not match stored checksum|not a valid DuckDB database file"
)


def _no_space(error: BaseException) -> NoSpaceError | None:
    where: str | None = None
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        where = error.filename if isinstance(error.filename, str) else None
    elif error.__class__.__module__.startswith(("duckdb", "_duckdb")) and _NO_SPACE.search(
        str(error)
    ):
        found = _QUOTED_PATH.search(str(error))
        where = found.group(1) if found else None
    else:
        return None
    return NoSpaceError(
        "no space left on device"
        + (f" while writing {where}" if where else "")
        + "; nothing was committed",
        hint="free some space (or move the workspace with --workspace) and run the command again",
    )


def classify(error: BaseException, *, database: str | None = None) -> TutelaError:
    """Any exception as the TutelaError a user should see (the one handler's mapping).

    `database` names the workspace file, for damage DuckDB reports without a path.
    """
    if isinstance(error, InterruptedByUser | NoSpaceError | WorkspaceDamagedError):
        return error  # already said precisely by the core
    chain = _chain(error)
    if any(_is_interrupt(e) for e in chain):
        return InterruptedByUser("interrupted; nothing was committed by the step in progress")
    for e in chain:
        full = _no_space(e)
        if full is not None:
            return full
    if isinstance(error, InputFileError | WorkspaceDamagedError):  # already as precise
        return error
    for e in chain:
        if e.__class__.__module__.startswith(("duckdb", "_duckdb")) and _DAMAGED.search(str(e)):
            return WorkspaceDamagedError(
                f"the workspace database {database or 'file'} is damaged "
                "(its blocks fail DuckDB's checksums)",
                hint="restore the workspace directory from a backup; "
                "commands that read the damaged blocks cannot work until then",
            )
    if isinstance(error, TutelaError):
        return error
    # The message of an unexpected error may quote data values: show only its type.
    return InternalError(
        f"unexpected {type(error).__name__}; nothing was committed",
        hint="rerun with --debug for the traceback, and please report it",
    )


def exit_code_for(error: BaseException) -> ExitCode:
    """The one mapping from an exception to a process exit code."""
    return classify(error).exit_code
