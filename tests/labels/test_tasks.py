"""The catalogue and the tasks: a label used on a task joins the catalogue; a rename or a deletion
reaches every task of the project at once (lists, the `label=` filter, `q` search, ETags, cached
answers), in as many database round trips for thirty tasks as for one."""

import re
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from backend.core.storage.db import Database, Update, bulk_update
from backend.labels import repository
from backend.labels.documents import DEFAULT_COLORS
from backend.labels.repository import LabelledTask, LabelRepository
from backend.testing import CommandLog, Team, UserFactory, make_team, real_servers
from tests.labels.conftest import labels_url, make_label


async def make_task(team: Team, title: str, labels: list[str]) -> dict[str, Any]:
    response = await team.member.client.post(team.tasks_url, json={"title": title, "labels": labels})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def catalogue(team: Team) -> dict[str, str]:
    """task label -> colour, as the catalogue lists them."""
    page = (await team.member.client.get(labels_url(team), params={"limit": 100})).json()
    return {label["task_label"]: label["color"] for label in page["items"]}


async def titles(team: Team, **params: Any) -> list[str]:
    page = await team.member.client.get(team.tasks_url, params={"sort": "number", **params})
    assert page.status_code == 200, page.text
    return [task["title"] for task in page.json()["items"]]


class TestLabelsJoinTheCatalogue:
    async def test_on_create_update_and_bulk_update(self, team: Team) -> None:
        await make_label(team, "Bug", "#000000")
        await catalogue(team)  # cached now: the task writes below must end that answer
        task = await make_task(team, "t", ["bug", "Backend"])
        await team.member.client.patch(f"{team.tasks_url}/{task['id']}", json={"labels": ["ux", "bug"]})
        other = await make_task(team, "u", [])
        bulk = {"ids": [task["id"], other["id"]], "set": {"add_labels": ["released"]}}
        assert (await team.member.client.post(f"{team.tasks_url}/bulk-update", json=bulk)).status_code == 200

        known = await catalogue(team)

        assert set(known) == {"bug", "backend", "ux", "released"}
        assert known["bug"] == "#000000"  # a catalogued label keeps its colour
        added = [color for name, color in known.items() if name != "bug"]
        assert all(re.fullmatch(r"#[0-9a-f]{6}", color) and color in DEFAULT_COLORS for color in added)

    async def test_a_default_colour_depends_on_the_name_only(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        await make_task(team, "t", ["frontend", "security"])
        await make_task(other, "t", ["security", "frontend"])

        assert await catalogue(team) == await catalogue(other)

    async def test_only_in_the_tasks_project(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        await make_task(team, "t", ["mine"])

        assert await catalogue(other) == {}

    async def test_a_refused_write_adds_nothing(self, team: Team) -> None:
        task = await make_task(team, "t", [])
        url = f"{team.tasks_url}/{task['id']}"
        await team.member.client.patch(url, json={"title": "renamed"})  # the ETag the client has is old now

        refused = await team.member.client.patch(
            url, json={"labels": ["urgent"]}, headers={"If-Match": '"v1"'}
        )

        assert refused.status_code == 412, refused.text
        assert await catalogue(team) == {}

    async def test_a_bulk_update_that_changes_no_task_adds_nothing(self, team: Team) -> None:
        bulk = {"ids": ["0" * 24], "set": {"add_labels": ["ghost"]}}

        assert (await team.member.client.post(f"{team.tasks_url}/bulk-update", json=bulk)).status_code == 200
        assert await catalogue(team) == {}


class TestRename:
    async def test_reaches_every_task_at_once(self, team: Team) -> None:
        label = await make_label(team, "bug")
        one = await make_task(team, "Login loop", ["bug", "auth"])
        two = await make_task(team, "Slow search", ["perf", "bug"])
        await make_task(team, "Dark mode", ["ux"])
        gone = await make_task(team, "Old crash", ["bug"])
        await team.member.client.delete(f"{team.tasks_url}/{gone['id']}")
        detail = f"{team.tasks_url}/{one['id']}"
        before = await team.member.client.get(detail)
        assert (await team.member.client.get(detail)).headers["x-cache"] == "HIT"
        assert await titles(team, label="bug") == ["Login loop", "Slow search"]

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "Defect"})

        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["task_label"] == "defect"
        assert await titles(team, label="bug") == []
        assert await titles(team, label="defect") == ["Login loop", "Slow search"]
        assert await titles(team, q="defe") == ["Login loop", "Slow search"]
        assert await titles(team, q="bug") == []
        after = await team.member.client.get(detail)
        assert after.json()["labels"] == ["defect", "auth"]  # in place
        assert after.headers["etag"] != before.headers["etag"]
        assert after.json()["updated_at"] > before.json()["updated_at"]
        listed = (await team.member.client.get(team.tasks_url, params={"sort": "number"})).json()["items"]
        assert [t["labels"] for t in listed] == [["defect", "auth"], ["perf", "defect"], ["ux"]]
        deleted = (
            await team.admin.client.get(team.tasks_url, params={"include_deleted": True, "label": "defect"})
        ).json()
        assert "Old crash" in [t["title"] for t in deleted["items"]]
        assert two["id"] in [t["id"] for t in deleted["items"]]

    async def test_a_stale_if_match_on_a_task_fails_after_a_rename(self, team: Team) -> None:
        label = await make_label(team, "bug")
        task = await make_task(team, "t", ["bug"])
        etag = (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).headers["etag"]
        await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})

        stale = await team.member.client.patch(
            f"{team.tasks_url}/{task['id']}", json={"title": "x"}, headers={"If-Match": etag}
        )

        assert stale.status_code == 412

    async def test_a_change_of_case_leaves_the_tasks_alone(self, team: Team) -> None:
        label = await make_label(team, "bug")
        task = await make_task(team, "t", ["bug"])
        etag = (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).headers["etag"]

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "BUG"})

        assert renamed.json()["name"] == "BUG"
        assert (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).headers["etag"] == etag

    async def test_a_task_carrying_both_names_keeps_one(self, team: Team, db: Database) -> None:
        label = await make_label(team, "bug")
        task = await make_task(team, "t", ["bug"])
        # A label outside the catalogue (stored before it existed, or added in a race with a deletion).
        await db["tasks"].update_one({"_id": ObjectId(task["id"])}, {"$set": {"labels": ["bug", "defect"]}})

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})

        assert renamed.status_code == 200
        assert (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).json()["labels"] == ["defect"]

    async def test_other_projects_are_untouched(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        label = await make_label(team, "bug")
        theirs = await make_task(other, "theirs", ["bug"])

        await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})

        assert (await other.member.client.get(f"{other.tasks_url}/{theirs['id']}")).json()["labels"] == [
            "bug"
        ]
        assert set(await catalogue(other)) == {"bug"}


