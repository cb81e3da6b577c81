"""Per-subject crypto-shredding: each subject's values encrypted under that subject's own key.

`shred:v1:<subject ref>:<base64url>` is AES-SIV under a key derived from a random 32-byte
*subject key*. Subject keys live in `_tutela.subject_keys`, one row per subject:

* `subject_hash`: HMAC-SHA256 (a master-derived key of its own) of `<kind>:<normalised
  subject id>`, the same normalised key `tutela erase` computes from a request, so an
  erasure can find the row without the id ever being stored in clear;
* `wrapped_key`: the subject key, AES-SIV-wrapped under a key derived from the key-set
  version recorded in `key_version`.

Erasure sets `wrapped_key` to NULL (`destroy_subject_keys`, called inside the erasure
transaction): every `shred:` value of that subject, in the workspace and in every export
or backup made earlier, becomes unreadable. Tokens carry the first 16 hex digits of the
subject hash (the *subject ref*) so that the key can be looked up.

Like `encrypt`, values are mapped in Python over the distinct (subject, value) pairs and
joined back; the whole rewrite (or file write), the new keys and the audit entry are one
transaction.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela import audit as audit  # the pipeline audits; tests reach it as shred.audit
from tutela.base.errors import KeyMaterialError, UsageError
from tutela.base.keys import KEY_BYTES, KeySet, MasterKey, keyed_hash
from tutela.base.normalize import default_normalization, key_sql
from tutela.engine import Connection
from tutela.protect.mapping import CHUNK, build_mapping
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
    write_file,
)
from tutela.protect.registry import registry_entries
from tutela.protect.reversible import DecryptError
from tutela.subjects.links import LinkSpec
from tutela.workspace import (
    INTERNAL,
    Workspace,
    internal_table_exists,
    json_list,
    quote_ident,
)

if TYPE_CHECKING:
    from tutela.policy.models import Policy

METHOD = "shred"
SUBJECT_KEYS = f"{INTERNAL}.subject_keys"
_DDL = f"""CREATE TABLE IF NOT EXISTS {SUBJECT_KEYS} (
    subject_hash VARCHAR PRIMARY KEY,
    key_version INTEGER,
    wrapped_key BLOB,
    created_at TIMESTAMP,
    destroyed_at TIMESTAMP
)"""
FORMAT = 1
REF_LEN = 16  # hex digits of the subject hash carried in each token
_TOKEN = re.compile(r"shred:v([0-9]{1,3}):([0-9a-f]{16}):([A-Za-z0-9_\-]+)")
DESTROYED = "key destroyed (erased subject)"


# -- keys --------------------------------------------------------------------------------


def _hash_key(master: MasterKey) -> bytes:
    return master.derive("shred/subject-hash")


def subject_hash(master: MasterKey, kind: str, key: str) -> str:
    """The stored reference of a subject: keyed hash of `kind:normalised id`."""
    return keyed_hash(_hash_key(master), f"{kind}:{key}")


def _wrap_siv(keyset: KeySet, version: int) -> AESSIV:
    return AESSIV(keyset.key(version).derive("shred/subject-key-wrap", 64))


def _wrap_ad(subject: str, version: int) -> list[bytes]:
    return [f"tutela subject key {version}".encode(), subject.encode()]


def _data_siv(subject_key: bytes, purpose: str) -> AESSIV:
    key = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=b"tutela/shred/v1", info=purpose.encode()
    ).derive(subject_key)
    return AESSIV(key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _table_exists(con: Connection) -> bool:
    return internal_table_exists(con, "subject_keys")


def ensure_subject_keys(con: Connection) -> None:
    con.execute(_DDL)


def _subject_keys(
    con: Connection, keyset: KeySet, hashes_: list[str]
) -> tuple[dict[str, bytes], int]:
    """The subject keys of these hashes, creating (or renewing destroyed) ones; (keys, created)."""
    ensure_subject_keys(con)
    rows = con.execute(
        f"SELECT subject_hash, key_version, wrapped_key FROM {SUBJECT_KEYS} "
        "WHERE subject_hash IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
        [json_list(hashes_)],
    ).fetchall()
    keys: dict[str, bytes] = {}
    renew: list[str] = []
    for h, version, wrapped in rows:
        if wrapped is None:
            renew.append(h)  # erased before, data again: a new key (old copies stay dead)
            continue
        try:
            keys[h] = _wrap_siv(keyset, int(version)).decrypt(bytes(wrapped), _wrap_ad(h, version))
        except InvalidTag:
            raise KeyMaterialError(f"{SUBJECT_KEYS} holds a damaged or altered key") from None
    active = keyset.active.version
    wrapper = _wrap_siv(keyset, active)
    new_h: list[str] = []
    new_w: list[bytes] = []
    for h in hashes_:
        if h in keys:
            continue
        keys[h] = os.urandom(KEY_BYTES)
        new_h.append(h)
        new_w.append(wrapper.encrypt(keys[h], _wrap_ad(h, active)))
    if renew:
        con.execute(
            f"DELETE FROM {SUBJECT_KEYS} WHERE subject_hash IN "
            "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
            [json_list(renew)],
        )
    for start in range(0, len(new_h), CHUNK):
        con.execute(
            f"INSERT INTO {SUBJECT_KEYS} SELECT UNNEST(CAST($h::JSON AS VARCHAR[])), $v, "
            "UNNEST($w::BLOB[]), "
            "now()::TIMESTAMP, NULL",
            {
                "h": json_list(new_h[start : start + CHUNK]),
                "v": active,
                "w": new_w[start : start + CHUNK],
            },
        )
    return keys, len(new_h)


def destroy_subject_keys(
    con: Connection,
    master: MasterKey,
    keys_by_kind: Mapping[str, Iterable[str]],
    *,
    table_exists: bool | None = None,
) -> int:
    """Destroy the subject keys of these normalised identifiers (inside the caller's
    transaction); returns how many live keys were destroyed. `table_exists`, when the
    caller checked before its transaction, spares a catalog lookup inside it."""
    if not (_table_exists(con) if table_exists is None else table_exists):
        return 0
    hashes_ = sorted(
        {subject_hash(master, kind, key) for kind, keys in keys_by_kind.items() for key in keys}
    )
    if not hashes_:
        return 0
    where = (
        "subject_hash IN (SELECT UNNEST(CAST(?::JSON AS VARCHAR[]))) AND wrapped_key IS NOT NULL"
    )
    row = con.execute(
        f"SELECT count(*) FROM {SUBJECT_KEYS} WHERE {where}", [json_list(hashes_)]
    ).fetchone()
    n = int(row[0]) if row else 0
    if n:
        con.execute(
            f"UPDATE {SUBJECT_KEYS} SET wrapped_key = NULL, destroyed_at = now()::TIMESTAMP "
            f"WHERE {where}",
            [hashes_],
        )
    return n


def keys_by_version(con: Connection) -> dict[int, int]:
    """Live subject keys per key-set version that wraps them."""
    if not _table_exists(con):
        return {}
    rows = con.execute(
        f"SELECT key_version, count(*) FROM {SUBJECT_KEYS} WHERE wrapped_key IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {int(v): int(n) for v, n in rows}


# -- tokens --------------------------------------------------------------------------------


def encrypt_value(subject_key: bytes, subject: str, purpose: str, value: str) -> str:
    data = _data_siv(subject_key, purpose).encrypt(value.encode("utf-8"), [subject.encode()])
    return f"{METHOD}:v{FORMAT}:{subject[:REF_LEN]}:{_b64(data)}"


def parse_token(value: str) -> tuple[str, bytes] | None:
    """(subject ref, ciphertext) of a shred: token, or None."""
    m = _TOKEN.fullmatch(value)
    if not m or int(m.group(1)) != FORMAT:
        return None
    try:
        return m.group(2), _unb64(m.group(3))
    except (binascii.Error, ValueError):
        return None


class ShredDecryptor:
    """Decrypts shred: tokens with the live subject keys of the workspace."""

    def __init__(self, con: Connection, keyset: KeySet, purpose: str) -> None:
        self._con = con
        self._keyset = keyset
        self._purpose = purpose
        # ref -> [(full hash, subject key or None when destroyed)]
        self._keys: dict[str, list[tuple[str, bytes | None]]] = {}

    def __repr__(self) -> str:
        return "ShredDecryptor()"

    def preload(self, refs: Iterable[str]) -> None:
        want = sorted({r for r in refs if r not in self._keys})
        if not want:
            return
        for r in want:
            self._keys[r] = []
        if not _table_exists(self._con):
            return
        rows = self._con.execute(
            f"SELECT subject_hash, key_version, wrapped_key FROM {SUBJECT_KEYS} "
            f"WHERE substr(subject_hash, 1, {REF_LEN}) IN "
            "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[])))",
            [json_list(want)],
        ).fetchall()
        for h, version, wrapped in rows:
            key: bytes | None = None
            if wrapped is not None:
                try:
                    key = _wrap_siv(self._keyset, int(version)).decrypt(
                        bytes(wrapped), _wrap_ad(h, int(version))
                    )
                except KeyMaterialError as exc:  # its key-set version was retired
                    raise DecryptError(exc.message) from None
                except InvalidTag:
                    raise DecryptError(f"{SUBJECT_KEYS} holds a damaged key") from None
            self._keys[h[:REF_LEN]].append((h, key))

    def decrypt(self, value: str) -> str:
        parsed = parse_token(value)
        if parsed is None:
            raise DecryptError("not a shred: token")
        ref, data = parsed
        self.preload([ref])
        candidates = self._keys.get(ref, [])
        if not candidates:
            raise DecryptError("no subject key for this value (made in another workspace?)")
        destroyed = False
        for h, key in candidates:
            if key is None:
                destroyed = True
                continue
            try:
                return _data_siv(key, self._purpose).decrypt(data, [h.encode()]).decode("utf-8")
            except (InvalidTag, UnicodeDecodeError):
                continue
        if destroyed:
            raise DecryptError(DESTROYED)
        raise DecryptError("a shred: token does not decrypt (altered, or another purpose)")


def column_refs(con: Connection, source_sql: str, column: str) -> list[str]:
    """The distinct subject refs of a column's shred: tokens (for one bulk key lookup)."""
    q = quote_ident(column)
    rows = con.execute(
        f"SELECT DISTINCT regexp_extract(CAST({q} AS VARCHAR), "
        f"'^shred:v[0-9]+:([0-9a-f]{{{REF_LEN}}}):', 1) FROM {source_sql} WHERE {q} IS NOT NULL"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0]]


