"""The demo seed shows relations of every type, one of them across projects."""

from fastapi import FastAPI

from backend.ops.seed import seed_demo
from backend.relations.documents import TaskRelation


async def test_the_demo_has_relations_of_each_type_and_one_across_projects(app: FastAPI) -> None:
    await seed_demo(app, tasks_per_project=20)

    relations = await TaskRelation.find_all().to_list()

    assert {r.type.value for r in relations} == {"blocks", "relates_to", "duplicates"}
    assert sum(r.source_project_id != r.target_project_id for r in relations) == 1
