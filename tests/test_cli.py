"""The `tasklane` command, as ops run it."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.core.config import get_settings

runner = CliRunner()


def test_openapi_check_passes_on_the_committed_contract() -> None:
    result = runner.invoke(app, ["openapi", "check"])

    assert result.exit_code == 0, result.output


def test_openapi_check_fails_on_drift_and_export_fixes_it(tmp_path: Path) -> None:
    stale = tmp_path / "spec.yaml"
    stale.write_text("openapi: 3.1.0\n", encoding="utf-8")

    assert runner.invoke(app, ["openapi", "check", "--path", str(stale)]).exit_code == 1
    assert runner.invoke(app, ["openapi", "export", "--path", str(stale)]).exit_code == 0
    assert runner.invoke(app, ["openapi", "check", "--path", str(stale)]).exit_code == 0


def test_create_admin_refuses_the_in_memory_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)
    get_settings.cache_clear()

    result = runner.invoke(app, ["users", "create-admin", "--email", "a@example.com", "--password", "x" * 12])

    assert result.exit_code == 2
    assert "in-memory" in result.output


@pytest.mark.real_servers
def test_create_admin_then_promote(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    monkeypatch.setenv("MONGODB_DB", f"tasklane_cli_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "1024")
    get_settings.cache_clear()
    args = ["users", "create-admin", "--email", " Root@Example.com ", "--password", "root password 1"]

    first = runner.invoke(app, args)
    again = runner.invoke(app, args)
    weak = runner.invoke(app, ["users", "create-admin", "--email", "x@example.com", "--password", "short"])

    assert first.exit_code == 0, first.output
    assert "created admin root@example.com" in first.output
    assert "promoted admin root@example.com" in again.output
    assert weak.exit_code == 2
    assert "password" in weak.output
    get_settings.cache_clear()
