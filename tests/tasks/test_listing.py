"""The task list against a brute-force oracle: every filter, sort and their combinations."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend.tasks.search import words
from backend.testing import Team

VOCABULARY = [
    "login",
    "logout",
    "Landing",
    "page",
    "API",
    "gateway",
    "Über",
    "naïve",
    "cache",
    "deploy",
    "deployment",
]
LABELS = ["bug", "ux", "backend", "frontend", "p0"]
STATUSES = ["backlog", "todo", "in_progress", "in_review", "done", "canceled"]
BASE = datetime(2026, 12, 1, tzinfo=UTC)


def answer(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def seed(team: Team, rng: random.Random, count: int = 40) -> list[dict[str, Any]]:
    created: list[dict[str, Any]] = []
    assignees = [team.member.id, team.admin.id]
    for _ in range(count):
        body: dict[str, Any] = {
            "title": " ".join(rng.sample(VOCABULARY, 2)),
            "description": rng.choice(["", "see the " + rng.choice(VOCABULARY) + " notes"]),
            "status": rng.choice(STATUSES),
            "priority": rng.randrange(5),
            "labels": rng.sample(LABELS, rng.randrange(3)),
            "assignee_ids": rng.sample(assignees, rng.randrange(3)),
            "position": rng.choice([1.0, 2.5, -3.0, 10.0]),
        }
        if rng.random() < 0.7:
            body["due_at"] = (BASE + timedelta(days=rng.randrange(-5, 5))).isoformat()
        if created and rng.random() < 0.3:
            body["parent_id"] = rng.choice([t["id"] for t in created if t["parent_id"] is None] or [None])
        response = await team.member.client.post(team.tasks_url, json=body)
        assert response.status_code == 201, response.text
        created.append(response.json())
    for task in rng.sample(created, 3):
        await team.member.client.patch(
            f"{team.tasks_url}/{task['id']}", json={"title": task["title"] + " updated"}
        )
    for task in rng.sample(created, 2):
        await team.member.client.delete(f"{team.tasks_url}/{task['id']}")
    everything = (
        await team.admin.client.get(team.tasks_url, params={"limit": 100, "include_deleted": True})
    ).json()
    return list(everything["items"])


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def matches_search(task: dict[str, Any], q: str) -> bool:
    text_words = set(words(" ".join([task["title"], task["description"], *task["labels"]])))
    terms = {w for w in words(q) if len(w) >= 2}
    if not terms:
        return False  # nothing searchable: no task matches
    for term in terms:
        if len(term) <= 12:
            if not any(w.startswith(term) for w in text_words):
                return False
        elif term not in text_words:
            return False
    return True


def oracle(tasks: list[dict[str, Any]], params: dict[str, Any], caller: str) -> list[str]:
    selected = []
    for t in tasks:
        if not params.get("include_deleted") and t["deleted_at"] is not None:
            continue
        if params.get("status") and t["status"] not in params["status"]:
            continue
        if params.get("priority") and t["priority"] not in params["priority"]:
            continue
        assignee_ids = [a["id"] for a in t["assignees"]]
        assignee = params.get("assignee")
        if assignee == "none" and assignee_ids:
            continue
        if assignee not in (None, "none") and (caller if assignee == "me" else assignee) not in assignee_ids:
            continue
        if params.get("label") and not set(params["label"]) <= set(t["labels"]):
            continue
        parent = params.get("parent")
        if parent == "none" and t["parent_id"] is not None:
            continue
        if parent not in (None, "none") and t["parent_id"] != parent:
            continue
        due = parse_time(t["due_at"])
        if "due_before" in params and not (due is not None and due < instant(params["due_before"])):
            continue
        if "due_after" in params and not (due is not None and due > instant(params["due_after"])):
            continue
        if "updated_after" in params and not instant(t["updated_at"]) > instant(params["updated_after"]):
            continue
        if params.get("q") and not matches_search(t, params["q"]):
            continue
        selected.append(t)
    sort = params.get("sort", "-created_at")
    field, descending = sort.removeprefix("-"), sort.startswith("-")

    def key(t: dict[str, Any]) -> tuple[Any, ...]:
        value = t[field]
        if field in ("created_at", "updated_at", "due_at"):
            value = parse_time(value)
        return (value is not None, value if value is not None else 0, t["id"])

    return [t["id"] for t in sorted(selected, key=key, reverse=descending)]


def random_params(rng: random.Random, tasks: list[dict[str, Any]], team: Team) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if rng.random() < 0.3:
        params["status"] = rng.sample(STATUSES, rng.randrange(1, 3))
    if rng.random() < 0.3:
        params["priority"] = rng.sample(range(5), rng.randrange(1, 3))
    if rng.random() < 0.3:
        params["assignee"] = rng.choice(["me", "none", team.admin.id, team.outsider.id])
    if rng.random() < 0.3:
        params["label"] = rng.sample(LABELS, rng.randrange(1, 3))
    if rng.random() < 0.2:
        params["parent"] = rng.choice(["none", rng.choice(tasks)["id"]])
    if rng.random() < 0.3:
        params["due_before"] = (BASE + timedelta(days=rng.randrange(-5, 5))).isoformat()
    if rng.random() < 0.3:
        params["due_after"] = (BASE + timedelta(days=rng.randrange(-5, 5))).isoformat()
    if rng.random() < 0.15:
        params["updated_after"] = rng.choice(tasks)["updated_at"]
    if rng.random() < 0.3:
        params["q"] = " ".join(
            rng.choice(VOCABULARY)[: rng.randrange(2, 8)] for _ in range(rng.randrange(1, 3))
        )
    if rng.random() < 0.2:
        params["include_deleted"] = True
    field = rng.choice(["created_at", "updated_at", "due_at", "priority", "position", "number"])
    params["sort"] = rng.choice(["", "-"]) + field
    return params


async def walk(http: httpx.AsyncClient, url: str, params: dict[str, Any], limit: int) -> list[str]:
    seen: list[str] = []
    query = {**params, "limit": limit, "include_total": True}
    while True:
        page = answer(await http.get(url, params=query), 200)
        seen += [t["id"] for t in page["items"]]
        if page["next_cursor"] is None:
            return seen
        query["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("seed_value", [7, 2026])
async def test_filters_and_sorts_agree_with_the_oracle(team: Team, seed_value: int) -> None:
    rng = random.Random(seed_value)
    tasks = await seed(team, rng)

    for _ in range(60):
        params = random_params(rng, tasks, team)
        expected = oracle(tasks, params, team.admin.id)

        got = await walk(team.admin.client, team.tasks_url, params, rng.randrange(1, 15))
        total = answer(
            await team.admin.client.get(team.tasks_url, params={**params, "include_total": True}), 200
        )

        assert got == expected, params
        assert total["total"] == len(expected), params


async def test_search_is_and_prefix_and_case_insensitive(team: Team) -> None:
    url = team.tasks_url
    login = (
        await team.member.client.post(url, json={"title": "Fix LOGIN redirect", "labels": ["Auth"]})
    ).json()
    await team.member.client.post(
        url, json={"title": "Login page copy", "description": "wording for the café"}
    )
    await team.member.client.post(url, json={"title": "Unrelated"})

    async def search(q: str) -> list[str]:
        return [
            t["title"]
            for t in (await team.member.client.get(url, params={"q": q, "sort": "number"})).json()["items"]
        ]

    assert await search("login") == ["Fix LOGIN redirect", "Login page copy"]
    assert await search("LOG") == ["Fix LOGIN redirect", "Login page copy"]
    assert await search("log redir") == ["Fix LOGIN redirect"]
    assert await search("auth") == ["Fix LOGIN redirect"]
    assert await search("cafe") == ["Login page copy"]
    assert await search("login unrelated") == []
    assert await search("ogin") == []
    assert login["title"] == "Fix LOGIN redirect"


async def test_search_works_in_any_script_and_without_a_word_matches_nothing(team: Team) -> None:
    url = team.tasks_url
    for title in ("Übersicht kÏosk", "東京 オフィス", "x y"):
        await team.member.client.post(url, json={"title": title})

    async def search(q: str) -> list[str]:
        response = await team.member.client.get(url, params={"q": q, "sort": "number"})
        return [t["title"] for t in answer(response, 200)["items"]]

    assert await search("übersicht") == ["Übersicht kÏosk"]
    assert await search("kÏ") == ["Übersicht kÏosk"]  # a word JSON Schema's ASCII \w would not see
    assert await search("東京") == ["東京 オフィス"]
    assert await search("x y") == []  # one-letter words narrow nothing: no searchable word
    assert await search("!!") == []
    assert await search("") == ["Übersicht kÏosk", "東京 オフィス", "x y"]  # empty: no filter


async def test_paging_while_inserting_returns_every_old_task_once(team: Team) -> None:
    old = [
        (await team.member.client.post(team.tasks_url, json={"title": f"old {i}"})).json()["id"]
        for i in range(25)
    ]

    for sort in ("-created_at", "number", "position", "-priority"):
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 4, "sort": sort}
        while True:
            page = (await team.member.client.get(team.tasks_url, params=params)).json()
            seen += [t["id"] for t in page["items"]]
            await team.member.client.post(team.tasks_url, json={"title": "inserted meanwhile"})
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert sorted(i for i in seen if i in old) == sorted(old), sort
        assert len([i for i in seen if i in old]) == len(old), sort


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "doing"}, "query.status.0"),
        ({"priority": 9}, "query.priority.0"),
        ({"assignee": "someone"}, "query.assignee"),
        ({"parent": "xyz"}, "query.parent"),
        ({"due_before": "soon"}, "query.due_before"),
        ({"due_after": "2026-01-01T00:00:00"}, "query.due_after"),
        ({"sort": "title"}, "query.sort"),
        ({"sort": "--number"}, "query.sort"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"cursor": "tampered"}, "query.cursor"),
        ({"q": "x" * 201}, "query.q"),
        ({"label": "l" * 41}, "query.label.0"),
    ],
)
async def test_bad_list_parameters_are_422(team: Team, params: dict[str, Any], field: str) -> None:
    body = answer(await team.member.client.get(team.tasks_url, params=params), 422)

    assert body["error_code"] == "VALIDATION_FAILED"
    assert field in body["field_errors"], body["field_errors"]


async def test_cursor_is_bound_to_its_filters(team: Team) -> None:
    for i in range(3):
        await team.member.client.post(team.tasks_url, json={"title": f"t{i}", "status": "todo"})
    cursor = (await team.member.client.get(team.tasks_url, params={"limit": 1})).json()["next_cursor"]

    response = await team.member.client.get(
        team.tasks_url, params={"limit": 1, "cursor": cursor, "status": "todo"}
    )

    assert "query.cursor" in answer(response, 422)["field_errors"]
