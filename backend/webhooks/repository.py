"""Every query of webhooks, their deliveries and the relay (the activity records it reads)."""

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from backend.activity.documents import ActivityRecord
from backend.core.pagination import CursorCodec
from backend.core.storage.db import by_id, collection, duplicates_skipped
from backend.core.storage.pages import time_ordered_page
from backend.webhooks.documents import DeliveryStatus, RelayCheckpoint, Webhook, WebhookDelivery

RELAY = "activity"


class WebhookRepository:
    async def insert(self, webhook: Webhook) -> None:
        await webhook.insert()

    async def by_id(self, webhook_id: PydanticObjectId) -> Webhook | None:
        return await by_id(Webhook, webhook_id)

    async def page(
        self, project_id: PydanticObjectId, *, codec: CursorCodec, cursor: str | None, limit: int
    ) -> tuple[list[Webhook], str | None]:
        return await time_ordered_page(
            Webhook,
            {"project_id": project_id},
            codec=codec,
            scope=f"webhooks:{project_id}",
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )

    async def update_if_version(
        self, webhook_id: PydanticObjectId, version: int, changes: dict[str, Any]
    ) -> Webhook | None:
        found = await collection(Webhook).find_one_and_update(
            {"_id": webhook_id, "version": version},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return None if found is None else Webhook.model_validate(found)

    async def delete_if_version(self, webhook_id: PydanticObjectId, version: int) -> bool:
        result = await collection(Webhook).delete_one({"_id": webhook_id, "version": version})
        return bool(result.deleted_count == 1)

    async def active(self) -> list[Webhook]:
        """Every active webhook, for one pass of the relay."""
        return await Webhook.find({"active": True}).to_list()

    async def failed_once_more(self, webhook_id: PydanticObjectId) -> Webhook | None:
        found = await collection(Webhook).find_one_and_update(
            {"_id": webhook_id}, {"$inc": {"consecutive_failures": 1}}, return_document=ReturnDocument.AFTER
        )
        return None if found is None else Webhook.model_validate(found)

    async def succeeded(self, webhook_id: PydanticObjectId) -> None:
        await collection(Webhook).update_one(
            {"_id": webhook_id, "consecutive_failures": {"$gt": 0}}, {"$set": {"consecutive_failures": 0}}
        )

    async def disable(self, webhook_id: PydanticObjectId, reason: str, now: datetime) -> bool:
        """True for the one call that disabled it (a webhook is disabled once, whoever saw it fail)."""
        result = await collection(Webhook).update_one(
            {"_id": webhook_id, "active": True},
            {"$set": {"active": False, "disabled_reason": reason, "updated_at": now}, "$inc": {"version": 1}},
        )
        return bool(result.modified_count == 1)


class DeliveryRepository:
    async def insert_missing(self, deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
        """Those inserted; those of an event a webhook has already (relayed twice) are skipped."""
        if not deliveries:
            return []
        for delivery in deliveries:
            delivery.id = delivery.id or PydanticObjectId()
        with duplicates_skipped() as refused:
            await WebhookDelivery.insert_many(deliveries, ordered=False)
        return [d for i, d in enumerate(deliveries) if i not in refused]

    async def insert(self, delivery: WebhookDelivery) -> None:
        await delivery.insert()

    async def by_id(self, delivery_id: PydanticObjectId) -> WebhookDelivery | None:
        return await by_id(WebhookDelivery, delivery_id)

    async def page(
        self, webhook_id: PydanticObjectId, *, codec: CursorCodec, cursor: str | None, limit: int
    ) -> tuple[list[WebhookDelivery], str | None]:
        return await time_ordered_page(
            WebhookDelivery,
            {"webhook_id": webhook_id},
            codec=codec,
            scope=f"deliveries:{webhook_id}",
            cursor=cursor,
            limit=limit,
            newest_first=True,
        )

    async def claim(
        self, delivery_id: PydanticObjectId, attempts: int, now: datetime, lease_until: datetime
    ) -> WebhookDelivery | None:
        """Attempt number `attempts + 1`, for this worker alone: the delivery moved on to it in one
        conditional update (pending, or sending with its lease run out). None: another worker has
        it, or it is done."""
        found = await collection(WebhookDelivery).find_one_and_update(
            {
                "_id": delivery_id,
                "attempts": attempts,
                "$or": [
                    {"status": DeliveryStatus.PENDING.value},
                    {"status": DeliveryStatus.SENDING.value, "due_at": {"$lt": now}},
                ],
            },
            {
                "$set": {"status": DeliveryStatus.SENDING.value, "due_at": lease_until, "updated_at": now},
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if found is None else WebhookDelivery.model_validate(found)

    async def finish_attempt(
        self, delivery_id: PydanticObjectId, attempts: int, changes: dict[str, Any]
    ) -> None:
        """What the attempt got, unless the delivery has moved on since (a lease run out)."""
        await collection(WebhookDelivery).update_one(
            {"_id": delivery_id, "attempts": attempts, "status": DeliveryStatus.SENDING.value},
            {"$set": changes},
        )

    async def lost(self, before: datetime, limit: int) -> list[WebhookDelivery]:
        """Attempts due before `before` still pending, and leases run out: the queue may have lost them."""
        query = {
            "status": {"$in": [DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]},
            "due_at": {"$lt": before},
        }
        return await WebhookDelivery.find(query).sort("+status", "+due_at").limit(limit).to_list()

    async def purge(self, created_before: datetime) -> int:
        result = await collection(WebhookDelivery).delete_many({"created_at": {"$lt": created_before}})
        return int(result.deleted_count)


class RelayRepository:
    async def settled_until(self) -> datetime | None:
        found = await collection(RelayCheckpoint).find_one({"_id": RELAY})
        return None if found is None else RelayCheckpoint.model_validate(found).settled_until

    async def settle(self, until: datetime) -> None:
        """Only forward: two workers settling at once keep the later time."""
        await collection(RelayCheckpoint).update_one(
            {"_id": RELAY}, {"$max": {"settled_until": until}}, upsert=True
        )

    async def activity_since(
        self, since: datetime, project_ids: list[PydanticObjectId], verbs: list[str], limit: int
    ) -> list[ActivityRecord]:
        """Records of these projects and verbs created after `since`, oldest first."""
        query = {"created_at": {"$gt": since}, "project_id": {"$in": project_ids}, "verb": {"$in": verbs}}
        return await ActivityRecord.find(query).sort("+created_at", "+_id").limit(limit).to_list()
