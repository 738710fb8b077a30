from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow
from backend.core.types import Schema


class Target(Schema):
    type: str = Field(
        description="`project`, `member`, `task`, `comment`, `relation`, `label`, `attachment` or `webhook`."
    )
    id: PydanticObjectId
    key: str | None = Field(None, description="A readable name: the project or task key, the label's name.")


class ActivityRecord(Document):
    """One change, written after it happened. Never edited or deleted."""

    project_id: PydanticObjectId
    task_id: PydanticObjectId | None = None  # task, comment, attachment changes: the task's own feed
    actor_id: PydanticObjectId
    verb: str
    target: Target
    changes: dict[str, list[Any]] = Field(default_factory=dict)
    created_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "activity"
        indexes = [
            IndexModel(
                [("project_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="project_newest",
            ),
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("task_id", ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="project_task_newest",
            ),
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("verb", ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="project_verb_newest",
            ),
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("actor_id", ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="project_actor_newest",
            ),
            # The webhook relay reads new records of every project with webhooks, oldest first.
            IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="oldest_everywhere"),
        ]
