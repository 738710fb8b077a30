"""Migration 0006: the creators, assignees and commenters of tasks made before watchers existed watch
them, once, keeping the watches people chose."""

from backend.core.storage.db import Database
from backend.migrations.runner import APPLIED, applied_versions, up
from backend.testing import Team
from tests.notifications.helpers import new_task, watcher_ids


async def as_before_watchers(db: Database) -> None:
    """Tasks and comments with no watchers, as the release before left them; nothing recorded."""
    await db["task_watchers"].delete_many({})
    await db[APPLIED].delete_many({})


async def test_creators_assignees_and_commenters_watch_the_tasks_made_before(
    team: Team, db: Database
) -> None:
    task = await new_task(team, team.member, assignee_ids=[team.admin.id])
    await team.owner.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "x"})
    other = await new_task(team, team.owner)
    await as_before_watchers(db)
    await team.viewer.client.put(f"{team.tasks_url}/{other['id']}/watchers/me")  # chosen since

    dry = await up(db, dry_run=True)
    assert await watcher_ids(team, task, team.viewer) == []
    steps = await up(db)

    assert [s.changed for s in dry if s.version == 6] == [4]
    assert [s.changed for s in steps if s.version == 6] == [4]
    assert sorted(await watcher_ids(team, task, team.viewer)) == sorted(
        [team.member.id, team.admin.id, team.owner.id]
    )
    assert sorted(await watcher_ids(team, other, team.viewer)) == sorted([team.viewer.id, team.owner.id])
    assert 6 in await applied_versions(db)


async def test_running_it_again_changes_nothing(team: Team, db: Database) -> None:
    await new_task(team, team.member, assignee_ids=[team.admin.id])
    await as_before_watchers(db)
    await up(db)
    await db[APPLIED].delete_many({})  # as if the run had died before recording anything

    again = await up(db)

    assert [s.changed for s in again if s.version == 6] == [0]
