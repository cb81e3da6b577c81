"""National identifiers, tax ids and IBANs (shape over every row, checksum over the
sampled distinct values), one entity written in several national forms, and passports.

The identifier specs themselves (shape, checksum, header words, free-text context) live in
`tutela.base.identifiers`: a new national identifier is a spec there, not a detector.
"""

from __future__ import annotations

import functools
import re

import tutela.detect.patterns as P
import tutela.detect.shapes as S
from tutela.base.identifiers import Holder, Strength
from tutela.detect.evidence import (
    MAJORITY,
    MAX_VALIDATE,
    SPARSE_SHARE,
    Candidate,
    Column,
    Evidence,
    Sample,
    may_count,
    stat,
    validate_sample,
)
from tutela.detect.validators import ID_SPECS, TAX_FORM_OF, IdentifierSpec, compact


def national_ids(ev: Evidence) -> list[Candidate]:
    """One candidate per identifier spec whose shape is common enough in the column."""
    col, nn, samples = ev.col, ev.nn, ev.samples
    out: list[Candidate] = []
    for spec in ID_SPECS:
        metric = S.id_metric(spec)
        shape_count = stat(col, metric)
        if _left_out(col, metric):  # a losing candidate still: its share from the sample
            shape_count = round(col.sampled_share[metric] * nn)
        # strong checks also count when only a few values hold them (sparse columns)
        floor = SPARSE_SHARE if spec.strength is Strength.STRONG else 0.2
        if not shape_count or shape_count / nn < floor:
            continue
        # A header naming specific identifiers (`nie`, `afm`) lets only those of them
        # that need a header through; a generic one (`national_id`) lets all of its entity.
        if not may_count(col, spec):
            continue
        _id_candidate(col, spec, shape_count, nn, samples, out)
    if stat(col, "ssn_dashed") / nn >= 0.2:
        spec = next(s for s in ID_SPECS if s.code == "US_SSN")
        _id_candidate(col, spec, stat(col, "ssn_dashed"), nn, samples, out)
    return out


def mixed_ids(ev: Evidence) -> list[Candidate]:
    out: list[Candidate] = []
    _mixed_id_candidates(ev.col, ev.nn, ev.samples, out)
    return out


def passport(ev: Evidence) -> list[Candidate]:
    if "passport" in ev.col.stats and ev.stat("passport"):
        return ev.simple("PASSPORT", "passport", 0.8, pattern=P.PASSPORT)
    return []


def _id_candidate(
    col: Column,
    spec: IdentifierSpec,
    shape_count: int,
    nn: int,
    samples: Sample,
    out: list[Candidate],
) -> None:
    shape = _shape_rx(spec.shape)
    valid, checked = sampled_validity(col, spec, samples)
    if not checked:
        return
    count = round(shape_count * valid / checked)
    entity, subtype = (str(spec.entity) if spec.entity else ""), spec.code
    tax = col.hint("TAX_ID")
    if subtype in TAX_FORM_OF and tax and not col.hint("NATIONAL_ID"):
        entity, subtype = "TAX_ID", TAX_FORM_OF[subtype]
    header = 1.0 if spec in col.named else col.strength(entity)
    # A format or date check only (no checksum) proves less; a VAT number may be a company's.
    quality = 0.7 if spec.strength is Strength.NONE else 1.0
    if spec.holder is Holder.PERSON_OR_BUSINESS:
        quality *= 0.85
    out.append(
        Candidate(
            entity,
            subtype,
            count / nn,
            quality,
            header,
            count,
            {
                "value_pattern": {subtype: round(shape_count / nn, 4)},
                "validated": {
                    subtype: {
                        "valid": valid,
                        "checked": checked,
                        "method": "checksum on distinct sampled values",
                    }
                },
            },
            shape,
            lambda v, _c: spec.validate(v),
            # a few valid values count only when values of this shape are mostly valid
            # (not one SKU in ten passing a check digit by chance)
            sparse_ok=spec.strength is Strength.STRONG and spec.personal and valid >= 0.5 * checked,
        )
    )


