"""Every query of the label catalogue, and the two of tasks by label that a rename or a deletion
needs (one indexed read of the tasks carrying a label, one bulk write of them)."""

from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from backend.core.storage.db import Update, bulk_update, by_id, collection, duplicates_skipped
from backend.labels.documents import Label
from backend.tasks.documents import Task


@dataclass(frozen=True)
class LabelledTask:
    """What relabelling a task needs of it: its labels, the texts its search terms come from, and
    the version its update is conditional on."""

    id: PydanticObjectId
    version: int
    title: str
    description: str
    labels: list[str]


class LabelRepository:
    async def insert(self, label: Label) -> None:
        """Raises DuplicateKeyError when the project has the name already."""
        await label.insert()

    async def insert_missing(self, labels: list[Label]) -> None:
        """In one round trip: those the project has already are refused by the unique index, and
        skipped. The labels' ids must be set (insert_many does not fill them in)."""
        with duplicates_skipped():
            await Label.insert_many(labels, ordered=False)

    async def by_id(self, label_id: PydanticObjectId) -> Label | None:
        return await by_id(Label, label_id)  # by _id alone: the fastest shape; callers check the rest

    async def by_name(
        self, project_id: PydanticObjectId, *, prefix: str, after: str | None, limit: int
    ) -> list[Label]:
        """Labels whose normalised name starts with `prefix` (and sorts after `after`), in name
        order: one range of the (project_id, name_normalized) index."""
        names: dict[str, str] = {"$gte": prefix}
        upper = _prefix_end(prefix)
        if upper is not None:
            names["$lt"] = upper
        if after is not None:
            names["$gt"] = after
        query = {"project_id": project_id, "name_normalized": names}
        return await Label.find(query).sort("+name_normalized").limit(limit).to_list()

    async def update_if_version(
        self, label_id: PydanticObjectId, version: int, changes: dict[str, Any]
    ) -> Label | None:
        """The label as changed, or None when its version moved (or it is gone). Raises
        DuplicateKeyError when the new name is taken."""
        found = await collection(Label).find_one_and_update(
            {"_id": label_id, "version": version},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return None if found is None else Label.model_validate(found)

    async def by_task_label(self, project_id: PydanticObjectId, name: str) -> Label | None:
        """The label holding a normalised name (a tombstone too), from the unique index."""
        return await Label.find_one({"project_id": project_id, "name_normalized": name})

    async def tombstone_if_version(self, label_id: PydanticObjectId, version: int) -> Label | None:
        """The label marked deleted (hidden, its name still held), or None when its version moved."""
        return await self.update_if_version(label_id, version, {"deleted": True})

    async def remove_tombstone(self, label_id: PydanticObjectId) -> None:
        await collection(Label).delete_one({"_id": label_id, "deleted": True})

    async def rename_settled(self, label_id: PydanticObjectId, old: str) -> None:
        """The tasks carry the new name now. Not a change of the label (its version stays): the
        condition keeps a later rename's own mark."""
        await collection(Label).update_one(
            {"_id": label_id, "relabel_from": old}, {"$unset": {"relabel_from": ""}}
        )

    async def tasks_labelled(self, project_id: PydanticObjectId, label: str) -> list[LabelledTask]:
        """Every task of the project carrying the label, deleted ones too (they may be restored), from
        the (project_id, labels) index."""
        found = (
            await collection(Task)
            .find(
                {"project_id": project_id, "labels": label},
                {"version": 1, "title": 1, "description": 1, "labels": 1},
            )
            .to_list(None)
        )
        return [
            LabelledTask(d["_id"], int(d["version"]), d["title"], d.get("description", ""), d["labels"])
            for d in found
        ]

    async def relabel_tasks(self, updates: list[Update]) -> int:
        """Versioned task updates in one round trip; how many matched."""
        return await bulk_update(collection(Task), updates)


def _prefix_end(prefix: str) -> str | None:
    """The first string after every string starting with `prefix` (None: there is none, or no
    prefix). Strings compare by code point in MongoDB (binary UTF-8 without a collation) as in Python."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:
            last = 0xE000  # surrogates are no characters: they cannot be stored
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None
