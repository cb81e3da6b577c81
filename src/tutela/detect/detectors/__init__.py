"""The detectors a column scan runs, in order: each proposes candidates for one column.

A detector is a function `(Evidence) -> list[Candidate]` (see `tutela.detect.evidence`).
To add one, write it in a module of this package and list it in `DETECTORS`. The order
is the order of the candidates: among equally confident ones the first wins.
"""

from __future__ import annotations

from tutela.detect.detectors import birth, contact, identifiers, location, network, person
from tutela.detect.evidence import Detector

DETECTORS: tuple[Detector, ...] = (
    contact.email,
    network.mac,
    network.ip_address,
    identifiers.national_ids,
    identifiers.mixed_ids,
    contact.phone,
    contact.bare_phone,
    location.geolocation,
    contact.address,
    birth.birth_date,
    identifiers.passport,
    network.online_id,
    network.cookie,
    birth.birth_date_by_values,
    person.person,
)
