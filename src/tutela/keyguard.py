"""Which master key belongs to a workspace: recorded on first use, checked ever after.

Without this, a deleted key file would silently be replaced by a new key, and every
earlier audit entry and identifier hash would stop verifying.
"""

from __future__ import annotations

from tutela.errors import KeyMaterialError
from tutela.protect.keys import MasterKey, load_master_key
from tutela.workspace import INTERNAL_SCHEMA, Workspace, internal_table_exists

_DDL = (
    f"CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.settings "
    "(name VARCHAR PRIMARY KEY, value VARCHAR)"
)


def _recorded(ws: Workspace) -> str | None:
    if not internal_table_exists(ws.con, "settings"):
        return None
    row = ws.con.execute(
        f"SELECT value FROM {INTERNAL_SCHEMA}.settings WHERE name = 'master_key_id'"
    ).fetchone()
    return str(row[0]) if row else None


def workspace_key(ws: Workspace) -> MasterKey:
    """The workspace's master key. The first call on a new workspace creates and records
    it; later calls refuse a missing or different key instead of starting a new chain."""
    recorded = _recorded(ws)
    if recorded is None and ws.read_only:
        return load_master_key(ws.root)
    key = load_master_key(ws.root, create=recorded is None)
    if recorded is None:
        ws.con.execute(_DDL)
        ws.con.execute(
            f"INSERT OR REPLACE INTO {INTERNAL_SCHEMA}.settings VALUES ('master_key_id', ?)",
            [key.key_id],
        )
    elif recorded != key.key_id:
        raise KeyMaterialError(
            f"the master key in use ({key.key_id}, from {key.source}) is not this workspace's "
            f"key ({recorded}); its audit log and identifier hashes need that key",
            hint="restore keys/master.key from backup, or set TUTELA_MASTER_KEY to it",
        )
    return key
