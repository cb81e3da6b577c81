"""The policy language as pydantic v2 models: closed vocabularies, cross-field rules, references."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tutela.policy.duration import DURATION_PATTERN, Duration, parse_duration
from tutela.policy.erasure_actions import ACTIONS
from tutela.policy.erasure_actions import ErasureAction as ErasureAction  # the registry's
from tutela.policy.vocab import (
    ENTITY_CATEGORY,
    FIDESLANG_CATEGORIES,
    Entity,
    category_within,
    entity_allows,
    suggest,
)

# -- closed vocabularies ---------------------------------------------------------------


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) lawful bases."""

    consent = "consent"
    contract = "contract"
    legal_obligation = "legal_obligation"
    vital_interests = "vital_interests"
    public_task = "public_task"
    legitimate_interests = "legitimate_interests"


class IdentifierKind(StrEnum):
    """What an identity-link column holds; decides the default normalisation."""

    customer_id = "customer_id"
    account_id = "account_id"
    email = "email"
    phone = "phone"
    national_id = "national_id"
    tax_id = "tax_id"
    name = "name"
    iban = "iban"
    cookie_id = "cookie_id"
    device_id = "device_id"
    ip_address = "ip_address"
    # Corroborating attributes: never a match on their own, never followed; they raise or
    # lower the score of a possible match found by name (and are shown to the reviewer).
    birth_date = "birth_date"
    postcode = "postcode"
    city = "city"


# Kinds whose value identifies one person by construction (unless declared otherwise):
# a row's identity is read from these first when deciding whether a value is shared.
ANCHOR_KINDS = (
    IdentifierKind.customer_id,
    IdentifierKind.account_id,
    IdentifierKind.national_id,
    IdentifierKind.tax_id,
)
CORROBORATING_KINDS = (IdentifierKind.birth_date, IdentifierKind.postcode, IdentifierKind.city)


class Normalization(StrEnum):
    """How identifier values are made comparable across systems before matching."""

    none = "none"  # compare as stored
    trim = "trim"  # strip surrounding whitespace
    email = "email"  # trim + lower-case
    e164 = "e164"  # phone number in E.164 (+34976631706), using region / region_column
    compact = "compact"  # upper-case, spaces, dots and dashes removed (DNI, PESEL, IBAN...)
    name = "name"  # case-folded, accents stripped, whitespace collapsed
    date = "date"  # a date in any usual spelling (1975-02-14, 14/02/1975, 14.02.1975)


DEFAULT_NORMALIZATION: dict[IdentifierKind, Normalization] = {
    IdentifierKind.customer_id: Normalization.trim,
    IdentifierKind.account_id: Normalization.trim,
    IdentifierKind.email: Normalization.email,
    IdentifierKind.phone: Normalization.e164,
    IdentifierKind.national_id: Normalization.compact,
    IdentifierKind.tax_id: Normalization.compact,
    IdentifierKind.name: Normalization.name,
    IdentifierKind.iban: Normalization.compact,
    IdentifierKind.cookie_id: Normalization.trim,
    IdentifierKind.device_id: Normalization.trim,
    IdentifierKind.ip_address: Normalization.trim,
    IdentifierKind.birth_date: Normalization.date,
    IdentifierKind.postcode: Normalization.compact,
    IdentifierKind.city: Normalization.name,
}


class Visibility(StrEnum):
    """What a role sees of a column."""

    clear = "clear"
    masked = "masked"
    pseudonymized = "pseudonymized"
    hidden = "hidden"


class RetentionAction(StrEnum):
    delete = "delete"
    anonymize = "anonymize"
    pseudonymize = "pseudonymize"


class RecipientKind(StrEnum):
    processor = "processor"
    sub_processor = "sub_processor"
    joint_controller = "joint_controller"
    controller = "controller"
    third_party = "third_party"
    public_authority = "public_authority"


