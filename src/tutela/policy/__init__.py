"""Policy as code: typed models, a located YAML loader, compliance checks, Art. 30 records.

The entry points other engines use:

    loaded = load_policy("policies/")           # LoadedPolicy; raises PolicyInvalidError (exit 3)
    policy = loaded.policy
    policy.identity_links("customer")           # [IdentityLink(table, column, kind, ...)]
    policy.identity_links_for("crm_customers")
    policy.erasure_rule("orders_orders")        # ErasureRule(action, columns, legal_basis, ...)
    policy.consent                              # ConsentSource | None
    policy.consent_purposes()                   # {purpose: value in the consent table}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tutela.base.lazy import lazy_exports
from tutela.policy.findings import RULES, CheckReport, Finding, Severity
from tutela.policy.loader import (
    DEFAULT_POLICY_PATH,
    ENV_POLICY,
    Issue,
    LoadedPolicy,
    Mark,
    PolicyInvalidError,
    load_policy,
    load_policy_text,
)
from tutela.policy.models import (
    ColumnSpec,
    Condition,
    ConsentSource,
    Erasure,
    ErasureAction,
    ErasureRule,
    IdentifierKind,
    IdentityLink,
    LegalBasis,
    Normalization,
    Policy,
    Purpose,
    Recipient,
    RetentionAction,
    RetentionRule,
    Role,
    Subject,
    TableAccess,
    TableSpec,
    Visibility,
)
from tutela.policy.vocab import FIDESLANG_CATEGORIES, Entity

if TYPE_CHECKING:
    from tutela.policy.checks import build_report, check_policy, evaluate
    from tutela.policy.facts import WorkspaceFacts, collect_facts

# The checks (and the workspace facts they read, which need the scan engine) are imported
# when first used: a command that only loads a policy (subject requests, enforcement) does
# not pay for them.
_LAZY = {
    "build_report": "checks",
    "check_policy": "checks",
    "evaluate": "checks",
    "WorkspaceFacts": "facts",
    "collect_facts": "facts",
}


__getattr__ = lazy_exports(__name__, _LAZY)


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy document, for editors.

    It accepts every shorthand the loader accepts (pydantic's schema shows only the long
    forms): a column as `EMAIL_ADDRESS`, a category, `not_personal`, `quasi_identifier` or
    nothing; one condition where a list of them is expected."""
    schema = Policy.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    if "ColumnSpec" in defs:
        shorthand = [*Entity.__members__, "not_personal", "quasi_identifier"]
        defs["ColumnSpec"] = {
            "anyOf": [
                defs["ColumnSpec"],
                {"type": "null", "description": "a personal column, not yet classified"},
                {
                    "type": "string",
                    "enum": [*shorthand, *sorted(FIDESLANG_CATEGORIES)],
                    "description": "shorthand: an entity, a fideslang category, "
                    "not_personal or quasi_identifier",
                },
            ]
        }
    for model, field in (("RetentionRule", "legal_hold"), ("TableAccess", "rows")):
        prop = defs.get(model, {}).get("properties", {}).get(field)
        if prop is not None:
            defs[model]["properties"][field] = _one_or_many(prop)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _one_or_many(prop: dict[str, Any]) -> dict[str, Any]:
    """`{type: array, items: X}` also accepting a single X (the loader's `_as_list`)."""
    items = prop.get("items")
    if items is None or prop.get("type") != "array":
        return prop
    meta = {k: v for k, v in prop.items() if k in ("description", "title", "default")}
    array = {k: v for k, v in prop.items() if k not in meta}
    return {**meta, "anyOf": [array, items]}


def policy_json_schema_text() -> str:
    return json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "DEFAULT_POLICY_PATH",
    "ENV_POLICY",
    "RULES",
    "CheckReport",
    "ColumnSpec",
    "Condition",
    "ConsentSource",
    "Erasure",
    "ErasureAction",
    "ErasureRule",
    "Finding",
    "IdentifierKind",
    "IdentityLink",
    "Issue",
    "LegalBasis",
    "LoadedPolicy",
    "Mark",
    "Normalization",
    "Policy",
    "PolicyInvalidError",
    "Purpose",
    "Recipient",
    "RetentionAction",
    "RetentionRule",
    "Role",
    "Severity",
    "Subject",
    "TableAccess",
    "TableSpec",
    "Visibility",
    "WorkspaceFacts",
    "build_report",
    "check_policy",
    "collect_facts",
    "evaluate",
    "load_policy",
    "load_policy_text",
    "policy_json_schema",
    "policy_json_schema_text",
]