def _mixed_id_candidates(col: Column, nn: int, samples: Sample, out: list[Candidate]) -> None:
    """One entity written in several national forms (DNI, NIE, PESEL, NINO in one column).

    Judged on the sample: the share of sampled values valid under any form of the entity.
    """
    if not samples:
        return
    for entity in _MIXED_ENTITIES:
        specs = [
            s
            for s in ID_SPECS
            if s.entity == entity and _mixed_form(col, s) and _occurs(col, S.id_metric(s))
        ]
        if len(specs) < 2:
            continue  # a single form is covered by its own candidate
        subtypes: dict[str, int] = {}
        valid = 0
        for value, _country in samples[:MAX_VALIDATE]:
            k = compact(value)
            for spec in specs:
                if _shape_rx(spec.shape).search(k) and spec.validate(value):
                    subtypes[spec.code] = subtypes.get(spec.code, 0) + 1
                    valid += 1
                    break
        if len(subtypes) < 2:
            continue  # a single form is covered by its own candidate
        checked = min(len(samples), MAX_VALIDATE)
        share = valid / checked
        top = max(subtypes, key=lambda st: subtypes[st])
        reported = entity
        if (
            all(st in TAX_FORM_OF for st in subtypes)
            and col.hint("TAX_ID")
            and not col.hint("NATIONAL_ID")
        ):
            reported, top = "TAX_ID", TAX_FORM_OF[top]  # DNI + NIE under a `nif` header
        out.append(
            Candidate(
                reported,
                top,
                share,
                0.95,
                col.strength(reported),
                round(share * nn),
                {
                    "validated": {
                        "mixed_forms": dict(sorted(subtypes.items())),
                        "valid": valid,
                        "checked": checked,
                        "method": "checksum on sampled values, any national form",
                    }
                },
                None,
                lambda v, _c, specs=specs: any(
                    re.search(sp.shape, compact(v)) and sp.validate(v) for sp in specs
                ),
            )
        )


def sampled_validity(col: Column, spec: IdentifierSpec, samples: Sample) -> tuple[int, int]:
    """(valid, checked) of `spec` over the sampled values of its shape; over the column's
    own sample, checked once per scan (the scan's gate asks first, `_id_candidate` after)."""
    if samples is col.sample and spec.code in col.validity:
        return col.validity[spec.code]
    valid, checked, _ = validate_sample(
        samples,
        _shape_rx(spec.shape),
        lambda v, _c: spec.validate(v),
        on_compact=not spec.on_raw,
        give_up_below=None if spec.strength is Strength.STRONG else 0.2,
    )
    if samples is col.sample:
        col.validity[spec.code] = (valid, checked)
    return valid, checked


def may_be_found(col: Column, spec: IdentifierSpec) -> bool:
    """Whether `spec` can make this column's finding, so that its shape must be counted over
    every row (`engine._gate` leaves other identifier shapes out of the count):

    - alone or as a sparse share (`national_ids`): its count is the shape count scaled by
      the valid share of its sampled values of that shape, so with under half of those
      valid it is under half of the column (no majority), and a sparse share needs half
      of them valid too (`sparse_ok`);
    - as one of several national forms (`_mixed_id_candidates`): when some sampled value
      passes its check and the sampled values valid under any form of its entity could
      make a majority (`_mixed_bound`).

    A shape left out gives its candidates from its share of the sampled values instead
    (`national_ids`, `_occurs`): they lose either way."""
    if may_count(col, spec):
        valid, checked = sampled_validity(col, spec, col.sample)
        if checked > 0 and valid >= 0.5 * checked:
            return True
    if not _mixed_form(col, spec) or _mixed_bound(col, str(spec.entity)) < MAJORITY:
        return False
    shape = _shape_rx(spec.shape)
    return any(shape.search(compact(v)) and spec.validate(v) for v, _ in col.sample[:MAX_VALIDATE])


def _mixed_bound(col: Column, entity: str) -> float:
    """The share of the first `MAX_VALIDATE` sampled values valid under any form of `entity`
    that `_mixed_id_candidates` weighs: its share when every form occurs in the column, and
    no less than its share otherwise (it weighs the forms that occur)."""
    if entity not in col.mixed_bound:
        forms = [s for s in ID_SPECS if s.entity == entity and _mixed_form(col, s)]
        any_form = _shape_rx("|".join(f"(?:{s.shape})" for s in forms))
        values = col.sample[:MAX_VALIDATE]
        valid = 0
        for value, _country in values:
            k = compact(value)
            if any_form.search(k) and any(
                _shape_rx(s.shape).search(k) and s.validate(value) for s in forms
            ):
                valid += 1
        col.mixed_bound[entity] = valid / len(values) if values else 0.0
    return col.mixed_bound[entity]


def _left_out(col: Column, metric: str) -> bool:
    """The identifier shape is common in the sample but was not counted over the column:
    none of its identifiers may make the finding (`may_be_found`)."""
    return metric not in col.stats and metric in col.sampled_share


def _occurs(col: Column, metric: str) -> bool:
    """The identifier shape occurs in the column: counted in it, or left out of the count."""
    return stat(col, metric) > 0 or _left_out(col, metric)


_MIXED_ENTITIES = ("NATIONAL_ID", "TAX_ID")


def _mixed_form(col: Column, spec: IdentifierSpec) -> bool:
    """`spec` is one of the forms `_mixed_id_candidates` weighs: of an entity written in
    several national forms, with a real checksum, and needing a header only under one."""
    return (
        spec.entity in _MIXED_ENTITIES
        and spec.strength is not Strength.NONE
        and (not spec.needs_hint or col.hint(str(spec.entity)) is not None or spec in col.named)
    )


@functools.cache
def _shape_rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