class TestDelete:
    async def test_removes_the_label_from_every_task(self, team: Team) -> None:
        label = await make_label(team, "bug")
        one = await make_task(team, "Login loop", ["auth", "bug", "web"])
        await make_task(team, "Crash", ["bug"])
        detail = f"{team.tasks_url}/{one['id']}"
        before = await team.member.client.get(detail)
        assert await titles(team, q="bug") == ["Login loop", "Crash"]

        assert (await team.member.client.delete(f"{labels_url(team)}/{label['id']}")).status_code == 204

        after = await team.member.client.get(detail)
        assert after.json()["labels"] == ["auth", "web"]
        assert after.headers["etag"] != before.headers["etag"]
        assert await titles(team, label="bug") == []
        assert await titles(team, q="bug") == []
        assert await titles(team, q="auth") == ["Login loop"]  # the other labels stay searchable
        assert "bug" not in await catalogue(team)

    async def test_a_task_using_it_again_brings_it_back(self, team: Team) -> None:
        label = await make_label(team, "bug", "#000000")
        await team.member.client.delete(f"{labels_url(team)}/{label['id']}")

        await make_task(team, "t", ["bug"])

        assert (await catalogue(team))["bug"] in DEFAULT_COLORS


@pytest.fixture
def bulk_write_counted_once(monkeypatch: pytest.MonkeyPatch, mongo_commands: CommandLog) -> None:
    """The in-memory mock cannot run a bulk write: there `bulk_update` applies its updates one by one
    in process (core/storage/db.py), so the commands it makes count as the one they stand for.
    Only those: a task update sent on its own still counts."""
    if real_servers():
        return
    bulk = bulk_update

    async def once(collection: Any, updates: list[Update]) -> int:
        start = len(mongo_commands.commands)
        try:
            return await bulk(collection, updates)
        finally:
            del mongo_commands.commands[start + 1 :]

    monkeypatch.setattr(repository, "bulk_update", once)