# -- plan ----------------------------------------------------------------------------------


@dataclass
class ShredColumn:
    column: str
    type: str
    values: int = 0
    no_subject: int = 0  # values whose subject id is empty: cannot be shredded

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "method": METHOD,
            "type": self.type,
            "values": self.values,
            "values_without_subject": self.no_subject,
        }


@dataclass(kw_only=True)
class ShredPlan(Plan):
    """Columns encrypted under the keys of the subjects their rows belong to."""

    subject: LinkSpec
    columns: list[ShredColumn]
    subjects: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._header(),
            "method": METHOD,
            "subject_column": self.subject.column,
            "subject_kind": self.subject.kind,
            "subject_normalize": self.subject.normalize,
            "subjects": self.subjects,
            "columns": [c.to_dict() for c in self.columns],
            "kept": self.kept,
            "warnings": self.warnings,
        }

    def check(self, *, force: bool) -> None:
        refused = [c.column for c in self.columns if c.no_subject]
        if refused:
            raise UsageError(
                f"{', '.join(refused)}: some values have no {self.subject.column}; "
                "they cannot be shredded",
                hint="fill in the subject column, or blank those values first",
            )

    def select(
        self, ws: Workspace, con: Connection, keyset: KeySet, master: MasterKey
    ) -> Selection:
        """Each column mapped over its distinct (subject, value) pairs, joined back; the
        subject keys are created (or renewed) in the caller's transaction."""
        source = ws.relation(self.table)
        subj_raw = f"CAST(t.{quote_ident(self.subject.column)} AS VARCHAR)"
        subj_key = key_sql(self.subject.value_sql("t."), self.subject.normalize)
        distinct_keys = [
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT {subj_key} FROM {source} AS t WHERE {subj_key} IS NOT NULL"
            ).fetchall()
        ]
        hashes_ = {k: subject_hash(master, self.subject.kind, k) for k in distinct_keys}
        keys, created = _subject_keys(con, keyset, sorted(set(hashes_.values())))

        def encrypt(row: tuple[Any, ...]) -> str | None:  # (subject, raw, subject key)
            h = hashes_[row[2]]
            return encrypt_value(keys[h], h, self.purpose, row[1])

        sel = SelectBuilder(source)
        shredded = {c.column for c in self.columns}
        for name in self.layout:
            if name not in shredded:
                sel.keep(name)
                continue
            q = quote_ident(name)
            pairs = (
                f"SELECT DISTINCT {subj_raw} AS s, CAST(t.{q} AS VARCHAR) AS raw, {subj_key} "
                f"AS k FROM {source} AS t WHERE t.{q} IS NOT NULL"
            )
            mapping = build_mapping(con, pairs, {}, encrypt, keys=("s", "raw"))
            sel.join(name, mapping, subject=subj_raw)
        return sel.build(keys_created=created)

    def registered(self) -> list[Registered]:
        s = self.subject
        return [Registered(c.column, METHOD, s.column, s.normalize) for c in self.columns]

    def audit_arguments(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "target": self.target if self.in_place else Path(self.target).name,
            **self._key_fields(),
            "columns": {c.column: f"{METHOD}:{self.subject.column}" for c in self.columns},
            "subject_kind": self.subject.kind,
        }

    def audit_counts(self, keys_created: int) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "subjects": self.subjects,
            "subject_keys_created": keys_created,
            "values": {c.column: c.values for c in self.columns},
        }

    def manifest_fields(self) -> dict[str, Any]:
        """Which columns are subject-shredded, by which subject column."""
        s = self.subject
        return {
            "columns": {
                c.column: {
                    "method": METHOD,
                    "arg": s.column,
                    "subject_kind": s.kind,
                    "normalize": s.normalize,
                    **self._key_fields(),
                }
                for c in self.columns
            },
            "subject_shredded_columns": [c.column for c in self.columns],
        }

    def result_fields(self, result: Result) -> dict[str, Any]:
        return {"subject_keys_created": result.keys_created}


