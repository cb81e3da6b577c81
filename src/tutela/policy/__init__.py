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
from typing import Any

from tutela.policy.evaluate import build_report, check_policy, evaluate
from tutela.policy.facts import WorkspaceFacts, collect_facts
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


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy document, for editors."""
    schema = Policy.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


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
