"""Retention periods: parse `3y`, `6 years`, `18 months`, `90 days`, `P1Y6M`; date arithmetic."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_UNITS = {
    "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
    "mo": "months", "mon": "months", "month": "months", "months": "months",
    "w": "weeks", "wk": "weeks", "week": "weeks", "weeks": "weeks",
    "d": "days", "day": "days", "days": "days",
}  # fmt: skip
_PART = re.compile(r"(\d+)\s*([a-z]+)")
_ISO = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")

DURATION_PATTERN = (
    r"^\s*(P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?|(\d+\s*(y|yr|yrs|years?|mo|mon|months?|w|wk|weeks?"
    r"|d|days?)(\s*,?\s*(and\s+)?)?)+)\s*$"
)


@dataclass(frozen=True, order=True)
class Duration:
    """A calendar period; months and years are calendar months, not 30-day blocks."""

    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def before(self, moment: date) -> date:
        """The date this period before `moment` (day clamped to the month's length)."""
        months = moment.year * 12 + (moment.month - 1) - self.total_months
        year, month = divmod(months, 12)
        month += 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        shifted = date(year, month, day)
        return date.fromordinal(shifted.toordinal() - self.days)

    def __str__(self) -> str:
        parts = []
        for value, unit in ((self.years, "year"), (self.months, "month"), (self.days, "day")):
            if value:
                parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
        return " ".join(parts) or "0 days"


def parse_duration(text: object) -> Duration:
    """Parse a retention period; raises ValueError with the accepted forms on failure."""
    if isinstance(text, Duration):
        return text
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"a period must be text like '6 years', got {type(text).__name__}")
    if isinstance(text, int):
        raise ValueError(
            f"a bare number ({text}) has no unit: write '{text} years', '{text} months' "
            f"or '{text} days'"
        )
    raw = text.strip()
    iso = _ISO.match(raw.upper()) if raw.upper().startswith("P") else None
    if iso and any(iso.groups()):
        y, m, w, d = (int(g) if g else 0 for g in iso.groups())
        return _checked(Duration(y, m, d + 7 * w), text)
    lowered = raw.lower().replace(",", " ").replace(" and ", " ")
    counts = {"years": 0, "months": 0, "weeks": 0, "days": 0}
    pos = 0
    matched = False
    for match in _PART.finditer(lowered):
        if lowered[pos : match.start()].strip():
            break
        unit = match.group(2)
        if unit in {"m", "min", "mins", "minute", "minutes"}:
            raise ValueError(
                f"ambiguous unit {unit!r} in {text!r}: write 'months' (or 'mo') for months"
            )
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r} in {text!r}: use years, months, weeks or days")
        counts[_UNITS[unit]] += int(match.group(1))
        pos = match.end()
        matched = True
    if not matched or lowered[pos:].strip():
        raise ValueError(
            f"cannot read {text!r} as a period: write e.g. '3y', '6 years', '18 months', "
            "'90 days' or 'P1Y6M'"
        )
    return _checked(
        Duration(counts["years"], counts["months"], counts["days"] + 7 * counts["weeks"]), text
    )


def _checked(duration: Duration, text: str) -> Duration:
    if duration.total_months == 0 and duration.days == 0:
        raise ValueError(f"period {text!r} is zero: a retention period must be positive")
    if duration.total_months > 12 * 200:
        raise ValueError(f"period {text!r} is longer than 200 years")
    return duration
