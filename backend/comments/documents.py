from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class Comment(Document):
    project_id: PydanticObjectId
    task_id: PydanticObjectId
    author_id: PydanticObjectId
    body: str
    # The members its `@handles` named when written (users/mentions.py), in the order written.
    mentioned_ids: list[PydanticObjectId] = Field(default_factory=list)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    edited_at: UtcDatetime | None = None

    class Settings:
        name = "comments"
        indexes = [
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("task_id", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="project_task_oldest",
            ),
        ]
