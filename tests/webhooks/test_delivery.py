"""Deliveries end to end: a change in the project reaches a local receiver, signed."""

import asyncio

import pytest
from bson import ObjectId

from backend.core.storage.db import Database
from backend.testing import Team, UserFactory, make_team, problem
from tests.webhooks.conftest import Receiver, deliveries, hooks_url, make_webhook, settled, verify


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


class TestRetries:
    async def test_a_500_is_retried_with_the_same_message_id(self, team: Team, receiver: Receiver) -> None:
        receiver.answers = [500, 503]
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "Flaky"})

        first, second, third = await receiver.wait_for(3)
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
        assert first.body == third.body
        assert all(verify(hook["secret"], r.headers, r.body) for r in (first, second, third))
        [delivery] = await settled(team, hook, 1)
        assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == (
            "succeeded",
            3,
            200,
        )
        assert (await team.admin.client.get(f"{hooks_url(team)}/{hook['id']}")).json()[
            "consecutive_failures"
        ] == 0

    async def test_a_timeout_is_retried(self, team: Team, receiver: Receiver) -> None:
        receiver.answers = [("sleep", 3.0)]  # past WEBHOOK_TIMEOUT_SECONDS (1 s here)
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "Slow"})

        [delivery] = await settled(team, hook, 1)
        assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
        assert len(receiver.received) == 2

    @pytest.mark.tasklane_settings(webhook_retry_horizon_seconds=0.5)
    async def test_gives_up_past_the_horizon(self, team: Team, receiver: Receiver) -> None:
        receiver.default = 500
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "Never"})

        [delivery] = await settled(team, hook, 1)
        assert delivery["status"] == "failed"
        assert delivery["response_status"] == 500
        assert delivery["response_body"] == "answer 500"
        assert delivery["next_attempt_at"] is None
        assert delivery["attempts"] >= 2

    @pytest.mark.tasklane_settings(webhook_response_max_bytes=5)
    async def test_the_answer_kept_is_cut_to_the_cap(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "Short"})

        [delivery] = await settled(team, hook, 1)
        assert delivery["response_body"] == "answe"


class TestAutoDisable:
    @pytest.mark.tasklane_settings(webhook_failures_to_disable=3)
    async def test_a_run_of_failures_disables_and_tells_the_admins(
        self, team: Team, receiver: Receiver
    ) -> None:
        receiver.default = 500
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "Down"})

        [delivery] = await settled(team, hook, 1)
        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 3
        assert "disabled" in delivery["error"]
        found = (await team.admin.client.get(f"{hooks_url(team)}/{hook['id']}")).json()
        assert found["active"] is False
        assert found["disabled_reason"] == "3 failed attempts in a row"
        activity = (await team.admin.client.get(f"{team.project_url}/activity")).json()["items"]
        assert activity[0]["verb"] == "webhook.disabled"
        assert activity[0]["target"] == {"type": "webhook", "id": hook["id"], "key": receiver.url}
        # The admins and the owner are told (the admin made the webhook: told all the same); the
        # member, who cannot manage webhooks, is not.
        for person in (team.admin, team.owner):
            [told] = (await person.client.get("/api/v1/users/me/notifications")).json()["items"]
            assert (told["kind"], told["webhook_id"], told["task_id"], told["actor"]) == (
                "webhook_disabled",
                hook["id"],
                None,
                None,
            )
            assert told["activity_id"] == activity[0]["id"]
        mine = (await team.member.client.get("/api/v1/users/me/notifications")).json()["items"]
        assert [n["kind"] for n in mine] == []
        # Disabled: later changes are not delivered; activating it again resets the count.
        await team.member.client.post(team.tasks_url, json={"title": "Missed"})
        await asyncio.sleep(0.5)
        assert len(await deliveries(team.admin.client, team, hook)) == 1
        again = await team.admin.client.patch(f"{hooks_url(team)}/{hook['id']}", json={"active": True})
        assert (
            again.json()["active"],
            again.json()["consecutive_failures"],
            again.json()["disabled_reason"],
        ) == (
            True,
            0,
            None,
        )


class TestRedeliverAndPing:
    async def test_redeliver_sends_the_same_message_again(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)
        await team.member.client.post(team.tasks_url, json={"title": "Again"})
        [first] = await settled(team, hook, 1)

        response = await team.admin.client.post(
            f"{hooks_url(team)}/{hook['id']}/deliveries/{first['id']}/redeliver"
        )

        assert response.status_code == 202, response.text
        assert response.json()["redelivery_of"] == first["id"]
        assert response.json()["message_id"] == first["message_id"]
        one, two = await receiver.wait_for(2)
        assert one.headers["webhook-id"] == two.headers["webhook-id"]
        assert one.body == two.body
        assert verify(hook["secret"], two.headers, two.body)
        newest, oldest = await settled(team, hook, 2)
        assert (newest["id"], newest["status"], oldest["id"]) == (
            response.json()["id"],
            "succeeded",
            first["id"],
        )

    async def test_redeliver_an_unknown_delivery_is_404(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        response = await team.admin.client.post(
            f"{hooks_url(team)}/{hook['id']}/deliveries/{'0' * 24}/redeliver"
        )

        problem(response, 404, "WEBHOOK_DELIVERY_NOT_FOUND")

    async def test_ping_is_delivered_signed(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        response = await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/ping")

        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending"
        [got] = await receiver.wait_for(1)
        assert verify(hook["secret"], got.headers, got.body)
        assert got.json()["type"] == "webhook.ping"
        assert got.json()["data"] == {"webhook_id": hook["id"], "project_id": team.project["id"]}

    async def test_a_rotated_secret_signs_what_follows(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)
        rotated = (await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/rotate-secret")).json()

        await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/ping")

        [got] = await receiver.wait_for(1)
        assert verify(rotated["secret"], got.headers, got.body)
        assert not verify(hook["secret"], got.headers, got.body)


class TestEvents:
    async def test_only_subscribed_events_of_the_project_are_sent(
        self, team: Team, receiver: Receiver, users: UserFactory
    ) -> None:
        await make_webhook(team, receiver.url, ["task.deleted", "member.added", "comment.created"])
        task = (await team.member.client.post(team.tasks_url, json={"title": "Quiet"})).json()
        other = await make_team(users, key="OTH")
        await other.member.client.post(other.tasks_url, json={"title": "Elsewhere"})

        await team.member.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "hi"})
        await team.member.client.delete(f"{team.tasks_url}/{task['id']}")
        newcomer = await users.create()
        await team.owner.client.post(
            f"{team.project_url}/members", json={"user_id": newcomer.id, "role": "viewer"}
        )

        got = await receiver.wait_for(3)
        await asyncio.sleep(0.5)  # nothing else comes
        # Attempts run side by side, so they may arrive in any order; `timestamp` orders them.
        in_order = sorted(receiver.received, key=lambda r: r.json()["timestamp"])
        assert [r.json()["type"] for r in in_order] == ["comment.created", "task.deleted", "member.added"]
        assert len({r.headers["webhook-id"] for r in got}) == 3

    async def test_an_event_before_the_webhook_existed_is_not_sent(
        self, team: Team, receiver: Receiver
    ) -> None:
        await team.member.client.post(team.tasks_url, json={"title": "Before"})
        hook = await make_webhook(team, receiver.url)

        await team.member.client.post(team.tasks_url, json={"title": "After"})

        [got] = await receiver.wait_for(1)
        await asyncio.sleep(0.5)
        assert len(receiver.received) == 1
        assert got.json()["data"]["target"]["key"] is not None
        assert len(await deliveries(team.admin.client, team, hook)) == 1


class TestSendTimeChecks:
    @pytest.mark.tasklane_settings(webhook_allow_private_targets=False)
    async def test_a_target_that_became_private_is_not_sent_to(
        self, team: Team, receiver: Receiver, db: Database
    ) -> None:
        """As after DNS rebinding: the stored target now resolves to loopback."""
        body = {"url": "https://93.184.215.14/hook", "events": ["task.created"]}
        hook = (await team.admin.client.post(hooks_url(team), json=body)).json()
        await db["webhooks"].update_one({"_id": ObjectId(hook["id"])}, {"$set": {"url": receiver.url}})

        await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/ping")

        async with asyncio.timeout(10):
            while not (found := await deliveries(team.admin.client, team, hook))[0]["error"]:
                await asyncio.sleep(0.05)
        assert "target refused" in found[0]["error"]
        assert found[0]["response_status"] is None
        assert receiver.received == []


class TestRelay:
    async def test_more_changes_than_a_batch_are_all_relayed(
        self, team: Team, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("backend.webhooks.outbox.RELAY_BATCH", 2)
        hook = await make_webhook(team, receiver.url)

        for index in range(7):
            await team.member.client.post(team.tasks_url, json={"title": f"Burst {index}"})

        got = await receiver.wait_for(7)
        assert len({r.headers["webhook-id"] for r in got}) == 7
        assert len(await settled(team, hook, 7)) == 7
