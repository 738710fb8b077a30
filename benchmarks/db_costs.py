"""What the MongoDB-wire test server charges for the operations a create and a read make, one
client, on a fresh server of its own (issue 24's analysis; numbers in benchmarks/README.md).

    .venv/bin/python -m benchmarks.db_costs

Starts `secantusd-py --storage-path :memory:` from this venv, then times with pymongo: inserts of a
task under Tasklane's indexes and fewer, an activity record, the task counter's `findAndModify`,
a lookup by `_id` with and without Beanie's all-fields projection, and the database's own CPU per
insert with and without an open change stream.
"""

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient, ReturnDocument
from pymongo.database import Database

from backend.activity.documents import ActivityRecord
from backend.tasks.documents import Task
from backend.tasks.search import search_terms

WORDS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "login",
    "button",
    "page",
    "crash",
    "error",
    "fix",
    "users",
    "sync",
)
N = 300


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def task(project_id: ObjectId, number: int) -> dict[str, Any]:
    title = " ".join(random.choice(WORDS) for _ in range(6))
    description = " ".join(random.choice(WORDS) for _ in range(30))
    now = datetime.now(UTC)
    return {
        "project_id": project_id, "number": number, "key": f"P-{number}", "title": title,
        "description": description, "status": "todo", "priority": 2, "labels": ["bug"],
        "assignee_ids": [], "due_at": None, "parent_id": None, "position": float(number),
        "created_by": ObjectId(), "created_at": now, "updated_at": now, "completed_at": None,
        "deleted_at": None, "search_terms": search_terms(title, description, ["bug"]), "version": 1,
    }  # fmt: skip


def timed(label: str, action: Any, n: int = N) -> None:
    start = time.perf_counter()
    for i in range(n):
        action(i)
    print(f"  {label:62s} {(time.perf_counter() - start) / n * 1000:6.2f} ms")


def inserts(db: Database[dict[str, Any]]) -> None:
    print(
        f"task inserts (2,000 tasks stored; {len(task(ObjectId(), 1)['search_terms'])} search terms a task):"
    )
    indexes = Task.Settings.indexes
    kinds = {
        f"all of Tasklane's {len(indexes)} task indexes": indexes,
        "without the search-terms index": [
            i for i in indexes if i.document["name"] != "project_search_terms"
        ],
        "only the unique number, search-terms and due-date ones": [
            i for i in indexes if i.document["name"] in ("project_number_unique", "project_search_terms")
            or not i.document["name"].startswith("project_")
        ],
        "no secondary index": [],
    }  # fmt: skip
    for name, chosen in kinds.items():
        collection = db[f"tasks_{len(chosen)}"]
        if chosen:
            collection.create_indexes(chosen)
        project = ObjectId()
        collection.insert_many([task(project, n) for n in range(2000)])
        timed(name, lambda i, c=collection, p=project: c.insert_one(task(p, 3000 + i)))


def others(db: Database[dict[str, Any]]) -> None:
    print("other writes and reads:")
    activity = db.activity
    activity.create_indexes(ActivityRecord.Settings.indexes)
    project = ObjectId()

    def record(_: int) -> dict[str, Any]:
        return {"project_id": project, "task_id": ObjectId(), "actor_id": ObjectId(), "verb": "task.created",
                "changes": {}, "created_at": datetime.now(UTC)}  # fmt: skip

    activity.insert_many([record(0) for _ in range(40_000)])
    timed("activity record insert (40,000 stored)", lambda i: activity.insert_many([record(i)]))
    projects = [db.projects.insert_one({"key": f"K{i}", "task_counter": 2000}).inserted_id for i in range(10)]
    timed(
        "task counter findAndModify (10 projects)",
        lambda _: db.projects.find_one_and_update(
            {"_id": random.choice(projects)},
            {"$inc": {"task_counter": 1}},
            return_document=ReturnDocument.AFTER,
        ),
    )
    tasks = db.lookups
    tasks.insert_many([task(project, n) for n in range(2000)])
    ids = [doc["_id"] for doc in tasks.find({}, {"_id": 1})]
    every_field = {name: 1 for name in ["_id", *Task.model_fields, "revision_id"] if name != "id"}
    timed("find_one by _id (2,000 tasks)", lambda _: tasks.find_one({"_id": random.choice(ids)}), 1000)
    timed(
        "find_one by _id with Beanie's all-fields projection",
        lambda _: tasks.find_one({"_id": random.choice(ids)}, every_field),
        1000,
    )


def change_stream(db: Database[dict[str, Any]], server: int) -> None:
    print("database CPU per insert (80,000 oplog entries):")
    collection = db.stream
    collection.insert_many([{"n": n} for n in range(80_000)])

    def measure(label: str) -> None:
        before = cpu_seconds(server)
        timed(label, lambda i: collection.insert_one({"n": i}))
        print(
            f"  {'  ... the database process, CPU':62s} {(cpu_seconds(server) - before) / N * 1000:6.2f} ms"
        )

    measure("no change stream open")
    stop = threading.Event()

    def follow() -> None:
        with db.watch([{"$match": {"ns.coll": {"$in": ["users"]}}}], max_await_time_ms=1000) as stream:
            while not stop.is_set():
                stream.try_next()

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(1)
    measure("a change stream open (as Tasklane's access facts keep one)")
    stop.set()
    follower.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    port = 27000 + random.randrange(900)
    binary = Path(sys.executable).parent / "secantusd-py"
    command = [str(binary), "--port", str(port), "--storage-path", ":memory:", "--log-level", "WARNING"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://127.0.0.1:{port}/?directConnection=true"
        )
        client.admin.command("ping")
        db = client.db_costs
        inserts(db)
        others(db)
        change_stream(db, server.pid)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