class Safeguard(StrEnum):
    """Chapter V transfer mechanisms (Art. 45-49 GDPR)."""

    adequacy_decision = "adequacy_decision"
    sccs = "sccs"  # standard contractual clauses
    bcrs = "bcrs"  # binding corporate rules
    eu_us_dpf = "eu_us_dpf"  # EU-US Data Privacy Framework certification
    code_of_conduct = "code_of_conduct"
    certification = "certification"
    art49_derogation = "art49_derogation"


# -- constrained scalars ---------------------------------------------------------------

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lower-case letters, digits and underscores, "
            "starting with a letter (e.g. marketing_email)"
        )
    return value


def _check_country(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(
            f"{value!r} is not a country code: use ISO 3166-1 alpha-2 in capitals (ES, DE, US)"
        )
    if value == "EL":
        raise ValueError("use the ISO code GR for Greece (EL is the EU's own abbreviation)")
    if value == "UK":
        raise ValueError("use the ISO code GB for the United Kingdom")
    return value


def _check_category(value: str) -> str:
    if value not in FIDESLANG_CATEGORIES:
        close = suggest(value, FIDESLANG_CATEGORIES)
        hint = f"; did you mean {close}?" if close else " (e.g. user.contact.email)"
        raise ValueError(f"{value!r} is not a fideslang data category{hint}")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
Country = Annotated[
    str,
    BeforeValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{2}$",
            "not": {"enum": ["EL", "UK"]},  # refused by _check_country: GR and GB
            "description": "ISO 3166 alpha-2",
        }
    ),
]
Category = Annotated[
    str,
    AfterValidator(_check_category),
    WithJsonSchema(
        {"type": "string", "enum": sorted(FIDESLANG_CATEGORIES), "description": "fideslang key"}
    ),
]
Text = Annotated[str, AfterValidator(_check_text)]
Ident = Annotated[str, Field(min_length=1)]
PolicyDuration = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["3y", "6 years", "18 months", "90 days", "P1Y6M"],
        }
    ),
]
Scalar = str | int | float | bool


def _as_list(value: object) -> object:
    """Accept one condition where a list of them is expected."""
    return [value] if isinstance(value, dict | str) else value


