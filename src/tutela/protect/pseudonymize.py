"""Pseudonymize columns of a workspace table: keyed tokens, AES-SIV, shaped tokens, masks
and generalisations, planned per column; carried out by the shared pipeline (pipeline.py:
in place, or a protected file with its manifest, or a lake table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tutela.base.errors import UsageError
from tutela.base.identifiers import Entity
from tutela.base.keys import KeySet, MasterKey
from tutela.base.normalize import key_sql
from tutela.engine import Connection
from tutela.protect import formats
from tutela.protect.formats import EMAIL_DOMAIN
from tutela.protect.mapping import build_mapping
from tutela.protect.methods import (
    HMAC_FAMILY,
    MAPPED,
    NORMALIZATIONS,
    ColumnRequest,
    Method,
    SqlContext,
    column_sql,
    infer_normalization,
    parse_method,
)
from tutela.protect.pipeline import (
    DEFAULT_PURPOSE,
    IN_PLACE,
    Plan,
    Registered,
    Result,
    SelectBuilder,
    Selection,
    apply_in_place,
    basis,
    key_record,
    require_columns,
    sha256_file,
    write_file,
)
from tutela.protect.registry import registry_entries
from tutela.protect.reversible import Encryptor
from tutela.protect.sqlhmac import DEFAULT_TOKEN_HEX, Binder, HmacKey, token
from tutela.workspace import Workspace, quote_ident

if TYPE_CHECKING:
    from tutela.engine.spark import Keyed
    from tutela.policy.models import Policy

_IMPLIED_NORMALIZATION = {
    Method.email: "email",
    Method.phone: "e164",
    Method.iban: "compact",
    Method.card: "compact",
}


# Methods whose SQL needs a per-subject shift, a bound date or pattern rewriting of text.
_NOT_ON_SPARK = {Method.date_shift, Method.age_band, Method.freetext}


def hmac_key(keyset: KeySet, version: int, purpose: str) -> HmacKey:
    """The token key of one purpose and key version (shared by hmac, email, phone...)."""
    return HmacKey(keyset.key(version).derive(f"pseudonymize/hmac/{purpose}"))


def shift_key(keyset: KeySet, version: int, purpose: str) -> HmacKey:
    return HmacKey(keyset.key(version).derive(f"pseudonymize/date-shift/{purpose}"))


# -- the plan -------------------------------------------------------------------------


@dataclass
class ColumnPlan:
    column: str
    method: Method
    arg: str | None
    type: str
    normalize: str | None = None
    values: int = 0
    reason: str = "requested"
    previous: str | None = None  # how it was protected before, if it was

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "method": str(self.method),
            "arg": self.arg,
            "type": self.type,
            "normalize": self.normalize,
            "values": self.values,
            "reason": self.reason,
            "previously_protected": self.previous,
        }

    @property
    def label(self) -> str:
        return f"{self.method}:{self.arg}" if self.arg else str(self.method)


@dataclass(kw_only=True)
class ProtectPlan(Plan):
    """Per-column methods: the SQL of `methods.py`, or a mapping built in Python."""

    columns: list[ColumnPlan]
    as_of: str
    max_shift_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._header(),
            "columns": [c.to_dict() for c in self.columns],
            "kept": self.kept,
            "as_of": self.as_of,
            "max_shift_days": self.max_shift_days,
            "warnings": self.warnings,
        }

    def check(self, *, force: bool) -> None:
        """In place, a column already protected is refused unless `force`: protecting it
        again stacks methods (tokens of tokens), which no re-identification undoes in one
        step."""
        again = [c for c in self.columns if c.previous]
        if self.in_place and again and not force:
            raise UsageError(
                f"{self.table}: "
                + "; ".join(f"{c.column} is already protected by {c.previous}" for c in again)
                + "; applying again would stack tokens of tokens, nothing was changed",
                hint="leave those columns out, or pass --force to protect them again",
            )

    def select(
        self, ws: Workspace, con: Connection, keyset: KeySet, master: MasterKey
    ) -> Selection:
        """SQL methods are expressions; mapped ones get their temp tables first."""
        binder = Binder()
        hkey = hmac_key(keyset, self.key_version, self.purpose)
        ctx = SqlContext(
            hmac_key=hkey,
            shift_key=shift_key(keyset, self.key_version, self.purpose),
            binder=binder,
            alias="t",
            as_of=self.as_of,
            max_shift_days=self.max_shift_days,
        )
        by_column = {c.column: c for c in self.columns}
        sel = SelectBuilder(ws.relation(self.table))
        for name in self.layout:
            cp = by_column.get(name)
            if cp is None:
                sel.keep(name)
            elif cp.method in MAPPED:
                sel.join(name, _mapping(con, self, sel.source, cp, keyset, hkey))
            elif cp.method is not Method.drop:
                request = ColumnRequest(cp.column, cp.method, cp.arg)
                sql = column_sql(request, cp.type, cp.normalize or "trim", ctx)
                assert sql is not None  # every method but the mapped ones and drop is SQL
                sel.expr(name, sql)
        return sel.build(binder.params)

    def spark_select(self, relation: str, keyset: KeySet) -> tuple[str, dict[str, Keyed]]:
        """The same columns for an engine that computes keyed tokens itself (Spark): a
        SELECT giving each keyed column's normalised value (the engine turns it into the
        token, `engine.spark.write_parquet`) and every other column as `select` would.
        Methods that need a mapping, a bound date or the subject's shift are refused."""
        from tutela.engine.spark import Keyed  # ~10 ms of imports: only for Spark

        hkey = hmac_key(keyset, self.key_version, self.purpose)
        binder = Binder()
        ctx = SqlContext(
            hmac_key=hkey, shift_key=hkey, binder=binder, alias="t", as_of=self.as_of,
            max_shift_days=self.max_shift_days,
        )  # fmt: skip
        by_column = {c.column: c for c in self.columns}
        exprs: list[str] = []
        keyed: dict[str, Keyed] = {}
        for name in self.layout:
            cp, q = by_column.get(name), quote_ident(name)
            if cp is None:
                exprs.append(f"t.{q}")
            elif cp.method in (Method.hmac, Method.email):
                if any(mark in cp.type.upper() for mark in ("STRUCT", "MAP", "[", "UNION")):
                    raise UsageError(
                        f"{self.table}: {name} is {cp.type}: Spark and DuckDB spell nested "
                        "values differently as text, so their tokens would not join",
                        hint="pseudonymize the fields inside it from a flattened table",
                    )
                exprs.append(f"{key_sql(f't.{q}', cp.normalize or 'trim')} AS {q}")
                email = cp.method is Method.email
                length = DEFAULT_TOKEN_HEX if email else int(cp.arg or DEFAULT_TOKEN_HEX)
                keyed[name] = Keyed(hkey.pads(), length, f"@{EMAIL_DOMAIN}" if email else "")
            elif cp.method is not Method.drop:
                sql = None
                if cp.method not in MAPPED and cp.method not in _NOT_ON_SPARK:
                    sql = column_sql(ColumnRequest(name, cp.method, cp.arg), cp.type, "trim", ctx)
                if sql is None or binder.params:
                    raise UsageError(
                        f"{self.table}: {name}={cp.method} does not run on Spark (it needs "
                        "a mapping table or a bound value); keyed tokens (hmac, email), "
                        "masks, truncation, year/month, null and drop do",
                        hint="write that column with another method, or leave it out",
                    )
                exprs.append(f"{sql} AS {q}")
        if not exprs:
            raise UsageError("every column would be dropped; nothing would be left")
        return f"SELECT {', '.join(exprs)} FROM {relation} AS t", keyed

    def registered(self) -> list[Registered]:
        return [
            Registered(c.column, None if c.method is Method.drop else str(c.method), c.arg,
                       c.normalize)
            for c in self.columns
        ]  # fmt: skip

    def audit_arguments(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "target": self.target,
            **self._key_fields(),
            "columns": {c.column: c.label for c in self.columns},
        }

    def audit_counts(self, keys_created: int) -> dict[str, Any]:
        return {"rows": self.rows, "values": {c.column: c.values for c in self.columns}}

    def manifest_fields(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "max_shift_days": self.max_shift_days,
            "columns": {
                c.column: {
                    "method": str(c.method),
                    "arg": c.arg,
                    "normalize": c.normalize,
                    **self._key_fields(),
                }
                for c in self.columns
            },
        }

    def result_fields(self, result: Result) -> dict[str, Any]:
        return {"workspace_rewritten": result.rewrite}


