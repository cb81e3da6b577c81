"""Dates of birth: under a birth-date header, or told by their values alone (ages)."""

from __future__ import annotations

import re

from tutela.detect.evidence import Candidate, Column, Evidence, stat

DOB_IN_RANGE = 0.9
DOB_YEAR_SD = 7.0


def birth_date(ev: Evidence) -> list[Candidate]:
    """Plausible birth dates in a column whose header says so."""
    if "dob" not in ev.col.stats:
        return []
    count = ev.stat("dob")
    if not count:
        return []
    return [
        Candidate(
            "DATE_OF_BIRTH",
            None,
            count / ev.nn,
            0.9,
            ev.col.strength("DATE_OF_BIRTH"),
            count,
            {"value_pattern": {"plausible_birth_date": round(count / ev.nn, 4)}},
            re.compile(r"[0-9]"),
        )
    ]


def birth_date_by_values(ev: Evidence) -> list[Candidate]:
    out: list[Candidate] = []
    _dob_by_values(ev.col, ev.nn, out)
    return out


def _dob_by_values(col: Column, nn: int, out: list[Candidate]) -> None:
    """Dates of birth without a header: nearly all dates give an age between 14 and 100,
    spread over decades (event dates cluster in recent years; timestamps carry times)."""
    if "dob_range" not in col.stats:
        return
    dates = nn if col.mode == "temporal" else stat(col, "date")
    in_range = stat(col, "dob_range")
    sd = float(col.stats.get("year_sd") or 0.0)
    if not dates or dates / nn < 0.8 or in_range / dates < DOB_IN_RANGE or sd < DOB_YEAR_SD:
        return
    if col.mode == "temporal" and (
        stat(col, "timed") > 0.05 * nn or stat(col, "distinct") < min(0.3 * nn, 50)
    ):
        return
    out.append(
        Candidate(
            "DATE_OF_BIRTH",
            None,
            in_range / nn,
            0.75,
            0.0,
            in_range,
            {
                "value_pattern": {
                    "age_14_to_100": round(in_range / nn, 4),
                    "birth_year_spread_sd": round(sd, 1),
                }
            },
            re.compile(r"[0-9]"),
        )
    )