class PolicyModel(BaseModel):
    """Every policy node: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=False
    )


# -- subjects and identity links ---------------------------------------------------------


class IdentityLink(PolicyModel):
    """A column that identifies a data subject in one table, and how to normalise it."""

    table: Ident
    column: Ident = Field(
        "", description="The column (for a name split over several, use `columns`)."
    )
    columns: list[Ident] = Field(
        default_factory=list,
        description="A name split over several columns, in reading order: "
        "[first_name, last_name]. Read as one name, the parts joined by a space.",
    )
    kind: IdentifierKind
    normalize: Normalization | None = Field(
        None, description="Defaults by kind: email->email, phone->e164, national_id->compact..."
    )
    region: str | None = Field(
        None, description="Default phone region (ISO 3166-1 alpha-2) for national numbers."
    )
    region_column: str | None = Field(
        None, description="A column of the same table holding each row's phone region."
    )
    strip_prefix: str | None = Field(
        None, description="A literal prefix removed before matching (e.g. CUST-)."
    )
    shared: bool = Field(
        False,
        description="Values are shared between people by nature (a household landline, a "
        "family e-mail): rows reached through them are possible matches for review, never "
        "certain, and never followed further.",
    )
    unique: bool | None = Field(
        None,
        description="Each value belongs to one person (default: true for customer_id, "
        "account_id, national_id and tax_id). Unique links tell people apart when deciding "
        "whether another value is shared; `policy check` reports values that are not.",
    )
    placeholders: list[str] = Field(
        default_factory=list,
        description="Values of this column that stand for nobody in particular "
        "(+34 900 000 000, noemail@shop.example); never matched.",
    )
    valid_from: Ident | None = Field(
        None, description="Column: since when the identifier belongs to this row's person."
    )
    valid_until: Ident | None = Field(
        None, description="Column: until when the identifier belonged to this row's person."
    )
    observed_at: Ident | None = Field(
        None,
        description="Column: when the row was recorded; with valid_from/valid_until on "
        "another link of the same kind, a recycled identifier is attributed to whoever "
        "held it at that time.",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_column(cls, data: Any) -> Any:
        if isinstance(data, dict) and "columns" in data:
            if "column" in data:
                raise ValueError(
                    "give either column: or columns: (the parts of one name), not both"
                )
            parts = data["columns"]
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                data = {**data, "column": parts[0]}
        return data

    @property
    def parts(self) -> tuple[str, ...]:
        """The columns after the first of a name split over several (`columns`)."""
        return tuple(self.columns[1:])

    @property
    def all_columns(self) -> tuple[str, ...]:
        """Every column the link reads: its column, or the parts of a split name."""
        return (self.column, *self.parts)

    @property
    def method(self) -> Normalization:
        """The effective normalisation (explicit, or the default for the kind)."""
        return self.normalize or DEFAULT_NORMALIZATION[self.kind]

    @property
    def is_unique(self) -> bool:
        """Whether values of this link identify one person (declared, or by kind)."""
        if self.unique is not None:
            return self.unique
        return self.kind in ANCHOR_KINDS and not self.shared

    @model_validator(mode="after")
    def _region_rules(self) -> IdentityLink:
        if not self.column and "columns" not in self.model_fields_set:
            raise ValueError(
                "an identifier needs its column: {table: t, column: email, kind: email}"
            )
        if len(set(self.columns)) < len(self.columns):
            raise ValueError("columns: names a column twice; list each part of the name once")
        if "columns" in self.model_fields_set and (
            self.kind is not IdentifierKind.name or len(self.columns) < 2
        ):
            raise ValueError(
                "columns: joins the parts of one name written in several columns; write:\n"
                "  {table: t, columns: [first_name, last_name], kind: name}\n"
                "(any other identifier is one column: column: email)"
            )
        if (self.region or self.region_column) and self.method is not Normalization.e164:
            raise ValueError(
                "region / region_column only apply to phone numbers normalised to E.164; "
                "write:\n  {table: t, column: telefono, kind: phone, region: ES}"
            )
        if self.region is not None:
            _check_country(self.region)
            from phonenumbers import SUPPORTED_REGIONS

            # the region decides how a number written without its country is read
            if self.region not in SUPPORTED_REGIONS:
                raise ValueError(
                    f"{self.region!r} is no phone region: use the ISO 3166-1 alpha-2 code of "
                    "a country (ES, DE, US)"
                )
        if self.shared and self.unique:
            raise ValueError(
                "a link cannot be both shared and unique; a household landline is:\n"
                "  {table: t, column: home_phone, kind: phone, shared: true}"
            )
        if self.kind in CORROBORATING_KINDS and (self.shared or self.unique):
            raise ValueError(
                f"{self.kind} only corroborates a possible match; `shared` and `unique` "
                "apply to identifying links"
            )
        return self


class Subject(PolicyModel):
    """A kind of data subject (customer, employee...) and every column that identifies one."""

    description: str | None = None
    identifiers: list[IdentityLink] = Field(min_length=1)
    placeholders: list[str] = Field(
        default_factory=list,
        description="Values that stand for nobody in particular in any identity link of this "
        "subject (added to the built-in list: n/a, unknown, test@test.com, 000000000...).",
    )


# -- tables and columns ---------------------------------------------------------------


class ColumnSpec(PolicyModel):
    """What a column holds. Shorthand: an entity (EMAIL_ADDRESS), a category, or not_personal."""

    entity: Entity | None = None
    subtype: str | None = Field(None, description="Finer entity name, e.g. ES_NIF, GR_AMKA.")
    category: Category | None = None
    personal: bool = True
    quasi_identifier: bool = False
    free_text: bool = False
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None:
            return {}
        if not isinstance(data, str):
            return data
        if data in Entity.__members__:
            return {"entity": data}
        if data == "not_personal":
            return {"personal": False}
        if data == "quasi_identifier":
            return {"quasi_identifier": True}
        if data.startswith(("user", "system")):
            return {"category": data}
        raise ValueError(
            f"cannot read column shorthand {data!r}: write an entity (EMAIL_ADDRESS, "
            "NATIONAL_ID...), a fideslang category (user.contact.email), not_personal, "
            "or a mapping like {entity: PERSON, category: user.name}"
        )

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if not self.personal and (self.entity or self.category):
            raise ValueError(
                "a column marked personal: false cannot name an entity or category; either "
                "drop `personal: false` or write `not_personal` alone"
            )
        if self.entity and self.category:
            expected = ENTITY_CATEGORY[self.entity]
            if not entity_allows(self.entity, self.category):
                raise ValueError(
                    f"entity {self.entity} belongs to category {expected}, not {self.category}; "
                    f"write:\n  {{entity: {self.entity}, category: {expected}}}"
                )
        return self

    @property
    def effective_category(self) -> str | None:
        """The declared category, or the one the entity implies."""
        if self.category:
            return self.category
        return ENTITY_CATEGORY[self.entity] if self.entity else None

    @property
    def is_classified(self) -> bool:
        return not self.personal or self.effective_category is not None or self.quasi_identifier


class TableSpec(PolicyModel):
    """One loaded table: its source, whose data it holds, and what each column is."""

    description: str | None = None
    source_system: str | None = None
    subject: Name | None = Field(None, description="The subjects (see `subjects`) it describes.")
    columns: dict[Ident, ColumnSpec] = Field(default_factory=dict)


# -- purposes --------------------------------------------------------------------------


class Recipient(PolicyModel):
    """Who receives personal data for a purpose (Art. 30(1)(d))."""

    name: Text
    kind: RecipientKind
    country: Country
    safeguard: Safeguard | None = None
    safeguard_reference: str | None = Field(
        None, description="Where the safeguard is documented (contract, decision number)."
    )
    description: str | None = None


class StorageLocation(PolicyModel):
    """Where the data of a purpose is stored or hosted."""

    location: Text
    country: Country
    safeguard: Safeguard | None = None
    safeguard_reference: str | None = None


class Purpose(PolicyModel):
    """A processing purpose: lawful basis, data used, recipients and storage."""

    description: str | None = None
    legal_basis: LegalBasis | None = Field(
        ..., description="Required; write null only in a draft (the check reports it)."
    )
    legitimate_interest: str | None = Field(
        None, description="The interest pursued; required with legitimate_interests."
    )
    consent_required: bool | None = Field(
        None, description="Defaults to true for legal_basis consent, false otherwise."
    )
    subject: Name | None = None
    tables: list[Ident] = Field(min_length=1)
    categories: list[Category] = Field(
        default_factory=list, description="Restrict to these categories; empty = all."
    )
    recipients: list[Recipient] = Field(default_factory=list)
    storage: list[StorageLocation] = Field(default_factory=list)

    @property
    def needs_consent(self) -> bool:
        if self.consent_required is None:
            return self.legal_basis is LegalBasis.consent
        return self.consent_required

    @model_validator(mode="after")
    def _basis_rules(self) -> Purpose:
        if self.legal_basis is LegalBasis.consent and self.consent_required is False:
            raise ValueError(
                "a purpose based on consent always requires consent; drop "
                "`consent_required: false` or change the basis:\n"
                "  legal_basis: consent\n  consent_required: true"
            )
        if self.legal_basis is LegalBasis.legitimate_interests and not self.legitimate_interest:
            raise ValueError(
                "legal_basis legitimate_interests needs the interest pursued (Art. 6(1)(f)); "
                "write:\n  legal_basis: legitimate_interests\n"
                "  legitimate_interest: fraud prevention on our web shop"
            )
        return self


# -- retention -------------------------------------------------------------------------


class Condition(PolicyModel):
    """A SQL-free row condition: `{column: pais, equals: ES}`, `in: [ES, PT]`, `is_null: true`."""

    column: Ident
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(None, min_length=1)
    is_null: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_sql(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                "conditions are not SQL strings; write a mapping such as "
                "{column: legal_hold, equals: true} or {column: pais, in: [ES, PT]}"
            )
        return data

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        ops = [
            name
            for name, value in (
                ("equals", self.equals),
                ("not_equals", self.not_equals),
                ("in", self.in_),
                ("not_in", self.not_in),
                ("is_null", self.is_null),
            )
            if value is not None
        ]
        if len(ops) != 1:
            raise ValueError(
                f"a condition needs exactly one of equals, not_equals, in, not_in, is_null "
                f"(found {', '.join(ops) or 'none'}); write:\n"
                f"  {{column: {self.column}, equals: true}}"
            )
        return self

    @property
    def operator(self) -> str:
        for name, value in (
            ("equals", self.equals),
            ("not_equals", self.not_equals),
            ("in", self.in_),
            ("not_in", self.not_in),
        ):
            if value is not None:
                return name
        return "is_null"

    def describe(self) -> str:
        op = self.operator
        if op == "is_null":
            return f"{self.column} is {'null' if self.is_null else 'not null'}"
        value = {"equals": self.equals, "not_equals": self.not_equals, "in": self.in_}.get(
            op, self.not_in
        )
        symbol = {"equals": "=", "not_equals": "≠", "in": "in", "not_in": "not in"}[op]
        return f"{self.column} {symbol} {value}"


class RetentionRule(PolicyModel):
    """Keep rows `period` after the date in column `after`, then apply `action`."""

    table: Ident | None = None
    category: Category | None = None
    period: PolicyDuration
    after: Ident = Field(description="The date column the period is counted from.")
    date_format: str | None = Field(
        None, description="strptime format when the date column is text, e.g. %d/%m/%Y."
    )
    action: RetentionAction = RetentionAction.delete
    columns: list[Ident] = Field(
        default_factory=list, description="Columns to anonymize/pseudonymize at expiry."
    )
    legal_hold: Annotated[list[Condition], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Rows matching any condition are never expired."
    )
    reason: str | None = None

    @model_validator(mode="after")
    def _target(self) -> RetentionRule:
        if (self.table is None) == (self.category is None):
            raise ValueError(
                "a retention rule applies to exactly one table or one category; write:\n"
                "  - table: crm_customers\n    period: 6 years\n    after: ultima_compra"
            )
        if self.action is RetentionAction.delete and self.columns:
            raise ValueError(
                "action delete removes whole rows, so `columns` is not used; use "
                "action: anonymize with columns: [...] to blank only some columns"
            )
        if self.action is not RetentionAction.delete and self.table and not self.columns:
            raise ValueError(
                f"action {self.action} on a table needs the columns to transform; write:\n"
                f"  action: {self.action}\n  columns: [email, telefono]"
            )
        return self


# -- access ----------------------------------------------------------------------------


class TableAccess(PolicyModel):
    """One role's view of one table: column visibility and row filters."""

    default: Visibility | None = Field(
        None, description="Visibility of columns not listed (defaults to the role's)."
    )
    clear: list[Ident] = Field(default_factory=list)
    masked: list[Ident] = Field(default_factory=list)
    pseudonymized: list[Ident] = Field(default_factory=list)
    hidden: list[Ident] = Field(default_factory=list)
    rows: Annotated[list[Condition], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Row filters; a row is visible when all hold."
    )

    @model_validator(mode="after")
    def _each_column_once(self) -> TableAccess:
        seen: dict[str, str] = {}
        for vis in Visibility:
            for column in getattr(self, vis.value):
                if column in seen:
                    raise ValueError(
                        f"column {column!r} is listed under both {seen[column]} and {vis}; "
                        f"keep it in one list, e.g.\n  masked: [{column}]"
                    )
                seen[column] = vis.value
        return self

    def visibility(self, column: str, role_default: Visibility) -> Visibility:
        for vis in Visibility:
            if column in getattr(self, vis.value):
                return vis
        return self.default or role_default


