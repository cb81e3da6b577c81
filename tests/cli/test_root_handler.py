"""One error handler at the root of the app (issue #15 items 1 and 15): interrupts, usage
errors and unforeseen failures are one `error[slug]: ...` line with a documented exit code,
in every command and during start-up."""

from __future__ import annotations

import builtins
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tutela.base.errors import ExitCode, exit_code_for
from tutela.cli.app import app

from ..conftest import asset

CSV = asset("ingest", "utf8.csv")


def _one_error_line(result: Result, slug: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith(f"error[{slug}]: "), result.output
    assert "Traceback" not in result.output and "╭" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(
    "raised",
    [KeyboardInterrupt(), RuntimeError("Query interrupted")],
    ids=["sigint-in-python", "sigint-in-duckdb"],
)
@pytest.mark.parametrize("debug", [False, True])
def test_interrupt_during_load_is_exit_130(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, raised: BaseException, debug: bool
) -> None:
    from tutela.ingest import load as load_module

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(load_module, "_materialize", interrupted)
    result = cli(*(["--debug"] if debug else []), "load", str(CSV))
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    line = _one_error_line(result, "interrupted")
    assert "nothing was committed" in line
    assert "load" not in cli("tables").stdout or "utf8" not in cli("tables").stdout


def test_interrupt_wrapped_by_the_core_is_still_an_interrupt(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core wraps DuckDB errors (EngineError ... from exc): the cause decides."""
    from tutela.base.errors import EngineError

    assert cli("load", str(CSV)).exit_code == 0
    from tutela import catalog

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        try:
            raise RuntimeError("Query interrupted")
        except RuntimeError as exc:
            raise EngineError("scan failed") from exc

    monkeypatch.setattr(catalog, "list_tables", interrupted)
    result = cli("tables")
    assert result.exit_code == 130
    _one_error_line(result, "interrupted")


def test_interrupt_during_start_up(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """Ctrl-C while the app's modules are imported: no traceback, exit 130."""
    import tutela.cli as cli_pkg

    real_import = builtins.__import__

    def slow_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "tutela.cli.app":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", slow_import)
    with pytest.raises(SystemExit) as exit_info:
        cli_pkg.main()
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.startswith("error[interrupted]: ")


def test_console_script_points_at_the_light_entry_point() -> None:
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'tutela = "tutela.cli:main"' in text


def test_unexpected_error_is_internal_exit_4(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutela import catalog

    cli("load", str(CSV))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("secret value anna@example.com")

    monkeypatch.setattr(catalog, "list_tables", broken)
    result = cli("tables")
    assert result.exit_code == ExitCode.DATA
    line = _one_error_line(result, "internal")
    assert "anna@example.com" not in result.output and "ValueError" in line


@pytest.mark.parametrize(
    "args",
    [
        ["tables", "--bogus"],
        ["nosuchcommand"],
        ["load"],
        ["show", "t", "--limit", "many"],
        ["policy", "check", "--format", "xml"],
        ["--format", "json", "tables"],
    ],
)
def test_usage_errors_are_one_line_exit_2(cli: Callable[..., Result], args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    _one_error_line(result, "usage")
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1, result.stderr


def test_workspace_option_after_the_subcommand(tmp_path: Path) -> None:
    ws = tmp_path / "after"
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", str(CSV), "-w", str(ws)])
    assert loaded.exit_code == 0, loaded.output
    assert (ws / "tutela.duckdb").exists()
    listed = runner.invoke(app, ["tables", "--workspace", str(ws), "--format", "json"])
    assert listed.exit_code == 0 and "utf8" in listed.stdout
    eq = runner.invoke(app, ["tables", f"--workspace={ws}"])
    assert eq.exit_code == 0 and "utf8" in eq.stdout


def test_unreadable_input_file_is_exit_4(cli: Callable[..., Result], tmp_path: Path) -> None:
    cli("load", str(CSV))
    odd = tmp_path / "consents.txt"
    odd.write_text("subject,purpose\n", encoding="utf-8")
    for args in (
        ["consent", "import", str(tmp_path), "-p", "policies/acme.yaml"],
        ["consent", "import", str(odd), "-p", "policies/acme.yaml"],
        ["consent", "check", str(tmp_path), "--purpose", "marketing_email", "-p", "policies"],
    ):
        result = cli(*args)
        assert result.exit_code == ExitCode.DATA, (args, result.output)
        _one_error_line(result, "input")


def test_help_has_no_type_placeholders() -> None:
    runner = CliRunner()
    import typer

    from tutela.cli.root import RootGroup  # noqa: F401  (the app's group)

    group = typer.main.get_command(app)

    def paths(cmd: Any, prefix: list[str]) -> list[list[str]]:
        out = [prefix]
        for name in cmd.list_commands(None) if hasattr(cmd, "list_commands") else []:
            out += paths(cmd.get_command(None, name), [*prefix, name])
        return out

    for path in paths(group, []):
        text = runner.invoke(app, [*path, "--help"]).stdout
        assert "<bool>" not in text and "list[" not in text, (path, text)


def test_exit_code_for_is_the_mapping() -> None:
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert exit_code_for(RuntimeError("Query interrupted")) == 130
    assert exit_code_for(OSError(28, "No space left on device")) == ExitCode.DATA
    assert exit_code_for(ValueError("x")) == ExitCode.DATA


def test_python_dash_m_runs_the_same_handler(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tutela", "-w", str(tmp_path / "w"), "tables", "--nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error[usage]: "), result.stderr
