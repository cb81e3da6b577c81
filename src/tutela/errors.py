"""The TutelaError tree: every failure a user can cause, with a stable slug and an exit code."""

from __future__ import annotations

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


def exit_code_for(error: BaseException) -> ExitCode:
    """The one mapping from an exception to a process exit code."""
    if isinstance(error, TutelaError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.DATA