class Role(PolicyModel):
    """An access role: what it sees, table by table."""

    description: str | None = None
    default: Visibility = Field(
        Visibility.hidden, description="Visibility of tables and columns not listed."
    )
    tables: dict[Ident, TableAccess] = Field(default_factory=dict)
    justification: str | None = Field(
        None,
        description="Why this role needs national IDs or card numbers in clear (downgrades "
        "the finding to info).",
    )

    def visibility(self, table: str, column: str) -> Visibility:
        access = self.tables.get(table)
        if access is None:
            return self.default
        return access.visibility(column, self.default)


# -- consent ---------------------------------------------------------------------------


class ConsentSource(PolicyModel):
    """The table of consent events: latest event per subject and purpose wins."""

    table: Ident
    subject_column: Ident
    subject_kind: IdentifierKind = IdentifierKind.email
    purpose_column: Ident
    status_column: Ident
    timestamp_column: Ident
    source_column: Ident | None = None
    granted: list[str] = Field(default_factory=lambda: ["granted"], min_length=1)
    withdrawn: list[str] = Field(default_factory=lambda: ["withdrawn"], min_length=1)
    purposes: dict[Name, str] = Field(
        default_factory=dict,
        description="Policy purpose -> value in purpose_column, when they differ.",
    )

    def purpose_value(self, purpose: str) -> str:
        return self.purposes.get(purpose, purpose)


