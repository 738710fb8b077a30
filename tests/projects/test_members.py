"""Membership rules through HTTP: roles, the last owner, and the isolation matrix."""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backend.testing import Actor, UserFactory, problem

PROJECTS = "/api/v1/projects"


@dataclass
class World:
    project: dict[str, Any]
    owner: Actor
    admin: Actor
    member: Actor
    viewer: Actor
    outsider: Actor
    global_admin: Actor
    spare: Actor  # a registered user in no project
    target: Actor  # a member that matrix operations act on

    @property
    def url(self) -> str:
        return f"{PROJECTS}/{self.project['id']}"


async def build_world(users: UserFactory, key: str = "SEC") -> World:
    owner = await users.create(display_name="Olive Owner")
    project = (await owner.client.post(PROJECTS, json={"name": "Secret plan", "key": key})).json()
    url = f"{PROJECTS}/{project['id']}/members"
    actors: dict[str, Actor] = {}
    for role in ("admin", "member", "viewer"):
        actors[role] = await users.create(display_name=f"{role.title()} Person")
        added = await owner.client.post(url, json={"user_id": actors[role].id, "role": role})
        assert added.status_code == 201, added.text
    target = await users.create(display_name="Target Person")
    assert (await owner.client.post(url, json={"user_id": target.id, "role": "member"})).status_code == 201
    return World(
        target=target,
        project=project,
        owner=owner,
        admin=actors["admin"],
        member=actors["member"],
        viewer=actors["viewer"],
        outsider=await users.create(),
        global_admin=await users.create(role="admin"),
        spare=await users.create(),
    )


@pytest.fixture
async def world(users: UserFactory) -> World:
    return await build_world(users)


class TestMembers:
    async def test_list_has_names_and_roles_in_join_order(self, world: World) -> None:
        page = (await world.viewer.client.get(f"{world.url}/members")).json()

        assert [(m["display_name"], m["role"]) for m in page["items"]] == [
            ("Olive Owner", "owner"),
            ("Admin Person", "admin"),
            ("Member Person", "member"),
            ("Viewer Person", "viewer"),
            ("Target Person", "member"),
        ]

    async def test_list_pages(self, world: World) -> None:
        first = (await world.owner.client.get(f"{world.url}/members", params={"limit": 3})).json()
        rest = (
            await world.owner.client.get(
                f"{world.url}/members", params={"limit": 3, "cursor": first["next_cursor"]}
            )
        ).json()

        assert len(first["items"]) == 3
        assert [m["role"] for m in rest["items"]] == ["viewer", "member"]
        assert rest["next_cursor"] is None

    async def test_add_by_email_case_insensitively(self, world: World) -> None:
        response = await world.admin.client.post(
            f"{world.url}/members", json={"email": world.spare.email.upper(), "role": "viewer"}
        )

        assert response.status_code == 201
        assert response.json()["user_id"] == world.spare.id
        assert response.json()["role"] == "viewer"
        assert response.headers["location"] == f"{world.url}/members/{world.spare.id}"
        assert (await world.spare.client.get(world.url)).json()["my_role"] == "viewer"

    async def test_adding_bumps_the_project_etag(self, world: World) -> None:
        before = (await world.owner.client.get(world.url)).headers["etag"]

        await world.owner.client.post(f"{world.url}/members", json={"user_id": world.spare.id})

        assert (await world.owner.client.get(world.url)).headers["etag"] != before

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"user_id": "0" * 24, "email": "a@example.com"},
            {"user_id": "zz"},
            {"email": "nope"},
            {"user_id": None},
        ],
    )
    async def test_bad_member_reference_is_422(self, world: World, payload: dict[str, Any]) -> None:
        problem(await world.owner.client.post(f"{world.url}/members", json=payload), 422, "VALIDATION_FAILED")

    async def test_unknown_user_is_404(self, world: World) -> None:
        for payload in ({"user_id": "0" * 24}, {"email": "ghost@example.com"}):
            problem(await world.owner.client.post(f"{world.url}/members", json=payload), 404, "UNKNOWN_USER")

    async def test_already_member_is_409(self, world: World) -> None:
        response = await world.owner.client.post(f"{world.url}/members", json={"user_id": world.viewer.id})

        problem(response, 409, "ALREADY_MEMBER")

    async def test_only_owners_grant_owner(self, world: World) -> None:
        url = f"{world.url}/members"

        problem(
            await world.admin.client.post(url, json={"user_id": world.spare.id, "role": "owner"}),
            403,
            "INSUFFICIENT_ROLE",
        )
        problem(
            await world.admin.client.patch(f"{url}/{world.member.id}", json={"role": "owner"}),
            403,
            "INSUFFICIENT_ROLE",
        )
        problem(
            await world.admin.client.patch(f"{url}/{world.owner.id}", json={"role": "member"}),
            403,
            "INSUFFICIENT_ROLE",
        )
        problem(await world.admin.client.delete(f"{url}/{world.owner.id}"), 403, "INSUFFICIENT_ROLE")
        promoted = await world.owner.client.patch(f"{url}/{world.member.id}", json={"role": "owner"})
        assert promoted.json()["role"] == "owner"

    async def test_admin_manages_roles_below_owner(self, world: World) -> None:
        response = await world.admin.client.patch(
            f"{world.url}/members/{world.viewer.id}", json={"role": "admin"}
        )

        assert response.status_code == 200
        assert response.json()["role"] == "admin"

    async def test_last_owner_can_neither_leave_nor_be_demoted(self, world: World) -> None:
        url = f"{world.url}/members/{world.owner.id}"

        problem(await world.owner.client.delete(url), 409, "LAST_OWNER")
        problem(await world.owner.client.patch(url, json={"role": "admin"}), 409, "LAST_OWNER")

        await world.owner.client.patch(f"{world.url}/members/{world.admin.id}", json={"role": "owner"})
        assert (await world.owner.client.delete(url)).status_code == 204
        problem(await world.owner.client.get(world.url), 404, "PROJECT_NOT_FOUND")

    async def test_member_can_leave(self, world: World) -> None:
        response = await world.viewer.client.delete(f"{world.url}/members/{world.viewer.id}")

        assert response.status_code == 204
        problem(await world.viewer.client.get(world.url), 404, "PROJECT_NOT_FOUND")

    async def test_unknown_member_is_404(self, world: World) -> None:
        for user_id in (world.spare.id, "0" * 24, "junk"):
            problem(await world.owner.client.get(f"{world.url}/members/{user_id}"), 404, "MEMBER_NOT_FOUND")
            problem(
                await world.owner.client.delete(f"{world.url}/members/{user_id}"), 404, "MEMBER_NOT_FOUND"
            )
            problem(
                await world.owner.client.patch(f"{world.url}/members/{user_id}", json={"role": "viewer"}),
                404,
                "MEMBER_NOT_FOUND",
            )


