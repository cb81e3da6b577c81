"""The audit log detects edited, removed, reordered and forged entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tutela import audit
from tutela.base.errors import KeyMaterialError
from tutela.base.keys import load_master_key
from tutela.workspace import Workspace


def _fill(ws: Workspace, n: int = 4) -> None:
    key = load_master_key(ws.root, create=True)
    for i in range(n):
        audit.append(
            ws.con,
            key,
            command="erase",
            arguments={"subject": f"h{i}"},
            tables=["crm"],
            counts={"deleted": i},
            result="ok",
        )


def test_clean_log_verifies(workspace: Workspace) -> None:
    _fill(workspace)
    report = audit.verify(workspace.con, load_master_key(workspace.root))
    assert report.ok and report.entries == 4 and len(report.head) == 64


TAMPERS: dict[str, Callable[[Workspace], None]] = {
    "edit": lambda ws: ws.con.execute(
        "UPDATE _tutela.audit_log SET counts = '{\"deleted\":0}' WHERE seq = 3"
    ),
    "delete": lambda ws: ws.con.execute("DELETE FROM _tutela.audit_log WHERE seq = 2"),
    "reorder": lambda ws: ws.con.execute(
        "UPDATE _tutela.audit_log SET seq = CASE seq WHEN 2 THEN 3 ELSE 2 END WHERE seq IN (2, 3)"
    ),
    "forge": lambda ws: ws.con.execute(
        "INSERT INTO _tutela.audit_log SELECT seq + 1, logged_at, command, arguments, tables, "
        "counts, result, entry_hash, repeat('a', 64) FROM _tutela.audit_log WHERE seq = 4"
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERS))
def test_tampering_is_detected(workspace: Workspace, how: str) -> None:
    _fill(workspace)
    TAMPERS[how](workspace)
    report = audit.verify(workspace.con, load_master_key(workspace.root))
    assert not report.ok
    assert report.problems


def test_cli_verify_exit_codes(workspace: Workspace, cli: Callable[..., object]) -> None:
    _fill(workspace)
    workspace.close()
    ok = cli("audit", "verify")
    assert ok.exit_code == 0, ok.stderr  # type: ignore[attr-defined]
    ws = Workspace.open(workspace.root)
    ws.con.execute("DELETE FROM _tutela.audit_log WHERE seq = 1")
    ws.close()
    bad = cli("audit", "verify")
    assert bad.exit_code == 1  # type: ignore[attr-defined]
    assert "error[audit-tampered]" in bad.stderr  # type: ignore[attr-defined]


def test_key_file_is_private_and_loose_permissions_are_refused(ws_path: Path) -> None:
    key = load_master_key(ws_path, create=True)
    path = ws_path / "keys" / "master.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert key.key_id.startswith("k-") and key.key_id not in repr(path.read_bytes())
    path.chmod(0o644)
    with pytest.raises(KeyMaterialError, match="readable by others"):
        load_master_key(ws_path)


def test_load_is_audited(cli: Callable[..., object], ws_path: Path) -> None:
    from tests.conftest import asset

    result = cli("load", str(asset("ingest", "utf8.csv")), "--source", "crm")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    ws = Workspace.open(ws_path, read_only=True)
    [entry] = audit.entries(ws.con)
    assert (entry.command, entry.tables, entry.counts) == (
        "load",
        ["utf8"],
        {"rows": 4, "columns": 5},
    )
    assert audit.verify(ws.con, load_master_key(ws.root)).ok
    ws.close()


def test_unexpected_errors_do_not_print_tracebacks_or_values(
    cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutela import catalog

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("secret value anna@example.com")

    monkeypatch.setattr(catalog, "list_tables", broken)
    cli("keys", "init")
    result = cli("tables")
    assert result.exit_code == 4  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert "error[internal]: unexpected ValueError" in err
    assert "anna@example.com" not in err and "Traceback" not in err
