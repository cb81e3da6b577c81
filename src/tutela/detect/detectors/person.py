"""Person names: name-shaped values, hits on the name lists, under a header or not."""

from __future__ import annotations

import re

from tutela.detect.evidence import (
    GATE_VALUES,
    SPARSE_SHARE,
    Candidate,
    Column,
    Evidence,
    Sample,
    stat,
)

CATEGORY_DISTINCT = 12
CATEGORY_SHARE = 0.02  # distinct values per non-empty value below which a column is labels
CATEGORY_MAX = 50  # ... but never above this many: names in a large table repeat too
HANDFUL = 5
_UNLISTED_DISTINCT_SHARE = 0.3
_UNLISTED_DISTINCT_MAX = 200


def person(ev: Evidence) -> list[Candidate]:
    out: list[Candidate] = []
    _person_candidate(ev.col, ev.nn, ev.negative, out, ev.samples)
    return out


def _unlisted_names_min(nn: int) -> float:
    """Distinct values a name-headed column needs when its values are off the name list.

    Names, even surnames, rarely repeat much in a small table; labels do (`NameSet`:
    ~20 nationality words over 100 rows).
    """
    return max(HANDFUL, min(_UNLISTED_DISTINCT_SHARE * nn, _UNLISTED_DISTINCT_MAX))


def multi_token_share(samples: Sample) -> float:
    """Share of sampled values written as two or more words (`Laura Gómez`)."""
    values = [v for v, _ in samples[:GATE_VALUES]]
    return sum(1 for v in values if len(v.split()) >= 2) / len(values) if values else 0.0


def _person_candidate(
    col: Column,
    nn: int,
    negative: bool,
    out: list[Candidate],
    samples: Sample,
) -> None:
    shaped = stat(col, "name")
    listed = stat(col, "namelist")
    hint = col.strength("PERSON")
    if not shaped or (negative and not hint):
        return
    list_share = listed / shaped
    distinct = stat(col, "distinct")
    multi = multi_token_share(samples)
    # A column repeating a few labels (`Czech`, `Japanese`; `Gold`, `Silver`) is a category,
    # whatever its header says; but a few full names repeated (the support agents of a
    # ticket table) are people.
    labels = nn >= 50 and distinct <= min(CATEGORY_MAX, max(CATEGORY_DISTINCT, CATEGORY_SHARE * nn))
    few_people = labels and multi >= 0.8 and list_share >= 0.5
    if not hint and (list_share < 0.25 or (labels and not few_people)):
        return
    if hint:
        # A `name` header alone is not evidence (spec: a header hint never flags a column
        # whose values contradict it): known names, or name-shaped values across most of
        # the column with more than a handful of distinct ones (surnames off the list).
        if labels and list_share < 0.5:
            return
        if list_share < 0.1 and (shaped / nn < 0.8 or distinct < _unlisted_names_min(nn)):
            return
    quality = 0.5 + 0.5 * min(1.0, list_share / 0.5)
    out.append(
        Candidate(
            "PERSON",
            None,
            shaped / nn,
            quality,
            hint,
            shaped,
            {
                "value_pattern": {
                    "name_shape": round(shaped / nn, 4),
                    "name_list_hit": round(listed / nn, 4),
                    "multi_word": round(multi, 4),
                }
            },
            re.compile(r"^\w"),
            # names among other values: only under a header naming people, and known names
            sparse_ok=hint >= 0.7 and listed / nn >= SPARSE_SHARE,
        )
    )
