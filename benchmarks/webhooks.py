"""Webhook delivery: deliveries per second to a local receiver with 1 and 2 worker processes, and
the time from a change's acknowledgement to its delivery (p50/p99).

    .venv/bin/python -m benchmarks.webhooks [--deliveries 400] [--changes 100]

Starts redis-server and SecantusDB (`benchmarks/peers.py`'s `backends`, or MONGODB_URL/REDIS_URL),
runs the API in this process (ASGI, no HTTP) and a receiver on loopback (uvicorn, answering 204),
and starts `tasklane worker` processes. Throughput: pings are queued with no worker running, then
the workers start; rate = deliveries / (last arrival - first arrival). Latency: one worker, changes
made one by one at ~20/s; each delivery's arrival minus the task's creation time in its payload.
Short runs only: the machine is shared.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request, Response

from backend.main import create_app
from backend.testing import BASE_URL, make_test_settings, serve
from benchmarks.peers import backends

ARRIVALS: list[tuple[float, dict[str, Any]]] = []


def receiver() -> FastAPI:
    app = FastAPI()

    @app.post("/hooks")
    async def receive(request: Request) -> Response:
        ARRIVALS.append((time.time(), json.loads(await request.body())))
        return Response(status_code=204)

    return app


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    started = []
    for index in range(count):
        with (logs / f"worker{index}.log").open("ab") as out:
            command = [sys.executable, "-m", "backend.cli", "worker"]
            started.append(subprocess.Popen(command, env=env, stdout=out, stderr=out))
    return started


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        process.terminate()
    for process in workers:
        process.wait(timeout=30)


async def wait_for(count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while len(ARRIVALS) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def run(deliveries: int, changes: int, logs: Path) -> None:
    with backends(logs) as servers:
        settings_env = {
            "MONGODB_URL": servers.mongodb_url,
            "REDIS_URL": servers.redis_url,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_RELAY_INTERVAL_SECONDS": "0.05",
            "LOG_LEVEL": "WARNING",
        }
        settings = make_test_settings(
            mongodb_url=servers.mongodb_url,
            redis_url=servers.redis_url,
            mongodb_db="bench_webhooks",
            webhook_allow_private_targets=True,
        )
        env = {**os.environ, **settings_env, "MONGODB_DB": settings.mongodb_db, "ENVIRONMENT": "test"}
        app = create_app(settings)
        async with (
            LifespanManager(app, startup_timeout=60),
            serve(receiver(), lifespan=False) as target,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as api,
        ):
            auth = await login(api)
            project = (
                await api.post("/api/v1/projects", json={"name": "Bench", "key": "BEN"}, headers=auth)
            ).json()
            hooks = f"/api/v1/projects/{project['id']}/webhooks"
            hook = (
                await api.post(
                    hooks, json={"url": f"{target}/hooks", "events": ["task.created"]}, headers=auth
                )
            ).json()
            for workers in (1, 2):
                ARRIVALS.clear()
                for _ in range(deliveries):
                    await api.post(f"{hooks}/{hook['id']}/ping", headers=auth)
                processes = start_workers(workers, env, logs)
                try:
                    await wait_for(deliveries, 120)
                finally:
                    stop(processes)
                times = sorted(at for at, _ in ARRIVALS)
                rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
                print(f"{workers} worker(s): {len(times)}/{deliveries} delivered, {rate:.0f} deliveries/s")  # noqa: T201
            ARRIVALS.clear()
            processes = start_workers(1, env, logs)
            try:
                await asyncio.sleep(3)  # the worker is up and relaying
                for index in range(changes):
                    await api.post(
                        f"/api/v1/projects/{project['id']}/tasks", json={"title": f"t{index}"}, headers=auth
                    )
                    await asyncio.sleep(0.05)
                await wait_for(changes, 60)
            finally:
                stop(processes)
            delays = sorted(
                (at - datetime.fromisoformat(body["timestamp"]).timestamp()) * 1000
                for at, body in ARRIVALS
                if body["type"] == "task.created"
            )
            if delays:
                p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
                print(  # noqa: T201
                    f"change to delivery, 1 worker, {len(delays)} changes: "
                    f"p50 {statistics.median(delays):.0f} ms, p99 {p99:.0f} ms"
                )


async def login(api: httpx.AsyncClient) -> dict[str, str]:
    email = f"bench{time.time_ns()}@example.com"
    password = "correct horse battery"
    registered = await api.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "display_name": "B"}
    )
    registered.raise_for_status()
    token = await api.post("/api/v1/auth/token", data={"username": email, "password": password})
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tasklane-webhooks-bench-") as logs:
        asyncio.run(run(args.deliveries, args.changes, Path(logs)))


if __name__ == "__main__":
    main()
