"""Every query of the activity log."""

from typing import Any

from beanie import PydanticObjectId

from backend.activity.documents import ActivityRecord
from backend.core.pagination import CursorCodec, after
from backend.core.storage.db import by_id
from backend.core.storage.pages import time_ordered_page


class ActivityRepository:
    async def insert_many(self, records: list[ActivityRecord]) -> None:
        """In one insert; the records' ids must be set (insert_many does not fill them in)."""
        await ActivityRecord.insert_many(records)

    async def by_id(self, record_id: PydanticObjectId) -> ActivityRecord | None:
        return await by_id(ActivityRecord, record_id)  # by _id alone: the fastest shape

    async def newest_first(
        self, conditions: dict[str, Any], *, codec: CursorCodec, scope: str, cursor: str | None, limit: int
    ) -> tuple[list[ActivityRecord], str | None]:
        return await time_ordered_page(
            ActivityRecord,
            conditions,
            codec=codec,
            scope=scope,
            cursor=cursor,
            limit=limit,
            newest_first=True,
        )

    async def after(self, last: ActivityRecord, limit: int) -> list[ActivityRecord]:
        """Records of `last`'s project written after it, oldest first."""
        assert last.id is not None
        later = after("created_at", last.created_at, last.id)
        return (
            await ActivityRecord.find({"project_id": last.project_id, **later})
            .sort("+created_at", "+_id")
            .limit(limit)
            .to_list()
        )
