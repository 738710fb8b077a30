"""Board order through HTTP: `POST .../tasks/{id}/move` between neighbours, `sort=rank`, new tasks
last, racing moves (real servers), rebalancing, the ranks migration, round trips and access."""

import asyncio
import uuid
from typing import Any

import pytest
from bson import ObjectId

from backend.core.storage.db import Database
from backend.migrations.runner import APPLIED, pending, up
from backend.migrations.runner import down as migrate_down
from backend.tasks import service as task_service
from backend.tasks.repository import TaskRepository
from backend.testing import CommandLog, Team, UserFactory, make_team, problem, real_servers


async def create(team: Team, title: str, **fields: Any) -> dict[str, Any]:
    response = await team.member.client.post(team.tasks_url, json={"title": title, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def cards(team: Team, *titles: str) -> list[dict[str, Any]]:
    return [await create(team, title) for title in titles]


async def move(team: Team, task: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await team.member.client.post(f"{team.tasks_url}/{task['id']}/move", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def board(team: Team, **params: Any) -> list[str]:
    """The board's titles in rank order, read a page of two at a time through the cursors."""
    titles: list[str] = []
    query: dict[str, Any] = {"sort": "rank", "limit": 2, "_": uuid.uuid4().hex, **params}
    while True:
        page = (await team.member.client.get(team.tasks_url, params=query)).json()
        titles += [task["title"] for task in page["items"]]
        if page["next_cursor"] is None:
            return titles
        query["cursor"] = page["next_cursor"]


async def stored_ranks(db: Database, team: Team) -> list[str | None]:
    """The project's ranks as stored, deleted tasks included, in creation order."""
    found = (
        await db["tasks"]
        .find({"project_id": ObjectId(team.project["id"])}, {"rank": 1})
        .sort([("number", 1)])
        .to_list(None)
    )
    return [task.get("rank") for task in found]


class TestNewTasks:
    async def test_go_last_with_a_rank_from_their_number(self, team: Team) -> None:
        a, b, c = await cards(team, "A", "B", "C")

        assert [a["rank"], b["rank"], c["rank"]] == ["a1", "a2", "a3"]
        assert await board(team) == ["A", "B", "C"]

    async def test_go_last_after_cards_were_moved_to_the_bottom(self, team: Team) -> None:
        a, b, c = await cards(team, "A", "B", "C")
        await move(team, a, after_id=c["id"])
        await move(team, b, after_id=a["id"])

        await create(team, "D")

        assert await board(team) == ["C", "A", "B", "D"]


class TestMove:
    async def test_between_two_cards(self, team: Team) -> None:
        a, b, c, d = await cards(team, "A", "B", "C", "D")

        response = await team.member.client.post(
            f"{team.tasks_url}/{d['id']}/move", json={"after_id": a["id"], "before_id": b["id"]}
        )

        assert response.status_code == 200, response.text
        moved = response.json()
        assert response.headers["etag"] == '"v2"'
        assert a["rank"] < moved["rank"] < b["rank"]
        assert await board(team) == ["A", "D", "B", "C"]
        read = await team.member.client.get(f"{team.tasks_url}/{d['id']}")
        assert read.json()["rank"] == moved["rank"]
        assert read.headers["etag"] == '"v2"'

    async def test_to_the_top_and_to_the_bottom(self, team: Team) -> None:
        a, b, c = await cards(team, "A", "B", "C")

        await move(team, c, before_id=a["id"])
        assert await board(team) == ["C", "A", "B"]
        await move(team, a, after_id=b["id"])
        assert await board(team) == ["C", "B", "A"]

    async def test_one_neighbour_means_right_next_to_it(self, team: Team) -> None:
        a, b, c, d = await cards(team, "A", "B", "C", "D")

        await move(team, d, after_id=a["id"])  # below A, above B: B is not renumbered
        assert await board(team) == ["A", "D", "B", "C"]
        await move(team, a, before_id=c["id"])  # above C, below B
        assert await board(team) == ["D", "B", "A", "C"]

    async def test_only_the_moved_task_changes(self, team: Team, db: Database) -> None:
        a, b, c = await cards(team, "A", "B", "C")
        before = await stored_ranks(db, team)

        await move(team, c, after_id=a["id"], before_id=b["id"])

        after = await stored_ranks(db, team)
        assert [r for r in after if r not in before] == [(await self._read(team, c))["rank"]]
        assert (await self._read(team, a))["rank"] == a["rank"]

    @staticmethod
    async def _read(team: Team, task: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = (await team.member.client.get(f"{team.tasks_url}/{task['id']}")).json()
        return body

    async def test_into_another_column(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")
        done = await create(team, "Shipped", status="done")

        moved = await move(team, a, after_id=done["id"], status="done")

        assert moved["status"] == "done"
        assert moved["completed_at"] is not None
        assert await board(team, status="done") == ["Shipped", "A"]
        assert await board(team, status="backlog") == ["B"]

    async def test_a_card_already_in_place_is_not_written(self, team: Team) -> None:
        a, b, _ = await cards(team, "A", "B", "C")

        response = await team.member.client.post(
            f"{team.tasks_url}/{b['id']}/move", json={"after_id": a["id"]}
        )

        assert response.status_code == 200
        assert response.headers["etag"] == '"v1"'
        assert response.json()["rank"] == b["rank"]

    async def test_is_recorded_as_an_update_of_rank_and_status(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")

        moved = await move(team, a, after_id=b["id"], status="todo")

        feed = (await team.member.client.get(f"{team.tasks_url}/{a['id']}/activity")).json()["items"]
        assert feed[0]["verb"] == "task.updated"
        assert feed[0]["changes"] == {"status": ["backlog", "todo"], "rank": [a["rank"], moved["rank"]]}

    async def test_lists_and_the_task_are_not_served_stale_from_the_cache(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")
        url = f"{team.tasks_url}?sort=rank"
        assert [t["title"] for t in (await team.member.client.get(url)).json()["items"]] == ["A", "B"]
        await team.member.client.get(f"{team.tasks_url}/{a['id']}")

        moved = await move(team, a, after_id=b["id"])

        assert [t["title"] for t in (await team.member.client.get(url)).json()["items"]] == ["B", "A"]
        assert (await team.member.client.get(f"{team.tasks_url}/{a['id']}")).json()["rank"] == moved["rank"]


class TestIfMatch:
    async def test_a_stale_etag_is_412_and_moves_nothing(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")
        url = f"{team.tasks_url}/{a['id']}"
        await team.member.client.patch(url, json={"title": "A2"})

        stale = await team.member.client.post(
            f"{url}/move", json={"after_id": b["id"]}, headers={"If-Match": '"v1"'}
        )

        assert problem(stale, 412, "PRECONDITION_FAILED")["current_etag"] == '"v2"'
        assert await board(team) == ["A2", "B"]

    async def test_the_current_etag_moves(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")

        response = await team.member.client.post(
            f"{team.tasks_url}/{a['id']}/move", json={"after_id": b["id"]}, headers={"If-Match": '"v1"'}
        )

        assert response.status_code == 200
        assert response.headers["etag"] == '"v2"'


class TestBadNeighbours:
    async def test_a_task_of_another_project(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        foreign = (await other.member.client.post(other.tasks_url, json={"title": "X"})).json()
        (a,) = await cards(team, "A")

        body = problem(
            await team.member.client.post(
                f"{team.tasks_url}/{a['id']}/move", json={"after_id": foreign["id"]}
            ),
            422,
            "NEIGHBOUR_NOT_FOUND",
        )

        assert list(body["field_errors"]) == ["after_id"]

    async def test_a_deleted_task(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")
        await team.member.client.delete(f"{team.tasks_url}/{b['id']}")

        body = problem(
            await team.member.client.post(f"{team.tasks_url}/{a['id']}/move", json={"before_id": b["id"]}),
            422,
            "NEIGHBOUR_NOT_FOUND",
        )

        assert list(body["field_errors"]) == ["before_id"]

    async def test_an_unknown_id(self, team: Team) -> None:
        (a,) = await cards(team, "A")

        problem(
            await team.member.client.post(
                f"{team.tasks_url}/{a['id']}/move", json={"after_id": "6b0201e8c0ffee0000000bad"}
            ),
            422,
            "NEIGHBOUR_NOT_FOUND",
        )

    @pytest.mark.parametrize("field", ["after_id", "before_id"])
    async def test_itself(self, team: Team, field: str) -> None:
        (a,) = await cards(team, "A")

        body = problem(
            await team.member.client.post(f"{team.tasks_url}/{a['id']}/move", json={field: a["id"]}),
            422,
            "INVALID_NEIGHBOURS",
        )

        assert list(body["field_errors"]) == [field]

    async def test_the_same_card_above_and_below(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")

        problem(
            await team.member.client.post(
                f"{team.tasks_url}/{a['id']}/move", json={"after_id": b["id"], "before_id": b["id"]}
            ),
            422,
            "INVALID_NEIGHBOURS",
        )

    async def test_neighbours_in_the_wrong_order_are_a_conflict(self, team: Team) -> None:
        a, b, c = await cards(team, "A", "B", "C")

        problem(
            await team.member.client.post(
                f"{team.tasks_url}/{c['id']}/move", json={"after_id": b["id"], "before_id": a["id"]}
            ),
            409,
            "BOARD_CHANGED",
        )
        assert await board(team) == ["A", "B", "C"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, None),
            ({"status": "done"}, None),
            ({"after_id": None}, None),
            ({"after_id": "nope"}, "after_id"),
            ({"before_id": 42}, "before_id"),
            ({"after_id": "6b0201e8c0ffee0000000bad", "status": "doing"}, "status"),
            ({"after_id": "6b0201e8c0ffee0000000bad", "rank": "a0"}, "rank"),
        ],
    )
    async def test_malformed_bodies_are_422(
        self, team: Team, body: dict[str, Any], field: str | None
    ) -> None:
        (a,) = await cards(team, "A")

        answer = problem(
            await team.member.client.post(f"{team.tasks_url}/{a['id']}/move", json=body),
            422,
            "VALIDATION_FAILED",
        )

        if field is not None:
            assert field in answer["field_errors"], answer


class TestAccess:
    async def test_an_outsider_gets_404(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")

        problem(
            await team.outsider.client.post(f"{team.tasks_url}/{a['id']}/move", json={"after_id": b["id"]}),
            404,
            "PROJECT_NOT_FOUND",
        )

    async def test_a_viewer_gets_403(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")

        problem(
            await team.viewer.client.post(f"{team.tasks_url}/{a['id']}/move", json={"after_id": b["id"]}),
            403,
            "INSUFFICIENT_ROLE",
        )
        assert await board(team) == ["A", "B"]

    async def test_an_unknown_or_deleted_task_is_404(self, team: Team) -> None:
        a, b = await cards(team, "A", "B")
        await team.member.client.delete(f"{team.tasks_url}/{a['id']}")

        for task_id in (a["id"], "6b0201e8c0ffee0000000bad"):
            problem(
                await team.member.client.post(f"{team.tasks_url}/{task_id}/move", json={"after_id": b["id"]}),
                404,
                "TASK_NOT_FOUND",
            )


class TestSortByRank:
    async def test_pages_follow_the_board_both_ways(self, team: Team) -> None:
        tasks = await cards(team, *"ABCDEFG")
        await move(team, tasks[6], before_id=tasks[0]["id"])  # G A B C D E F
        await move(team, tasks[0], after_id=tasks[4]["id"])  # G B C D E A F
        await move(team, tasks[3], after_id=tasks[6]["id"], before_id=tasks[1]["id"])  # G D B C E A F

        assert await board(team) == list("GDBCEAF")
        assert await board(team, sort="-rank") == list("FAECBDG")

    async def test_a_page_cursor_survives_a_move_of_a_card_already_seen(self, team: Team) -> None:
        tasks = await cards(team, *"ABCDE")
        first = (await team.member.client.get(team.tasks_url, params={"sort": "rank", "limit": 2})).json()
        await move(team, tasks[0], after_id=tasks[4]["id"])  # A goes last: seen once more, that is all

        rest = (
            await team.member.client.get(
                team.tasks_url, params={"sort": "rank", "limit": 10, "cursor": first["next_cursor"]}
            )
        ).json()

        assert [t["title"] for t in first["items"]] == ["A", "B"]
        assert [t["title"] for t in rest["items"]] == ["C", "D", "E", "A"]

    async def test_a_cursor_of_another_sort_is_refused(self, team: Team) -> None:
        await cards(team, "A", "B", "C")
        page = (await team.member.client.get(team.tasks_url, params={"sort": "number", "limit": 1})).json()

        problem(
            await team.member.client.get(
                team.tasks_url, params={"sort": "rank", "cursor": page["next_cursor"]}
            ),
            422,
            "VALIDATION_FAILED",
        )


class TestRoundTrips:
    @pytest.mark.parametrize("neighbours", ["both", "after", "before"])
    async def test_a_move_takes_the_same_few_round_trips_whatever_the_board(
        self, team: Team, mongo_commands: CommandLog, neighbours: str
    ) -> None:
        counts = []
        for size in (3, 30):
            tasks = await cards(team, *(f"t{i}" for i in range(size)))
            first, second, last = tasks[0], tasks[1], tasks[-1]
            body = {
                "both": {"after_id": first["id"], "before_id": second["id"]},
                "after": {"after_id": first["id"]},
                "before": {"before_id": second["id"]},
            }[neighbours]
            await team.member.client.get(f"{team.tasks_url}/{last['id']}")  # access and names known
            mongo_commands.clear()

            await move(team, last, **body)

            counts.append(len(mongo_commands.commands))
            written = [c for name, c in mongo_commands.commands if name == "update"]
            assert len(written) == 1, mongo_commands.commands  # the moved task only
        # The task, its neighbours (and the card next to a lone one), the update, the activity.
        assert counts[0] == counts[1] <= (5 if neighbours == "both" else 6), mongo_commands.commands


class TestRebalancing:
    async def test_long_ranks_are_rewritten_short_in_the_same_order(
        self, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A low bound forces what hundreds of moves into one gap reach (ranks.MAX_RANK_LENGTH).
        monkeypatch.setattr(task_service, "MAX_RANK_LENGTH", 4)
        top, x, y = await cards(team, "top", "x", "y")
        await cards(team, "o1", "o2", "o3")
        lengths = []
        for _ in range(40):  # x and y in turn between `top` and the other: each halves the gap
            moved = await move(team, x, after_id=top["id"], before_id=y["id"])
            x, y = y, moved
            lengths.append(len(moved["rank"]))
            if len(lengths) > 1 and lengths[-1] < lengths[-2]:
                break
        else:
            pytest.fail(f"no rebalance: rank lengths {lengths}")

        assert max(lengths) <= 4, lengths
        assert await board(team) == ["top", y["title"], x["title"], "o1", "o2", "o3"]
        listed = (await team.member.client.get(team.tasks_url, params={"sort": "rank"})).json()["items"]
        assert all(len(t["rank"]) <= 3 for t in listed), listed

    async def test_a_rebalance_takes_a_bounded_number_of_round_trips(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch, mongo_commands: CommandLog
    ) -> None:
        a, b, c, *_ = await cards(team, *(f"t{i}" for i in range(40)))
        # Two neighbours whose ranks share a long prefix: a card between them needs a longer one.
        low, high = "a1" + "V" * 30, "a1" + "V" * 30 + "W"
        for task, rank in ((a, low), (c, high)):
            await db["tasks"].update_one({"_id": ObjectId(task["id"])}, {"$set": {"rank": rank}})
        monkeypatch.setattr(task_service, "MAX_RANK_LENGTH", len(high) - 1)
        await team.member.client.get(f"{team.tasks_url}/{b['id']}")
        mongo_commands.clear()

        moved = await move(team, b, after_id=a["id"], before_id=c["id"])

        assert len(moved["rank"]) <= 3
        # The project, the task, its neighbours, the board, the neighbours again; one bulk write on
        # servers (on the mock an update per card: its bulk helper applies them one by one), and no
        # write for b, already between its neighbours' new ranks.
        reads = [name for name, _ in mongo_commands.commands if name != "update"]
        writes = [name for name, _ in mongo_commands.commands if name == "update"]
        assert len(reads) <= 5, mongo_commands.commands
        assert len(writes) == (1 if real_servers() else 39), mongo_commands.commands
        assert (await board(team))[:4] == ["t0", "t1", "t2", "t3"]
        ranks = await stored_ranks(db, team)
        assert max(len(r or "") for r in ranks) <= 3, ranks
        assert (await team.member.client.get(f"{team.tasks_url}/{a['id']}")).headers["etag"] == '"v2"'


class TestRebalancingWhileOthersWrite:
    """A rebalance reads the board, then rewrites every card's rank in one bulk write. Cards changed
    in between must end where their owners put them."""

    @staticmethod
    async def crowded_board(
        team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> list[dict[str, Any]]:
        """t0..t5 in order; moving t3 between t2 and t4 needs a rank past the limit: a rebalance. Their
        ranks are above every new short one, as after many moves to the bottom."""
        tasks = await cards(team, *(f"t{i}" for i in range(6)))
        long = "b0B" + "V" * 30
        ranks = ["b0A", "b0B", long, "b0C", long + "W", "b0D"]
        for task, rank in zip(tasks, ranks, strict=True):
            await db["tasks"].update_one({"_id": ObjectId(task["id"])}, {"$set": {"rank": rank}})
        monkeypatch.setattr(task_service, "MAX_RANK_LENGTH", len(long))
        return tasks

    @staticmethod
    def after_the_board_is_read(monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
        read = TaskRepository.board
        done = False

        async def then_meanwhile(self: TaskRepository, project_id: Any) -> list[dict[str, Any]]:
            nonlocal done
            found = await read(self, project_id)
            if not done:
                done = True
                await meanwhile()
            return found

        monkeypatch.setattr(TaskRepository, "board", then_meanwhile)

    async def test_a_card_edited_meanwhile_gets_its_new_rank(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        t0, _, t2, t3, t4, _ = await self.crowded_board(team, db, monkeypatch)

        async def edit_t0() -> None:  # a title edit: its version moves, its rank does not
            await db["tasks"].update_one(
                {"_id": ObjectId(t0["id"])}, {"$set": {"title": "t0"}, "$inc": {"version": 1}}
            )

        self.after_the_board_is_read(monkeypatch, edit_t0)
        moved = await move(team, t3, after_id=t2["id"], before_id=t4["id"])

        assert await board(team) == ["t0", "t1", "t2", "t3", "t4", "t5"]
        assert max(len(rank or "") for rank in await stored_ranks(db, team)) <= len(moved["rank"]) <= 3

    async def test_a_card_moved_meanwhile_stays_where_it_was_put(
        self, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tasks = await self.crowded_board(team, db, monkeypatch)
        t2, t3, t4, t5 = tasks[2:]

        async def move_t5_below_t0() -> None:  # another move, written with a rank among the old ones
            await db["tasks"].update_one(
                {"_id": ObjectId(t5["id"])}, {"$set": {"rank": "b0AV"}, "$inc": {"version": 1}}
            )

        self.after_the_board_is_read(monkeypatch, move_t5_below_t0)
        await move(team, t3, after_id=t2["id"], before_id=t4["id"])

        assert await board(team) == ["t0", "t5", "t1", "t2", "t3", "t4"]
        ranks = await stored_ranks(db, team)
        assert len(set(ranks)) == 6
        assert max(len(rank or "") for rank in ranks) <= 4, ranks
        shown = await team.member.client.get(f"{team.tasks_url}/{t5['id']}")
        assert shown.json()["rank"] == ranks[5]  # its cached answer ended too


@pytest.mark.real_servers
async def test_fifty_racing_moves_into_one_gap_all_land_with_distinct_ranks(team: Team, db: Database) -> None:
    top, bottom = await cards(team, "top", "bottom")
    movers = [await create(team, f"m{i}") for i in range(50)]

    answers = await asyncio.gather(
        *(
            team.member.client.post(
                f"{team.tasks_url}/{m['id']}/move", json={"after_id": top["id"], "before_id": bottom["id"]}
            )
            for m in movers
        )
    )

    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200]
    assert {a.headers["etag"] for a in answers} == {'"v2"'}  # each moved exactly once: none lost
    order = await board(team)
    assert (order[0], order[-1]) == ("top", "bottom")
    assert sorted(order[1:-1]) == sorted(m["title"] for m in movers)
    ranks = await stored_ranks(db, team)
    assert len(set(ranks)) == len(ranks) == 52
    feed = await team.member.client.get(f"{team.project_url}/activity", params={"limit": 100})
    assert sum(r["verb"] == "task.updated" for r in feed.json()["items"]) == 50


@pytest.mark.real_servers
async def test_racing_moves_to_the_top_keep_a_strict_order(team: Team, db: Database) -> None:
    first, *movers = await cards(team, *(f"c{i}" for i in range(21)))

    answers = await asyncio.gather(*(move(team, m, before_id=first["id"]) for m in movers))

    assert len(answers) == 20
    order = await board(team)
    assert order[-1] == "c0"
    assert sorted(order[:-1]) == sorted(m["title"] for m in movers)
    ranks = await stored_ranks(db, team)
    assert len(set(ranks)) == len(ranks)


class TestMigration:
    async def as_before_ranks(self, db: Database, team: Team) -> None:
        """The project as the previous release left it: no ranks, no migration 3 recorded, and no
        unique rank index (ops apply indexes after migrating; the in-memory MongoDB would keep
        that index without its partial filter, so tasks without a rank would collide in it)."""
        await db["tasks"].drop_index("project_rank_unique")
        await db["tasks"].update_many({"project_id": ObjectId(team.project["id"])}, {"$unset": {"rank": ""}})
        await db[APPLIED].delete_many({"_id": 3})

    async def test_every_task_gets_a_rank_in_its_position_order(self, team: Team, db: Database) -> None:
        for title, position in (("p3", 3.0), ("p1", 1.0), ("p2a", 2.0), ("p2b", 2.0), ("p0", -5.0)):
            await create(team, title, position=position)
        gone = await create(team, "gone", position=2.5)
        await team.member.client.delete(f"{team.tasks_url}/{gone['id']}")
        await self.as_before_ranks(db, team)
        assert [m.version for m in await pending(db)] == [3]

        steps = await up(db)

        assert [(s.version, s.changed) for s in steps] == [(3, 6)]
        assert await board(team) == ["p0", "p1", "p2a", "p2b", "p3"]
        ranks = await stored_ranks(db, team)
        assert ranks == ["a6", "a2", "a3", "a4", "a1", "a5"]  # by number: p3 p1 p2a p2b p0 gone
        await create(team, "new")
        assert (await board(team))[-1] == "new"

    async def test_a_second_run_changes_nothing_and_down_removes_the_ranks(
        self, team: Team, db: Database
    ) -> None:
        await cards(team, "A", "B")
        await self.as_before_ranks(db, team)
        await up(db)
        await db[APPLIED].delete_many({"_id": 3})

        again = await up(db)
        await migrate_down(db, to=2)

        assert [s.changed for s in again] == [0]
        assert await stored_ranks(db, team) == [None, None]

    async def test_a_dry_run_counts_and_changes_nothing(self, team: Team, db: Database) -> None:
        await cards(team, "A", "B", "C")
        await self.as_before_ranks(db, team)

        (step,) = await up(db, dry_run=True)

        assert step.changed == 3
        assert await stored_ranks(db, team) == [None, None, None]

    async def test_a_task_a_previous_release_created_afterwards_gets_a_rank_when_a_card_lands_next_to_it(
        self, team: Team, db: Database
    ) -> None:
        """A 2.x process still running after the migration creates tasks without a rank
        (docs/operations.md says to stop them first). A move next to one gives it the rank a create
        would have: last, by its number."""
        a, b, late = await cards(team, "a", "b", "late")
        await db["tasks"].update_one({"_id": ObjectId(late["id"])}, {"$unset": {"rank": ""}})

        moved = await move(team, a, after_id=late["id"])

        assert await board(team) == ["b", "late", "a"]
        assert (await stored_ranks(db, team))[2] == "a3"  # the integer key of its number
        assert moved["rank"] > "a3"
        before = await team.member.client.post(
            f"{team.tasks_url}/{b['id']}/move", json={"before_id": late["id"]}
        )
        assert before.status_code == 200, before.text