# -- from a policy ----------------------------------------------------------------------

_ENTITY_METHOD: dict[Entity, tuple[str, str]] = {
    Entity.EMAIL_ADDRESS: ("hmac", "mask"),
    Entity.PHONE_NUMBER: ("hmac", "mask"),
    Entity.NATIONAL_ID: ("hmac", "mask"),
    Entity.TAX_ID: ("hmac", "mask"),
    Entity.PASSPORT: ("hmac", "mask"),
    Entity.PERSON: ("hmac", "null"),
    Entity.IBAN_CODE: ("hmac", "mask"),
    Entity.CREDIT_CARD: ("hmac", "mask"),
    Entity.IP_ADDRESS: ("hmac", "null"),
    Entity.MAC_ADDRESS: ("hmac", "null"),
    Entity.ONLINE_ID: ("hmac", "mask"),
    Entity.POSTAL_ADDRESS: ("hmac", "null"),
    Entity.DATE_OF_BIRTH: ("age_band", "year"),
    Entity.GEOLOCATION: ("null", "null"),
}


_ENTITY_NORMALIZATION: dict[Entity | None, str] = {
    Entity.EMAIL_ADDRESS: "email",
    Entity.PHONE_NUMBER: "e164",
    Entity.NATIONAL_ID: "compact",
    Entity.TAX_ID: "compact",
    Entity.PASSPORT: "compact",
    Entity.IBAN_CODE: "compact",
    Entity.CREDIT_CARD: "compact",
    Entity.PERSON: "name",
}


