"""Projects through HTTP: create, read, update, archive, restore; ETags and preconditions."""

from typing import Any

import pytest

from backend.testing import Actor, UserFactory, problem

PROJECTS = "/api/v1/projects"


async def create_project(owner: Actor, key: str = "WEB", name: str = "Website") -> dict[str, Any]:
    response = await owner.client.post(PROJECTS, json={"name": name, "key": key})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestCreate:
    async def test_creator_becomes_owner(self, users: UserFactory) -> None:
        alice = await users.create()

        response = await alice.client.post(
            PROJECTS, json={"name": " Website ", "key": "web2", "description": "The *new* site"}
        )

        assert response.status_code == 201
        body = response.json()
        assert response.headers["location"] == f"{PROJECTS}/{body['id']}"
        assert response.headers["etag"] == '"v1"'
        assert body["key"] == "WEB2"
        assert body["name"] == "Website"
        assert body["description"] == "The *new* site"
        assert body["my_role"] == "owner"
        assert body["member_count"] == 1
        assert body["archived"] is False
        assert body["created_by"] == alice.id
        members = (await alice.client.get(f"{PROJECTS}/{body['id']}/members")).json()["items"]
        assert [(m["user_id"], m["role"]) for m in members] == [(alice.id, "owner")]

    async def test_key_is_unique_case_insensitively(self, users: UserFactory) -> None:
        alice, bob = await users.create(), await users.create()
        await create_project(alice, key="WEB")

        problem(
            await bob.client.post(PROJECTS, json={"name": "Other", "key": "web"}), 409, "PROJECT_KEY_TAKEN"
        )

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"key": "WEB"}, "name"),
            ({"name": "", "key": "WEB"}, "name"),
            ({"name": "n" * 101, "key": "WEB"}, "name"),
            ({"name": "Web"}, "key"),
            ({"name": "Web", "key": "W"}, "key"),
            ({"name": "Web", "key": "WEBSITE2026"}, "key"),
            ({"name": "Web", "key": "1WEB"}, "key"),
            ({"name": "Web", "key": "WE-B"}, "key"),
            ({"name": "Web", "key": "WÉB"}, "key"),
            ({"name": "Web", "key": 42}, "key"),
            ({"name": "Web", "key": "WEB", "description": "d" * 5001}, "description"),
            ({"name": "Web", "key": "WEB", "owner": "me"}, "owner"),
        ],
    )
    async def test_invalid_input_is_422(
        self, users: UserFactory, payload: dict[str, Any], field: str
    ) -> None:
        alice = await users.create()

        body = problem(await alice.client.post(PROJECTS, json=payload), 422, "VALIDATION_FAILED")

        assert field in body["field_errors"]


class TestReadAndList:
    async def test_list_shows_only_my_projects_newest_first(self, users: UserFactory) -> None:
        alice, bob = await users.create(), await users.create()
        first = await create_project(alice, key="AAA")
        await create_project(bob, key="BBB")
        second = await create_project(alice, key="CCC")

        page = (await alice.client.get(PROJECTS)).json()

        assert [p["id"] for p in page["items"]] == [second["id"], first["id"]]
        assert page["next_cursor"] is None

    async def test_pages_with_cursor_and_total(self, users: UserFactory) -> None:
        alice = await users.create()
        keys = [f"P{i}" for i in range(5)]
        for key in keys:
            await create_project(alice, key=key)

        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2, "include_total": True}
        while True:
            page = (await alice.client.get(PROJECTS, params=params)).json()
            assert page["total"] == 5
            seen += [p["key"] for p in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]

        assert seen == list(reversed(keys))

    async def test_archived_filter(self, users: UserFactory) -> None:
        alice = await users.create()
        active = await create_project(alice, key="ACT")
        gone = await create_project(alice, key="OLD")
        await alice.client.delete(f"{PROJECTS}/{gone['id']}")

        assert [p["key"] for p in (await alice.client.get(PROJECTS)).json()["items"]] == [active["key"]]
        archived = (await alice.client.get(PROJECTS, params={"archived": True})).json()["items"]
        assert [p["key"] for p in archived] == ["OLD"]

    async def test_all_is_for_global_admins(self, users: UserFactory) -> None:
        alice, admin = await users.create(), await users.create(role="admin")
        project = await create_project(alice)

        problem(await alice.client.get(PROJECTS, params={"all": True}), 403, "ADMIN_REQUIRED")
        assert (await admin.client.get(PROJECTS)).json()["items"] == []
        everything = (await admin.client.get(PROJECTS, params={"all": True})).json()["items"]
        assert [(p["id"], p["my_role"]) for p in everything] == [(project["id"], None)]

    async def test_cursor_from_another_list_is_refused(self, users: UserFactory) -> None:
        alice = await users.create()
        for key in ("AAA", "BBB"):
            await create_project(alice, key=key)
        cursor = (await alice.client.get(PROJECTS, params={"limit": 1})).json()["next_cursor"]

        response = await alice.client.get(PROJECTS, params={"archived": True, "cursor": cursor})

        assert "query.cursor" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]

    @pytest.mark.parametrize("project_id", ["0" * 24, "not-an-id", "f" * 23, "%20"])
    async def test_unknown_or_malformed_id_is_404(self, users: UserFactory, project_id: str) -> None:
        alice = await users.create()

        problem(await alice.client.get(f"{PROJECTS}/{project_id}"), 404, "PROJECT_NOT_FOUND")

    async def test_conditional_get(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)
        url = f"{PROJECTS}/{project['id']}"
        etag = (await alice.client.get(url)).headers["etag"]

        unchanged = await alice.client.get(url, headers={"If-None-Match": etag})
        other = await alice.client.get(url, headers={"If-None-Match": '"v999"'})

        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert other.status_code == 200


