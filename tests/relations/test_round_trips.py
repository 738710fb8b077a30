"""Database work of relations does not grow with their number."""

from backend.testing import CommandLog, Team
from tests.relations.helpers import Ops, make_task, relate, relations_url


async def list_commands(team: Team, task: dict[str, object], log: CommandLog) -> list[str]:
    await team.member.client.get(relations_url(task))  # the caller's account and session known
    log.clear()
    response = await team.member.client.get(relations_url(task))
    assert response.status_code == 200
    return [name for name, _ in log.commands]


async def test_listing_takes_the_same_round_trips_for_two_relations_or_twenty(
    team: Team, ops: Ops, mongo_commands: CommandLog
) -> None:
    await ops.add(team.member)
    few, many = await make_task(team.member, team.project), await make_task(team.member, team.project)
    for task, count in ((few, 1), (many, 10)):
        for i in range(count):
            here = await make_task(team.member, team.project, f"here {i}")
            there = await make_task(team.member, ops.project, f"there {i}")
            assert (await relate(team.member, task, "relates_to", here)).status_code == 201
            assert (await relate(team.member, there, "blocks", task)).status_code == 201

    with_few = await list_commands(team, few, mongo_commands)
    with_many = await list_commands(team, many, mongo_commands)

    assert len((await team.member.client.get(relations_url(many))).json()["items"]) == 20
    # The project and the task of the path, the page, the tasks at the other ends, their projects.
    assert with_few == with_many
    assert len(with_many) <= 5, with_many


async def test_creating_takes_a_bounded_number_of_round_trips(
    team: Team, ops: Ops, mongo_commands: CommandLog
) -> None:
    await ops.add(team.member)
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, ops.project)
    await team.member.client.get(relations_url(a))
    mongo_commands.clear()

    assert (await relate(team.member, a, "relates_to", b)).status_code == 201

    # Path project and task, other task, its project, insert, activity (one insert for both ends).
    assert len(mongo_commands.commands) <= 6, mongo_commands.commands
