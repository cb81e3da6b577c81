"""Pseudonymize columns of a workspace table: plan, apply in place, or write a protected file.

In place is destructive and runs as one transaction together with its audit entry and
its record in `_tutela.protected_columns` (which later re-identification, re-keying and
key retirement read). A file output gets a sidecar manifest `<out>.tutela.json` naming
the key version, purpose and method of every column.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tutela import __version__, audit, fileout, live
from tutela.base.errors import EngineError, TutelaError, UsageError
from tutela.base.keys import KeySet, MasterKey
from tutela.base.normalize import key_sql
from tutela.base.progress import ProgressCallback, no_progress
from tutela.engine import Connection, SqlError
from tutela.policy.models import Policy, Visibility
from tutela.policy.vocab import Entity
from tutela.protect import formats
from tutela.protect.mapping import build_mapping, drop_temp
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
from tutela.protect.reversible import Encryptor
from tutela.protect.sqlhmac import Binder, HmacKey, token
from tutela.workspace import (
    INTERNAL_SCHEMA,
    Workspace,
    internal_table_exists,
    quote_ident,
    relation,
    table_ident,
)

DEFAULT_PURPOSE = "pseudonymization"
MANIFEST_SUFFIX = ".tutela.json"
REGISTRY = f"{INTERNAL_SCHEMA}.protected_columns"
_REGISTRY_DDL = f"""CREATE TABLE IF NOT EXISTS {REGISTRY} (
    table_name VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    arg VARCHAR,
    normalize VARCHAR,
    purpose VARCHAR NOT NULL,
    key_version INTEGER NOT NULL,
    key_id VARCHAR NOT NULL,
    applied_at VARCHAR NOT NULL,
    PRIMARY KEY (table_name, column_name)
)"""
OUTPUT_FORMATS = fileout.FORMATS
_IMPLIED_NORMALIZATION = {
    Method.email: "email",
    Method.phone: "e164",
    Method.iban: "compact",
    Method.card: "compact",
}


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


@dataclass
class ProtectPlan:
    table: str
    rows: int
    purpose: str
    key_version: int
    key_id: str
    target: str  # "in-place" or the output path
    columns: list[ColumnPlan]
    kept: list[str]
    as_of: str
    max_shift_days: int
    layout: list[str] = field(default_factory=list)  # every column, in table order
    warnings: list[str] = field(default_factory=list)

    @property
    def in_place(self) -> bool:
        return self.target == "in-place"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "purpose": self.purpose,
            "key_version": self.key_version,
            "key_id": self.key_id,
            "target": self.target,
            "columns": [c.to_dict() for c in self.columns],
            "kept": self.kept,
            "as_of": self.as_of,
            "max_shift_days": self.max_shift_days,
            "warnings": self.warnings,
        }


@dataclass
class ProtectResult:
    plan: ProtectPlan
    applied: bool
    audit_seq: int | None = None
    out: str | None = None
    manifest: str | None = None
    rewrite: dict[str, Any] | None = None
    """In place: the workspace-file rewrite that removed the clear values (purge.py)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "applied": self.applied,
            "audit_entry": self.audit_seq,
            "out": self.out,
            "manifest": self.manifest,
            "workspace_rewritten": self.rewrite,
        }


def ensure_registry(con: Connection) -> None:
    con.execute(_REGISTRY_DDL)


