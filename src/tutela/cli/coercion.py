"""Option values checked without pydantic, for the plain kinds most commands use.

Typer (0.2x) checks every option's value through a pydantic `TypeAdapter` it builds on first
use, even for an option not given; importing pydantic for that was the largest single cost
of `tutela tables`' start-up. For a choice of an `Enum` (`--format`), a `Path`
(`--workspace`) and a flag this does the same checks with Typer's own functions (the ones
its adapters call), so values, defaults and error messages are unchanged. Anything else
(lists, bounded numbers, custom parsers, a flag given a string) keeps Typer's adapter. With
a Typer without these internals (older ones used click's types), nothing is changed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # Typer's internals as of 0.2x; an older or newer layout simply keeps Typer's own way
    from typer._click.exceptions import BadParameter
    from typer._click.utils import _escape_control_characters
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path
except ImportError:  # pragma: no cover - depends on the installed Typer
    RuntimeParam = None  # type: ignore[assignment,misc]


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _Choice(RuntimeParam):
        """An Enum option: what Typer's choice adapter does (`coerce_cli_choice`)."""

        choices: tuple[Any, ...]
        case_sensitive: bool

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return coerce_cli_choice(
                    value, choices=self.choices, case_sensitive=self.case_sensitive, ctx=ctx
                )
            except ValueError as exc:  # pydantic would report it as "Value error, ..."
                message = _escape_control_characters(f"Value error, {exc}")  # as get_error_msg
                raise BadParameter(message, ctx=ctx, param=param) from exc

    @dataclass(frozen=True)
    class _Path(RuntimeParam):
        """A Path option: what Typer's path adapter does (`coerce_cli_path`), the string
        turned into a Path first (what pydantic's Path validation does with a string)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if isinstance(value, str):
                value = Path(value)
            elif not isinstance(value, Path):  # bytes, a PathLike: Typer's own way
                descriptor = param.type_descriptor
                return build_runtime_param(descriptor)._coerce_value(value, param, ctx)
            return coerce_cli_path(value, self.parameter_info, path_type=Path, param=param, ctx=ctx)

    @dataclass(frozen=True)
    class _Bool(RuntimeParam):
        """A flag: a bool is kept as it is (Typer does the same for a flag's own value);
        anything else (`--flag=yes`, an environment variable) goes to Typer's adapter. The
        check is built on first use even when the value is absent (--help when not given)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if isinstance(value, bool):
                return value
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)


def install(param: Any) -> None:
    """Give a Typer parameter the pydantic-free check when its kind is one of those."""
    if RuntimeParam is None or getattr(param, "_runtime_param", "absent") is not None:
        return
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.is_list or descriptor.is_tuple or descriptor.is_file:
        return
    info = descriptor.parameter_info
    if info.parser is not None:
        return
    annotation = descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        choices = descriptor.choices
        if choices is not None:
            param._runtime_param = _Choice(
                info, annotation, tuple(choices), descriptor.case_sensitive
            )
    elif annotation is bool:
        param._runtime_param = _Bool(info, annotation)
    elif annotation is Path and info.path_type in (None, Path) and descriptor.is_path:
        param._runtime_param = _Path(info, annotation)
