"""Migration 0004: labels already on tasks join their project's catalogue, once, keeping any label
the catalogue has already (its colour and description untouched)."""

import uuid

from backend.core.storage.db import Database
from backend.labels.documents import DEFAULT_COLORS
from backend.migrations.runner import APPLIED, applied_versions, down, up
from backend.testing import Team, UserFactory, make_team
from tests.labels.conftest import labels_url, make_label


async def as_before_the_catalogue(db: Database) -> None:
    """Tasks with labels and no catalogue, as the release before left them; nothing recorded."""
    await db["labels"].delete_many({})
    await db[APPLIED].delete_many({})


async def listed(team: Team) -> dict[str, str]:
    # Never a cached answer: the migration runs before the API serves, so it ends none.
    params: dict[str, str | int] = {"limit": 100, "_fresh": uuid.uuid4().hex}
    page = (await team.viewer.client.get(labels_url(team), params=params)).json()
    return {label["name"]: label["color"] for label in page["items"]}


async def test_labels_on_tasks_join_their_projects_catalogue(
    team: Team, users: UserFactory, db: Database
) -> None:
    other = await make_team(users, key="API")
    await team.member.client.post(team.tasks_url, json={"title": "a", "labels": ["bug", "ux"]})
    await team.member.client.post(team.tasks_url, json={"title": "b", "labels": ["bug", "backend"]})
    deleted = (
        await team.member.client.post(team.tasks_url, json={"title": "c", "labels": ["legacy"]})
    ).json()
    await team.member.client.delete(f"{team.tasks_url}/{deleted['id']}")
    await other.member.client.post(other.tasks_url, json={"title": "d", "labels": ["ops"]})
    await as_before_the_catalogue(db)
    await make_label(team, "Bug", "#000000", description="Kept as it is.")  # catalogued already

    dry = await up(db, dry_run=True)
    assert await listed(team) == {"Bug": "#000000"}
    steps = await up(db)

    assert [s.changed for s in dry if s.version == 4] == [4]  # three here, one in the other project
    assert [s.changed for s in steps if s.version == 4] == [4]
    ours = await listed(team)
    assert set(ours) == {"backend", "Bug", "legacy", "ux"}
    assert ours["Bug"] == "#000000"
    assert {ours["backend"], ours["legacy"], ours["ux"]} <= set(DEFAULT_COLORS)
    assert set(await listed(other)) == {"ops"}
    assert 4 in await applied_versions(db)


async def test_running_it_again_changes_nothing(team: Team, db: Database) -> None:
    await team.member.client.post(team.tasks_url, json={"title": "a", "labels": ["bug"]})
    await as_before_the_catalogue(db)
    await up(db)
    await db[APPLIED].delete_many({})  # as if the run had died before recording anything

    again = await up(db)

    assert [s.changed for s in again if s.version == 4] == [0]
    assert await db["labels"].count_documents({}) == 1


async def test_down_keeps_the_catalogue(team: Team, db: Database) -> None:
    await make_label(team, "bug")

    await down(db, to=3)

    assert 4 not in await applied_versions(db)
    assert set(await listed(team)) == {"bug"}