# -- erasure ---------------------------------------------------------------------------


class ErasureRule(PolicyModel):
    """What erasure (Art. 17) does to one table."""

    action: ErasureAction
    columns: list[Ident] = Field(default_factory=list, description="Columns to anonymize.")
    legal_basis: LegalBasis | None = Field(None, description="Basis for keeping rows.")
    reason: str | None = Field(None, description="The law or claim that requires keeping.")
    period: PolicyDuration | None = None
    after: Ident | None = None

    @model_validator(mode="after")
    def _action_rules(self) -> ErasureRule:
        action = self.action  # what each action needs: policy/erasure_actions.py
        if action.columns and not self.columns:
            raise ValueError(action.requirement)
        if not action.columns and self.columns:
            taking = ", ".join(a for a in ACTIONS.values() if a.columns)
            raise ValueError(f"action {action} does not take `columns` (only {taking})")
        if action.legal_basis and not (self.legal_basis and self.reason):
            raise ValueError(action.requirement)
        if (self.period is None) != (self.after is None):
            raise ValueError("`period` and `after` go together: period: 6 years, after: order_date")
        return self


class Erasure(PolicyModel):
    """Erasure rules per table; tables not listed get `default`."""

    default: ErasureAction = ErasureAction.delete
    tables: dict[Ident, ErasureRule] = Field(default_factory=dict)

    @field_validator("default")
    @classmethod
    def _default_not_keep(cls, value: ErasureAction) -> ErasureAction:
        if not value.can_be_default:
            raise ValueError(
                f"default: {value} cannot apply to every table (it needs columns or a legal "
                "basis); write default: delete and list the exceptions under tables:"
            )
        return value