@pytest.mark.usefixtures("bulk_write_counted_once")
async def test_rename_and_delete_take_as_many_round_trips_for_thirty_tasks_as_for_one(
    team: Team, mongo_commands: CommandLog
) -> None:
    warm, few, many = [await make_label(team, name) for name in ("warm", "few", "many")]
    await make_task(team, "warm", ["warm"])
    await make_task(team, "one", ["few"])
    for i in range(30):
        await make_task(team, f"task {i}", ["many", f"other{i % 3}"])

    counts: dict[str, list[int]] = {"rename": [], "delete": []}
    for label in (warm, few, many):  # the first warms what every request finds known (names, members)
        url = f"{labels_url(team)}/{label['id']}"
        mongo_commands.clear()
        assert (await team.member.client.patch(url, json={"name": f"{label['name']}-x"})).status_code == 200
        counts["rename"].append(len(mongo_commands.commands))
        mongo_commands.clear()
        assert (await team.member.client.delete(url)).status_code == 204
        counts["delete"].append(len(mongo_commands.commands))

    assert counts["rename"][1] == counts["rename"][2], counts
    assert counts["delete"][1] == counts["delete"][2], counts
    # Rename: the label, its conditional write (marked as under way), the tasks carrying it, their
    # bulk write, the mark cleared, the activity record. Delete: the label, its tombstone, the tasks,
    # their bulk write, the tombstone removed, a last read for a task written with the name meanwhile,
    # the activity record.
    assert max(counts["rename"]) <= 6, counts
    assert max(counts["delete"]) <= 7, counts
    assert await titles(team, label="other0") != []
    assert await titles(team, label="many") == await titles(team, label="many-x") == []


class TestTasksWrittenMeanwhile:
    """A task written between a pass's read and its bulk write keeps its version-conditional update
    from applying: the next pass reads it again."""

    @staticmethod
    def write_meanwhile(monkeypatch: pytest.MonkeyPatch, db: Database, times: int) -> None:
        read = LabelRepository.tasks_labelled
        calls = 0

        async def then_written(self: LabelRepository, project_id: Any, label: str) -> list[LabelledTask]:
            nonlocal calls
            found = await read(self, project_id, label)
            calls += 1
            if calls <= times and found:
                await db["tasks"].update_one({"_id": found[0].id}, {"$inc": {"version": 1}})
            return found

        monkeypatch.setattr(LabelRepository, "tasks_labelled", then_written)

    async def test_the_next_pass_relabels_it(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        label = await make_label(team, "bug")
        tasks = [await make_task(team, f"t{i}", ["bug"]) for i in range(3)]
        self.write_meanwhile(monkeypatch, db, times=1)

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})

        assert renamed.status_code == 200
        for task in tasks:
            assert (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).json()["labels"] == [
                "defect"
            ]
        assert set(await catalogue(team)) == {"defect"}

    async def test_a_task_that_keeps_changing_keeps_the_old_name_in_the_catalogue(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        label = await make_label(team, "bug")
        stubborn = await make_task(team, "t", ["bug"])
        self.write_meanwhile(monkeypatch, db, times=100)

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})

        assert renamed.status_code == 200
        assert (await team.member.client.get(f"{team.tasks_url}/{stubborn['id']}")).json()["labels"] == [
            "bug"
        ]
        assert set(await catalogue(team)) == {"bug", "defect"}  # every label on a task is in it


