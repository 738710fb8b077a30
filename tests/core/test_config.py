import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from backend.core.config import REPO_ROOT, Environment, Settings, describe_invalid

SERVERS = {"mongodb_url": "mongodb://db:27017/?replicaSet=rs0", "redis_url": "redis://cache:6379/0"}


def production(**values: Any) -> Settings:
    return Settings(_env_file=None, environment=Environment.PRODUCTION, **{**SERVERS, **values})


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production()


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production(jwt_secret="s" * 31)


def test_production_accepts_a_long_secret() -> None:
    assert production(jwt_secret="s" * 32).environment is Environment.PRODUCTION


@pytest.mark.parametrize("missing", ["mongodb_url", "redis_url"])
def test_production_refuses_in_memory_storage(missing: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(jwt_secret="s" * 32, **{missing: None})

    assert describe_invalid(refused.value) == [
        f"{missing.upper()} must be set in production"
        + (
            " (in memory, every write is lost on exit)"
            if missing == "mongodb_url"
            else " (in process, nothing is shared)"
        )
    ]


def test_secrets_are_read_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "jwt_secret"
    secret.write_text("f" * 48 + "\n", encoding="utf-8")
    url = tmp_path / "mongodb_url"
    url.write_text("mongodb://user:pw@db:27017/", encoding="utf-8")
    monkeypatch.setenv("JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("MONGODB_URL_FILE", str(url))

    settings = production(mongodb_url=None)

    assert settings.jwt_secret.get_secret_value() == "f" * 48
    assert settings.mongodb_url == "mongodb://user:pw@db:27017/"


def test_an_unreadable_secret_file_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_FILE", "/run/secrets/nowhere")

    with pytest.raises(ValidationError) as refused:
        production()

    assert describe_invalid(refused.value) == [
        "JWT_SECRET_FILE: cannot read /run/secrets/nowhere (No such file or directory)"
    ]


def test_cors_origins_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")

    assert Settings(_env_file=None).cors_origins == ["https://a.example", "https://b.example"]


def test_secret_is_not_shown_in_repr() -> None:
    settings = production(jwt_secret="x" * 40)

    assert "x" * 40 not in repr(settings)


def test_readme_documents_every_setting() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))

    assert documented == {name.upper() for name in Settings.model_fields}


def test_env_example_names_every_setting() -> None:
    example = Path(REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.MULTILINE))

    # WEB_CONCURRENCY is read by `tasklane serve`, before any setting.
    assert named == {name.upper() for name in Settings.model_fields} | {"WEB_CONCURRENCY"}