def requests_from_policy(
    policy: Policy, table: str, columns: list[str], role: str | None = None
) -> list[tuple[ColumnRequest, str]]:
    """Column requests (with the reason) from a role's visibilities or the column entities.

    With a role: `pseudonymized` -> a token, `masked` -> a mask or generalisation,
    `hidden` -> dropped, `clear` -> unchanged. Without: every declared personal column
    gets the method its entity calls for; identifiers keep joinable tokens.
    """
    from tutela.policy.models import Visibility

    role_obj = None
    if role is not None:
        if role not in policy.roles:
            known = ", ".join(sorted(policy.roles)) or "none declared"
            raise UsageError(f"unknown role {role!r} (roles: {known})")
        role_obj = policy.roles[role]
    out: list[tuple[ColumnRequest, str]] = []
    for column in columns:
        spec = policy.column_spec(table, column)
        entity = spec.entity if spec else None
        pseudo, masked = (
            _ENTITY_METHOD.get(entity, ("hmac", "mask")) if entity else ("hmac", "mask")
        )
        if spec and spec.free_text:
            pseudo = masked = "freetext"
        if role_obj is not None:
            vis = role_obj.visibility(table, column)
            method = {
                Visibility.pseudonymized: pseudo,
                Visibility.masked: masked,
                Visibility.hidden: "drop",
            }.get(vis)
            why = f"role {role}: {vis}"
        else:
            method, why = None, "policy"
            if spec and spec.personal and (spec.entity or spec.free_text):
                method, why = pseudo, f"policy: {'free text' if spec.free_text else entity}"
            elif spec and spec.personal and spec.effective_category == "user.unique_id":
                method, why = "hmac", "policy: user.unique_id"
            elif spec and spec.quasi_identifier and "postal_code" in (spec.category or ""):
                method, why = "truncate", "policy: quasi-identifier (postcode)"
        if method is None:
            continue
        m, arg = parse_method(method)
        out.append((ColumnRequest(column, m, arg), why))
    return out


# -- planning ---------------------------------------------------------------------------


