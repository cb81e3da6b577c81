"""`tutela --help` drawn as Typer draws it, without importing `typer.rich_utils`.

That module imports Rich's Markdown (markdown-it), Syntax (Pygments), Traceback and Pretty at
its top, for features the overview never uses: a fifth of `tutela --help`'s start-up. This
draws the same panels with the parts of Rich they need, following `rich_format_help` of
Typer 0.2x (MIT licence), for the shape of the root group only: options and commands, no
arguments, custom panels, deprecations, ranges, required options or epilog. `supports`
says when that holds; otherwise (and once `typer.rich_utils` is imported anyway) the caller
uses Typer's own. tests/cli/test_overview.py compares both outputs byte for byte.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterable
from typing import Any

# Typer's styles (typer/rich_utils.py)
_THEME = {
    "option": "bold cyan",
    "switch": "bold green",
    "negative_option": "bold magenta",
    "negative_switch": "bold red",
    "types": "bold yellow",
    "types_sep": "dim",
    "usage": "yellow",
}


def supports(group: Any, ctx: Any) -> bool:
    """Whether the overview of `group` has only what this module draws."""
    if "typer.rich_utils" in sys.modules or group.epilog or group.deprecated:
        return False
    for param in group.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if type(param).__name__ != "TyperOption" or getattr(param, "rich_help_panel", None):
            return False
        if param.required or param.secondary_opts or param._get_number_range_help_str():
            return False
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        if command.deprecated or getattr(command, "rich_help_panel", None):
            return False
    return True


def print_help(group: Any, ctx: Any) -> None:
    """Print the overview of `group` (check `supports` first) to stdout."""
    from rich.align import Align
    from rich.console import Console
    from rich.console import group as render_group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.text import Text
    from rich.theme import Theme

    highlight = _highlighters()
    force = os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS")
    width = os.getenv("TERMINAL_WIDTH")
    console = Console(
        theme=Theme(_THEME),
        highlighter=highlight["option"],
        color_system="auto",
        force_terminal=False if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL") else bool(force) or None,
        width=int(width) if width else None,
    )

    def rich_text(text: str, style: str = "") -> Text:
        text = inspect.cleandoc(text)
        ansi = "\033[" in text
        made = Text.from_ansi(text, style=style) if ansi else Text.from_markup(text, style=style)
        highlighted: Text = highlight["option"](made)
        return highlighted

    console.print(Padding(highlight["option"](group.get_usage(ctx)), 1), style="bold")
    if group.help:

        @render_group()
        def help_text() -> Iterable[Text]:
            first, *rest = inspect.cleandoc(group.help).partition("\f")[0].split("\n\n")
            if not first.startswith("\b"):
                first = first.replace("\n", " ")
            yield rich_text(first.strip())
            if rest:
                yield Text("")
                yield rich_text("\n\n".join(rest), style="dim")

        console.print(Padding(Align(help_text(), pad=False), (0, 1, 1, 1)))

    options = _table(highlight=True)
    for param in group.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        types = Text(style="bold yellow", overflow="fold")
        shown = param.display_type_rich(ctx=ctx)
        if shown is not None:
            types.append(shown)
        options.add_row(
            highlight["option"](",".join(o for o in param.opts if "--" in o)),
            highlight["option"](",".join(o for o in param.opts if "--" not in o)),
            highlight["negative"](""),
            highlight["negative"](""),
            highlight["types"](types),
            _parameter_help(param, ctx, rich_text),
        )
    if options.row_count:
        console.print(Panel(options, border_style="dim", title="Options", title_align="left"))

    commands = [group.get_command(ctx, name) for name in group.list_commands(ctx)]
    shown_commands = [c for c in commands if c is not None and not c.hidden]
    table = _table(highlight=False)
    width_of_names = max((len(c.name or "") for c in shown_commands), default=0)
    table.add_column(style="bold cyan", no_wrap=True, width=width_of_names)
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for command in shown_commands:
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        if first.startswith("\b"):
            first = first.replace("\b\n", "")
        table.add_row(Text(command.name or ""), rich_text(first.strip()))
    if table.row_count:
        console.print(Panel(table, border_style="dim", title="Commands", title_align="left"))


def _table(*, highlight: bool) -> Any:
    """A panel's table, as Typer's options and commands tables."""
    from rich.table import Table

    return Table(
        highlight=highlight,
        show_header=False,
        expand=True,
        box=None,
        show_lines=False,
        leading=0,
        border_style=None,
        row_styles=None,
        pad_edge=False,
        padding=(0, 1),
    )


def _parameter_help(param: Any, ctx: Any, rich_text: Any) -> Any:
    """One option's help, its environment variable and its default (Typer's
    `_get_parameter_help`)."""
    from rich.columns import Columns
    from rich.text import Text

    items = []
    envvar = getattr(param, "envvar", None)
    if envvar is None and getattr(param, "allow_from_autoenv", None):
        prefix = getattr(ctx, "auto_envvar_prefix", None)
        if prefix is not None and param.name:
            envvar = f"{prefix}_{param.name.upper()}"
    if param.help:
        paragraphs = [
            p.replace("\n", " ").strip() if not p.startswith("\b") else p.strip("\b\n") + "\n"
            for p in param.help.split("\n\n")
        ]
        items.append(rich_text("\n".join(paragraphs).strip()))
    if envvar and getattr(param, "show_envvar", None):
        names = envvar if isinstance(envvar, str) else ", ".join(str(d) for d in envvar)
        items.append(Text(f"[env var: {names}]", style="dim yellow"))
    default_value = param._extract_default_help_str(ctx=ctx)
    default_is_str = isinstance(param.show_default, str)
    if default_is_str or (default_value is not None and (param.show_default or ctx.show_default)):
        default = param._get_default_string(
            ctx=ctx, show_default_is_str=default_is_str, default_value=default_value
        )
        if default:
            items.append(Text(f"[default: {default}]", style="dim"))
    return Columns(items)


def _highlighters() -> dict[str, Any]:
    """Typer's option, negative-option and type highlighters."""
    from rich.highlighter import RegexHighlighter

    class Option(RegexHighlighter):
        highlights = [  # noqa: RUF012  # Rich's own attribute
            r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
            r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
            r"(?P<types>\<[^\>]+\>)",
            r"(?P<usage>Usage: )",
        ]

    class Negative(RegexHighlighter):
        highlights = [  # noqa: RUF012
            r"(^|\W)(?P<negative_switch>\-\w+)(?![a-zA-Z0-9])",
            r"(^|\W)(?P<negative_option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        ]

    class Types(RegexHighlighter):
        highlights = [  # noqa: RUF012
            r"^(?P<types_sep>(\[|<))",
            r"(?P<types_sep>\|)",
            r"(?P<types_sep>(\]|>))(\.\.\.)?$",
        ]

    return {"option": Option(), "negative": Negative(), "types": Types()}
