"""The scheduled purge: deliveries past retention go, younger ones stay."""

from datetime import timedelta

from bson import ObjectId
from fastapi import FastAPI

from backend.core.storage.db import Database
from backend.core.time import utcnow
from backend.resources import resources_of
from backend.testing import Team
from tests.webhooks.conftest import Receiver, deliveries, make_webhook, settled


class TestPurge:
    async def test_deliveries_past_retention_are_purged(
        self, app: FastAPI, team: Team, receiver: Receiver, db: Database
    ) -> None:
        hook = await make_webhook(team, receiver.url)
        for _ in range(2):
            await team.admin.client.post(f"{team.project_url}/webhooks/{hook['id']}/ping")
        young, old = await settled(team, hook, 2)  # newest first
        days = resources_of(app).settings.webhook_delivery_retention_days
        await db["webhook_deliveries"].update_many(
            {"_id": ObjectId(old["id"])},
            {"$set": {"created_at": utcnow() - timedelta(days=days, minutes=1)}},
        )
        background = resources_of(app).background
        assert background is not None

        assert await background.outbox.purge() == 1

        assert [d["id"] for d in await deliveries(team.admin.client, team, hook)] == [young["id"]]