# (method, path under the project, body) -> expected status for each caller.
CALLERS = ("anonymous", "outsider", "viewer", "member", "admin", "owner", "global_admin")
MATRIX: dict[str, tuple[str, str, Any, tuple[int, ...]]] = {
    "get project": ("GET", "", None, (401, 404, 200, 200, 200, 200, 200)),
    "update project": ("PATCH", "", {"name": "Renamed"}, (401, 404, 403, 403, 200, 200, 403)),
    "archive project": ("DELETE", "", None, (401, 404, 403, 403, 403, 204, 403)),
    "restore project": ("POST", "/restore", None, (401, 404, 403, 403, 403, 200, 403)),
    "list members": ("GET", "/members", None, (401, 404, 200, 200, 200, 200, 200)),
    "get member": ("GET", "/members/{target}", None, (401, 404, 200, 200, 200, 200, 200)),
    "add member": (
        "POST",
        "/members",
        {"user_id": "{spare}", "role": "member"},
        (401, 404, 403, 403, 201, 201, 403),
    ),
    "change role": ("PATCH", "/members/{target}", {"role": "viewer"}, (401, 404, 403, 403, 200, 200, 403)),
    "remove member": ("DELETE", "/members/{target}", None, (401, 404, 403, 403, 204, 204, 403)),
}


@pytest.mark.parametrize("caller", range(len(CALLERS)), ids=CALLERS)
@pytest.mark.parametrize("operation", list(MATRIX))
async def test_isolation_matrix(
    users: UserFactory, client: httpx.AsyncClient, operation: str, caller: int
) -> None:
    world = await build_world(users)
    method, suffix, body, expected = MATRIX[operation]
    ids = {"target": world.target.id, "spare": world.spare.id}
    path = world.url + suffix.format(**ids)
    json_body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()} if body else None
    name = CALLERS[caller]
    http = client if name == "anonymous" else getattr(world, name).client

    response = await http.request(method, path, json=json_body)

    assert response.status_code == expected[caller], response.text
    if response.status_code in (401, 404):
        for secret in (world.project["name"], world.project["key"], "Olive", "Person"):
            assert secret not in response.text


async def test_listing_never_shows_foreign_projects(users: UserFactory) -> None:
    world = await build_world(users)

    assert (await world.outsider.client.get(PROJECTS)).json()["items"] == []
    assert [p["id"] for p in (await world.viewer.client.get(PROJECTS)).json()["items"]] == [
        world.project["id"]
    ]


@pytest.mark.real_servers
async def test_concurrent_removals_of_the_last_two_owners_leave_one(users: UserFactory) -> None:
    for attempt in range(5):
        world = await build_world(users, key=f"SEC{attempt}")
        await world.owner.client.patch(f"{world.url}/members/{world.admin.id}", json={"role": "owner"})
        owners = (world.owner, world.admin)

        results = await asyncio.gather(
            world.owner.client.delete(f"{world.url}/members/{world.admin.id}"),
            world.admin.client.delete(f"{world.url}/members/{world.owner.id}"),
            world.owner.client.patch(f"{world.url}/members/{world.owner.id}", json={"role": "viewer"}),
            world.admin.client.patch(f"{world.url}/members/{world.admin.id}", json={"role": "viewer"}),
        )

        assert all(r.status_code in (200, 204, 403, 404, 409) for r in results), [r.text for r in results]
        members = (await world.viewer.client.get(f"{world.url}/members")).json()["items"]
        assert [m["user_id"] for m in members if m["role"] == "owner"], (owners, members)
