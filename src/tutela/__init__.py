"""Tutela: a command-line data-governance toolkit over an embedded DuckDB workspace."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tutela")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
