#!/usr/bin/env python3
"""Attachment throughput and the worker's memory: upload and download a large file (100 MB by
default) through one Tasklane uvicorn worker, sampling the worker's RSS all along.

    .venv/bin/python -m benchmarks.attachments [--mb 100] [--concurrency 1] [--rounds 5]

Without MONGODB_URL/REDIS_URL it runs in memory (the file then lives in the worker's memory, so
its RSS says nothing about streaming: use real servers for the memory goal). The goal: the worker's
RSS grows by less than 2 x the GridFS chunk size x the concurrency while a file streams through it,
not by the file's size. `--concurrency N` sends N files of `--mb` / N MB at once.
"""

import argparse
import asyncio
import hashlib
import os
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import pymongo

from benchmarks.load import rss_kib, seed, server

MIB = 1024 * 1024
T = TypeVar("T")
BOUNDARY = "tasklane-benchmark-boundary"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RssSampler:
    """The peak RSS of a process, sampled every few milliseconds in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Upload:
    head: bytes
    size: int
    tail: bytes

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)


def upload_body(size: int, name: str) -> Upload:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return Upload(head, size, f"\r\n--{BOUNDARY}--\r\n".encode())


async def file_bytes(size: int) -> AsyncIterator[bytes]:
    """A PNG signature, then a repeating pattern: `size` bytes in 1 MiB pieces."""
    block = bytes(range(256)) * (MIB // 256)
    sent = 0
    first = PNG_SIGNATURE + block[len(PNG_SIGNATURE) :]
    while sent < size:
        piece = (first if sent == 0 else block)[: size - sent]
        sent += len(piece)
        yield piece


async def send(http: httpx.AsyncClient, url: str, auth: dict[str, str], size: int, name: str) -> str:
    body = upload_body(size, name)

    async def content() -> AsyncIterator[bytes]:
        yield body.head
        async for piece in file_bytes(size):
            yield piece
        yield body.tail

    headers = {
        **auth,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(body.length),
    }
    answer = await http.post(url, content=content(), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.headers["location"])


async def fetch(http: httpx.AsyncClient, location: str, auth: dict[str, str]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    async with http.stream("GET", f"{location}/content", headers=auth) as answer:
        assert answer.status_code == 200
        async for piece in answer.aiter_raw():
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


@dataclass
class Round:
    up_mib_s: float
    up_growth_kib: int
    down_mib_s: float
    down_growth_kib: int


async def measured(pid: int, work: Awaitable[T]) -> tuple[T, float, int]:
    """What `work` gives, its seconds, and how far the worker's RSS rose above where it started."""
    base = rss_kib(pid)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        result = await work
        seconds = time.perf_counter() - started
    return result, seconds, sampler.peak_kib - base


async def one_round(
    http: httpx.AsyncClient, attachments: str, auth: dict[str, str], pid: int, each: int, concurrency: int
) -> Round:
    uploads = asyncio.gather(
        *(send(http, attachments, auth, each, f"big-{i}.png") for i in range(concurrency))
    )
    locations, up_seconds, up_growth = await measured(pid, uploads)
    downloads = asyncio.gather(*(fetch(http, loc, auth) for loc in locations))
    fetched, down_seconds, down_growth = await measured(pid, downloads)
    assert all(size == each for size, _ in fetched), fetched
    for location in locations:  # the next round starts with the project's quota free again
        assert (await http.delete(location, headers=auth)).status_code == 204
    total = each * concurrency / MIB
    return Round(total / up_seconds, up_growth, total / down_seconds, down_growth)


async def run(url: str, pid: int, mb: int, concurrency: int, chunk_bytes: int, rounds: int) -> None:
    data = seed(url, 1)
    auth = data["auth"]
    attachments = f"{data['tasks_url']}/{data['task_id']}/attachments"
    each = mb * MIB // concurrency
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        # Warm up as a worker that has served uploads before: the code paths, and the buffers a
        # stream of chunks needs (driver, sockets, allocator), with files of a few chunks each.
        warm = await asyncio.gather(
            *(send(http, attachments, auth, 2 * MIB, f"warm-{i}.png") for i in range(concurrency))
        )
        await asyncio.gather(*(fetch(http, location, auth) for location in warm))
        # RSS moves by a megabyte or so between identical runs (the allocator, the collector's
        # timing): several rounds in one worker, and the median is the figure.
        done = [await one_round(http, attachments, auth, pid, each, concurrency) for _ in range(rounds)]
    goal_kib = 2 * chunk_bytes * concurrency / 1024
    chunk_kib = chunk_bytes // 1024
    print(f"files: {concurrency} x {each / MIB:.1f} MiB, GridFS chunk {chunk_kib} KiB, {rounds} rounds")
    for number, r in enumerate(done, 1):
        print(
            f"round {number}: upload {r.up_mib_s:6.1f} MiB/s, RSS +{r.up_growth_kib / 1024:.2f} MiB; "
            f"download {r.down_mib_s:6.1f} MiB/s, RSS +{r.down_growth_kib / 1024:.2f} MiB"
        )
    up = statistics.median(r.up_growth_kib for r in done)
    down = statistics.median(r.down_growth_kib for r in done)
    print(
        f"median: upload {statistics.median(r.up_mib_s for r in done):.1f} MiB/s, RSS +{up / 1024:.2f} MiB; "
        f"download {statistics.median(r.down_mib_s for r in done):.1f} MiB/s, RSS +{down / 1024:.2f} MiB"
    )
    print(
        f"goal: growth < 2 x chunk x concurrency = {goal_kib / 1024:.2f} MiB; "
        f"upload {'met' if up < goal_kib else 'NOT met'}, download {'met' if down < goal_kib else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=100, help="MiB sent in all")
    parser.add_argument("--concurrency", type=int, default=1, help="files sent at once (each --mb / N)")
    parser.add_argument("--chunk-kib", type=int, default=255, help="GridFS chunk size")
    parser.add_argument("--rounds", type=int, default=5, help="uploads and downloads (the median is kept)")
    args = parser.parse_args()
    chunk_bytes = args.chunk_kib * 1024
    env = {
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_AUTHENTICATED": "100000000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000000/minute",
        "MONGODB_DB": f"tasklane_bench_{uuid.uuid4().hex[:8]}",
        "ENVIRONMENT": "development",
        "ATTACHMENT_MAX_BYTES": str(args.mb * MIB + MIB),
        # Room for the rounds and the warm-up files (2 MiB a stream), which stay stored.
        "ATTACHMENT_PROJECT_QUOTA_BYTES": str((4 * args.mb + 4 * args.concurrency) * MIB),
        "ATTACHMENT_CHUNK_BYTES": str(chunk_bytes),
    }
    print("mode:", "real servers" if os.environ.get("MONGODB_URL") else "in-memory")
    try:
        with server("backend.main:create_app", env, factory=True) as worker:
            asyncio.run(run(worker.url, worker.pid, args.mb, args.concurrency, chunk_bytes, args.rounds))
    finally:
        if os.environ.get("MONGODB_URL"):  # a 100 MB file a round stays on the server otherwise
            pymongo.MongoClient(os.environ["MONGODB_URL"]).drop_database(env["MONGODB_DB"])


if __name__ == "__main__":
    main()
