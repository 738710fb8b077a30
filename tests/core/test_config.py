import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from backend.core.config import REPO_ROOT, Environment, Settings


def production(**values: Any) -> Settings:
    return Settings(_env_file=None, environment=Environment.PRODUCTION, **values)


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production()


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production(jwt_secret="s" * 31)


def test_production_accepts_a_long_secret() -> None:
    assert production(jwt_secret="s" * 32).environment is Environment.PRODUCTION


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

    assert named == {name.upper() for name in Settings.model_fields}
