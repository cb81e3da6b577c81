"""Which master key belongs to a workspace: recorded on first use, checked ever after.

Without this, a deleted key file would silently be replaced by a new key, and every
earlier audit entry and identifier hash would stop verifying.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tutela import audit
from tutela.base.errors import KeyMaterialError, UsageError
from tutela.base.keys import (
    ENV_MASTER_KEY,
    KEY_DIR,
    MASTER_FILE,
    MasterKey,
    keyset_path,
    load_master_key,
)
from tutela.workspace import INTERNAL, Workspace, internal_table_exists

_DDL = f"CREATE TABLE IF NOT EXISTS {INTERNAL}.settings (name VARCHAR PRIMARY KEY, value VARCHAR)"


def _setting(ws: Workspace, name: str) -> str | None:
    if not internal_table_exists(ws.con, "settings"):
        return None
    row = ws.con.execute(f"SELECT value FROM {INTERNAL}.settings WHERE name = ?", [name]).fetchone()
    return str(row[0]) if row else None


def _recorded(ws: Workspace) -> str | None:
    return _setting(ws, "master_key_id")


def earlier_key_through(ws: Workspace) -> int:
    """Audit entries up to this seq were keyed by a master key since replaced (0: none)."""
    value = _setting(ws, "audit_earlier_key_through")
    return int(value) if value else 0


def _missing(ws: Workspace, recorded: str) -> KeyMaterialError:
    key_file = ws.root / KEY_DIR / MASTER_FILE
    return KeyMaterialError(
        f"the master key is missing: this workspace was created with master key {recorded}, "
        f"and {key_file} does not exist (nor is ${ENV_MASTER_KEY} set)",
        hint=f"restore {key_file} (mode 0600) from a backup, or set ${ENV_MASTER_KEY} to that "
        "key; only if it is lost for good, start a new key with `tutela keys init --new-key` "
        "(destructive: earlier audit entries and hashes can no longer be verified)",
    )


def workspace_key(ws: Workspace) -> MasterKey:
    """The workspace's master key. The first call on a new workspace creates and records
    it; later calls refuse a missing or different key instead of starting a new chain."""
    recorded = _recorded(ws)
    if recorded is None and ws.read_only:
        return load_master_key(ws.root)
    if recorded is not None and not _key_available(ws.root):
        raise _missing(ws, recorded)
    key = load_master_key(ws.root, create=recorded is None)
    if recorded is None:
        ws.con.execute(_DDL)
        ws.con.execute(
            f"INSERT OR REPLACE INTO {INTERNAL}.settings VALUES ('master_key_id', ?)",
            [key.key_id],
        )
    elif recorded != key.key_id:
        raise KeyMaterialError(
            f"the master key in use ({key.key_id}, from {key.source}) is not this workspace's "
            f"key ({recorded}); its audit log and identifier hashes need that key",
            hint="restore keys/master.key from backup, or set TUTELA_MASTER_KEY to it",
        )
    return key


def _key_available(root: Path) -> bool:
    return bool(os.environ.get(ENV_MASTER_KEY)) or (root / KEY_DIR / MASTER_FILE).exists()


@dataclass(frozen=True)
class KeyReset:
    """What `keys init --new-key` does (a plan until applied)."""

    previous_key_id: str | None
    new_key_id: str | None
    audit_entries: int  # entries keyed by the lost key: links checked, HMACs unverifiable
    keyset_set_aside: str | None  # the key set wrapped under the lost key, kept, unreadable
    applied: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "previous_key_id": self.previous_key_id,
            "new_key_id": self.new_key_id,
            "audit_entries_under_previous_key": self.audit_entries,
            "keyset_set_aside": self.keyset_set_aside,
            "applied": self.applied,
        }


def reset_master_key(ws: Workspace, *, apply: bool) -> KeyReset:
    """Start a new master key for a workspace whose recorded key is lost: only then, and
    only when applied. The old key set is moved aside (it cannot be unwrapped); earlier
    audit entries keep their links but can no longer be HMAC-verified, which is recorded
    so that `audit verify` says so instead of calling them forged."""
    recorded = _recorded(ws)
    if recorded is None or _key_available(ws.root):
        raise UsageError(
            "--new-key replaces a lost master key; this workspace's key is "
            + ("not recorded yet" if recorded is None else "present"),
            hint="`tutela keys init` creates the first key; `tutela keys rotate` adds "
            "protection key versions",
        )
    last = max((e.seq for e in audit.entries(ws.con, 1)), default=0)
    keyset = keyset_path(ws.root)
    aside = keyset.with_name(f"{keyset.name}.lost-{recorded}") if keyset.exists() else None
    if not apply:
        return KeyReset(recorded, None, last, str(aside) if aside else None, False)
    if aside is not None:
        os.replace(keyset, aside)
    key = load_master_key(ws.root, create=True)
    with ws.transaction() as con:
        con.execute(_DDL)
        for name, value in (
            ("master_key_id", key.key_id),
            ("audit_earlier_key_through", str(last)),
            (f"master_key_lost_{recorded}", str(last)),
        ):
            con.execute(f"INSERT OR REPLACE INTO {INTERNAL}.settings VALUES (?, ?)", [name, value])
        audit.append(
            con,
            key,
            command="keys init --new-key",
            arguments={"previous_key_id": recorded},
            tables=[],
            counts={"entries_under_previous_key": last},
            result=f"new master key {key.key_id}",
        )
    return KeyReset(recorded, key.key_id, last, str(aside) if aside else None, True)
