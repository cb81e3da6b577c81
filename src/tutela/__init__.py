"""Tutela: a command-line data-governance toolkit over an embedded DuckDB workspace."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`tutela.__version__`, read from the installed metadata when first asked for
    (importlib.metadata costs a tenth of a second at every start-up otherwise)."""
    if name != "__version__":
        raise AttributeError(f"module 'tutela' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("tutela")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
