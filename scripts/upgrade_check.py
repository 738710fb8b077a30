#!/usr/bin/env python3
"""Upgrade check: a database written by the previous release reads, lists, searches and updates
correctly after `tasklane migrate up`, as its users would find it.

    MONGODB_URL=... REDIS_URL=... python scripts/upgrade_check.py COMMIT

The previous release (a commit of this repository, `.ci/previous-release`) runs from a git worktree
on a fresh database and is seeded through its own API; then this version migrates the database,
applies its indexes and serves it, and every old resource is checked through the API.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def api(source: Path, env: dict[str, str]) -> Iterator[httpx.Client]:
    """The API of the code in `source`, served by uvicorn on a free port."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "import uvicorn; "
        f"uvicorn.run('backend.main:create_app', factory=True, port={port}, log_level='warning')",
    ]
    server = subprocess.Popen(command, cwd=source, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/health/live").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit(f"the API in {source} did not start") from None
                    time.sleep(0.3)
            yield http
    finally:
        server.terminate()
        server.wait(timeout=30)


def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json() if response.content else {}


def tasklane(*args: str, env: dict[str, str]) -> int:
    return subprocess.call([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=env)


def main() -> None:
    previous = sys.argv[1]
    env = {
        **os.environ,
        "MONGODB_DB": f"upgrade_{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ANONYMOUS": "100000/minute",
        "LOGIN_RATE_LIMIT_PER_IP": "100000/minute",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    with tempfile.TemporaryDirectory() as work:
        old = Path(work) / "previous"
        subprocess.check_call(["git", "worktree", "add", "--quiet", "--detach", str(old), previous], cwd=ROOT)
        try:
            seeded = seed(old, env)
        finally:
            subprocess.call(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT)
    if tasklane("migrate", "status", env=env) != 1:
        raise SystemExit("the previous release's database should have pending migrations")
    for step in (("migrate", "up"), ("indexes", "apply"), ("migrate", "status")):
        if tasklane(*step, env=env) != 0:
            raise SystemExit(f"tasklane {' '.join(step)} failed")
    check(seeded, env)
    print("upgrade check: every resource of the previous release reads, lists, searches and updates")


def seed(old: Path, env: dict[str, str]) -> dict[str, str]:
    with api(old, env) as http:
        emails = {"owner": "owner@upgrade.example", "wide": "\uff37ide@upgrade.example"}
        for email in emails.values():
            ok(
                http.post(
                    "/api/v1/auth/register",
                    json={"email": email, "password": PASSWORD, "display_name": "Old"},
                ),
                201,
            )
        pair = ok(http.post("/api/v1/auth/token", data={"username": emails["owner"], "password": PASSWORD}))
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        project = ok(
            http.post("/api/v1/projects", json={"name": "Legacy", "key": "OLD"}, headers=headers), 201
        )
        tasks_url = f"/api/v1/projects/{project['id']}/tasks"
        task = ok(
            http.post(
                tasks_url, json={"title": "Migrate the billing export", "labels": ["ops"]}, headers=headers
            ),
            201,
        )
        for n in range(30):
            ok(http.post(tasks_url, json={"title": f"Old task {n}"}, headers=headers), 201)
        ok(
            http.post(
                f"{tasks_url}/{task['id']}/comments",
                json={"body": "Written before the upgrade"},
                headers=headers,
            ),
            201,
        )
        return {
            "project": str(project["id"]),
            "task": str(task["id"]),
            "refresh": str(pair["refresh_token"]),
            "owner": emails["owner"],
        }


def check(seeded: dict[str, str], env: dict[str, str]) -> None:
    with api(ROOT, env) as http:
        ok(http.get("/health/ready"))
        # The old refresh token still works (its family became a session), and so do passwords.
        pair = ok(http.post("/api/v1/auth/refresh", json={"refresh_token": seeded["refresh"]}))
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        ok(http.post("/api/v1/auth/token", data={"username": "wide@upgrade.example", "password": PASSWORD}))
        tasks_url = f"/api/v1/projects/{seeded['project']}/tasks"
        listed: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = ok(
                http.get(
                    tasks_url, params={"limit": 10, **({"cursor": cursor} if cursor else {})}, headers=headers
                )
            )
            listed += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(listed) == 31 == len({t["id"] for t in listed}), len(listed)
        # Migration 0003 ranked the old tasks in their board (position) order; a drag works.
        board = ok(http.get(tasks_url, params={"sort": "rank", "limit": 100}, headers=headers))["items"]
        assert [t["number"] for t in board] == list(range(1, 32)), [t["rank"] for t in board]
        moved = ok(
            http.post(
                f"{tasks_url}/{board[-1]['id']}/move", json={"before_id": board[0]["id"]}, headers=headers
            )
        )
        top = ok(http.get(tasks_url, params={"sort": "rank", "limit": 1}, headers=headers))["items"]
        assert [t["id"] for t in top] == [moved["id"]], top
        found = ok(http.get(tasks_url, params={"q": "billing"}, headers=headers))["items"]
        assert [t["id"] for t in found] == [seeded["task"]], found
        response = http.get(f"{tasks_url}/{seeded['task']}", headers=headers)
        task = ok(response)
        assert ok(http.get(f"/api/v1/tasks/{task['key']}", headers=headers))["id"] == seeded["task"]
        changed = ok(
            http.patch(
                f"{tasks_url}/{seeded['task']}",
                json={"status": "done"},
                headers={**headers, "If-Match": response.headers["etag"]},
            )
        )
        assert changed["status"] == "done"
        comments = ok(http.get(f"{tasks_url}/{seeded['task']}/comments", headers=headers))["items"]
        assert [c["body"] for c in comments] == ["Written before the upgrade"]
        # The labels tasks carried joined the catalogue (migration 0004).
        labels = ok(http.get(f"/api/v1/projects/{seeded['project']}/labels", headers=headers))["items"]
        assert [label["task_label"] for label in labels] == ["ops"], labels
        activity = ok(http.get(f"/api/v1/projects/{seeded['project']}/activity", headers=headers))["items"]
        assert {"task.created", "comment.created", "task.updated"} <= {a["verb"] for a in activity}


if __name__ == "__main__":
    main()
