"""Records of processing activities (GDPR Art. 30(1)) from the policy and the catalog."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from tutela.policy.facts import SourceInfo
from tutela.policy.models import Policy, Purpose, Visibility
from tutela.policy.vocab import EEA_COUNTRIES, category_within


@dataclass(frozen=True)
class RopaRecord:
    """One processing activity: Art. 30(1)(b)-(g)."""

    purpose: str
    description: str | None
    legal_basis: str | None
    legitimate_interest: str | None
    consent_required: bool
    data_subjects: list[str]
    data_categories: list[str]
    systems: list[str]
    recipients: list[str]
    transfers: list[str]
    storage: list[str]
    retention: list[str]
    erasure: list[str]
    security: list[str]


@dataclass(frozen=True)
class Ropa:
    controller: dict[str, str | None]
    generated: str
    records: list[RopaRecord]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _categories(policy: Policy, purpose: Purpose) -> list[str]:
    found: set[str] = set()
    for table in purpose.tables:
        spec = policy.tables.get(table)
        for col in spec.columns.values() if spec else []:
            cat = col.effective_category
            if not col.personal or not cat:
                continue
            if not purpose.categories or any(category_within(cat, c) for c in purpose.categories):
                found.add(cat)
    return sorted(found)


def _place(name: str, country: str, safeguard: str | None, reference: str | None) -> str:
    text = f"{name} ({country})"
    if country in EEA_COUNTRIES:
        return text
    mechanism = safeguard.replace("_", " ") if safeguard else "NO SAFEGUARD DECLARED"
    return f"{text}: {mechanism}" + (f" — {reference}" if reference else "")


def build_ropa(
    policy: Policy, sources: dict[str, SourceInfo] | None = None, *, today: date | None = None
) -> Ropa:
    """The Art. 30 records, one per purpose; `sources` (the catalog) names source systems."""
    sources = sources or {}
    org = policy.organisation
    controller = {
        "name": org.name if org else None,
        "country": org.country if org else None,
        "contact": org.contact if org else None,
        "dpo": org.dpo if org else None,
        "representative": org.representative if org else None,
    }
    records = []
    for name, purpose in policy.purposes.items():
        subjects = sorted(
            {purpose.subject} if purpose.subject else
            {s for t in purpose.tables if (s := getattr(policy.tables.get(t), "subject", None))}
        )  # fmt: skip
        systems = []
        for t in purpose.tables:
            spec = policy.tables.get(t)
            src = sources.get(t)
            system = (spec.source_system if spec else None) or (src.source_system if src else None)
            rows = f", {src.row_count} rows" if src and src.row_count is not None else ""
            systems.append(f"{t} ({system or 'source not recorded'}{rows})")
        retention = [
            f"{t}: {r.period} after {r.after}, then {r.action}"
            + (f" — {r.reason}" if r.reason else "")
            for t in purpose.tables
            for r in policy.retention_rules_for(t)
        ] or ["no retention period declared"]
        erasure = []
        for t in purpose.tables:
            rule = policy.erasure_rule(t)
            text = f"{t}: {rule.action}"
            if rule.columns:
                text += f" {', '.join(rule.columns)}"
            if rule.reason:
                text += f" — {rule.reason}"
            erasure.append(text)
        security = []
        for role_name, role in policy.roles.items():
            seen = []
            for t in purpose.tables:
                spec = policy.tables.get(t)
                columns = list(spec.columns) if spec else []
                vis = {role.visibility(t, c) for c in columns} or {role.default}
                if vis != {Visibility.hidden}:
                    kinds = "/".join(sorted(v.value for v in vis if v is not Visibility.hidden))
                    filtered = (
                        " (row filter)" if role.tables.get(t, None) and role.tables[t].rows else ""
                    )
                    seen.append(f"{t} {kinds}{filtered}")
            if seen:
                security.append(f"role {role_name}: " + "; ".join(seen))
        records.append(
            RopaRecord(
                purpose=name,
                description=purpose.description,
                legal_basis=purpose.legal_basis.value if purpose.legal_basis else None,
                legitimate_interest=purpose.legitimate_interest,
                consent_required=purpose.needs_consent,
                data_subjects=subjects,
                data_categories=_categories(policy, purpose),
                systems=systems,
                recipients=[f"{r.name} ({r.kind}, {r.country})" for r in purpose.recipients],
                transfers=[
                    _place(r.name, r.country, r.safeguard, r.safeguard_reference)
                    for r in purpose.recipients
                    if r.country not in EEA_COUNTRIES
                ]
                + [
                    _place(s.location, s.country, s.safeguard, s.safeguard_reference)
                    for s in purpose.storage
                    if s.country not in EEA_COUNTRIES
                ],
                storage=[f"{s.location} ({s.country})" for s in purpose.storage],
                retention=retention,
                erasure=erasure,
                security=security or ["no access roles declared"],
            )
        )
    return Ropa(controller, (today or date.today()).isoformat(), records)
