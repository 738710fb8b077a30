"""The Eve peer: Eve 2.3.1 (Flask + pymongo) with one `tasks` resource, as its documentation sets one up.

Runs only in the benchmark's own virtualenv (benchmarks/.venv-eve, made by benchmarks/peers.py from
benchmarks/eve-requirements.txt), served by gunicorn with one gevent worker:

    benchmarks/.venv-eve/bin/gunicorn -k gevent -w 1 -b 127.0.0.1:8001 benchmarks.peer_eve:app

Endpoints (Eve's own): `GET /tasks/{id}`, `GET /tasks?where={"project_id": "…"}&sort=-created_at
&max_results=50`, `POST /tasks`, `PATCH /tasks/{id}`. Settings kept at Eve's defaults except:

- `DATE_CREATED`/`LAST_UPDATED` are `created_at`/`updated_at`, the fields the seeded tasks have;
- `OPTIMIZE_PAGINATION_FOR_SPEED`: lists skip the total count, as Tasklane's and the raw peer's do;
- `ENFORCE_IF_MATCH = False`: a PATCH without `If-Match` is allowed, as in Tasklane (with one it is
  still checked).
"""

import os
from typing import Any

from eve import Eve  # type: ignore[import-not-found]

_ID = {"type": "objectid"}
_TASK_SCHEMA: dict[str, Any] = {
    "project_id": {**_ID, "required": True},
    "number": {"type": "integer"},
    "key": {"type": "string"},
    "title": {"type": "string", "minlength": 1, "maxlength": 200, "required": True},
    "description": {"type": "string"},
    "status": {
        "type": "string",
        "allowed": ["backlog", "todo", "in_progress", "in_review", "done", "canceled"],
    },
    "priority": {"type": "integer", "min": 0, "max": 4},
    "labels": {"type": "list", "schema": {"type": "string"}},
    "assignee_ids": {"type": "list", "schema": _ID},
    "due_at": {"type": "datetime", "nullable": True},
    "parent_id": {**_ID, "nullable": True},
    "position": {"type": "float"},
    "created_by": _ID,
    "completed_at": {"type": "datetime", "nullable": True},
    "deleted_at": {"type": "datetime", "nullable": True},
    "search_terms": {"type": "list", "schema": {"type": "string"}},
    "version": {"type": "integer"},
}

SETTINGS: dict[str, Any] = {
    "MONGO_URI": os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/?directConnection=true"),
    "MONGO_DBNAME": os.environ.get("PEER_DB", "peers"),
    "RESOURCE_METHODS": ["GET", "POST"],
    "ITEM_METHODS": ["GET", "PATCH"],
    "DATE_CREATED": "created_at",
    "LAST_UPDATED": "updated_at",
    "OPTIMIZE_PAGINATION_FOR_SPEED": True,
    "ENFORCE_IF_MATCH": False,
    "PAGINATION_LIMIT": 100,
    "DOMAIN": {"tasks": {"schema": _TASK_SCHEMA}},
}

app = Eve(settings=SETTINGS)
