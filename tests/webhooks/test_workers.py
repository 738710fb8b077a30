"""Workers: however often an attempt is queued and however many workers take jobs, each attempt is
made once (MongoDB decides, by a conditional update of the delivery's attempt count)."""

import asyncio
from collections import Counter

from fastapi import FastAPI
from saq import Job

from backend.resources import resources_of
from backend.testing import Team
from backend.worker import make_background
from tests.webhooks.conftest import Receiver, deliveries, make_webhook, settled

PINGS = 20
COPIES = 3  # extra jobs per attempt, as a sweep and a relay racing each other would queue


class TestTwoWorkers:
    async def test_an_attempt_queued_many_times_is_made_once(
        self, app: FastAPI, team: Team, receiver: Receiver
    ) -> None:
        resources = resources_of(app)
        assert resources.background is not None
        second = make_background(resources)  # a second worker on the same queue and database
        await second.run_worker(resources)
        try:
            hook = await make_webhook(team, receiver.url)
            queue = resources.background.queue
            for _ in range(PINGS):
                sent = await team.admin.client.post(
                    f"/api/v1/projects/{team.project['id']}/webhooks/{hook['id']}/ping"
                )
                for copy in range(COPIES):
                    job = Job(
                        "deliver",
                        kwargs={"delivery_id": sent.json()["id"], "attempts": 0},
                        key=f"copy:{sent.json()['id']}:{copy}",
                    )
                    await queue.enqueue(job)

            found = await settled(team, hook, PINGS, within=30)
            await asyncio.sleep(0.5)  # any duplicate would have arrived by now
        finally:
            await second.stop()

        ids = Counter(r.headers["webhook-id"] for r in receiver.received)
        assert len(ids) == PINGS
        assert set(ids.values()) == {1}
        assert {(d["status"], d["attempts"]) for d in found} == {("succeeded", 1)}
        assert len(await deliveries(team.admin.client, team, hook)) == PINGS
