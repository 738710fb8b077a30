from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class Comment(Document):
    project_id: PydanticObjectId
    task_id: PydanticObjectId
    author_id: PydanticObjectId
    body: str
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
