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


SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def test_api_starts_after_indexes_and_healthy_stores() -> None:
    api = SERVICES["api"]

    assert api["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "indexes": {"condition": "service_completed_successfully"},
    }
    assert SERVICES["indexes"]["command"] == ["sh", "-c", "tasklane migrate up && tasklane indexes apply"]
    assert "--replSet" in SERVICES["mongo"]["command"]
    assert all("healthcheck" in SERVICES[name] for name in ("mongo", "redis"))


def test_mongodb_is_healthy_only_as_a_writable_primary() -> None:
    check = " ".join(SERVICES["mongo"]["healthcheck"]["test"])

    assert "rs.initiate(" in check
    assert "if (!db.hello().isWritablePrimary) { quit(1) }" in check


def test_one_image_built_once_for_the_api_and_the_index_job() -> None:
    built = [name for name, service in SERVICES.items() if "build" in service]

    assert built == ["indexes"]
    assert SERVICES["api"]["image"] == SERVICES["indexes"]["image"]
    assert SERVICES["api"]["pull_policy"] == "never"


def test_every_service_has_a_memory_limit_and_the_api_a_grace_period_past_its_drain() -> None:
    for name, service in SERVICES.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
    grace = int(SERVICES["api"]["stop_grace_period"].removesuffix("s"))

    assert grace > Settings.model_fields["drain_timeout_seconds"].default


def test_redis_keeps_nothing_on_disk_and_never_evicts_generations() -> None:
    command = SERVICES["redis"]["command"]

    assert command[command.index("--appendonly") + 1] == "no"
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"  # only keys with a TTL
    assert "volumes" not in SERVICES["redis"]


def test_the_jwt_secret_comes_from_a_compose_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert COMPOSE["secrets"] == {"jwt_secret": {"file": "./secrets/jwt_secret"}}
    assert SERVICES["api"]["secrets"] == SERVICES["indexes"]["secrets"] == ["jwt_secret"]
    # .env.example as shipped, with the secret file compose would mount: a valid production setup.
    secret = tmp_path / "jwt_secret"
    secret.write_text("k" * 48 + "\n")
    example = (REPO_ROOT / ".env.example").read_text().replace("/run/secrets/jwt_secret", str(secret))
    (tmp_path / ".env").write_text(example)
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:  # the environment wins over .env: only the file speaks here
        monkeypatch.delenv(name.upper(), raising=False)

    settings = Settings()

    assert settings.environment.value == "production"
    assert settings.jwt_secret.get_secret_value() == "k" * 48
    assert settings.mongodb_url == "mongodb://mongo:27017/?replicaSet=rs0"


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    assert "\nUSER tasklane\n" in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE
    assert "MONGODB_BUILD_INDEXES=false" in DOCKERFILE
    assert "WEB_CONCURRENCY=" in DOCKERFILE


def test_image_installs_dependencies_before_the_code_and_ships_the_code_once() -> None:
    build, runtime = DOCKERFILE.split("\nFROM python:3.11-slim\n")

    assert build.index("--requirement requirements.txt") < build.index("COPY backend")
    assert "COPY backend" not in runtime  # the code arrives as an installed wheel only
    assert "--mount=type=bind,from=build" in runtime  # wheels are mounted, never kept in a layer
    for extra in ("[test]", "[dev]", "[memory]", "mongomock", "fakeredis"):
        assert extra not in DOCKERFILE, extra


def test_image_runs_on_pymongo_async_by_default() -> None:
    # The faster stack in production (benchmarks/README.md); Motor only where the mock needs it.
    assert "\nARG CONSTRAINTS=constraints-pymongo.txt\n" in DOCKERFILE
    assert "beanie==2." in (REPO_ROOT / "constraints-pymongo.txt").read_text()


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
        board = await client.get(
            f"/api/v1/projects/{projects[0]['id']}/tasks",
            params={"sort": "rank", "limit": 100},
            headers=headers,
        )
        numbers = [t["number"] for t in board.json()["items"]]
        assert len(numbers) == 100
        assert numbers != sorted(numbers)  # ranked, and some cards were dragged


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
