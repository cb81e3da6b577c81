"""Scan result types, the entity vocabulary and its fideslang categories."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The vocabulary of /shared/spec/entities.md: entity -> fideslang data category.
CATEGORIES: dict[str, str] = {
    "PERSON": "user.name",
    "EMAIL_ADDRESS": "user.contact.email",
    "PHONE_NUMBER": "user.contact.phone_number",
    "POSTAL_ADDRESS": "user.contact.address",
    "DATE_OF_BIRTH": "user.demographic.date_of_birth",
    "NATIONAL_ID": "user.government_id",
    "TAX_ID": "user.government_id",
    "PASSPORT": "user.government_id.passport_number",
    "IBAN_CODE": "user.financial.bank_account",
    "CREDIT_CARD": "user.financial.credit_card",
    "IP_ADDRESS": "user.device.ip_address",
    "MAC_ADDRESS": "user.device.device_id",
    "ONLINE_ID": "user.device.cookie_id",
    "GEOLOCATION": "user.location.precise",
}
ENTITIES = frozenset(CATEGORIES)

# Finer names used in `subtype`; each maps to exactly one entity.
SUBTYPES: dict[str, str] = {
    "ES_DNI": "NATIONAL_ID",
    "ES_NIE": "NATIONAL_ID",
    "PL_PESEL": "NATIONAL_ID",
    "GR_AMKA": "NATIONAL_ID",
    "FR_NIR": "NATIONAL_ID",
    "NL_BSN": "NATIONAL_ID",
    "US_SSN": "NATIONAL_ID",
    "UK_NINO": "NATIONAL_ID",
    "ES_NIF": "TAX_ID",
    "PL_NIP": "TAX_ID",
    "GR_AFM": "TAX_ID",
    "PT_NIF": "TAX_ID",
    "IT_CF": "TAX_ID",
    "IBAN": "IBAN_CODE",
    "CARD": "CREDIT_CARD",
    "IPV4": "IP_ADDRESS",
    "IPV6": "IP_ADDRESS",
    "UUID": "ONLINE_ID",
}

# Quasi-identifiers are reported with entity null; their fideslang category goes in evidence.
QUASI_CATEGORIES: dict[str, str] = {
    "POSTCODE": "user.contact.address.postal_code",
    "CITY": "user.contact.address.city",
    "GENDER": "user.demographic.gender",
    "AGE": "user.demographic.age_range",
    "COARSE_LOCATION": "user.location.imprecise",
}


@dataclass
class ColumnFinding:
    column: str
    data_type: str
    entity: str | None = None
    subtype: str | None = None
    category: str | None = None
    confidence: float = 0.0
    free_text: bool = False
    quasi_identifier: bool = False
    matched: int = 0
    non_empty: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # why the column was not analysed, if it was not

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnFinding:
        return cls(**data)


@dataclass
class TableScan:
    table: str
    rows: int
    columns: list[ColumnFinding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableScan:
        return cls(
            table=data["table"],
            rows=int(data["rows"]),
            columns=[ColumnFinding.from_dict(c) for c in data["columns"]],
        )

    @property
    def personal(self) -> list[ColumnFinding]:
        """Columns holding personal data (an entity was found)."""
        return [c for c in self.columns if c.entity is not None]