ShredResult = Result


def shred_columns(
    columns: list[str] | None, method: str, subject_column: str | None
) -> tuple[list[str], str] | None:
    """(columns, subject column) when a `--columns` request uses the shred method, else None.

    `--method shred --subject-column S -c a,b` or `-c a=shred:S,b=shred:S`; shred cannot be
    mixed with other methods in one command."""
    shred: list[str] = []
    others: list[str] = []
    subjects: set[str] = set()
    for part in (p.strip() for item in columns or [] for p in item.split(",")):
        if not part:
            continue
        column, sep, text = part.partition("=")
        name, _, arg = (text if sep else method).strip().partition(":")
        if name.strip().lower() == METHOD:
            shred.append(column.strip())
            subject = arg.strip() or subject_column
            if not subject:
                raise UsageError(
                    f"shred needs the subject column of {column.strip()!r}",
                    hint="--subject-column customer_id, or -c email=shred:customer_id",
                )
            subjects.add(subject)
        else:
            others.append(column.strip())
    if not shred:
        if method.strip().lower() == METHOD:
            raise UsageError("shred needs --columns", hint="-c email,phone --subject-column id")
        return None
    if others:
        raise UsageError(
            f"shred cannot be combined with other methods in one command ({', '.join(others)})",
            hint="run pseudonymize once for the shredded columns and once for the others",
        )
    if len(subjects) != 1:
        raise UsageError("every shredded column must use the same subject column")
    return shred, subjects.pop()


