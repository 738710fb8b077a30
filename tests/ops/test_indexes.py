"""The index script as ops run it, and the index coverage check."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pymongo
import pytest
from typer.testing import CliRunner, Result

from backend.cli import app
from backend.core.config import get_settings
from backend.core.storage.indexes import declared
from backend.core.storage.query_shapes import QueryShape, shapes_of, uncovered
from backend.documents import DOCUMENT_MODELS

runner = CliRunner()


def check_with_settings_from_environment() -> Result:
    """`tasklane indexes check` with the settings read afresh from the (patched) environment."""
    get_settings.cache_clear()
    try:
        return runner.invoke(app, ["indexes", "check"])
    finally:
        get_settings.cache_clear()


@pytest.fixture
def empty_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[pymongo.database.Database[dict[str, object]]]:
    name = f"tasklane_indexes_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MONGODB_DB", name)
    get_settings.cache_clear()
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(get_settings().mongodb_url)
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()
        get_settings.cache_clear()


@pytest.mark.real_servers
def test_check_apply_check(empty_database: pymongo.database.Database[dict[str, object]]) -> None:
    total = sum(len(specs) for specs in declared(DOCUMENT_MODELS).values())

    first = runner.invoke(app, ["indexes", "check"])
    dry = runner.invoke(app, ["indexes", "apply", "--dry-run"])
    applied = runner.invoke(app, ["indexes", "apply"])
    again = runner.invoke(app, ["indexes", "apply"])
    final = runner.invoke(app, ["indexes", "check"])

    assert first.exit_code == 1
    assert first.output.count(" missing ") == total
    assert dry.exit_code == 1
    assert "dry run: nothing changed" in dry.output
    assert applied.exit_code == 0, applied.output
    assert again.exit_code == 0
    assert final.exit_code == 0
    assert "indexes in sync" in final.output
    assert empty_database["refresh_tokens"].index_information()["expires_ttl"]["expireAfterSeconds"] == 0


@pytest.mark.real_servers
def test_extra_index_is_reported_and_kept_unless_asked(
    empty_database: pymongo.database.Database[dict[str, object]],
) -> None:
    runner.invoke(app, ["indexes", "apply"])
    empty_database["tasks"].create_index([("title", 1)], name="hand_made")

    checked = runner.invoke(app, ["indexes", "check"])
    applied = runner.invoke(app, ["indexes", "apply"])

    assert checked.exit_code == 0  # reported, but an extra index is not drift unless --strict
    assert "hand_made" in checked.output
    assert "extra" in checked.output
    assert applied.exit_code == 0
    assert runner.invoke(app, ["indexes", "apply", "--strict"]).exit_code == 1
    assert "hand_made" in empty_database["tasks"].index_information()
    dropped = runner.invoke(app, ["indexes", "apply", "--drop-extra"])
    assert dropped.exit_code == 0, dropped.output
    assert "hand_made" not in empty_database["tasks"].index_information()
    assert "_id_" in empty_database["tasks"].index_information()


@pytest.mark.parametrize(
    ("url", "line"),
    [
        (
            "mongodb://127.0.0.1:1/?directConnection=true",
            "error: cannot reach MongoDB at 127.0.0.1:1 (ServerSelectionTimeoutError)",
        ),
        (
            "mongodb://bad host/",
            "error: cannot reach MongoDB at bad host:27017 (ServerSelectionTimeoutError)",
        ),
        ("mongodb://h:99999/", "error: the MongoDB URL is invalid: "),
    ],
)
def test_bad_url_exits_2_with_one_line_naming_the_server(
    monkeypatch: pytest.MonkeyPatch, url: str, line: str
) -> None:
    monkeypatch.setenv("MONGODB_URL", url)
    monkeypatch.setenv("MONGODB_SERVER_SELECTION_TIMEOUT_MS", "300")

    result = check_with_settings_from_environment()

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(line)


def test_an_api_secret_missing_does_not_stop_index_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shipped .env.example: production, the JWT secret in a file only the API mounts.
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET_FILE", "/run/secrets/not-here")
    monkeypatch.setenv("MONGODB_URL", "mongodb://127.0.0.1:1/?directConnection=true")
    monkeypatch.setenv("MONGODB_SERVER_SELECTION_TIMEOUT_MS", "300")

    result = check_with_settings_from_environment()

    assert result.output.strip() == "error: cannot reach MongoDB at 127.0.0.1:1 (ServerSelectionTimeoutError)"


@pytest.mark.parametrize(
    "args", [["indexes", "check", "--bogus"], ["indexes", "apply", "--json=maybe"], ["indexes"]]
)
def test_usage_errors_exit_64(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 64, result.stderr  # a missing command, too (click would say 2)


@pytest.mark.real_servers
def test_a_renamed_index_is_drift_with_its_fix(
    empty_database: pymongo.database.Database[dict[str, object]],
) -> None:
    runner.invoke(app, ["indexes", "apply"])
    empty_database["projects"].drop_index("archived_newest")
    empty_database["projects"].create_index([("archived", 1), ("_id", -1)], name="by_hand")

    checked = runner.invoke(app, ["indexes", "check", "--json"])
    applied = runner.invoke(app, ["indexes", "apply"])
    fixed = runner.invoke(app, ["indexes", "apply", "--drop-extra"])

    report = json.loads(checked.output)
    assert checked.exit_code == 1
    assert report["indexes"] == [
        {
            "collection": "projects",
            "name": "archived_newest",
            "status": "renamed",
            "definition": "live as by_hand (archived 1, _id -1)",
            "fix": 'tasklane indexes apply --drop-extra  (or in mongosh: db.projects.dropIndex("by_hand"), '
            "then tasklane indexes apply)",
        }
    ]
    assert applied.exit_code == 1
    assert fixed.exit_code == 0, fixed.output
    assert set(empty_database["projects"].index_information()) >= {"archived_newest"}
    assert "by_hand" not in empty_database["projects"].index_information()


@pytest.mark.real_servers
def test_apply_goes_on_past_an_index_that_fails_and_reports_each(
    empty_database: pymongo.database.Database[dict[str, object]],
) -> None:
    # Two users with the same normalised email: the unique index cannot be built.
    empty_database["users"].insert_many(
        [{"email_normalized": "a@x.example"}, {"email_normalized": "a@x.example"}]
    )

    applied = runner.invoke(app, ["indexes", "apply", "--json"])

    report = json.loads(applied.output)
    assert applied.exit_code == 1
    failed = [a for a in report["applied"] if a["result"] == "failed"]
    assert [(a["collection"], a["name"]) for a in failed] == [("users", "email_normalized_unique")]
    assert failed[0]["error"].startswith("11000: ")
    assert len(report["applied"]) == sum(len(specs) for specs in declared(DOCUMENT_MODELS).values())
    assert "expires_ttl" in empty_database["refresh_tokens"].index_information()  # later ones were built
    assert [row["name"] for row in report["after"]] == ["email_normalized_unique"]


def test_missing_url_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)

    result = check_with_settings_from_environment()

    assert result.exit_code == 2
    assert "MONGODB_URL is not set" in result.output


# Shapes the services really send (as the recorder sees them), to check the rule itself.
TASK_PAGE = shapes_of(
    "find",
    {
        "find": "tasks",
        "filter": {
            "$and": [
                {"project_id": 1, "deleted_at": None, "status": {"$in": ["todo"]}},
                {"$or": [{"created_at": {"$lt": 1}}, {"created_at": 1, "_id": {"$lt": 2}}]},
            ]
        },
        "sort": {"created_at": -1, "_id": -1},
    },
)


def test_task_list_pages_are_covered_by_the_declared_indexes() -> None:
    assert len(TASK_PAGE) == 2
    assert uncovered(TASK_PAGE, declared(DOCUMENT_MODELS)) == []


def test_removing_an_index_from_a_document_is_caught() -> None:
    indexes = declared(DOCUMENT_MODELS)
    del indexes["tasks"]["project_created_at"]

    missing = uncovered(TASK_PAGE, indexes)

    assert missing == sorted(TASK_PAGE)
    assert all(shape.sort == (("created_at", -1), ("_id", -1)) for shape in missing)


def test_unindexed_filter_is_caught() -> None:
    shape = QueryShape("tasks", ("title",), (), ())

    assert uncovered([shape], declared(DOCUMENT_MODELS)) == [shape]


def test_coverage_command_lists_uncovered_shapes(tmp_path: object) -> None:
    import json
    from pathlib import Path

    path = Path(str(tmp_path)) / "shapes.json"
    rows = [{"collection": "tasks", "equality": ["title"], "other": [], "sort": []}]
    path.write_text(json.dumps(rows))

    result = runner.invoke(app, ["indexes", "coverage", str(path)])

    assert result.exit_code == 1
    assert "uncovered: tasks: equality ['title']" in result.output


ACROSS_PROJECTS_PAGE = shapes_of(
    "find",
    {
        "find": "tasks",
        "filter": {"project_id": {"$in": [1, 2, 3]}, "deleted_at": None, "status": {"$in": ["todo"]}},
        "sort": {"due_at": 1, "_id": 1},
    },
)


def test_a_list_across_projects_is_served_by_the_project_indexes_merged_per_project() -> None:
    """`project_id $in` leads (project_id, due_at, _id): one sorted scan per project, merged."""
    assert [shape.any_of for shape in ACROSS_PROJECTS_PAGE] == [("project_id", "status")]
    assert uncovered(ACROSS_PROJECTS_PAGE, declared(DOCUMENT_MODELS)) == []


def test_without_the_sort_index_a_list_across_projects_is_uncovered() -> None:
    """The `$in` field may lead an index, but the sort must still follow it in that index."""
    shape = QueryShape(
        "tasks", ("deleted_at",), ("project_id",), (("due_at", 1), ("_id", 1)), ("project_id",)
    )
    indexes = declared(DOCUMENT_MODELS)
    del indexes["tasks"]["project_due_at"]
    del indexes["tasks"]["deleted_due"]  # the reminder job's (deleted_at, due_at, _id) serves it too

    assert uncovered([shape], indexes) == [shape]


@pytest.mark.parametrize(
    ("filter_", "sort"),
    [
        ({"project_id": 1, "deleted_at": None, "priority": {"$in": [1, 2]}}, {"priority": 1, "_id": 1}),
        ({"project_id": 1, "deleted_at": None, "number": {"$in": [4, 2]}}, {"number": 1, "_id": 1}),
        ({"project_id": {"$in": [1, 2]}, "priority": {"$in": [1, 2]}}, {"priority": -1, "_id": -1}),
    ],
)
def test_a_list_sorted_by_a_field_it_matches_with_in_is_covered(
    filter_: dict[str, object], sort: dict[str, int]
) -> None:
    shapes = shapes_of("find", {"find": "tasks", "filter": filter_, "sort": sort})

    assert uncovered(shapes, declared(DOCUMENT_MODELS)) == []
