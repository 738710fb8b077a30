"""What each layer in front of a cache hit costs: CPU per hit, in process, without a server.

    .venv/bin/python -m benchmarks.hit_cost [--requests 20000] [--rounds 5]

The peers' "hit ÷ static bytes" ratio is (server + app) ÷ (server + bare route), and the server's
share (uvicorn, httptools, the sockets) is the same in both, so the part Tasklane can change is the
app's. This calls the ASGI apps directly (no sockets, no uvicorn) with the same GET a client sends:
Tasklane whole, Tasklane without one middleware at a time, Tasklane with the access log off, and
`bare_app.py` serving the very bytes of Tasklane's answer (the static yardstick). Every variant is
its own app, set up through its own API (a user, a project, a task, the task read until it is a
hit); the variants then take turns for `--rounds` passes of `--requests` hits each, and each
reports its best pass, so that whatever else the machine does weighs on all of them alike.

Storage is whatever the settings say: in memory by default, or MONGODB_URL and REDIS_URL; a hit
touches neither. Without a middleware the app is not what runs in production (no rate limit, no
access log): those rows say what the layer costs, not a configuration to ship.
"""

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.types import ASGIApp, Message, Scope

from backend.core.config import Settings
from backend.core.logging import configure_logging
from backend.main import create_app

API = "/api/v1"
PASSWORD = "benchmark password"
# Middleware that can be left out with the hit still a hit (the caller's is what makes it one).
OPTIONAL_LAYERS = (
    "CORSMiddleware",
    "RequestContextMiddleware",
    "RateLimitMiddleware",
    "BodySizeLimitMiddleware",
)
WHAT = {
    "CORSMiddleware": "CORS (Starlette's)",
    "RequestContextMiddleware": "request id, access log, metrics, last-resort 500",
    "RateLimitMiddleware": "rate limit and its headers",
    "BodySizeLimitMiddleware": "body size limit",
}


@dataclass
class Variant:
    name: str
    app: ASGIApp
    scope: Scope
    log_level: str = "INFO"
    best: float = float("inf")


def settings(**overrides: str) -> Settings:
    # The benchmark's own requests are never limited, and its entries outlive the run: Beanie binds
    # the documents to the last app's database, so a miss in an earlier app would read another's.
    limits: dict[str, object] = {"rate_limit_authenticated": "100000000/minute", "cache_ttl_seconds": 86400}
    return Settings().model_copy(update={**limits, **overrides})


def request_scope(path: str, authorization: str | None) -> Scope:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"hit_cost"), (b"accept", b"*/*")]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def tasklane(stack: AsyncExitStack, name: str, leave_out: str = "", **overrides: str) -> Variant:
    """An app with a task read until it is a hit, and the scope of that read."""
    app = create_app(settings(**overrides))
    # Starlette builds the middleware stack on the first request, from this list.
    app.user_middleware = [m for m in app.user_middleware if getattr(m.cls, "__name__", "") != leave_out]
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tasklane") as http:
        email = f"hit-{uuid.uuid4().hex[:12]}@example.com"
        answer = await http.post(
            f"{API}/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Hit Cost"}
        )
        answer.raise_for_status()
        answer = await http.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
        answer.raise_for_status()
        authorization = f"Bearer {answer.json()['access_token']}"
        auth = {"Authorization": authorization}
        project = await http.post(
            f"{API}/projects", json={"name": "Hits", "key": f"H{uuid.uuid4().hex[:8]}"}, headers=auth
        )
        project.raise_for_status()
        task = await http.post(
            f"{API}/projects/{project.json()['id']}/tasks",
            json={"title": "A task read from the cache", "labels": ["backend"]},
            headers=auth,
        )
        task.raise_for_status()
        path = f"{API}/projects/{project.json()['id']}/tasks/{task.json()['id']}"
        for _ in range(3):
            answer = await http.get(path, headers=auth)
        if answer.headers.get("X-Cache") != "HIT":
            raise SystemExit(f"{name}: the task's read is not a hit ({answer.status_code}, {answer.headers})")
    return Variant(name, app, request_scope(path, authorization), overrides.get("log_level", "INFO"))


async def static_bytes(stack: AsyncExitStack, body: bytes) -> Variant:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hit-cost-")))
    (folder / "task").write_bytes(body)
    os.environ["BARE_BODY_DIR"] = str(folder)
    from benchmarks import bare_app  # reads BARE_BODY_DIR on import

    await stack.enter_async_context(bare_app.app.router.lifespan_context(bare_app.app))
    return Variant("static bytes (bare_app.py)", bare_app.app, request_scope("/bytes/task", None))


async def answer_of(variant: Variant) -> tuple[int, bytes]:
    status, body = 0, b""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await variant.app(dict(variant.scope), receive, send)
    return status, body


def driver(variant: Variant) -> Callable[[int], Awaitable[None]]:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"{variant.name}: answered {message['status']}")

    async def run(requests: int) -> None:
        app, scope = variant.app, variant.scope
        for _ in range(requests):
            await app(dict(scope), receive, send)

    return run


async def measure(requests: int, rounds: int) -> list[Variant]:
    async with AsyncExitStack() as stack:
        whole = await tasklane(stack, "Tasklane, as deployed")
        status, body = await answer_of(whole)
        assert status == 200, status
        variants = [
            whole,
            *[await tasklane(stack, f"without {layer}", leave_out=layer) for layer in OPTIONAL_LAYERS],
            await tasklane(stack, "access log off (LOG_LEVEL=WARNING)", log_level="WARNING"),
            await static_bytes(stack, body),
        ]
        runs = [(variant, driver(variant)) for variant in variants]
        for variant, run in runs:
            configure_logging(variant.log_level)
            await run(max(requests // 10, 1))  # warm up
        for _ in range(rounds):
            for variant, run in runs:
                # Logging is configured process-wide, by the last app made: each pass sets its own.
                configure_logging(variant.log_level)
                started = time.process_time()
                await run(requests)
                variant.best = min(variant.best, (time.process_time() - started) / requests)
        return variants


def report(variants: list[Variant]) -> str:
    whole, static = variants[0].best, variants[-1].best
    lines = [
        "| app | CPU per hit (µs) | Tasklane minus this (µs) |",
        "|---|---:|---:|",
    ]
    for variant in variants:
        layer_row = variant is not variants[0] and variant is not variants[-1]
        saved = f"{(whole - variant.best) * 1e6:.0f}" if layer_row else ""
        label = variant.name
        for layer, what in WHAT.items():
            label = label.replace(layer, f"{layer} ({what})")
        lines.append(f"| {label} | {variant.best * 1e6:.0f} | {saved} |")
    lines.append("")
    lines.append(
        f"A hit ÷ static bytes through one server costing S µs a request is (S + {static * 1e6:.0f}) ÷ "
        f"(S + {whole * 1e6:.0f}); 0.7 needs the app at {(static / 0.7) * 1e6:.0f} + 0.43·S µs or less."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20000, help="hits a pass")
    parser.add_argument("--rounds", type=int, default=5, help="passes, the variants taking turns")
    args = parser.parse_args()
    # The access log goes to a file, a line written and flushed per request as to a container's
    # stdout; the table alone to the terminal.
    with tempfile.TemporaryFile("w") as log, contextlib.redirect_stdout(log):
        variants = asyncio.run(measure(args.requests, args.rounds))
    print(report(variants))


if __name__ == "__main__":
    main()