class TestUpdate:
    async def test_changes_fields_and_etag(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)
        url = f"{PROJECTS}/{project['id']}"

        response = await alice.client.patch(url, json={"name": "Site", "description": "New"})

        assert response.status_code == 200
        assert response.json()["name"] == "Site"
        assert response.json()["key"] == "WEB"
        assert response.headers["etag"] == '"v2"'
        assert (await alice.client.get(url)).json()["description"] == "New"

    async def test_key_is_immutable(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)

        response = await alice.client.patch(f"{PROJECTS}/{project['id']}", json={"key": "NEW"})

        assert "key" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]

    async def test_if_match(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)
        url = f"{PROJECTS}/{project['id']}"

        current = await alice.client.patch(url, json={"name": "A"}, headers={"If-Match": '"v1"'})
        stale = await alice.client.patch(url, json={"name": "B"}, headers={"If-Match": '"v1"'})
        weak = await alice.client.patch(url, json={"name": "B"}, headers={"If-Match": 'W/"v2"'})
        star = await alice.client.patch(url, json={"name": "C"}, headers={"If-Match": "*"})

        assert current.status_code == 200
        body = problem(stale, 412, "PRECONDITION_FAILED")
        assert body["current_etag"] == '"v2"'
        assert stale.headers["etag"] == '"v2"'
        problem(weak, 412, "PRECONDITION_FAILED")
        assert star.status_code == 200
        assert (await alice.client.get(url)).json()["name"] == "C"

    async def test_stale_if_match_on_archive_is_412(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)
        url = f"{PROJECTS}/{project['id']}"
        await alice.client.patch(url, json={"name": "A"})

        problem(await alice.client.delete(url, headers={"If-Match": '"v1"'}), 412, "PRECONDITION_FAILED")
        assert (await alice.client.delete(url, headers={"If-Match": '"v2"'})).status_code == 204


class TestArchive:
    async def test_archived_project_is_readable_but_refuses_writes(self, users: UserFactory) -> None:
        alice, bob = await users.create(), await users.create()
        project = await create_project(alice)
        url = f"{PROJECTS}/{project['id']}"

        assert (await alice.client.delete(url)).status_code == 204

        read = (await alice.client.get(url)).json()
        assert read["archived"] is True
        assert read["archived_at"] is not None
        problem(await alice.client.patch(url, json={"name": "X"}), 409, "PROJECT_ARCHIVED")
        problem(await alice.client.delete(url), 409, "PROJECT_ARCHIVED")
        problem(await alice.client.post(f"{url}/members", json={"user_id": bob.id}), 409, "PROJECT_ARCHIVED")

        restored = await alice.client.post(f"{url}/restore")
        assert restored.status_code == 200
        assert restored.json()["archived"] is False
        assert restored.json()["archived_at"] is None
        assert (await alice.client.patch(url, json={"name": "X"})).status_code == 200

    async def test_restore_of_active_project_changes_nothing(self, users: UserFactory) -> None:
        alice = await users.create()
        project = await create_project(alice)

        response = await alice.client.post(f"{PROJECTS}/{project['id']}/restore")

        assert response.status_code == 200
        assert response.headers["etag"] == '"v1"'


@pytest.mark.real_servers
async def test_concurrent_patches_with_one_if_match_one_wins(users: UserFactory) -> None:
    import asyncio

    alice = await users.create()
    project = await create_project(alice)
    url = f"{PROJECTS}/{project['id']}"

    for attempt in range(5):
        etag = (await alice.client.get(url)).headers["etag"]
        results = await asyncio.gather(
            *(
                alice.client.patch(url, json={"name": f"n{attempt}-{i}"}, headers={"If-Match": etag})
                for i in range(2)
            )
        )
        assert sorted(r.status_code for r in results) == [200, 412]
