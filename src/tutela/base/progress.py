"""The progress callback type the core reports through; the CLI decides how to draw it."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[str, float], None]
"""Called with a label and a fraction in [0, 1]."""


def no_progress(label: str, fraction: float) -> None:
    """The default callback: report nothing."""
