"""The detector registry: every detector takes the same `Evidence` and proposes nothing for
a column whose values matched no shape (only evidence makes a candidate)."""

from __future__ import annotations

import tutela.detect.headers as H
from tutela.detect.detectors import DETECTORS
from tutela.detect.evidence import Column, Evidence


def _column(name: str, stats: dict[str, int | float | None]) -> Column:
    return Column(0, name, "VARCHAR", H.header_hints(name), "text", stats=stats)


def test_no_shape_no_candidate() -> None:
    for header in ("c7", "email", "phone", "dni", "fecha_nacimiento", "nombre", "cookie_id"):
        ev = Evidence(_column(header, {"nn": 100}), 100, [("x", None)] * 3, negative=False)
        for detector in DETECTORS:
            assert detector(ev) == [], (header, detector.__name__)


def test_a_counted_shape_is_proposed() -> None:
    ev = Evidence(_column("contact", {"nn": 100, "email": 98}), 100, [], negative=False)
    found = [c for d in DETECTORS for c in d(ev)]
    assert [(c.entity, c.matched) for c in found] == [("EMAIL_ADDRESS", 98)]
