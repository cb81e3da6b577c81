"""Compliance findings: severities, the rule catalogue, and the report `policy check` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from tutela.policy.loader import Mark


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("unclassified-column", "UnclassifiedColumn",
             "The scan found personal data in a column the policy does not declare."),
        Rule("missing-category", "MissingCategory",
             "A personal-data column has no entity or data category."),
        Rule("scan-disagrees", "ScanDisagrees",
             "The policy marks a column not personal but the scan found personal data in it."),
        Rule("no-purpose", "NoPurpose",
             "Personal data is held for no declared purpose."),
        Rule("table-not-in-policy", "TableNotInPolicy",
             "A loaded table is not declared in the policy."),
        Rule("table-not-loaded", "TableNotLoaded",
             "A table declared in the policy is not in the workspace."),
        Rule("column-not-in-data", "ColumnNotInData",
             "A column the policy relies on does not exist in the loaded table."),
        Rule("no-scan", "NoScan", "No scan results are stored; classification was not checked."),
        Rule("retention-expired", "RetentionExpired",
             "Rows are kept beyond their retention period."),
        Rule("retention-unreadable-dates", "RetentionUnreadableDates",
             "Some retention dates cannot be read, so those rows are never expired."),
        Rule("consent-missing", "ConsentMissing",
             "Subjects are processed for a consent-based purpose without any consent record."),
        Rule("consent-withdrawn", "ConsentWithdrawn",
             "Subjects are still processed for a purpose after withdrawing consent."),
        Rule("consent-unverifiable", "ConsentUnverifiable",
             "Consent cannot be checked: no identifier links the table to the consent records."),
        Rule("no-legal-basis", "NoLegalBasis", "A purpose has no Art. 6 legal basis."),
        Rule("transfer-no-safeguard", "TransferNoSafeguard",
             "Personal data goes outside the EEA without a declared Chapter V safeguard."),
        Rule("invalid-safeguard", "InvalidSafeguard",
             "An adequacy decision is claimed for a country that has none."),
        Rule("unique-link-shared", "UniqueLinkShared",
             "An identity link declared unique holds values that several people share."),
        Rule("clear-sensitive-id", "ClearSensitiveId",
             "A role sees national IDs, tax IDs, passports or card numbers in clear."),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One compliance finding. Counts and dates only: never a personal value."""

    rule: str
    severity: Severity
    message: str
    fix: str
    table: str | None = None
    column: str | None = None
    count: int | None = None
    oldest: date | None = None
    purpose: str | None = None
    role: str | None = None
    location: Mark | None = None
    policy_path: tuple[str | int, ...] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "table": self.table,
            "column": self.column,
            "count": self.count,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "purpose": self.purpose,
            "role": self.role,
            "fix": self.fix,
            "location": (
                {"file": self.location.file, "line": self.location.line,
                 "column": self.location.column}
                if self.location
                else None
            ),
        }  # fmt: skip


@dataclass(frozen=True)
class CheckReport:
    """Everything `policy check` concluded."""

    findings: tuple[Finding, ...]
    as_of: date
    policy_files: tuple[str, ...]
    scan_available: bool

    def fails(self, threshold: Severity) -> bool:
        return any(f.severity.at_least(threshold) for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "policy_files": list(self.policy_files),
            "scan_available": self.scan_available,
            "summary": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }
