"""Deliveries end to end: a change in the project reaches a local receiver, signed."""

from backend.testing import Team
from tests.webhooks.conftest import Receiver, make_webhook, settled, verify


class TestDelivery:
    async def test_a_created_task_reaches_the_receiver_signed(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        created = await team.member.client.post(team.tasks_url, json={"title": "Ship it"})
        assert created.status_code == 201, created.text

        [got] = await receiver.wait_for(1)
        assert verify(hook["secret"], got.headers, got.body)
        payload = got.json()
        assert payload["type"] == "task.created"
        assert payload["data"]["target"]["id"] == created.json()["id"]
        assert got.headers["webhook-id"] == f"msg_{payload['data']['id']}"
        [delivery] = await settled(team, hook, 1)
        assert delivery["status"] == "succeeded"
        assert delivery["attempts"] == 1
        assert delivery["response_status"] == 200
        assert delivery["response_body"] == "answer 200"
        assert delivery["message_id"] == got.headers["webhook-id"]
