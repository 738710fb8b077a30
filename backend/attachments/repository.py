"""Every query of attachments and of the projects' attachment usage."""

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from backend.attachments.documents import Attachment, AttachmentUsage
from backend.core.pagination import CursorCodec
from backend.core.storage.db import by_id, collection
from backend.core.storage.pages import time_ordered_page


class AttachmentRepository:
    async def insert(self, attachment: Attachment) -> None:
        await attachment.insert()

    async def by_id(self, attachment_id: PydanticObjectId) -> Attachment | None:
        return await by_id(
            Attachment, attachment_id
        )  # by _id alone: the fastest shape; callers check the rest

    async def delete(self, attachment: Attachment) -> bool:
        result = await collection(Attachment).delete_one({"_id": attachment.id})
        return bool(result.deleted_count == 1)

    async def of_task(self, project_id: PydanticObjectId, task_id: PydanticObjectId) -> list[Attachment]:
        """Every attachment of a task (for a purge), from the (project, task, created) index."""
        return await Attachment.find({"project_id": project_id, "task_id": task_id}).to_list()

    async def delete_of_task(self, project_id: PydanticObjectId, task_id: PydanticObjectId) -> None:
        await collection(Attachment).delete_many({"project_id": project_id, "task_id": task_id})

    async def oldest_first(
        self,
        project_id: PydanticObjectId,
        task_id: PydanticObjectId,
        *,
        codec: CursorCodec,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Attachment], str | None]:
        return await time_ordered_page(
            Attachment,
            {"project_id": project_id, "task_id": task_id},
            codec=codec,
            scope=f"attachments:{task_id}",
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )

    async def reserve(self, project_id: PydanticObjectId, amount: int, quota: int) -> bool:
        """Add `amount` to the project's usage if it stays within `quota`, in one atomic write: the
        condition and the `$inc` are one findAndModify. The first reservation of a project inserts
        its counter (the upsert); when the counter exists but the condition fails, the upsert's
        insert collides with it on `_id`, which is the refusal."""
        if amount > quota:
            return False
        try:
            await collection(AttachmentUsage).find_one_and_update(
                {"_id": project_id, "bytes": {"$lte": quota - amount}},
                {"$inc": {"bytes": amount}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def release(self, project_id: PydanticObjectId, amount: int) -> None:
        if amount:
            await collection(AttachmentUsage).update_one({"_id": project_id}, {"$inc": {"bytes": -amount}})

    async def usage(self, project_id: PydanticObjectId) -> int:
        found = await collection(AttachmentUsage).find_one({"_id": project_id})
        return int(found["bytes"]) if found else 0
