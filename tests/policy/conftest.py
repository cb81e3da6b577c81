"""Fixtures for policy tests: asset paths and a small synthetic workspace (no real people)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import typer

from tutela.cli.root import RootGroup
from tutela.workspace import Workspace

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "policies"
REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 1)


def asset(*parts: str) -> Path:
    return ASSETS.joinpath(*parts)


def build_workspace(root: Path) -> None:
    """customers / newsletter / consents, built so every expected count is known by hand."""
    with Workspace.open(root) as ws:
        con = ws.con
        con.execute(
            "CREATE TABLE customers (customer_id VARCHAR, name VARCHAR, email VARCHAR, "
            "phone VARCHAR, dni VARCHAR, country VARCHAR, last_order DATE, legal_hold BOOLEAN)"
        )
        con.execute(
            """INSERT INTO customers VALUES
            ('C1', 'Ana Test', 'ana@shop.example', '600 000 001', '00000000T', 'ES',
             DATE '2026-01-01', false),
            ('C2', 'Bo Test', 'bo@shop.example', '600 000 002', '00000001R', 'ES',
             DATE '2015-03-01', false),
            ('C3', 'Cy Test', 'cy@shop.example', NULL, NULL, 'PT', DATE '2010-05-05', true),
            ('C4', 'Di Test', 'di@shop.example', NULL, NULL, 'ES', DATE '2019-12-31', NULL),
            ('C5', 'Ed Test', NULL, NULL, NULL, 'ES', NULL, false)"""
        )
        con.execute("CREATE TABLE newsletter (email VARCHAR, signed_up VARCHAR)")
        con.execute(
            """INSERT INTO newsletter VALUES
            ('a@news.example', '2024-01-01'), (' B@News.Example ', '2023-01-01'),
            ('c@news.example', '2024-02-02'), ('d@news.example', '2022-01-01'),
            (NULL, '2022-01-01')"""
        )
        con.execute(
            "CREATE TABLE consents (subject_email VARCHAR, purpose VARCHAR, status VARCHAR, "
            "recorded_at VARCHAR)"
        )
        con.execute(
            """INSERT INTO consents VALUES
            ('a@news.example', 'marketing_email', 'granted', '2024-01-01T10:00:00'),
            ('b@news.example', 'marketing_email', 'granted', '2023-01-01T10:00:00'),
            ('b@news.example', 'marketing_email', 'withdrawn', '2024-05-01T10:00:00'),
            ('d@news.example', 'marketing_email', 'granted', '2022-01-01T10:00:00'),
            ('d@news.example', 'marketing_email', 'withdrawn', '2023-01-01T10:00:00'),
            ('D@news.example', 'marketing_email', 'granted', '2024-01-01T10:00:00'),
            ('c@news.example', 'profiling', 'granted', '2024-01-01T10:00:00'),
            ('z@news.example', 'marketing_email', 'granted', '2024-01-01T10:00:00')"""
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    build_workspace(root)
    return root


@pytest.fixture
def open_ws(workspace: Path) -> Iterator[Workspace]:
    with Workspace.open(workspace, read_only=True) as ws:
        yield ws


def make_app() -> typer.Typer:
    """The real global options plus the policy group, as app.py will register it."""
    from tutela.cli.app import main_callback
    from tutela.cli.policy import policy_app

    app = typer.Typer(pretty_exceptions_show_locals=False, cls=RootGroup)
    app.callback()(main_callback)
    app.add_typer(policy_app, name="policy")
    return app
