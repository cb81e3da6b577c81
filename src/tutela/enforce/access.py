"""Role access as SQL: one SELECT per table a role may see (clear, masked, pseudonymized,
hidden columns; row filters), used both by `view create` and by `export --role`.

DuckDB views cannot hold bound parameters, and an HMAC key written into a view definition
would be readable by anyone who can read the catalog. So a table whose role definition has
pseudonymized columns is *materialised* as a table in the role schema (a snapshot, re-made
by `view create`); tables with only clear and masked columns (masking needs no key) are
real views and follow the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from tutela import audit
from tutela.base.errors import EngineError
from tutela.base.keys import init_keyset
from tutela.enforce.common import RefusedError, inline
from tutela.engine import SqlError
from tutela.keyguard import workspace_key
from tutela.policy.models import Policy, Role, Visibility
from tutela.policy.sql import all_of
from tutela.protect.methods import ColumnRequest, Method, SqlContext, column_sql
from tutela.protect.pseudonymize import hmac_key
from tutela.protect.sqlhmac import Binder, HmacKey
from tutela.workspace import Workspace, quote_ident

ALIAS = "t"
_KEY_NORMS = {"none", "trim", "email", "compact", "name", "e164"}


def role_schema(role: str) -> str:
    return f"role_{role}"


def get_role(policy: Policy, name: str) -> Role:
    """The role, or a refusal: an unknown role never means "everything"."""
    role = policy.roles.get(name)
    if role is None:
        known = ", ".join(policy.roles) or "none declared"
        raise RefusedError(f"the policy has no role {name!r} (roles: {known})")
    return role


def role_key(ws: Workspace, role: str) -> HmacKey:
    """The token key of a role: one per role, so two roles' tokens cannot be joined."""
    keyset, _ = init_keyset(ws.root)
    return hmac_key(keyset, keyset.active.version, f"role/{role}")


@dataclass
class RoleSelect:
    table: str
    sql: str
    params: dict[str, Any]
    visibility: dict[str, str]  # column -> clear / masked / pseudonymized / hidden
    filtered: bool


def role_select(
    ws: Workspace, policy: Policy, role_name: str, table: str, key: HmacKey | None
) -> RoleSelect | None:
    """The SELECT a role gets for `table`; None when every column is hidden to it."""
    role = get_role(policy, role_name)
    columns = ws.columns(table)
    vis = {c.name: role.visibility(table, c.name) for c in columns}
    if all(v is Visibility.hidden for v in vis.values()):
        return None
    if key is None and Visibility.pseudonymized in vis.values():
        key = role_key(ws, role_name)
    binder = Binder()
    ctx = SqlContext(
        hmac_key=key or HmacKey(os.urandom(32)),  # unused when nothing is pseudonymized
        shift_key=HmacKey(os.urandom(32)),
        binder=binder,
        alias=ALIAS,
        as_of=date.today().isoformat(),
        max_shift_days=0,
    )
    norms = {
        column: link.method.value
        for link in policy.identity_links_for(table)
        if link.method.value in _KEY_NORMS
        for column in link.all_columns
    }
    parts: list[str] = []
    for col in columns:
        v = vis[col.name]
        name = quote_ident(col.name)
        if v is Visibility.clear:
            parts.append(f"{ALIAS}.{name} AS {name}")
        elif v is Visibility.masked:
            expr = column_sql(ColumnRequest(col.name, Method.mask, "4"), col.type, "trim", ctx)
            parts.append(f"{expr} AS {name}")
        elif v is Visibility.pseudonymized:
            norm = norms.get(col.name, "trim")
            expr = column_sql(ColumnRequest(col.name, Method.hmac, None), col.type, norm, ctx)
            parts.append(f"{expr} AS {name}")
    access = role.tables.get(table)
    conditions = list(access.rows) if access else []
    known = {c.name for c in columns}
    missing = [c.column for c in conditions if c.column not in known]
    if missing:
        raise RefusedError(
            f"role {role_name}: row filter on {table} names missing column(s) "
            + ", ".join(missing)
            + "; refusing rather than showing every row"
        )
    where, where_params = all_of(conditions)
    # row filters read the stored values: qualify their columns with the alias
    sql = (
        f"SELECT {', '.join(parts)} FROM {ws.table_ident(table)} AS {ALIAS} "
        f"WHERE {inline(where, where_params)}"
    )
    return RoleSelect(
        table, sql, binder.params, {k: str(v) for k, v in vis.items()}, bool(conditions)
    )


@dataclass
class ViewResult:
    role: str
    schema: str
    objects: list[dict[str, Any]]
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "schema": self.schema,
            "objects": self.objects,
            "audit_seq": self.audit_seq,
        }


def create_views(ws: Workspace, policy: Policy, role_name: str) -> ViewResult:
    """(Re)create the role's schema with one view (or snapshot table) per visible table."""
    get_role(policy, role_name)
    schema = role_schema(role_name)
    master = workspace_key(ws)
    selects = [s for t in ws.user_tables() if (s := role_select(ws, policy, role_name, t, None))]
    objects: list[dict[str, Any]] = []
    try:
        with ws.transaction() as con:
            con.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
            con.execute(f"CREATE SCHEMA {quote_ident(schema)}")
            for s in selects:
                target = ws.table_ident(s.table, schema)
                kind = "table" if s.params else "view"
                if s.params:
                    con.execute(f"CREATE TABLE {target} AS {s.sql}", s.params)
                else:
                    con.execute(f"CREATE VIEW {target} AS {s.sql}")
                counts = {str(v): sum(1 for x in s.visibility.values() if x == v)
                          for v in Visibility}  # fmt: skip
                objects.append(
                    {"table": s.table, "object": f"{schema}.{s.table}", "kind": kind,
                     "row_filter": s.filtered, **counts}
                )  # fmt: skip
            entry = audit.append(
                con,
                master,
                command="view create",
                arguments={"role": role_name},
                tables=[s.table for s in selects],
                counts={"objects": len(objects)},
                result=f"schema {schema}",
            )
    except SqlError as exc:
        raise EngineError(str(exc).splitlines()[0]) from None
    return ViewResult(role_name, schema, objects, entry.seq)