# -- the whole policy --------------------------------------------------------------------


class Organisation(PolicyModel):
    """The controller (Art. 30(1)(a))."""

    name: Text
    country: Country
    contact: str | None = None
    dpo: str | None = Field(None, description="Data protection officer contact.")
    representative: str | None = None


@dataclass(frozen=True)
class RefIssue:
    """A broken reference, located by its path in the policy document."""

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    at_key: bool = False  # the problem is the mapping key itself (e.g. erasure.tables.<name>)


class Policy(PolicyModel):
    """A whole policy (one file, or a directory of files merged)."""

    model_config = ConfigDict(
        title="Tutela policy",
        json_schema_extra={"$id": "https://tutela.invalid/schema/policy-v1.json"},
    )

    version: Literal[1] = 1
    organisation: Organisation | None = None
    subjects: dict[Name, Subject] = Field(default_factory=dict)
    tables: dict[Ident, TableSpec] = Field(min_length=1)
    purposes: dict[Name, Purpose] = Field(default_factory=dict)
    retention: list[RetentionRule] = Field(default_factory=list)
    roles: dict[Name, Role] = Field(default_factory=dict)
    consent: ConsentSource | None = None
    erasure: Erasure = Field(default_factory=Erasure)

    # -- the API other engines use ------------------------------------------------------
    def identity_links(self, subject: str | None = None) -> list[IdentityLink]:
        """Every identity link (of one subject, or of all), in declaration order."""
        subjects = [self.subjects[subject]] if subject else list(self.subjects.values())
        return [link for s in subjects for link in s.identifiers]

    def identity_links_for(self, table: str) -> list[IdentityLink]:
        return [link for link in self.identity_links() if link.table == table]

    def erasure_rule(self, table: str) -> ErasureRule:
        """What erasure does to `table`: its own rule, else the default action."""
        return self.erasure.tables.get(table) or ErasureRule(action=self.erasure.default)

    def consent_purposes(self) -> dict[str, str]:
        """Purposes that need consent -> the value identifying them in the consent table."""
        source = self.consent
        return {
            name: source.purpose_value(name) if source else name
            for name, purpose in self.purposes.items()
            if purpose.needs_consent
        }

    def purposes_for(self, table: str) -> list[str]:
        return [name for name, p in self.purposes.items() if table in p.tables]

    def column_spec(self, table: str, column: str) -> ColumnSpec | None:
        spec = self.tables.get(table)
        return spec.columns.get(column) if spec else None

    def retention_rules_for(self, table: str) -> list[RetentionRule]:
        spec = self.tables.get(table)
        categories = {
            c.effective_category for c in (spec.columns.values() if spec else []) if c.personal
        }
        return [
            r
            for r in self.retention
            if r.table == table
            or (r.category and any(c and category_within(c, r.category) for c in categories))
        ]

    # -- reference checks (run by the loader; all issues at once) -----------------------
    def reference_issues(self) -> list[RefIssue]:
        return _references(self)


