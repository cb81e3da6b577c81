"""What every detector sees of one column (`Evidence`) and what it proposes (`Candidate`).

A detector is a function `(Evidence) -> list[Candidate]` listed in
`tutela.detect.detectors.DETECTORS`. It reads the column's header hints (`ev.col.hints`),
the counts the one aggregate query computed over every row (`ev.stat(metric)`, the value
shapes of `tutela.detect.shapes`), and a bounded sample of distinct values with the row's
country (`ev.samples`), and proposes candidates; the engine picks the finding among them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tutela.detect.headers as H
from tutela.base.identifiers import Strength
from tutela.detect.validators import IdentifierSpec, compact

MAX_VALIDATE = 2000
MAJORITY = 0.5
SPARSE_SHARE = 0.05  # a column where this share of values is personal data is reported
GIVE_UP_AFTER = 100
GATE_VALUES = 1000  # sampled values the gate looks at

Sample = list[tuple[str, str | None]]
"""Sampled non-empty values with the row's country (None when unknown)."""


@dataclass
class Column:
    index: int
    name: str
    data_type: str
    hints: list[H.HeaderHint]
    mode: str  # "text", "temporal", "nested" or "skip"
    skip_reason: str | None = None
    stats: dict[str, int | float | None] = field(default_factory=dict)
    sample: list[tuple[str, str | None]] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    """the shapes counted over every row"""
    sampled_share: dict[str, float] = field(default_factory=dict)
    """shape -> the share of the gate's sampled values it matches"""
    validity: dict[str, tuple[int, int]] = field(default_factory=dict)
    """identifier spec code -> (valid, checked) over the sample"""
    mixed_bound: dict[str, float] = field(default_factory=dict)
    """entity -> the share of sampled values valid under any of its national forms"""
    named: tuple[IdentifierSpec, ...] = ()  # identifier specs the header names
    placeholders: bool = False  # the sample held placeholder strings: count them as missing

    def hint(self, kind: str) -> H.HeaderHint | None:
        return H.hint_for(self.hints, kind)

    def strength(self, *kinds: str) -> float:
        return max((h.strength for h in self.hints if h.kind in kinds), default=0.0)


@dataclass
class Candidate:
    entity: str
    subtype: str | None
    fraction: float
    quality: float
    header: float
    matched: int
    evidence: dict[str, Any]
    pattern: re.Pattern[str] | None = None  # to pick masked examples from the sample
    validator: Any = None
    sparse_ok: bool = False  # specific enough to count in a small share of values

    @property
    def confidence(self) -> float:
        value = min(1.0, self.fraction) * self.quality
        return round(min(0.99, 1 - (1 - value) * (1 - 0.5 * self.header)), 2)


def stat(col: Column, metric: str) -> int:
    value = col.stats.get(metric) or 0
    return int(value)


def may_count(col: Column, spec: IdentifierSpec) -> bool:
    """Whether `spec` can be a candidate in this column (see `detectors.identifiers`)."""
    if not (spec.needs_hint or spec.strength is Strength.NONE):
        return True
    if spec in col.named:
        return True
    named_personal = any(s.personal for s in col.named)
    return not named_personal and spec.entity is not None and col.hint(spec.entity) is not None


def validate_sample(
    sample: list[tuple[str, str | None]],
    shape: re.Pattern[str],
    check: Any,
    *,
    on_compact: bool,
    give_up_below: float | None = None,
) -> tuple[int, int, list[str]]:
    """(valid, checked, valid examples) over distinct shape-matching sampled values.

    With `give_up_below`, checking stops after `GIVE_UP_AFTER` values when fewer than that
    share are valid: the candidate cannot win, and a weak checksum passed by one random
    number in ten need not be run two thousand times to say so.
    """
    seen: dict[str, str | None] = {}
    for value, country in sample:
        key = compact(value) if on_compact else value.strip()
        if shape.search(key) and value not in seen:
            seen[value] = country
            if len(seen) >= MAX_VALIDATE:
                break
    valid = checked = 0
    examples: list[str] = []
    for value, country in seen.items():
        checked += 1
        if check(value, country):
            valid += 1
            if len(examples) < 3:
                examples.append(value)
        stop = give_up_below is not None and checked == GIVE_UP_AFTER
        if stop and valid < (give_up_below or 0.0) * checked:
            break
    return valid, checked, examples


@dataclass(frozen=True)
class Evidence:
    """One column as a detector sees it."""

    col: Column
    nn: int
    """Non-empty values in the whole column (never 0: empty columns reach no detector)."""
    samples: Sample
    negative: bool
    """The header names something that is not personal data (`product_name`)."""

    def stat(self, metric: str) -> int:
        """A count over every row (`nn`, `email`, an identifier's shape ...), 0 if absent."""
        return stat(self.col, metric)

    def frac(self, metric: str) -> float:
        return self.stat(metric) / self.nn

    def simple(
        self,
        entity: str,
        metric: str,
        quality: float,
        subtype: str | None = None,
        pattern: str | None = None,
        header: float | None = None,
        sparse_ok: bool = False,
    ) -> list[Candidate]:
        """The candidate of a shape counted in SQL that needs no further check."""
        count = self.stat(metric)
        if not count:
            return []
        return [
            Candidate(
                entity,
                subtype,
                count / self.nn,
                quality,
                self.col.strength(entity) if header is None else header,
                count,
                {"value_pattern": {metric: round(count / self.nn, 4)}},
                re.compile(pattern) if pattern else None,
                sparse_ok=sparse_ok,
            )
        ]


Detector = Callable[[Evidence], list[Candidate]]
