"""0004: the label catalogue (issue 20): every label already on a task joins its project's catalogue.

From this release a label put on a task is added to the catalogue as it is used; the labels tasks
carried before are added here, each with the colour a task would give it (picked by name). Projects are
read in batches by `_id`; per batch one aggregation collects the labels their tasks carry and one read
the names the catalogue has, and the missing ones are inserted at once (a unique index refuses any a
concurrent write added meanwhile). Run again, it finds nothing missing.

`down` changes nothing: the previous release never reads the catalogue, and removing it would lose the
colours and descriptions people gave labels since.
"""

from typing import Any

from bson import ObjectId

from backend.core.storage.db import Database, aggregate, duplicates_skipped
from backend.core.time import utcnow
from backend.labels.documents import default_color, task_label
from backend.migrations.migration import Migration, Outcome, Progress, project_id_batches


class LabelCatalogue(Migration):
    version = 4
    name = "label_catalogue"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        projects, tasks, labels = database["projects"], database["tasks"], database["labels"]
        outcome = Outcome()
        async for ids in project_id_batches(projects, self.BATCH):
            used = await aggregate(
                tasks,
                [
                    {"$match": {"project_id": {"$in": ids}}},  # on any index led by project_id
                    {"$unwind": "$labels"},
                    {"$group": {"_id": {"project_id": "$project_id", "label": "$labels"}}},
                ],
            )
            known = {
                (label["project_id"], label["name_normalized"])
                for label in await labels.find(
                    {"project_id": {"$in": ids}}, {"project_id": 1, "name_normalized": 1}
                ).to_list(None)
            }
            missing: dict[tuple[Any, str], str] = {}
            for group in used:
                project_id, name = group["_id"]["project_id"], group["_id"]["label"]
                if isinstance(name, str) and name.strip() and (project_id, task_label(name)) not in known:
                    missing.setdefault((project_id, task_label(name)), name)
            outcome.changed += len(missing)
            if missing and not dry_run:
                now = utcnow()
                with duplicates_skipped():
                    await labels.insert_many(
                        [
                            {
                                "_id": ObjectId(),
                                "project_id": project_id,
                                "name": name,
                                "name_normalized": normalized,
                                "color": default_color(name),
                                "description": "",
                                "created_at": now,
                                "updated_at": now,
                                "version": 1,
                            }
                            for (project_id, normalized), name in sorted(missing.items())
                        ],
                        ordered=False,
                    )
            progress(len(missing))
        return outcome

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        return Outcome()