class TestAChangeThatDiedHalfWay:
    """A rename or a deletion changes the catalogue, then the tasks. When the request dies between the
    two (here: the database goes away at the tasks' bulk write, a 503), the label keeps what is under
    way, and the next request that reads it finishes the job: no task keeps a name the catalogue
    lost, and the change is not lost either."""

    @staticmethod
    def bulk_write_fails_once(monkeypatch: pytest.MonkeyPatch) -> None:
        write = LabelRepository.relabel_tasks
        failed = False

        async def fails_once(self: LabelRepository, updates: list[Update]) -> int:
            nonlocal failed
            if not failed:
                failed = True
                raise AutoReconnect("the database went away")
            return await write(self, updates)

        monkeypatch.setattr(LabelRepository, "relabel_tasks", fails_once)

    async def test_a_rename_is_finished_by_the_next_read(
        self, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        label = await make_label(team, "bug")
        task = await make_task(team, "t", ["bug", "ui"])
        self.bulk_write_fails_once(monkeypatch)

        renamed = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "defect"})
        assert renamed.status_code == 503, renamed.text

        assert set(await catalogue(team)) == {"defect", "ui"}
        shown = await team.member.client.get(f"{team.tasks_url}/{task['id']}")
        assert shown.json()["labels"] == ["defect", "ui"]
        assert await titles(team, label="defect") == ["t"]
        assert await titles(team, label="bug") == []

    async def test_a_deletion_is_finished_by_the_next_read(
        self, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        label = await make_label(team, "bug")
        task = await make_task(team, "t", ["bug", "ui"])
        self.bulk_write_fails_once(monkeypatch)

        deleted = await team.member.client.delete(f"{labels_url(team)}/{label['id']}")
        assert deleted.status_code == 503, deleted.text

        assert (await team.member.client.get(f"{labels_url(team)}/{label['id']}")).status_code == 404
        assert set(await catalogue(team)) == {"ui"}
        assert (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).json()["labels"] == ["ui"]

    async def test_the_name_of_a_half_deleted_label_can_be_created_again(
        self, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        label = await make_label(team, "bug")
        await make_task(team, "t", ["bug"])
        self.bulk_write_fails_once(monkeypatch)
        assert (await team.member.client.delete(f"{labels_url(team)}/{label['id']}")).status_code == 503

        again = await team.member.client.post(labels_url(team), json={"name": "Bug", "color": "#112233"})

        assert again.status_code == 201, again.text
        assert await catalogue(team) == {"bug": "#112233"}
        assert await titles(team, label="bug") == []  # the deletion reached the task first

    async def test_a_task_labelled_while_the_label_is_deleted_keeps_it_in_the_catalogue(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The task is written after the deletion's last pass, while the tombstone holds the name."""
        label = await make_label(team, "bug")
        remove = LabelRepository.remove_tombstone
        late: dict[str, Any] = {}

        async def written_first(self: LabelRepository, label_id: Any) -> None:
            if not late:
                late.update(await make_task(team, "late", ["bug"]))
            await remove(self, label_id)

        monkeypatch.setattr(LabelRepository, "remove_tombstone", written_first)

        assert (await team.member.client.delete(f"{labels_url(team)}/{label['id']}")).status_code == 204

        assert (await team.member.client.get(f"{team.tasks_url}/{late['id']}")).json()["labels"] == ["bug"]
        assert "bug" in await catalogue(team)