def registry_entries(con: Connection, table: str | None = None) -> list[dict[str, Any]]:
    if not internal_table_exists(con, "protected_columns"):
        return []
    cur = con.execute(
        f"SELECT * FROM {REGISTRY} WHERE ? IS NULL OR table_name = ? "
        "ORDER BY table_name, column_name",
        [table, table],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


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
    target: str = "in-place",
    as_of: date | None = None,
    max_shift_days: int = 30,
) -> ProtectPlan:
    """Check a request against the table and say exactly what would happen."""
    ws.require_table(table)
    if not purpose.strip():
        raise UsageError("--purpose must not be empty")
    if normalize not in NORMALIZATIONS:
        raise UsageError(f"unknown normalisation {normalize!r} ({', '.join(NORMALIZATIONS)})")
    if not 1 <= max_shift_days <= 3650:
        raise UsageError("--max-shift-days must be between 1 and 3650")
    rec = keyset.active if key_version is None else keyset.record(key_version)
    keyset.key(rec.version)  # refuses retired versions
    types = {c.name: c.type for c in ws.columns(table)}
    pairs = [r if isinstance(r, tuple) else (r, "requested") for r in requests]
    unknown = [r.column for r, _ in pairs if r.column not in types]
    unknown += [
        str(r.arg) for r, _ in pairs if r.method is Method.date_shift and r.arg not in types
    ]
    if unknown:
        raise UsageError(
            f"no column {', '.join(map(repr, unknown))} in table {table!r}",
            hint="columns: " + ", ".join(types),
        )
    previous = (
        {e["column_name"]: e for e in registry_entries(ws.con, table)}
        if target == "in-place"
        else {}
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
            f"FROM {relation(table)}"  # a lake table is read in place
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
    sample = ws.query(
        f"SELECT CAST({col} AS VARCHAR) FROM {relation(table)} WHERE {col} IS NOT NULL LIMIT 2000"
    )
    return infer_normalization(req.column, [str(r[0]) for r in sample])


# -- building the SELECT -------------------------------------------------------------------


def _select(
    con: Connection, p: ProtectPlan, keyset: KeySet, temps: list[str]
) -> tuple[str, dict[str, Any]]:
    """The protected SELECT over the table; mapped methods get their temp tables first."""
    binder = Binder()
    hkey = hmac_key(keyset, p.key_version, p.purpose)
    ctx = SqlContext(
        hmac_key=hkey,
        shift_key=shift_key(keyset, p.key_version, p.purpose),
        binder=binder,
        alias="t",
        as_of=p.as_of,
        max_shift_days=p.max_shift_days,
    )
    by_column = {c.column: c for c in p.columns}
    joins: list[str] = []
    exprs: list[str] = []
    for name in p.layout:
        cp = by_column.get(name)
        q = quote_ident(name)
        if cp is None:
            exprs.append(f"t.{q}")
            continue
        if cp.method is Method.drop:
            continue
        if cp.method in MAPPED:
            m = _mapping(con, p, cp, keyset, hkey)
            temps.append(m)
            alias = f"m{len(joins)}"
            joins.append(f"LEFT JOIN {m} AS {alias} ON {alias}.raw = CAST(t.{q} AS VARCHAR)")
            exprs.append(f"{alias}.token AS {q}")
            continue
        sql = column_sql(
            ColumnRequest(cp.column, cp.method, cp.arg), cp.type, cp.normalize or "trim", ctx
        )
        exprs.append(f"{sql} AS {q}")
    if not exprs:
        raise UsageError("every column would be dropped; nothing would be left")
    sql = f"SELECT {', '.join(exprs)} FROM {relation(p.table)} AS t {' '.join(joins)}"
    if joins:
        sql += " ORDER BY t.rowid"
    return sql, binder.params


def protected_select(
    con: Connection, p: ProtectPlan, keyset: KeySet, temps: list[str]
) -> tuple[str, dict[str, Any]]:
    """The protected SELECT (for writers outside this module: lake tables, lake.py)."""
    return _select(con, p, keyset, temps)


def write_table(
    ws: Workspace,
    p: ProtectPlan,
    keyset: KeySet,
    master: MasterKey,
    target: Any,
    *,
    overwrite: bool = False,
) -> ProtectResult:
    """Write the protected table as a new table in an attached lake folder (lake.py):
    staged, then renamed into place; audited. The source table is not changed."""
    from tutela import lake

    temps: list[str] = []
    try:
        with ws.transaction() as con:
            sql, params = _select(con, p, keyset, temps)
            lake.write_table(con, target, sql, params, overwrite=overwrite)
            drop_temp(con, temps)
            entry = audit.append(
                con,
                master,
                command="pseudonymize",
                arguments=_audit_arguments(p),
                tables=[p.table],
                counts={"rows": p.rows, "values": {c.column: c.values for c in p.columns}},
                result=f"written lake table {target.name}",
            )
    except SqlError as exc:
        raise EngineError(_first_line(exc)) from None
    return ProtectResult(p, True, entry.seq, target.name, None)


def _mapping(con: Connection, p: ProtectPlan, cp: ColumnPlan, keyset: KeySet, hkey: HmacKey) -> str:
    col = quote_ident(cp.column)
    base = (
        f"SELECT DISTINCT CAST({col} AS VARCHAR) AS raw FROM {relation(p.table)} "
        f"WHERE {col} IS NOT NULL"
    )
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


# -- applying ---------------------------------------------------------------------------


def _audit_arguments(p: ProtectPlan) -> dict[str, Any]:
    return {
        "table": p.table,
        "target": p.target,
        "purpose": p.purpose,
        "key_version": p.key_version,
        "key_id": p.key_id,
        "columns": {c.column: c.label for c in p.columns},
    }


def apply_in_place(
    ws: Workspace,
    p: ProtectPlan,
    keyset: KeySet,
    master: MasterKey,
    progress: ProgressCallback = no_progress,
    *,
    force: bool = False,
) -> ProtectResult:
    """Rewrite the table with its columns protected, in one transaction with the audit entry.

    A column that is already protected is refused unless `force`: protecting it again
    stacks methods (tokens of tokens), which no re-identification undoes in one step."""
    if not p.in_place:
        raise UsageError("this plan writes a file; use write_file")
    found = live.resolve(p.table)
    if found is not None:
        live.require_writable(found)  # an Iceberg table: refused with the reason
    again = [c for c in p.columns if c.previous]
    if again and not force:
        raise UsageError(
            f"{p.table}: "
            + "; ".join(f"{c.column} is already protected by {c.previous}" for c in again)
            + "; applying again would stack tokens of tokens, nothing was changed",
            hint="leave those columns out, or pass --force to protect them again",
        )
    temps: list[str] = []
    try:
        with ws.transaction(purge_after="pseudonymize") as con:
            progress(f"protecting {p.table}", 0.0)
            sql, params = _select(con, p, keyset, temps)
            con.execute(f"CREATE OR REPLACE TABLE {table_ident(p.table)} AS {sql}", params)
            drop_temp(con, temps)
            ensure_registry(con)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            for c in p.columns:
                con.execute(
                    f"DELETE FROM {REGISTRY} WHERE table_name = ? AND column_name = ?",
                    [p.table, c.column],
                )
                if c.method is not Method.drop:
                    con.execute(
                        f"INSERT INTO {REGISTRY} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [p.table, c.column, str(c.method), c.arg, c.normalize, p.purpose,
                         p.key_version, p.key_id, now],
                    )  # fmt: skip
            entry = audit.append(
                con,
                master,
                command="pseudonymize",
                arguments=_audit_arguments(p),
                tables=[p.table],
                counts={"rows": p.rows, "values": {c.column: c.values for c in p.columns}},
                result="applied",
            )
            progress(f"protecting {p.table}", 1.0)
    except SqlError as exc:
        raise EngineError(_first_line(exc)) from None
    rewrite = ws.purge()  # the clear values must not stay in the file's free blocks
    return ProtectResult(p, True, entry.seq, rewrite=rewrite.to_dict())


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def output_format(path: Path) -> str:
    return fileout.output_format(path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_to(con: Connection, sql: str, params: dict[str, Any], out: Path) -> None:
    """COPY a query to `out` atomically (temp file, then rename), readable by the owner only."""
    output_format(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fileout.copy_query(con, sql, params, tmp, out.suffix)  # the one CSV writer
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_file(
    ws: Workspace,
    p: ProtectPlan,
    keyset: KeySet,
    master: MasterKey,
    *,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
) -> ProtectResult:
    """Write the protected table to a file plus its manifest; the table is not changed."""
    out = Path(p.target)
    manifest_path = out.with_name(out.name + MANIFEST_SUFFIX)
    output_format(out)
    if not out.parent.is_dir():
        raise UsageError(f"directory {out.parent} does not exist")
    if out.exists() and not overwrite:
        raise UsageError(f"{out} exists", hint="pass --force to replace it")
    temps: list[str] = []
    try:
        with ws.transaction() as con:
            progress(f"writing {out.name}", 0.0)
            sql, params = _select(con, p, keyset, temps)
            copy_to(con, sql, params, out)
            drop_temp(con, temps)
            manifest = build_manifest(p, out)
            entry = audit.append(
                con,
                master,
                command="pseudonymize",
                arguments=_audit_arguments(p),
                tables=[p.table],
                counts={"rows": p.rows, "values": {c.column: c.values for c in p.columns}},
                result=f"written {out.name} sha256:{manifest['sha256']}",
            )
            _write_json(manifest_path, manifest)
            progress(f"writing {out.name}", 1.0)
    except SqlError as exc:
        _cleanup(out, manifest_path)
        raise EngineError(_first_line(exc)) from None
    except (TutelaError, OSError):
        _cleanup(out, manifest_path)
        raise
    return ProtectResult(p, True, entry.seq, str(out), str(manifest_path))


def _cleanup(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            path.unlink()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def build_manifest(p: ProtectPlan, out: Path) -> dict[str, Any]:
    """What made the file: the source, the key version, and each column's method."""
    return {
        "tool": "tutela",
        "tool_version": __version__,
        "manifest_version": 1,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": out.name,
        "sha256": sha256_file(out),
        "source_table": p.table,
        "rows": p.rows,
        "purpose": p.purpose,
        "key": {"version": p.key_version, "key_id": p.key_id},
        "as_of": p.as_of,
        "max_shift_days": p.max_shift_days,
        "columns": {
            c.column: {
                "method": str(c.method),
                "arg": c.arg,
                "normalize": c.normalize,
                "purpose": p.purpose,
                "key_version": p.key_version,
                "key_id": p.key_id,
            }
            for c in p.columns
        },
        "unchanged_columns": p.kept,
    }


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest_path.exists():
        raise UsageError(
            f"{path} has no manifest ({manifest_path.name})",
            hint="only files written by `tutela pseudonymize --out` can be re-identified",
        )
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"manifest {manifest_path} cannot be read: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("tool") != "tutela" or "columns" not in data:
        raise UsageError(f"{manifest_path} is not a Tutela manifest")
    return data


__all__ = [
    "DEFAULT_PURPOSE",
    "ColumnPlan",
    "ProtectPlan",
    "ProtectResult",
    "apply_in_place",
    "build_manifest",
    "plan",
    "read_manifest",
    "requests_from_policy",
    "token",
    "write_file",
]
