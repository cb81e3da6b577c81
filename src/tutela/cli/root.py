"""The one error handler: every failure, at any point of a command, becomes one line.

`error[slug]: message` on stderr with the exit code `errors.exit_code_for` gives it: usage
errors from the command line (exit 2), TutelaErrors, interrupts (Ctrl-C, also when DuckDB
reports it as "Query interrupted"; exit 130), a full disk, a damaged workspace file, and
anything unforeseen (exit 4, the type only: its message may quote personal data).
Tracebacks only with --debug. It wraps the root command, so `tutela ...` and tests that
invoke the Typer app through typer.testing.CliRunner go through the same path.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

import tutela.cli.overview as overview
from tutela.base.errors import ExitCode, InterruptedByUser, TutelaError, classify, exit_code_for
from tutela.cli.coercion import install as install_coercion

# Global options that may also be given after the subcommand (`tutela tables -w ws`).
_GLOBAL_WITH_VALUE = ("-w", "--workspace")
_GLOBAL_FLAGS = ("--debug",)


def hoist_global_options(args: Sequence[str], commands: Sequence[str]) -> list[str]:
    """Move `-w/--workspace X` and `--debug` given after the subcommand in front of it.

    Only before a `--`, and only where the token is an option of its own (no subcommand
    defines `-w`, `--workspace` or `--debug`)."""
    args = list(args)
    first = next((i for i, a in enumerate(args) if a in commands), None)
    if first is None:
        return args
    head, tail = args[:first], args[first:]
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(tail):
        token = tail[i]
        if token == "--":
            rest += tail[i:]
            break
        if token in _GLOBAL_WITH_VALUE and i + 1 < len(tail):
            moved += tail[i : i + 2]
            i += 2
            continue
        if token.startswith("--workspace=") or token in _GLOBAL_FLAGS:
            moved.append(token)
        else:
            rest.append(token)
        i += 1
    return head + moved + rest


def _print(error: TutelaError) -> None:
    from tutela.cli.output import print_error

    print_error(error.slug, error.message, error.hint)


def _usage_message(exc: Any) -> str:
    message = str(exc.format_message()).strip()
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return f"{path}: {message}" if path else message


def _type_label(param: Any, ctx: Any) -> str | None:
    """What --help shows as a parameter's type: nothing for a flag, the element type for a
    list (the name already says `paths...`), else Typer's own label (`<path>`, `<int>`)."""
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        return None
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and getattr(descriptor, "is_list", False):
        from typing import get_args

        args = get_args(getattr(descriptor, "annotation", None))
        element = args[0] if args else str
        name = getattr(element, "__name__", "value").lower()
        return f"<{'path' if name.endswith('path') else name}>"
    label = type(param).display_type_rich(param, ctx)
    return str(label) if label is not None else None


def _tidy_help(command: Any) -> None:
    """No `<bool>` or `<list[Path]>` placeholders in --help, for every command; Enum and Path
    options checked without importing pydantic (cli/coercion.py)."""
    for param in getattr(command, "params", []):
        install_coercion(param)
        if hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx, _p=param: _type_label(_p, ctx)
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:  # --help itself is made per invocation

        def get_help_option(ctx: Any, _make: Any = make_help) -> Any:
            option = _make(ctx)
            if option is not None:
                install_coercion(option)
            if option is not None and hasattr(option, "display_type_rich"):
                option.display_type_rich = lambda ctx, _p=option: _type_label(_p, ctx)
            return option

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


@dataclass(frozen=True)
class Lazy:
    """A command (or group of commands) imported only when it runs or its help is shown:
    `tutela tables` need not import presidio, pydantic models or the report renderer."""

    module: str
    attribute: str  # a command function or a Typer app (a group of commands)
    help: str  # the line `tutela --help` shows: the command's own (tests/test_cli_startup.py)


class RootGroup(TyperGroup):
    """The `tutela` group, with the one error handler around parsing and every command."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        _tidy_help(self)

    def list_commands(self, ctx: Any) -> list[str]:
        eager = super().list_commands(ctx)
        return [*eager, *(name for name in self.lazy if name not in eager)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        if self._listing:  # the overview: one line each, nothing imported
            return TyperCommand(cmd_name, help=self.lazy[cmd_name].help)
        command = _load(cmd_name, self.lazy[cmd_name])
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            if self.rich_markup_mode == "rich" and overview.supports(self, ctx):
                overview.print_help(self, ctx)  # as Typer draws it, without typer.rich_utils
            else:
                super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # click usage errors are handled in main(), once
            if _is_click_error(exc):
                raise
            self._fail(exc, debug=_debug(ctx), ctx=ctx)
        except KeyboardInterrupt as exc:
            self._fail(exc, debug=_debug(ctx), ctx=ctx)

    def _fail(self, exc: BaseException, *, debug: bool, ctx: Any) -> None:
        error = classify(exc, database=_database(ctx))
        if debug and not isinstance(error, InterruptedByUser):
            raise exc  # the traceback (Typer shows it, without locals)
        if isinstance(exc, BrokenPipeError):  # `tutela ... | head`: the reader has gone
            raise typer.Exit(int(ExitCode.OK)) from None
        _print(error)
        raise typer.Exit(int(exit_code_for(error))) from None

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        argv = hoist_global_options(argv, [*self.commands, *self.lazy])
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            code = code if isinstance(code, int) else 0
        except Exception as exc:
            code = _cli_error(exc)
        except KeyboardInterrupt as exc:  # while parsing the command line
            error = classify(exc)
            _print(error)
            code = int(exit_code_for(error))
        if standalone_mode:
            sys.exit(code)
        return code


def _load(name: str, entry: Lazy) -> Any:
    """The click command for a lazy entry, built as `app.command(name)` or `app.add_typer`
    would have built it."""
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    holder = typer.Typer(rich_markup_mode="rich", add_completion=False)

    @holder.callback()
    def _holder() -> None:  # a group, so that the one command is not collapsed into it
        pass

    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    command = typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    _tidy_help(command)
    return command


def _cli_error(exc: Exception) -> int:
    """Typer/click errors (and Abort) as one `error[...]` line; anything else re-raised."""
    name = type(exc).__name__
    if not _is_click_error(exc):
        raise exc
    if name == "NoArgsIsHelpError":  # the help has been printed already
        return int(ExitCode.USAGE)
    if name == "Abort":
        error = classify(exc.__context__ or KeyboardInterrupt())
        _print(error)
        return int(exit_code_for(error))
    if name == "FileError":  # a file given on the command line cannot be opened
        from tutela.base.errors import InputFileError

        file_error = InputFileError(_usage_message(exc))
        _print(file_error)
        return int(exit_code_for(file_error))
    from tutela.base.errors import UsageError

    usage = UsageError(_usage_message(exc))
    _print(usage)
    return int(exit_code_for(usage))


def _is_click_error(exc: BaseException) -> bool:
    """Errors of Typer's bundled click (or click itself): usage errors, Abort."""
    return type(exc).__module__.split(".")[0] in ("typer", "click")


def _debug(ctx: Any) -> bool:
    from tutela.cli.options import state

    return state(ctx).debug


def _database(ctx: Any) -> str | None:
    from tutela.cli.options import state
    from tutela.workspace import DB_FILE, resolve_workspace

    return str(resolve_workspace(state(ctx).workspace) / DB_FILE)
