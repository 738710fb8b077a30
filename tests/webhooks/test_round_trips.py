"""Database work of the webhook routes does not grow with the log: counted round trips."""

import pytest

from backend.testing import CommandLog, Team
from tests.webhooks.conftest import hooks_url

# No worker: its relay and sweep would add their own commands to the count.
pytestmark = pytest.mark.tasklane_settings(worker_in_process=False)


async def test_a_page_of_deliveries_takes_two_round_trips(team: Team, mongo_commands: CommandLog) -> None:
    body = {"url": "https://93.184.215.14/hook", "events": ["task.created"]}
    hook = (await team.admin.client.post(hooks_url(team), json=body)).json()
    for _ in range(5):
        await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/ping")
    url = f"{hooks_url(team)}/{hook['id']}/deliveries?limit=2"
    first = (await team.admin.client.get(url)).json()
    mongo_commands.clear()

    response = await team.admin.client.get(f"{url}&cursor={first['next_cursor']}")

    assert response.status_code == 200
    assert len(response.json()["items"]) == 2
    # The webhook by id, then one range of the (webhook_id, created_at, _id) index.
    assert [name for name, _ in mongo_commands.commands] == ["find", "find"], mongo_commands.commands
