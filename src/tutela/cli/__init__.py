"""The command-line layer: parse options, call the core once, render, return an exit code."""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point. Importing the app (DuckDB, pydantic, presidio's helpers)
    takes a while: Ctrl-C during it is an interruption like any other, not a traceback."""
    try:
        from tutela.cli.app import app
    except KeyboardInterrupt:
        sys.stderr.write("error[interrupted]: interrupted while starting; nothing was done\n")
        sys.exit(130)
    app()
