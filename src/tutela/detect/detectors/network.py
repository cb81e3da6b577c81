"""Network and online identifiers: MAC and IP addresses, device ids, analytics cookies."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

import tutela.detect.patterns as P
from tutela.detect.evidence import Candidate, Evidence, validate_sample

_COOKIE_KINDS = tuple((kind, re.compile(rx)) for kind, rx in P.COOKIE_KINDS)


def _is_ipv6(value: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address)
    except ValueError:
        return False


def mac(ev: Evidence) -> list[Candidate]:
    return ev.simple("MAC_ADDRESS", "mac", 0.95, pattern=P.MAC)


def ip_address(ev: Evidence) -> list[Candidate]:
    """IPv4 in SQL is exact; IPv6 shapes are confirmed by `ipaddress` on the sample."""
    col, nn = ev.col, ev.nn
    v4 = ev.stat("ipv4")
    v6 = ev.stat("ipv6")
    if not (v4 or v6):
        return []
    valid6 = checked6 = 0
    if v6:
        valid6, checked6, _ = validate_sample(
            ev.samples, re.compile(":"), lambda v, _c: _is_ipv6(v), on_compact=False
        )
    count6 = round(v6 * valid6 / checked6) if checked6 else 0
    count = v4 + count6
    if not count:
        return []
    return [
        Candidate(
            "IP_ADDRESS",
            # one version only gets its subtype; a mixed column is just IP_ADDRESS
            "IPV4" if v4 >= 0.95 * count else "IPV6" if count6 >= 0.95 * count else None,
            count / nn,
            0.95,
            col.strength("IP_ADDRESS"),
            count,
            {
                "value_pattern": {"ipv4": round(v4 / nn, 4), "ipv6": round(v6 / nn, 4)},
                "validated": {"ipv6": {"valid": valid6, "checked": checked6}},
            },
            re.compile(r"^[0-9A-Fa-f:.]+$"),
            sparse_ok=True,
        )
    ]


def online_id(ev: Evidence) -> list[Candidate]:
    """Only with a cookie/device/advertising header; a bare uuid is internal."""
    online = ev.col.hint("ONLINE_ID")
    if not online:
        return []
    count = max(ev.stat("uuid"), ev.stat("token"))
    if not count:
        return []
    return [
        Candidate(
            "ONLINE_ID",
            "UUID" if ev.stat("uuid") >= ev.stat("token") else None,
            count / ev.nn,
            0.9,
            online.strength,
            count,
            {
                "value_pattern": {
                    "uuid": round(ev.frac("uuid"), 4),
                    "token": round(ev.frac("token"), 4),
                }
            },
            re.compile(r"^[A-Za-z0-9_\-.:]+$"),
        )
    ]


def cookie(ev: Evidence) -> list[Candidate]:
    cookies = ev.stat("cookie")
    if not cookies:
        return []
    kinds = Counter(kind for v, _ in ev.samples[:500] for kind, rx in _COOKIE_KINDS if rx.search(v))
    return [
        Candidate(
            "ONLINE_ID",
            kinds.most_common(1)[0][0] if kinds else None,
            cookies / ev.nn,
            0.95,
            ev.col.strength("ONLINE_ID"),
            cookies,
            {"value_pattern": {"analytics_cookie": round(cookies / ev.nn, 4)}},
            re.compile(P.COOKIE),
            sparse_ok=True,
        )
    ]
