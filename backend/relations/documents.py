from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class RelationType(StrEnum):
    """What a relation says, read from its source: the source blocks, relates to or duplicates the target."""

    BLOCKS = "blocks"
    RELATES_TO = "relates_to"
    DUPLICATES = "duplicates"


class RelationView(StrEnum):
    """A relation as seen from one of its tasks."""

    BLOCKS = "blocks"
    BLOCKED_BY = "blocked_by"
    DUPLICATES = "duplicates"
    DUPLICATED_BY = "duplicated_by"
    RELATES_TO = "relates_to"


_FROM_TARGET = {
    RelationType.BLOCKS: RelationView.BLOCKED_BY,
    RelationType.DUPLICATES: RelationView.DUPLICATED_BY,
    RelationType.RELATES_TO: RelationView.RELATES_TO,
}


def pair_key(type_: RelationType, source: PydanticObjectId, target: PydanticObjectId) -> str:
    """What makes a relation unique. `relates_to` and `duplicates` have one key for A-B and B-A:
    the first is symmetric, and "B duplicates A" beside "A duplicates B" would say nothing new. A
    `blocks` keeps its direction: the reverse is not a duplicate but a cycle, refused as one."""
    if type_ is RelationType.BLOCKS:
        return f"{type_.value}:{source}:{target}"
    low, high = sorted((str(source), str(target)))
    return f"{type_.value}:{low}:{high}"


class TaskRelation(Document):
    """One relation, stored once, whichever end it is read from. Relations are never changed: a
    task's deletion hides them (filtered when read), its restoring shows them again."""

    type: RelationType
    source_task_id: PydanticObjectId
    source_project_id: PydanticObjectId
    target_task_id: PydanticObjectId
    target_project_id: PydanticObjectId
    pair: str  # pair_key(): unique, so the database refuses a second copy whatever the race
    created_by: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "task_relations"
        indexes = [
            IndexModel([("pair", ASCENDING)], name="pair_unique", unique=True),
            # A task's relations, from either end, oldest first (one `$or` with a branch on each).
            IndexModel(
                [("source_task_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="source_oldest",
            ),
            IndexModel(
                [("target_task_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="target_oldest",
            ),
            # One level of the blocks graph: {type: blocks, source_task_id: {$in: frontier}}.
            IndexModel(
                [("type", ASCENDING), ("source_task_id", ASCENDING), ("target_task_id", ASCENDING)],
                name="type_source_target",
            ),
        ]

    def other_end(self, task_id: PydanticObjectId) -> PydanticObjectId:
        return self.target_task_id if self.source_task_id == task_id else self.source_task_id

    def seen_from(self, task_id: PydanticObjectId) -> RelationView:
        if self.source_task_id == task_id:
            return RelationView(self.type.value)
        return _FROM_TARGET[self.type]

    def has_end(self, task_id: PydanticObjectId) -> bool:
        return task_id in (self.source_task_id, self.target_task_id)
