"""The yardstick: a bare FastAPI app serving fixed bytes, and one doing a single Motor find_one.

Run by benchmarks/load.py in the same run as Tasklane, on the same machine, so that ratios mean
something whatever the machine.
"""

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

BODY_DIR = os.environ.get("BARE_BODY_DIR", "")
MONGODB_URL = os.environ.get("MONGODB_URL")
MONGODB_DB = os.environ.get("MONGODB_DB", "tasklane_bench")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
_bodies = {path.name: path.read_bytes() for path in Path(BODY_DIR).iterdir()} if BODY_DIR else {}
_collection: Any = None


@app.get("/bytes/{name}")
async def fixed_bytes(name: str) -> Response:
    """The same bytes a Tasklane scenario answers, served with no work at all."""
    return Response(_bodies[name], media_type="application/json")


@app.get("/find-one/{task_id}")
async def find_one(task_id: str) -> Response:
    """One Motor find_one by id on the same server, and the document as JSON."""
    global _collection
    if _collection is None:
        from bson import ObjectId, json_util
        from motor.motor_asyncio import AsyncIOMotorClient

        _collection = AsyncIOMotorClient(MONGODB_URL)[MONGODB_DB]["tasks"]
        app.state.tools = (ObjectId, json_util)
    object_id, json_util = app.state.tools
    document = await _collection.find_one({"_id": object_id(task_id)})
    return Response(json_util.dumps(document), media_type="application/json")
