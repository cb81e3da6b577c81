"""Re-identification for an authorised role, re-keying after rotation, and retiring keys.

Only reversible tokens (AES-SIV `enc:`, and per-subject `shred:` while the subject's key
lives) can be turned back; the role must see the column in clear under the policy, and
every re-identification is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela import audit
from tutela.base.errors import EngineError, ExitCode, InputFileError, TutelaError, UsageError
from tutela.base.keys import KeySet, KeyStatus, MasterKey, retire_version
from tutela.base.sql import sql_literal
from tutela.engine import Connection, SqlError
from tutela.formats import SQL_READERS
from tutela.protect.mapping import build_mapping, drop_temp, joined_select
from tutela.protect.methods import REVERSIBLE, Method
from tutela.protect.pipeline import (
    OUTPUT_FORMATS,
    copy_to,
    read_manifest,
    sha256_file,
)
from tutela.protect.registry import REGISTRY, registry_entries
from tutela.protect.reversible import DecryptError, Decryptor, Encryptor
from tutela.protect.shred import METHOD as SHRED
from tutela.protect.shred import ShredDecryptor, column_refs, keys_by_version
from tutela.workspace import Workspace, quote_ident

if TYPE_CHECKING:
    from tutela.policy.models import Policy


class AccessDeniedError(TutelaError):
    """The policy does not let this role see the column in clear."""

    slug = "access-denied"
    exit_code = ExitCode.USAGE


READERS = SQL_READERS  # suffix -> DuckDB reader of a file Tutela wrote (`tutela.formats`)


@dataclass
class Source:
    """A workspace table or a protected file, with what is known about its columns."""

    name: str
    table: str  # the policy table its columns belong to
    sql: str  # a FROM item
    columns: dict[str, dict[str, Any]]  # column -> method, purpose, key_version...
    is_file: bool
    warnings: list[str] = field(default_factory=list)


def resolve_source(ws: Workspace, source: str) -> Source:
    path = Path(source)
    if path.suffix.lower() in READERS and (path.exists() or not ws.has_table(source)):
        if not path.is_file():
            raise InputFileError(f"no file {path}")
        manifest = read_manifest(path)
        warnings = []
        if manifest.get("sha256") and manifest["sha256"] != sha256_file(path):
            warnings.append(f"{path.name} changed since it was written (SHA-256 differs)")
        reader = READERS[path.suffix.lower()]
        return Source(
            str(path),
            str(manifest["source_table"]),
            f"{reader}({sql_literal(str(path))})",
            dict(manifest["columns"]),
            True,
            warnings,
        )
    ws.require_table(source)
    entries = {e["column_name"]: e for e in registry_entries(ws.con, source)}
    return Source(source, source, ws.table_ident(source), entries, False)


@dataclass
class ReidentifyResult:
    source: str
    source_table: str
    role: str
    columns: list[str]
    rows: int
    out: str | None
    audit_seq: int
    data: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_table": self.source_table,
            "role": self.role,
            "columns": self.columns,
            "rows": self.rows,
            "out": self.out,
            "audit_entry": self.audit_seq,
            "warnings": self.warnings,
            "data": self.data,
        }


def check_access(policy: Policy, role: str, table: str, columns: list[str]) -> None:
    from tutela.policy.models import Visibility

    if role not in policy.roles:
        known = ", ".join(sorted(policy.roles)) or "none declared"
        raise UsageError(f"unknown role {role!r} (roles: {known})")
    denied = [
        f"{c} ({policy.roles[role].visibility(table, c)})"
        for c in columns
        if policy.roles[role].visibility(table, c) is not Visibility.clear
    ]
    if denied:
        raise AccessDeniedError(
            f"role {role!r} may not see {', '.join(denied)} of table {table!r} in clear",
            hint="re-identification follows the policy's roles: section",
        )


def _decrypt_mapping(
    con: Connection,
    source_sql: str,
    column: str,
    decryptor: Decryptor | ShredDecryptor,
) -> str:
    failures: list[str] = []

    def decrypt(row: tuple[Any, ...]) -> str | None:
        try:
            return decryptor.decrypt(row[0])
        except DecryptError as exc:
            failures.append(str(exc))
            return None

    q = quote_ident(column)
    table = build_mapping(
        con,
        f"SELECT DISTINCT CAST({q} AS VARCHAR) FROM {source_sql} WHERE {q} IS NOT NULL",
        {},
        decrypt,
    )
    if failures:
        raise InputFileError(
            f"{len(failures)} distinct value(s) of column {column!r} cannot be decrypted: "
            f"{failures[0]}"
        )
    return table


def reidentify(
    ws: Workspace,
    source: str,
    columns: list[str],
    *,
    role: str,
    policy: Policy,
    keyset: KeySet,
    master: MasterKey,
    out: Path | None = None,
    overwrite: bool = False,
    limit: int | None = None,
) -> ReidentifyResult:
    """Decrypt reversible columns of a table or protected file for a role allowed to see them."""
    src = resolve_source(ws, source)
    check_access(policy, role, src.table, columns)
    for c in columns:
        info = src.columns.get(c)
        if info is None:
            raise UsageError(f"column {c!r} of {src.name} was not protected by Tutela")
        if info["method"] != SHRED and (
            info["method"] not in set(Method) or Method(info["method"]) not in REVERSIBLE
        ):
            raise UsageError(
                f"column {c!r} was protected with {info['method']}, which is one-way",
                hint="only encrypt (AES-SIV) and shred columns can be re-identified",
            )
    if out is not None:
        if out.suffix.lower() not in OUTPUT_FORMATS:
            raise UsageError(f"cannot tell the output format of {out.name}")
        if out.exists() and not overwrite:
            raise UsageError(f"{out} exists", hint="pass --force to replace it")
    temps: list[str] = []
    try:
        with ws.transaction() as con:
            numbered = f"(SELECT row_number() OVER () AS _tutela_row, * FROM {src.sql})"
            layout = [
                str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {src.sql}").fetchall()
            ]
            missing = [c for c in columns if c not in layout]
            if missing:
                raise UsageError(f"no column {', '.join(missing)} in {src.name}")
            maps: dict[str, str] = {}
            for c in columns:
                purpose = str(src.columns[c]["purpose"])
                decryptor: Decryptor | ShredDecryptor = Decryptor(keyset, purpose)
                if src.columns[c]["method"] == SHRED:
                    decryptor = ShredDecryptor(con, keyset, purpose)
                    decryptor.preload(column_refs(con, src.sql, c))  # one key lookup
                maps[c] = _decrypt_mapping(con, src.sql, c, decryptor)
                temps.append(maps[c])
            sql = joined_select(numbered, layout, maps, order_by="_tutela_row")
            count_row = con.execute(f"SELECT count(*) FROM {src.sql}").fetchone()
            rows = int(count_row[0]) if count_row else 0
            data = None
            if out is not None:
                copy_to(con, sql, {}, out)
            else:
                cur = con.execute(sql + (f" LIMIT {int(limit)}" if limit else ""))
                names = [d[0] for d in cur.description]
                data = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            drop_temp(con, temps)
            entry = audit.append(
                con,
                master,
                command="reidentify",
                arguments={
                    "source": Path(src.name).name if src.is_file else src.name,
                    "role": role,
                    "columns": columns,
                    "out": out.name if out else None,
                },
                tables=[src.table],
                counts={"rows": rows},
                result="re-identified",
            )
    except SqlError as exc:
        raise EngineError(str(exc).splitlines()[0]) from None
    return ReidentifyResult(
        src.name, src.table, role, columns, rows, str(out) if out else None, entry.seq, data,
        src.warnings,
    )  # fmt: skip


# -- re-keying and retiring -------------------------------------------------------------


@dataclass
class TokenHolding:
    """How many reversible tokens of each key version one column holds."""

    table: str
    column: str
    method: str
    purpose: str
    by_version: dict[int, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "method": self.method,
            "purpose": self.purpose,
            "by_version": {str(k): v for k, v in self.by_version.items()},
        }


def token_holdings(ws: Workspace) -> list[TokenHolding]:
    """Every registered reversible column of the workspace, counted by key version."""
    out: list[TokenHolding] = []
    for e in registry_entries(ws.con):
        if e["method"] != Method.encrypt.value or not ws.has_table(e["table_name"]):
            continue
        q = quote_ident(e["column_name"])
        rows = ws.query(
            f"SELECT TRY_CAST(regexp_extract({q}, '^enc:v([0-9]+):', 1) AS INTEGER) AS v, "
            f"count(*) FROM {ws.table_ident(e['table_name'])} WHERE {q} IS NOT NULL GROUP BY 1 "
            "ORDER BY 1"
        )
        out.append(
            TokenHolding(
                e["table_name"],
                e["column_name"],
                e["method"],
                e["purpose"],
                {int(v) if v is not None else 0: int(n) for v, n in rows},
            )
        )
    return out


@dataclass
class RekeyPlan:
    active: int
    holdings: list[TokenHolding]

    @property
    def stale(self) -> list[TokenHolding]:
        return [h for h in self.holdings if any(v != self.active for v in h.by_version)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "active_version": self.active,
            "columns": [h.to_dict() for h in self.holdings],
            "to_rekey": [f"{h.table}.{h.column}" for h in self.stale],
        }


def plan_rekey(ws: Workspace, keyset: KeySet) -> RekeyPlan:
    return RekeyPlan(keyset.active.version, token_holdings(ws))


def apply_rekey(ws: Workspace, p: RekeyPlan, keyset: KeySet, master: MasterKey) -> int:
    """Re-encrypt every older-version token under the active version; returns the audit seq."""
    active = keyset.active
    prefix = f"enc:v{active.version}:"
    temps: list[str] = []
    by_table: dict[str, list[TokenHolding]] = {}
    for h in p.stale:
        by_table.setdefault(h.table, []).append(h)
    try:
        with ws.transaction() as con:
            for table, holdings in by_table.items():
                maps: dict[str, str] = {}
                for h in holdings:
                    dec, enc = Decryptor(keyset, h.purpose), Encryptor(keyset, h.purpose)

                    where = f"{table}.{h.column}"

                    def rekey(
                        row: tuple[Any, ...],
                        d: Decryptor = dec,
                        e: Encryptor = enc,
                        where: str = where,
                    ) -> str:
                        value = str(row[0])
                        if value.startswith(prefix) or d.version_of(value) is None:
                            return value
                        try:
                            return e.encrypt(d.decrypt(value))
                        except DecryptError as exc:
                            raise InputFileError(f"{where}: {exc}") from None

                    q = quote_ident(h.column)
                    maps[h.column] = build_mapping(
                        con,
                        f"SELECT DISTINCT {q} FROM {ws.table_ident(table)} WHERE {q} IS NOT NULL",
                        {},
                        rekey,
                    )
                    temps.append(maps[h.column])
                layout = [c.name for c in ws.columns(table)]
                sql = joined_select(ws.table_ident(table), layout, maps, order_by="rowid")
                con.execute(f"CREATE OR REPLACE TABLE {ws.table_ident(table)} AS {sql}")
                for h in holdings:
                    con.execute(
                        f"UPDATE {REGISTRY} SET key_version = ?, key_id = ? "
                        "WHERE table_name = ? AND column_name = ?",
                        [active.version, active.key_id, table, h.column],
                    )
            drop_temp(con, temps)
            entry = audit.append(
                con,
                master,
                command="keys rekey",
                arguments={"to_version": active.version, "to_key_id": active.key_id},
                tables=sorted(by_table),
                counts={f"{h.table}.{h.column}": h.by_version for h in p.stale},
                result="re-keyed",
            )
    except SqlError as exc:
        raise EngineError(str(exc).splitlines()[0]) from None
    return entry.seq


@dataclass
class RetirePlan:
    version: int
    key_id: str
    status: str
    still_used: list[TokenHolding]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "key_id": self.key_id,
            "status": self.status,
            "still_used": [
                {"table": h.table, "column": h.column, "values": h.by_version.get(self.version, 0)}
                for h in self.still_used
            ],
        }


def plan_retire(ws: Workspace, keyset: KeySet, version: int) -> RetirePlan:
    rec = keyset.record(version)
    if rec.status is KeyStatus.active:
        raise UsageError(
            f"key version {version} is the active one; it cannot be retired",
            hint="run `tutela keys rotate` first",
        )
    used = [h for h in token_holdings(ws) if h.by_version.get(version)]
    wrapped = keys_by_version(ws.con).get(version, 0)
    if wrapped:  # per-subject keys wrapped under this version die with it
        used.append(TokenHolding("_tutela", "subject_keys", SHRED, "", {version: wrapped}))
    return RetirePlan(version, rec.key_id, str(rec.status), used)


def apply_retire(
    ws: Workspace, p: RetirePlan, master: MasterKey, *, force: bool = False
) -> int | None:
    """Destroy the version's key (irreversible), audited; refuses while tokens still need it."""
    if p.status == KeyStatus.retired.value:
        return None
    if p.still_used and not force:
        where = ", ".join(f"{h.table}.{h.column}" for h in p.still_used)
        raise UsageError(
            f"key version {p.version} still decrypts values in {where}",
            hint="run `tutela keys rekey --apply` first, or pass --force to make them "
            "unreadable for good",
        )
    with ws.transaction() as con:
        entry = audit.append(
            con,
            master,
            command="keys retire",
            arguments={"version": p.version, "key_id": p.key_id, "forced": force},
            tables=sorted({h.table for h in p.still_used}),
            counts={f"{h.table}.{h.column}": h.by_version.get(p.version, 0) for h in p.still_used},
            result="retired",
        )
        retire_version(ws.root, p.version)
    return entry.seq