def _known(known: list[str]) -> str:
    return ", ".join(known[:12]) + (" ..." if len(known) > 12 else "") if known else "none"


def _missing(
    kind: str, name: str, known: list[str], path: tuple[str | int, ...], extra: str = ""
) -> RefIssue:
    close = suggest(name, known)
    hint = f"did you mean {close!r}?" if close else f"declared {kind}s: {_known(known)}"
    return RefIssue(path, f"unknown {kind} {name!r}", hint + extra)


def _references(p: Policy) -> list[RefIssue]:
    tables = list(p.tables)
    issues: list[RefIssue] = []

    def table_ok(name: str, path: tuple[str | int, ...]) -> bool:
        if name in p.tables:
            return True
        issues.append(
            _missing("table", name, tables, path, " (every table used is declared under tables:)")
        )
        return False

    def column_ok(table: str, column: str, path: tuple[str | int, ...]) -> None:
        columns = list(p.tables[table].columns)
        if column not in columns:
            close = suggest(column, columns)
            issues.append(
                RefIssue(
                    path,
                    f"unknown column {column!r} in table {table!r}",
                    f"did you mean {close!r}?"
                    if close
                    else f"declare it under tables.{table}.columns (declared: {_known(columns)})",
                )
            )

    for sname, subject in p.subjects.items():
        for i, link in enumerate(subject.identifiers):
            base: tuple[str | int, ...] = ("subjects", sname, "identifiers", i)
            if table_ok(link.table, (*base, "table")):
                if link.columns:
                    for j, part in enumerate(link.columns):
                        column_ok(link.table, part, (*base, "columns", j))
                else:
                    column_ok(link.table, link.column, (*base, "column"))
                for field in ("region_column", "valid_from", "valid_until", "observed_at"):
                    value = getattr(link, field)
                    if value:
                        column_ok(link.table, value, (*base, field))

    for tname, table in p.tables.items():
        if table.subject and table.subject not in p.subjects:
            issues.append(_missing("subject", table.subject, list(p.subjects),
                                       ("tables", tname, "subject")))  # fmt: skip

    for pname, purpose in p.purposes.items():
        for i, t in enumerate(purpose.tables):
            table_ok(t, ("purposes", pname, "tables", i))
        if purpose.subject and purpose.subject not in p.subjects:
            issues.append(_missing("subject", purpose.subject, list(p.subjects),
                                       ("purposes", pname, "subject")))  # fmt: skip
        if purpose.needs_consent and p.consent is None:
            field = "consent_required" if purpose.consent_required else "legal_basis"
            issues.append(
                RefIssue(
                    ("purposes", pname, field),
                    f"purpose {pname!r} requires consent but no consent source is declared",
                    "add a top-level block:\n  consent:\n    table: consents\n"
                    "    subject_column: subject_email\n    purpose_column: purpose\n"
                    "    status_column: status\n    timestamp_column: recorded_at",
                )
            )

    for i, rule in enumerate(p.retention):
        base = ("retention", i)
        if rule.table is not None:
            if table_ok(rule.table, (*base, "table")):
                column_ok(rule.table, rule.after, (*base, "after"))
                for j, c in enumerate(rule.columns):
                    column_ok(rule.table, c, (*base, "columns", j))
                for j, cond in enumerate(rule.legal_hold):
                    column_ok(rule.table, cond.column, (*base, "legal_hold", j, "column"))
        elif rule.category is not None:
            hit = [t for t in p.tables if rule in p.retention_rules_for(t)]
            if not hit:
                issues.append(
                    RefIssue(
                        (*base, "category"),
                        f"no declared column has category {rule.category!r}",
                        "declare the column's category under tables:, or use `table:`",
                    )
                )
            for t in hit:
                if rule.after not in p.tables[t].columns:
                    issues.append(
                        RefIssue(
                            (*base, "after"),
                            f"table {t!r} holds {rule.category} but has no column {rule.after!r}",
                            "a category rule needs the `after` column in every table it "
                            "covers; write a per-table rule for this one",
                        )
                    )

    for rname, role in p.roles.items():
        for t, access in role.tables.items():
            path: tuple[str | int, ...] = ("roles", rname, "tables", t)
            if t not in p.tables:
                found = _missing("table", t, tables, path, " (declare it under tables:)")
                issues.append(dataclasses.replace(found, at_key=True))
                continue
            for vis in Visibility:
                for j, c in enumerate(getattr(access, vis.value)):
                    column_ok(t, c, (*path, vis.value, j))
            for j, cond in enumerate(access.rows):
                column_ok(t, cond.column, (*path, "rows", j, "column"))

    if p.consent is not None:
        src = p.consent
        if table_ok(src.table, ("consent", "table")):
            for field in ("subject_column", "purpose_column", "status_column",
                          "timestamp_column", "source_column"):  # fmt: skip
                value = getattr(src, field)
                if value is not None:
                    column_ok(src.table, value, ("consent", field))
        for name in src.purposes:
            if name not in p.purposes:
                found = _missing("purpose", name, list(p.purposes), ("consent", "purposes", name))
                issues.append(dataclasses.replace(found, at_key=True))

    for t, erule in p.erasure.tables.items():
        path = ("erasure", "tables", t)
        if t not in p.tables:
            found = _missing("table", t, tables, path, " (declare it under tables:)")
            issues.append(dataclasses.replace(found, at_key=True))
        else:
            for j, c in enumerate(erule.columns):
                column_ok(t, c, (*path, "columns", j))
            if erule.after:
                column_ok(t, erule.after, (*path, "after"))

    return issues
