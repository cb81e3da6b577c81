"""What the subject-rights engine needs from a policy: links, free-text columns, rules."""

from __future__ import annotations

import dataclasses
from typing import Any

from tutela.policy.models import DEFAULT_NORMALIZATION, IdentifierKind, Policy
from tutela.policy.nameparts import name_groups
from tutela.policy.vocab import Entity
from tutela.subjects.links import LinkSpec, policy_region
from tutela.workspace import INTERNAL, Workspace, internal_table_exists


def link_specs(policy: Policy) -> list[LinkSpec]:
    links = policy.identity_links()
    specs = [
        LinkSpec(
            link.table,
            link.column,
            str(link.kind),
            str(link.method),
            parts=link.parts,
            region=link.region,
            region_column=link.region_column,
            key_region=link.region
            or policy_region(
                [(str(x.kind), x.region, x.region_column) for x in links], str(link.kind)
            ),
            strip_prefix=link.strip_prefix,
            shared=link.shared,
            unique=link.unique,
            placeholders=tuple(link.placeholders),
            valid_from=link.valid_from,
            valid_until=link.valid_until,
            observed_at=link.observed_at,
        )
        for link in links
    ]
    return _joined_names(specs + _undeclared_names(policy))


def _joined_names(specs: list[LinkSpec]) -> list[LinkSpec]:
    """Name links of one table that are the parts of one name (first_name and last_name
    declared as two names: `nameparts.name_groups`) read as that one name, as if declared
    with `columns:`; a name link reading a part of a name declared with `columns:` is
    left out. Read apart, "Garcia" on Maria's row and on Pedro's is one name, and the
    family e-mail they share one person's (`policy validate` says what to declare)."""
    by_table: dict[str, list[LinkSpec]] = {}
    for spec in specs:
        if spec.kind == "name" and not spec.parts:
            by_table.setdefault(spec.table, []).append(spec)
    # (table, column) -> the joined link that takes the place of its first part; None: a
    # part (or a leftover link of a part) that is left out
    merged: dict[tuple[str, str], LinkSpec | None] = {
        (s.table, c): None for s in specs if s.kind == "name" for c in s.parts
    }
    merged.update({(s.table, s.column): None for s in specs if s.parts})
    for table, names in by_table.items():
        free = [s for s in names if (table, s.column) not in merged]
        for parts in name_groups([s.column for s in free]):
            first = next(s for s in free if s.column == parts[0])
            held = sorted({v for s in free if s.column in parts for v in s.placeholders})
            for column in parts:
                merged[(table, column)] = None
            merged[(table, first.column)] = dataclasses.replace(
                first, parts=tuple(parts[1:]), placeholders=tuple(held)
            )
    out = []
    for spec in specs:
        key = (spec.table, spec.column)
        if spec.kind != "name" or key not in merged:
            out.append(spec)
        elif spec.parts:
            out.append(spec)  # declared over several columns: stays as declared
        elif (joined := merged.pop(key)) is not None:
            out.append(joined)
    return out


def _undeclared_names(policy: Policy) -> list[LinkSpec]:
    """Name columns the policy's table specs declare (PERSON, user.name...) in tables that
    hold identity links but no name link: they say who a row is about, so the search reads
    them as identity attributes (a family e-mail on two newsletter rows, `Sara` and `Marc`,
    is two people's). They find nothing and are not searched for namesakes."""
    declared = {(link.table, c) for link in policy.identity_links() for c in link.all_columns}
    linked_tables = {table for table, _ in declared}
    named = {link.table for link in policy.identity_links() if link.kind == "name"}
    method = str(DEFAULT_NORMALIZATION[IdentifierKind.name])
    out = []
    for table, spec in policy.tables.items():
        if table not in linked_tables or table in named:
            continue  # a declared name link says whose row it is (not a sales rep column)
        for column, col in spec.columns.items():
            is_name = col.entity == Entity.PERSON or str(col.category or "").startswith("user.name")
            if is_name and not col.free_text and (table, column) not in declared:
                out.append(LinkSpec(table, column, "name", method, attribute_only=True))
    return out


def placeholders(policy: Policy) -> list[str]:
    """Placeholder values the policy declares, subject-wide and per link."""
    values = {v for s in policy.subjects.values() for v in s.placeholders}
    values |= {v for link in policy.identity_links() for v in link.placeholders}
    return sorted(values)


def free_text_columns(ws: Workspace, policy: Policy) -> list[tuple[str, str]]:
    """Free-text columns declared in the policy, plus those the last scan found."""
    cols = {
        (table, column)
        for table, spec in policy.tables.items()
        for column, col in spec.columns.items()
        if col.free_text
    }
    if internal_table_exists(ws.con, "scan_results"):
        rows = ws.con.execute(
            f"SELECT table_name, column_name FROM {INTERNAL}.scan_results "
            "WHERE free_text AND entity IS NOT NULL"
        ).fetchall()
        cols.update((r[0], r[1]) for r in rows)
    return sorted(cols)


def table_info(policy: Policy, table: str) -> dict[str, Any]:
    """Categories, purposes (basis, recipients, storage), retention and erasure of a table."""
    spec = policy.tables.get(table)
    categories = []
    if spec:
        for column, col in spec.columns.items():
            if col.personal and (col.entity or col.effective_category):
                categories.append(
                    {
                        "column": column,
                        "entity": col.entity and str(col.entity),
                        "category": col.effective_category,
                    }
                )
    purposes = []
    for name in policy.purposes_for(table):
        p = policy.purposes[name]
        purposes.append(
            {
                "purpose": name,
                "description": p.description,
                "legal_basis": p.legal_basis and str(p.legal_basis),
                "consent_required": p.needs_consent,
                "recipients": [
                    {
                        "name": r.name,
                        "kind": str(r.kind),
                        "country": r.country,
                        "safeguard": r.safeguard and str(r.safeguard),
                    }
                    for r in p.recipients
                ],
                "storage": [{"location": s.location, "country": s.country} for s in p.storage],
            }
        )
    retention = [
        {"period": str(r.period), "after": r.after, "action": str(r.action), "reason": r.reason}
        for r in policy.retention_rules_for(table)
    ]
    rule = policy.erasure_rule(table)
    erasure = {
        "action": str(rule.action),
        "columns": rule.columns,
        "legal_basis": rule.legal_basis and str(rule.legal_basis),
        "reason": rule.reason,
    }
    return {
        "description": spec.description if spec else None,
        "source_system": spec.source_system if spec else None,
        "categories": categories,
        "purposes": purposes,
        "retention": retention,
        "erasure": erasure,
    }
