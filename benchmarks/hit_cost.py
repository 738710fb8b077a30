"""What each layer in front of a cache hit costs: CPU per hit, in process, without a server.

    .venv/bin/python -m benchmarks.hit_cost [--requests 20000] [--rounds 5]

The peers' "hit ÷ static bytes" compares two whole servers. This takes the server away (no
sockets, no uvicorn) and calls the ASGI apps directly with the GET a client sends: Tasklane, Tasklane
without one middleware at a time, Tasklane with the access log off, and `bare_app.py` serving the
very bytes of Tasklane's answer (the static yardstick). Each variant is its own app, set up through
its own API (a user, a project, a task read until it is a hit); the variants then take turns for
`--rounds` passes of `--requests` hits each, and each reports its best pass, so that whatever else
the machine does weighs on all of them alike. After every pass the fast path's own count of hits
must have grown by exactly the requests sent: a miss anywhere fails the run.

Storage is in memory whatever the environment says: with MongoDB and Redis, the access facts and
the rate-limit windows go back to them about once a second, and a pass would measure those round
trips too. So the rate limit priced here is the in-process one; the access log is written and
flushed, a line per request, to a file. A variant without a middleware is not a configuration to
ship: its row says what that layer costs.
"""

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Scope

from backend.core.caching.fastpath import CachedReads
from backend.core.config import Settings
from backend.core.logging import configure_logging
from backend.main import create_app
from benchmarks.webhooks import login

API = "/api/v1"
# The layers a hit still is a hit without (the caller's and the fast path's are the hit itself).
LAYERS = {
    "CORSMiddleware": "CORS, Starlette's",
    "RequestContextMiddleware": "request id, access log, metrics, last-resort 500",
    "RateLimitMiddleware": "the rate limit and its headers",
    "BodySizeLimitMiddleware": "the body size limit",
}


@dataclass
class Variant:
    name: str
    app: ASGIApp
    scope: Scope
    log_level: str
    fast_path: CachedReads | None = None  # Tasklane's, to count its hits
    best: float = float("inf")


def benchmark_settings(**overrides: object) -> Settings:
    # In memory (above). Never rate limited; entries and tokens outlive any run: Beanie binds the
    # documents to the last app's database, so a miss in an earlier app would read another's.
    fixed: dict[str, object] = {
        "mongodb_url": None, "mongodb_url_file": None, "redis_url": None, "redis_url_file": None,
        "rate_limit_authenticated": "100000000/minute", "cache_ttl_seconds": 86400,
        "access_token_ttl_seconds": 86400,
    }  # fmt: skip
    return Settings().model_copy(update={**fixed, **overrides})


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


def fast_path_of(app: FastAPI) -> CachedReads:
    """The app's fast path, found down its middleware stack (built by its first request)."""
    layer: object = app.middleware_stack
    while layer is not None and not isinstance(layer, CachedReads):
        layer = getattr(layer, "app", None)
    if layer is None:
        raise SystemExit("no CachedReads in the app's middleware stack")
    return layer


async def tasklane_variant(
    stack: AsyncExitStack, name: str, leave_out: str = "", **overrides: object
) -> Variant:
    """An app with a task read until it is a hit, and the scope of that read."""
    settings = benchmark_settings(**overrides)
    app = create_app(settings)
    if leave_out:
        # FastAPI builds the middleware stack on the first request, from this list.
        kept = [m for m in app.user_middleware if getattr(m.cls, "__name__", "") != leave_out]
        if len(kept) != len(app.user_middleware) - 1:
            raise SystemExit(f"{leave_out} is not one of the app's middleware")
        app.user_middleware = kept
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tasklane") as http:
        auth = await login(http)
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
    return Variant(
        name, app, request_scope(path, auth["Authorization"]), settings.log_level, fast_path_of(app)
    )


async def static_bytes(stack: AsyncExitStack, body: bytes) -> Variant:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hit-cost-")))
    (folder / "task").write_bytes(body)
    os.environ["BARE_BODY_DIR"] = str(folder)
    from benchmarks import bare_app  # reads BARE_BODY_DIR on import

    await stack.enter_async_context(bare_app.app.router.lifespan_context(bare_app.app))
    return Variant("static bytes (bare_app.py)", bare_app.app, request_scope("/bytes/task", None), "INFO")


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def refuse_all_but_200(variant: Variant, message: Message) -> None:
    if message["type"] == "http.response.start" and message["status"] != 200:
        raise SystemExit(f"{variant.name}: answered {message['status']}")


async def body_of(variant: Variant) -> bytes:
    body = b""

    async def send(message: Message) -> None:
        nonlocal body
        refuse_all_but_200(variant, message)
        if message["type"] == "http.response.body":
            body += message.get("body", b"")

    await variant.app(dict(variant.scope), receive, send)
    return body


def driver(variant: Variant) -> Callable[[int], Awaitable[None]]:
    async def send(message: Message) -> None:
        refuse_all_but_200(variant, message)

    async def run(requests: int) -> None:
        app, scope = variant.app, variant.scope
        hits = variant.fast_path.served if variant.fast_path else 0
        for _ in range(requests):
            await app(dict(scope), receive, send)
        if variant.fast_path and variant.fast_path.served - hits != requests:
            raise SystemExit(
                f"{variant.name}: {requests - (variant.fast_path.served - hits)} requests missed"
            )

    return run


async def measure(requests: int, rounds: int) -> list[Variant]:
    async with AsyncExitStack() as stack:
        whole = await tasklane_variant(stack, "Tasklane")
        variants = [
            whole,
            *[
                await tasklane_variant(stack, f"without {layer} ({does})", leave_out=layer)
                for layer, does in LAYERS.items()
            ],
            await tasklane_variant(stack, "access log off (LOG_LEVEL=WARNING)", log_level="WARNING"),
            await static_bytes(stack, await body_of(whole)),
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
                sys.stdout.seek(0)  # the log file, emptied between passes: 400 bytes a hit add up
                sys.stdout.truncate()
        return variants


def report(variants: list[Variant]) -> str:
    whole, static = variants[0].best, variants[-1].best
    lines = ["| app | CPU per hit (µs) | Tasklane minus this (µs) |", "|---|---:|---:|"]
    for variant in variants:
        layer_row = variant is not variants[0] and variant is not variants[-1]
        saved = f"{(whole - variant.best) * 1e6:.0f}" if layer_row else ""
        lines.append(f"| {variant.name} | {variant.best * 1e6:.0f} | {saved} |")
    lines.append("")
    static_us, whole_us, needed_us = static * 1e6, whole * 1e6, static / 0.7 * 1e6
    lines.append(
        f"Through a server adding S µs to each, the hit ÷ static bytes ratio would be (S + {static_us:.0f}) "
        f"÷ (S + {whole_us:.0f}); 0.7 needs Tasklane's app at {needed_us:.0f} + 0.43·S µs or less."
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