def subject_link(
    table: str, column: str, policy: Policy | None, kind: str | None
) -> tuple[LinkSpec, str | None]:
    """How the subject column is normalised and which identifier kind it is (from the
    policy's identity links if declared there); plus a warning when it is not declared."""
    if policy is not None:
        for link in policy.identity_links_for(table):
            if link.column == column and (kind is None or str(link.kind) == kind):
                return LinkSpec(
                    table, column, str(link.kind), str(link.method),
                    strip_prefix=link.strip_prefix,
                ), None  # fmt: skip
    kind = kind or column
    warning = (
        f"{table}.{column} is not an identity link of the policy; `tutela erase` destroys "
        f"these subject keys only for a policy declaring it as kind {kind!r}"
    )
    return LinkSpec(table, column, kind, default_normalization(kind)), warning


def plan(
    ws: Workspace,
    table: str,
    columns: list[str],
    subject_column: str,
    *,
    keyset: KeySet,
    purpose: str = DEFAULT_PURPOSE,
    key_version: int | None = None,
    policy: Policy | None = None,
    subject_kind: str | None = None,
    target: str = IN_PLACE,
) -> ShredPlan:
    types = basis(ws, table, purpose)
    rec = key_record(keyset, key_version)
    require_columns(table, types, [*columns, subject_column])
    if subject_column in columns:
        raise UsageError(
            f"{subject_column!r} identifies the subject; it cannot be shredded itself",
            hint="shred the other personal columns and keep (or hash) the subject column",
        )
    if len(set(columns)) != len(columns):
        raise UsageError("a column is listed twice")
    link, warning = subject_link(table, subject_column, policy, subject_kind)
    subj = key_sql(link.value_sql("t."), link.normalize)
    aggs = ", ".join(
        f"count({quote_ident(c)}), count({quote_ident(c)}) FILTER (WHERE {subj} IS NULL)"
        for c in columns
    )
    row = ws.query(
        f"SELECT count(*), count(DISTINCT {subj}), {aggs} FROM {ws.relation(table)} AS t"
    )[0]
    cols = [
        ShredColumn(c, types[c], int(row[2 + 2 * i]), int(row[3 + 2 * i]))
        for i, c in enumerate(columns)
    ]
    warnings = [warning] if warning else []
    warnings += [
        f"{c.column}: {c.no_subject:,} value(s) have no {subject_column}; they cannot be "
        "shredded (the command will refuse)"
        for c in cols
        if c.no_subject
    ]
    if target == IN_PLACE:
        for e in registry_entries(ws.con, table):
            if e["column_name"] in columns:
                warnings.append(f"{e['column_name']} was already protected ({e['method']})")
    return ShredPlan(
        table=table, rows=int(row[0]), purpose=purpose, key_version=rec.version,
        key_id=rec.key_id, target=target, subject=link, columns=cols,
        kept=[c for c in types if c not in columns], layout=list(types),
        subjects=int(row[1]), warnings=warnings,
    )  # fmt: skip


__all__ = [
    "DESTROYED",
    "METHOD",
    "SUBJECT_KEYS",
    "ShredDecryptor",
    "ShredPlan",
    "ShredResult",
    "apply_in_place",
    "destroy_subject_keys",
    "plan",
    "shred_columns",
    "subject_hash",
    "write_file",
]
