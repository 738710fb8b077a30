"""Webhooks under faults: a worker process (`tasklane worker`) delivers to a receiver on loopback
while Redis, which carries the job queue, is killed and restarted empty. The outbox is in MongoDB,
so every change acknowledged meanwhile is still delivered."""

import http.server
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from faults.conftest import Service, Stack, free_port, wait_until
from faults.test_faults import person


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []  # noqa: RUF012 - one receiver per test run

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append({"id": self.headers["webhook-id"], "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def receiver() -> Iterator[tuple[str, list[dict[str, object]]]]:
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", _Receiver.received
    finally:
        server.shutdown()


@contextmanager
def worker(stack: Stack, log: Path) -> Iterator[Service]:
    process = Service(
        [sys.executable, "-m", "backend.cli", "worker"], free_port(), log, env=stack.apis[0].env
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def created_tasks(received: list[dict[str, object]]) -> set[str]:
    return {
        str(r["body"]["data"]["target"]["id"])  # type: ignore[index]
        for r in received
        if r["body"]["type"] == "task.created"  # type: ignore[index]
    }


def test_no_event_is_lost_when_redis_is_killed_between_the_change_and_the_relay(
    stack: Stack, tmp_path: Path
) -> None:
    base = stack.url(0)
    owner = person(base)
    key = "W" + uuid.uuid4().hex[:5].upper()
    project = httpx.post(
        f"{base}/api/v1/projects", json={"name": "Hooks", "key": key}, headers=owner.headers, timeout=10
    ).json()
    tasks_url = f"{base}/api/v1/projects/{project['id']}/tasks"
    with receiver() as (url, received), worker(stack, tmp_path / "worker.log"):
        hook = httpx.post(
            f"{base}/api/v1/projects/{project['id']}/webhooks",
            json={"url": url, "events": ["task.created"]},
            headers=owner.headers,
            timeout=10,
        )
        assert hook.status_code == 201, hook.text
        first = httpx.post(tasks_url, json={"title": "Before"}, headers=owner.headers, timeout=10).json()
        wait_until(lambda: first["id"] in created_tasks(received), 20, "the first delivery")

        stack.redis.kill()
        acknowledged = {first["id"]}
        for index in range(10):
            created = httpx.post(
                tasks_url, json={"title": f"While down {index}"}, headers=owner.headers, timeout=10
            )
            assert created.status_code == 201, created.text
            acknowledged.add(created.json()["id"])
        # Relayed into MongoDB meanwhile; the queue refuses every job.
        time.sleep(1.5)
        assert created_tasks(received) == {first["id"]}
        stack.redis.start()
        stack.redis_up()

        wait_until(lambda: created_tasks(received) == acknowledged, 30, "every change delivered")
        ids = [r["id"] for r in received]
        assert len(set(ids)) == len(acknowledged)
