"""Compliance findings as pure functions of a policy and the facts gathered from a workspace."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date

from tutela.policy.facts import WorkspaceFacts, collect_facts
from tutela.policy.findings import CheckReport, Finding, Severity
from tutela.policy.loader import LoadedPolicy, Mark
from tutela.policy.models import (
    ColumnSpec,
    IdentifierKind,
    Policy,
    Role,
    Safeguard,
    Visibility,
)
from tutela.policy.nameparts import NameAdvice, name_advice
from tutela.policy.vocab import (
    ADEQUATE_COUNTRIES,
    EEA_COUNTRIES,
    SENSITIVE_IDENTIFIER_CATEGORIES,
    SENSITIVE_IDENTIFIER_ENTITIES,
    Entity,
    category_within,
)
from tutela.workspace import Workspace

Locator = Callable[[tuple[str | int, ...]], Mark]


def check_policy(loaded: LoadedPolicy, ws: Workspace, *, as_of: date | None = None) -> CheckReport:
    """Gather workspace facts and evaluate the policy against them: the `policy check` core."""
    day = as_of or date.today()
    facts = collect_facts(ws, loaded.policy, day)
    return build_report(loaded, facts)


def build_report(loaded: LoadedPolicy, facts: WorkspaceFacts) -> CheckReport:
    findings = evaluate(loaded.policy, facts, loaded.locate)
    return CheckReport(
        findings=tuple(findings),
        as_of=facts.as_of,
        policy_files=tuple(str(f) for f in loaded.files),
        scan_available=facts.scan is not None,
    )


def evaluate(policy: Policy, facts: WorkspaceFacts, locate: Locator | None = None) -> list[Finding]:
    """Every finding, most severe first; `locate` maps policy paths to file positions."""
    found: list[Finding] = []
    for rule in (
        _catalogue,
        _split_names,
        _classification,
        _purposes_coverage,
        _retention,
        _consent,
        _identity,
        _legal_basis,
        _transfers,
        _access,
    ):
        found.extend(rule(policy, facts))
    if locate is not None:
        found = [
            dataclasses.replace(f, location=locate(f.policy_path)) if f.policy_path else f
            for f in found
        ]
    return sorted(
        found,
        key=lambda f: (-f.severity.rank, f.rule, f.table or "", f.column or "", f.purpose or ""),
    )


# -- catalogue: policy vs loaded tables -------------------------------------------------


def _catalogue(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for table in facts.tables:
        if table not in policy.tables:
            yield Finding(
                "table-not-in-policy", Severity.medium,
                f"loaded table {table!r} is not declared in the policy",
                "declare it under tables: (run `tutela policy init` for a draft)",
                table=table,
            )  # fmt: skip
    for table, spec in policy.tables.items():
        if table not in facts.tables:
            yield Finding(
                "table-not-loaded", Severity.low,
                f"table {table!r} is declared in the policy but not loaded",
                "load it with `tutela load`, or remove it from the policy",
                table=table, policy_path=("tables", table),
            )  # fmt: skip
            continue
        for column in spec.columns:
            if column not in facts.tables[table]:
                yield Finding(
                    "column-not-in-data", Severity.medium,
                    f"column {column!r} of {table!r} is in the policy but not in the data",
                    "fix the column name (names are exact, accents and case included)",
                    table=table, column=column, policy_path=("tables", table, "columns", column),
                )  # fmt: skip
    if facts.scan is None:
        yield Finding(
            "no-scan", Severity.info,
            "no stored scan results: columns were not checked for undeclared personal data",
            "run `tutela scan` first",
        )  # fmt: skip


def policy_name_advice(policy: Policy) -> list[NameAdvice]:
    """The policy's name links that should be written as one name over several columns
    (`nameparts.name_advice`)."""
    links = [(x.table, x.column, str(x.kind)) for x in policy.identity_links() if not x.parts]
    joined = [(x.table, x.all_columns) for x in policy.identity_links() if x.parts]
    return name_advice(links, joined)


def _split_names(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    """Name links of one table that are the parts of one name (first_name, last_name)
    declared as separate names, or a part declared again alone: read apart, "Garcia"
    would be the same name on Maria's row and on Pedro's. The search reads them as one
    name (`policyview._joined_names`); the policy should say so."""
    where = {
        (link.table, link.column): ("subjects", sname, "identifiers", i)
        for sname, subject in policy.subjects.items()
        for i, link in enumerate(subject.identifiers)
        if link.kind is IdentifierKind.name and not link.parts
    }
    for advice in policy_name_advice(policy):
        yield Finding(
            "name-split-over-links", Severity.low, advice.message, advice.fix,
            table=advice.table, column=advice.column,
            policy_path=where.get((advice.table, advice.column)),
        )  # fmt: skip


def _classification(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    scanned = {(s.table, s.column): s for s in facts.scan or ()}
    for (table, column), hit in scanned.items():
        if not hit.entity or table not in facts.tables:
            continue
        spec = policy.column_spec(table, column)
        if spec is None:
            yield Finding(
                "unclassified-column", Severity.high,
                f"{table}.{column} holds {hit.entity} but the policy does not declare it",
                f"declare it: tables.{table}.columns.{column}: {hit.entity}",
                table=table, column=column,
                policy_path=("tables", table) if table in policy.tables else None,
            )  # fmt: skip
        elif not spec.personal:
            yield Finding(
                "scan-disagrees", Severity.medium,
                f"{table}.{column} is declared not_personal but the scan found {hit.entity}",
                f"review the column; if it is personal write `{column}: {hit.entity}`",
                table=table, column=column, policy_path=("tables", table, "columns", column),
            )  # fmt: skip
    for table, tspec in policy.tables.items():
        for column, col in tspec.columns.items():
            if col.personal and col.effective_category is None and not col.quasi_identifier:
                seen = scanned.get((table, column))
                suggestion = (
                    seen.entity if seen and seen.entity else "EMAIL_ADDRESS (or not_personal)"
                )
                yield Finding(
                    "missing-category", Severity.medium,
                    f"{table}.{column} is declared without an entity or data category",
                    f"classify it, e.g. `{column}: {suggestion}`",
                    table=table, column=column,
                    policy_path=("tables", table, "columns", column),
                )  # fmt: skip


def _covered(policy: Policy, table: str, col: ColumnSpec) -> bool:
    category = col.effective_category
    for purpose in policy.purposes.values():
        if table not in purpose.tables:
            continue
        if not purpose.categories:
            return True
        if category and any(category_within(category, c) for c in purpose.categories):
            return True
    return False


def _purposes_coverage(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for table, spec in policy.tables.items():
        uncovered = [
            name
            for name, col in spec.columns.items()
            if col.personal and col.effective_category and not _covered(policy, table, col)
        ]
        if uncovered:
            yield Finding(
                "no-purpose", Severity.medium,
                f"{table} holds personal data for no declared purpose: {', '.join(uncovered)}",
                f"list {table!r} (and the categories) under a purpose, or stop keeping the data",
                table=table, column=uncovered[0] if len(uncovered) == 1 else None,
                count=len(uncovered), policy_path=("tables", table),
            )  # fmt: skip


# -- retention and consent (from counts) ----------------------------------------------


def _retention(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for fact in facts.retention:
        rule = policy.retention[fact.rule_index]
        path = ("retention", fact.rule_index)
        if fact.expired:
            yield Finding(
                "retention-expired", Severity.high,
                f"{fact.expired} row(s) of {fact.table} are past retention ({rule.period} after "
                f"{rule.after}, cut-off {fact.cutoff.isoformat()}); oldest {fact.oldest}",
                f"{rule.action} them with `tutela retention apply --apply`, or record a legal hold",
                table=fact.table, column=rule.after, count=fact.expired, oldest=fact.oldest,
                policy_path=path,
            )  # fmt: skip
        if fact.unreadable:
            yield Finding(
                "retention-unreadable-dates", Severity.low,
                f"{fact.unreadable} value(s) of {fact.table}.{rule.after} are not readable dates",
                "set `date_format:` on the retention rule (e.g. '%d/%m/%Y')",
                table=fact.table, column=rule.after, count=fact.unreadable, policy_path=path,
            )  # fmt: skip


def _identity(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for fact in facts.shared_unique:
        path = _link_path(policy, fact.link_index)
        yield Finding(
            "unique-link-shared", Severity.medium,
            f"{fact.values} value(s) of {fact.table}.{fact.column}, declared unique, belong to "
            f"more than one {fact.by} ({fact.rows} rows); Tutela treats those values as shared "
            "and never as proof of who a row is about",
            "clean the data at the source, or drop `unique: true` from the link",
            table=fact.table, column=fact.column, count=fact.values, policy_path=path,
        )  # fmt: skip


def _link_path(policy: Policy, index: int) -> tuple[str | int, ...]:
    n = 0
    for name, subject in policy.subjects.items():
        if index < n + len(subject.identifiers):
            return ("subjects", name, "identifiers", index - n)
        n += len(subject.identifiers)
    return ("subjects",)


def _consent(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    source = policy.consent
    for fact in facts.consent:
        path = ("purposes", fact.purpose)
        if fact.column is None:
            kind = source.subject_kind if source else "email"
            yield Finding(
                "consent-unverifiable", Severity.medium,
                f"purpose {fact.purpose!r} uses {fact.table} but no identity link of kind "
                f"{kind} connects it to the consent records",
                f"add `{{table: {fact.table}, column: ..., kind: {kind}}}` to a subject's "
                "identifiers",
                table=fact.table, purpose=fact.purpose, policy_path=path,
            )  # fmt: skip
            continue
        if fact.missing:
            yield Finding(
                "consent-missing", Severity.high,
                f"{fact.missing} of {fact.subjects} subject(s) in {fact.table} are processed for "
                f"{fact.purpose!r} without a recorded consent",
                "stop processing them for this purpose until consent is recorded",
                table=fact.table, column=fact.column, count=fact.missing,
                purpose=fact.purpose, policy_path=path,
            )  # fmt: skip
        if fact.withdrawn:
            yield Finding(
                "consent-withdrawn", Severity.critical,
                f"{fact.withdrawn} subject(s) in {fact.table} withdrew consent for "
                f"{fact.purpose!r} but are still processed for it",
                "remove them from the purpose's processing now (Art. 7(3))",
                table=fact.table, column=fact.column, count=fact.withdrawn,
                purpose=fact.purpose, policy_path=path,
            )  # fmt: skip


# -- declarations only ------------------------------------------------------------------


def _legal_basis(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for name, purpose in policy.purposes.items():
        if purpose.legal_basis is None:
            yield Finding(
                "no-legal-basis", Severity.critical,
                f"purpose {name!r} has no legal basis (Art. 6)",
                "set legal_basis: consent | contract | legal_obligation | vital_interests | "
                "public_task | legitimate_interests",
                purpose=name, policy_path=("purposes", name, "legal_basis"),
            )  # fmt: skip


def _transfers(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for name, purpose in policy.purposes.items():
        places = [("recipients", i, r.name, r.country, r.safeguard)
                  for i, r in enumerate(purpose.recipients)]  # fmt: skip
        places += [("storage", i, s.location, s.country, s.safeguard)
                   for i, s in enumerate(purpose.storage)]  # fmt: skip
        for section, i, who, country, safeguard in places:
            path = ("purposes", name, section, i)
            if country in EEA_COUNTRIES:
                continue
            if safeguard is None:
                adequate = country in ADEQUATE_COUNTRIES
                yield Finding(
                    "transfer-no-safeguard", Severity.low if adequate else Severity.high,
                    f"{who} ({country}) receives data for {name!r} outside the EEA with no "
                    "declared safeguard",
                    "declare `safeguard: adequacy_decision`" if adequate else
                    "sign SCCs and declare `safeguard: sccs` (or bcrs, eu_us_dpf...), "
                    "or stop the transfer",
                    purpose=name, policy_path=path,
                )  # fmt: skip
            elif safeguard is Safeguard.adequacy_decision and country not in ADEQUATE_COUNTRIES:
                yield Finding(
                    "invalid-safeguard", Severity.medium,
                    f"{who} ({country}): no EU adequacy decision covers {country}",
                    "use SCCs, BCRs or (US) the Data Privacy Framework instead",
                    purpose=name, policy_path=(*path, "safeguard"),
                )  # fmt: skip


def _sensitive(col: ColumnSpec) -> bool:
    if col.entity in SENSITIVE_IDENTIFIER_ENTITIES:
        return True
    category = col.effective_category
    return bool(category) and any(
        category_within(category or "", c) for c in SENSITIVE_IDENTIFIER_CATEGORIES
    )


def _visibility_path(role_name: str, role: Role, table: str, column: str) -> tuple[str | int, ...]:
    base: tuple[str | int, ...] = ("roles", role_name)
    access = role.tables.get(table)
    if access is None:
        return (*base, "default")
    for vis in Visibility:
        listed = getattr(access, vis.value)
        if column in listed:
            return (*base, "tables", table, vis.value, listed.index(column))
    if access.default is not None:
        return (*base, "tables", table, "default")
    return (*base, "default")


def _access(policy: Policy, facts: WorkspaceFacts) -> Iterator[Finding]:
    for role_name, role in policy.roles.items():
        for table, spec in policy.tables.items():
            for column, col in spec.columns.items():
                if not _sensitive(col) or role.visibility(table, column) is not Visibility.clear:
                    continue
                what = col.entity.value if isinstance(col.entity, Entity) else col.category
                justified = bool(role.justification)
                yield Finding(
                    "clear-sensitive-id", Severity.info if justified else Severity.high,
                    f"role {role_name!r} sees {table}.{column} ({what}) in clear"
                    + (" (justified)" if justified else ""),
                    f"list it under roles.{role_name}.tables.{table}.masked (or pseudonymized), "
                    "or state a `justification:` for the role",
                    table=table, column=column, role=role_name,
                    policy_path=_visibility_path(role_name, role, table, column),
                )  # fmt: skip
