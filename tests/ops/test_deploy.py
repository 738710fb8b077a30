"""What ops rely on in the deployment files and the demo data."""

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from backend.cli import app as cli
from backend.core.config import REPO_ROOT, Settings, get_settings
from backend.ops.seed import DEMO_PASSWORD
from backend.testing import make_test_settings

COMPOSE: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_api_starts_after_indexes_and_healthy_stores() -> None:
    api = COMPOSE["services"]["api"]

    assert api["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "indexes": {"condition": "service_completed_successfully"},
    }
    assert COMPOSE["services"]["indexes"]["command"] == ["python", "scripts/setup_indexes.py", "apply"]
    assert "--replSet" in COMPOSE["services"]["mongo"]["command"]
    assert all("healthcheck" in COMPOSE["services"][name] for name in ("mongo", "redis"))


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()

    assert "\nUSER tasklane\n" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "[test]" not in dockerfile
    assert "[dev]" not in dockerfile
    assert "MONGODB_BUILD_INDEXES=false" in dockerfile


class TestServeWithDemoData:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(demo_data=True)

    async def test_demo_logins_work_and_projects_have_tasks(self, client: httpx.AsyncClient) -> None:
        token = await client.post(
            "/api/v1/auth/token", data={"username": "ada@demo.tasklane.dev", "password": DEMO_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        projects = (await client.get("/api/v1/projects", headers=headers)).json()["items"]
        tasks = await client.get(
            f"/api/v1/projects/{projects[0]['id']}/tasks", params={"include_total": True}, headers=headers
        )

        assert sorted(p["key"] for p in projects) == ["API", "MOB", "WEB"]
        assert tasks.json()["total"] == 100


def test_seed_refuses_the_in_memory_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["seed", "--demo"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "tasklane serve --demo" in result.output


def test_operations_guide_covers_every_setting_and_readiness_failure() -> None:
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()

    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in guide, name
    for failure in ("mongodb", "redis", "missing_indexes"):
        assert failure in guide
    assert Path(REPO_ROOT / ".env.example").exists()
