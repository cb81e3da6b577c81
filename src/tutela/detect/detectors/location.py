"""Coordinates: a lat/lon pair in one column, or latitude/longitude columns named as such."""

from __future__ import annotations

import re

import tutela.detect.headers as H
import tutela.detect.patterns as P
from tutela.detect.evidence import Candidate, Evidence


def geolocation(ev: Evidence) -> list[Candidate]:
    col, nn = ev.col, ev.nn
    out: list[Candidate] = []
    if ev.stat("geo"):
        precise = ev.stat("geo3")
        if precise:
            out.append(
                Candidate(
                    "GEOLOCATION",
                    None,
                    precise / nn,
                    0.95,
                    col.strength("GEOLOCATION"),
                    precise,
                    {
                        "value_pattern": {
                            "lat_lon_pair": round(ev.frac("geo"), 4),
                            "precise_3_decimals": round(precise / nn, 4),
                        }
                    },
                    re.compile(P.GEO_PAIR_PRECISE.replace(r"\s", " ")),
                )
            )
    if "coord3" in col.stats and ev.stat("coord3"):
        out.append(
            Candidate(
                "GEOLOCATION",
                None,
                ev.frac("coord3"),
                0.9,
                col.strength(H.LATITUDE, H.LONGITUDE, "GEOLOCATION"),
                ev.stat("coord3"),
                {
                    "value_pattern": {
                        "coordinate": round(ev.frac("coord"), 4),
                        "precise_3_decimals": round(ev.frac("coord3"), 4),
                    }
                },
                re.compile(P.DECIMALS3),
            )
        )
    return out