def plan(
    ws: Workspace,
    table: str,
    requests: list[ColumnRequest] | list[tuple[ColumnRequest, str]],
    *,
    keyset: KeySet,
    purpose: str = DEFAULT_PURPOSE,
    key_version: int | None = None,
    normalize: str = "auto",
    policy: Policy | None = None,
    target: str = IN_PLACE,
    as_of: date | None = None,
    max_shift_days: int = 30,
) -> ProtectPlan:
    """Check a request against the table and say exactly what would happen."""
    types = basis(ws, table, purpose)
    if normalize not in NORMALIZATIONS:
        raise UsageError(f"unknown normalisation {normalize!r} ({', '.join(NORMALIZATIONS)})")
    if not 1 <= max_shift_days <= 3650:
        raise UsageError("--max-shift-days must be between 1 and 3650")
    rec = key_record(keyset, key_version)
    pairs = [r if isinstance(r, tuple) else (r, "requested") for r in requests]
    require_columns(
        table,
        types,
        [r.column for r, _ in pairs]
        + [str(r.arg) for r, _ in pairs if r.method is Method.date_shift],
    )
    previous = (
        {e["column_name"]: e for e in registry_entries(ws.con, table)} if target == IN_PLACE else {}
    )
    columns: list[ColumnPlan] = []
    for req, why in pairs:
        cp = ColumnPlan(req.column, req.method, req.arg, types[req.column], reason=why)
        if req.method in HMAC_FAMILY:
            cp.normalize = _normalization(ws, table, req, normalize, policy)
        if req.column in previous:
            p = previous[req.column]
            cp.previous = f"{p['method']} (key v{p['key_version']}, {p['applied_at'][:10]})"
        columns.append(cp)
    warnings = [
        f"{c.column} was already protected: {c.previous}; protecting it again "
        "stacks methods (tokens of tokens)"
        for c in columns
        if c.previous
    ]
    if columns:
        counts = ws.query(
            f"SELECT count(*), {', '.join(f'count({quote_ident(c.column)})' for c in columns)} "
            f"FROM {ws.relation(table)}"  # a lake table is read in place
        )[0]
        rows = int(counts[0])
        for c, n in zip(columns, counts[1:], strict=True):
            c.values = int(n)
    else:
        rows = ws.row_count(table)
    planned = {c.column for c in columns}
    return ProtectPlan(
        table=table,
        rows=rows,
        purpose=purpose,
        key_version=rec.version,
        key_id=rec.key_id,
        target=target,
        columns=columns,
        kept=[c for c in types if c not in planned],
        as_of=(as_of or datetime.now(UTC).date()).isoformat(),
        max_shift_days=max_shift_days,
        layout=list(types),
        warnings=warnings,
    )


def _normalization(
    ws: Workspace, table: str, req: ColumnRequest, normalize: str, policy: Policy | None
) -> str:
    if normalize != "auto":
        return normalize
    if policy is not None:
        for link in policy.identity_links_for(table):
            if link.column == req.column:
                return str(link.method)
        spec = policy.column_spec(table, req.column)
        if spec is not None and spec.entity in _ENTITY_NORMALIZATION:
            return _ENTITY_NORMALIZATION[spec.entity]
    if req.method in _IMPLIED_NORMALIZATION:
        return _IMPLIED_NORMALIZATION[req.method]
    col = quote_ident(req.column)
    source = ws.relation(table)
    sample = ws.query(
        f"SELECT CAST({col} AS VARCHAR) FROM {source} WHERE {col} IS NOT NULL LIMIT 2000"
    )
    return infer_normalization(req.column, [str(r[0]) for r in sample])


# -- mapped methods (Python over distinct values) ------------------------------------


def _mapping(
    con: Connection, p: ProtectPlan, source: str, cp: ColumnPlan, keyset: KeySet, hkey: HmacKey
) -> str:
    col = quote_ident(cp.column)
    base = f"SELECT DISTINCT CAST({col} AS VARCHAR) AS raw FROM {source} WHERE {col} IS NOT NULL"
    if cp.method is Method.encrypt:
        enc = Encryptor(keyset, p.purpose, p.key_version)

        def encrypt(row: tuple[Any, ...]) -> str | None:
            return enc.encrypt(row[0]) if row[0] else row[0]

        return build_mapping(con, base, {}, encrypt)
    binder = Binder()
    h = hkey.sql(key_sql("raw", cp.normalize or "trim"), binder)
    shaped: Callable[[str, str], str] = {
        Method.phone: formats.phone_token,
        Method.iban: formats.iban_token,
        Method.card: formats.card_token,
    }[cp.method]

    def shape(row: tuple[Any, ...]) -> str | None:
        raw, hexd = row
        return shaped(raw, hexd) if hexd else None

    return build_mapping(con, f"SELECT raw, {h} AS h FROM ({base})", binder.params, shape)


__all__ = [
    "DEFAULT_PURPOSE",
    "ColumnPlan",
    "ProtectPlan",
    "apply_in_place",
    "hmac_key",
    "plan",
    "registry_entries",
    "requests_from_policy",
    "sha256_file",
    "token",
    "write_file",
]
