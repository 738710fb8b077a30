"""The raw peer: FastAPI + Motor with nothing else, what a user could write instead of Tasklane.

Served by benchmarks/peers.py with uvicorn (one worker, uvloop + httptools, as Tasklane is deployed)
on the same MongoDB-wire server as Tasklane, on the `tasks` collection of `PEER_DB`:

- `GET /tasks/{id}`: one `find_one` by `_id`.
- `GET /tasks?project_id=…&limit=50`: the project's newest tasks, sorted by `created_at` desc (index
  `project_id, created_at, _id`).
- `POST /tasks`: a body validated by a pydantic model, one `insert_one`.
- `PATCH /tasks/{id}`: a partial body validated, `update_one` and `find_one` by `_id` (the new document).

Documents go out as JSON through orjson (ObjectIds as strings, dates as RFC 3339): no response model,
no authentication, no cache, no logging. That is the point: the yardstick of what the driver and the
server stack cost.
"""

import os
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from bson import ObjectId
from bson.errors import InvalidId
from fastapi import FastAPI, HTTPException, Query, Response
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel, Field

MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/?directConnection=true")
PEER_DB = os.environ.get("PEER_DB", "peers")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
_client: Any = None


def tasks() -> Any:
    global _client
    if _client is None:
        _client = AsyncIOMotorClient(MONGODB_URL, tz_aware=True)
    return _client[PEER_DB]["tasks"]


def _default(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(type(value).__name__)


def json_response(document: Any, status_code: int = 200) -> Response:
    body = orjson.dumps(document, default=_default, option=orjson.OPT_UTC_Z)
    return Response(body, status_code=status_code, media_type="application/json")


def object_id(value: str) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise HTTPException(404) from None


class TaskIn(BaseModel):
    project_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    status: str = "backlog"
    priority: int = Field(0, ge=0, le=4)
    labels: list[str] = Field(default_factory=list)
    assignee_ids: list[str] = Field(default_factory=list)


class TaskPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    status: str | None = None
    priority: int | None = Field(None, ge=0, le=4)
    position: float | None = None


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/tasks/{task_id}")
async def get_task(task_id: str) -> Response:
    document = await tasks().find_one({"_id": object_id(task_id)})
    if document is None:
        raise HTTPException(404)
    return json_response(document)


@app.get("/tasks")
async def list_tasks(
    project_id: Annotated[str, Query(pattern=r"^[0-9a-f]{24}$")],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    cursor = (
        tasks()
        .find({"project_id": ObjectId(project_id)})
        .sort([("created_at", -1), ("_id", -1)])
        .limit(limit)
    )
    return json_response({"items": await cursor.to_list(limit)})


@app.post("/tasks", status_code=201)
async def create_task(data: TaskIn) -> Response:
    now = datetime.now(UTC)
    document = data.model_dump()
    document["project_id"] = ObjectId(data.project_id)
    document["assignee_ids"] = [ObjectId(a) for a in data.assignee_ids]
    document.update(created_at=now, updated_at=now, version=1)
    await tasks().insert_one(document)
    return json_response(document, 201)


@app.patch("/tasks/{task_id}")
async def update_task(task_id: str, data: TaskPatch) -> Response:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    changes["updated_at"] = datetime.now(UTC)
    # update_one then find_one, both by `_id`, rather than one find_one_and_update: SecantusDB
    # answers findAndModify with a collection scan (34 ms against 1 ms on 5,000 documents).
    found = object_id(task_id)
    result = await tasks().update_one({"_id": found}, {"$set": changes, "$inc": {"version": 1}})
    if not result.matched_count:
        raise HTTPException(404)
    return json_response(await tasks().find_one({"_id": found}))
