"""No cycle of `blocks`: refused directly and through other tasks, checked one query per level, with
a bounded walk, and safe against concurrent requests that together would close one."""

import asyncio
from typing import Any

import pytest

from backend.relations import service
from backend.testing import CommandLog, Team, problem
from tests.relations.helpers import listed, make_task, relate


def level_queries(log: CommandLog) -> int:
    """Queries of one level of the blocks graph each (and no other query filters on the type)."""
    return sum(
        1
        for name, command in log.commands
        if name == "find" and command.get("find") == "task_relations" and "type" in command.get("filter", {})
    )


async def chain(team: Team, length: int) -> list[dict[str, Any]]:
    """Tasks t0 blocks t1 blocks ... t(length)."""
    tasks = [await make_task(team.member, team.project, f"t{i}") for i in range(length + 1)]
    for before, after in zip(tasks, tasks[1:], strict=False):
        assert (await relate(team.member, before, "blocks", after)).status_code == 201
    return tasks


async def test_a_direct_cycle_is_refused(team: Team) -> None:
    a, b = await chain(team, 1)

    body = problem(await relate(team.member, b, "blocks", a), 409, "RELATION_CYCLE")

    assert a["key"] not in body["detail"]
    assert await listed(team.member, b) == [("blocked_by", a["key"])]


async def test_a_three_long_cycle_is_refused_and_nothing_is_kept(team: Team) -> None:
    a, b, c = await chain(team, 2)

    problem(await relate(team.member, c, "blocks", a), 409, "RELATION_CYCLE")

    assert await listed(team.member, c) == [("blocked_by", b["key"])]
    assert await listed(team.member, a) == [("blocks", b["key"])]
    feed = (await team.member.client.get(f"{team.tasks_url}/{c['id']}/activity")).json()["items"]
    assert feed[0]["changes"]["relation"][1]["type"] == "blocked_by"  # the kept one, not the refused one


async def test_shared_blockers_are_not_cycles(team: Team) -> None:
    """A diamond (a blocks b and c, both block d) has two paths but no cycle."""
    a, b, c, d = [await make_task(team.member, team.project) for _ in range(4)]
    for x, y in ((a, b), (a, c), (b, d), (c, d)):
        assert (await relate(team.member, x, "blocks", y)).status_code == 201

    problem(await relate(team.member, d, "blocks", a), 409, "RELATION_CYCLE")
    assert (await relate(team.member, d, "relates_to", a)).status_code == 201  # only blocks make cycles


@pytest.mark.parametrize("length", [1, 4])
async def test_the_check_takes_one_query_per_level(
    team: Team, mongo_commands: CommandLog, length: int
) -> None:
    tasks = await chain(team, length)
    head = await make_task(team.member, team.project)
    mongo_commands.clear()

    assert (await relate(team.member, head, "blocks", tasks[0])).status_code == 201

    # Levels 1..length reach one task each; one more query finds that the last blocks nothing.
    assert level_queries(mongo_commands) == length + 1, mongo_commands.commands


async def test_a_chain_longer_than_the_check_is_refused(
    team: Team, monkeypatch: pytest.MonkeyPatch, mongo_commands: CommandLog
) -> None:
    monkeypatch.setattr(service, "MAX_BLOCKS_DEPTH", 3)
    tasks = await chain(team, 3)
    head = await make_task(team.member, team.project)
    mongo_commands.clear()

    problem(await relate(team.member, head, "blocks", tasks[0]), 409, "BLOCKS_CHAIN_TOO_LONG")

    assert level_queries(mongo_commands) == 3
    assert await listed(team.member, head) == []
    # Two levels past t1 reach the end (t3 blocks nothing): short enough to be checked.
    assert (await relate(team.member, head, "blocks", tasks[1])).status_code == 201


@pytest.mark.real_servers
async def test_concurrent_requests_never_leave_a_cycle(team: Team) -> None:
    """a blocks b; then "b blocks c" and "c blocks a" at once, which together would close a cycle.
    At most one is kept (both may be refused, each having seen the other)."""
    for _ in range(8):
        a, b, c = [await make_task(team.member, team.project) for _ in range(3)]
        assert (await relate(team.member, a, "blocks", b)).status_code == 201

        answers = await asyncio.gather(
            relate(team.member, b, "blocks", c), relate(team.admin, c, "blocks", a)
        )

        statuses = sorted(r.status_code for r in answers)
        assert statuses in ([201, 409], [409, 409]), [r.text for r in answers]
        kept = len(await listed(team.member, c))
        assert kept == statuses.count(201), "a refused relation stayed stored"
