"""Connection targets: passwords come out, everything else stays (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela.base.errors import UsageError
from tutela.live import parse_target


@pytest.mark.parametrize(
    ("target", "safe", "password"),
    [
        (
            "postgresql://crm_ro:s%40cret@db.internal:6432/crm?sslmode=require",
            "host=db.internal port=6432 user=crm_ro dbname=crm sslmode=require",
            "s@cret",
        ),
        (
            "postgres://db/crm?password=x&application_name=my app",
            "host=db dbname=crm application_name='my app'",
            "x",
        ),
        ("postgresql://anna@localhost/crm", "host=localhost user=anna dbname=crm", None),
        ("host=db user=a password='it\\'s  x' dbname=crm", "host=db user=a dbname=crm", "it's  x"),
        ("dbname=crm password=plain", "dbname=crm", "plain"),
    ],
)
def test_password_is_split_off(target: str, safe: str, password: str | None) -> None:
    assert parse_target(target) == ("postgres", safe, password)


def test_pg_environment_only() -> None:
    assert parse_target("", "postgres") == ("postgres", "", None)
    with pytest.raises(UsageError, match="PG\\* environment"):
        parse_target("")


def test_sqlite_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.commit()
    assert parse_target(str(db)) == ("sqlite", str(db.resolve()), None)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(UsageError, match="not an SQLite database"):
        parse_target(str(other))
    with pytest.raises(UsageError, match="--type"):
        parse_target(str(db), "mysql")
