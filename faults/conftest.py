"""The fault tier: real redis-server and SecantusDB processes, two Tasklane API processes sharing
them, and faults injected with signals (SIGSTOP/SIGCONT, SIGKILL and a restart).

Run by .ci/run as its own tier (`pytest faults`); needs `redis-server` on PATH and SecantusDB
installed (`secantusd-py`). Every process is on loopback and ends with its test.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@dataclass
class Service:
    """One server process that a test may freeze, kill and start again (same port, same data)."""

    command: list[str]
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    process: "subprocess.Popen[bytes] | None" = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=out, env=self.env)

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Stack:
    redis: Service
    mongo: Service
    apis: list[Service]

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.apis[index].port}"

    def mongo_up(self) -> None:
        import pymongo

        url = f"mongodb://127.0.0.1:{self.mongo.port}/?directConnection=true"
        wait_until(
            lambda: bool(pymongo.MongoClient(url, serverSelectionTimeoutMS=500).admin.command("ping")),
            60,
            "SecantusDB answering",
        )

    def redis_up(self) -> None:
        import redis

        wait_until(lambda: bool(redis.Redis(port=self.redis.port).ping()), 30, "Redis answering")

    def apis_up(self) -> None:
        for index in range(len(self.apis)):
            wait_until(partial(_answers, f"{self.url(index)}/health/live"), 60, f"API {index} answering")


def _answers(url: str) -> bool:
    return httpx.get(url, timeout=1).status_code == 200


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if shutil.which("redis-server") is None or not (BIN / "secantusd-py").exists():
        raise AssertionError("the fault tier needs redis-server and SecantusDB (see .ci/run)")
    redis_port, mongo_port = free_port(), free_port()
    redis = Service(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        redis_port,
        tmp_path / "redis.log",
    )
    mongo = Service(
        [
            str(BIN / "secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(mongo_port),
            "--storage-path",
            str(tmp_path / "mongo"),
            "--sync-on-commit",
            "--log-level",
            "WARNING",
        ],
        mongo_port,
        tmp_path / "mongo.log",
    )
    api_env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true",
        "MONGODB_DB": "faults",
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "2000",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "LOGIN_RATE_LIMIT_PER_IP": "10000/minute",
        "LOGIN_RATE_LIMIT_PER_EMAIL": "10000/minute",
        "RATE_LIMIT_AUTHENTICATED": "100000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000/minute",
        "LOG_LEVEL": "WARNING",
        # Webhooks to a receiver on loopback, retried and swept quickly (faults/test_webhooks.py).
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.1",
        "WEBHOOK_RETRY_MAX_SECONDS": "0.5",
        "WEBHOOK_SWEEP_INTERVAL_SECONDS": "0.5",
        "WEBHOOK_RELAY_INTERVAL_SECONDS": "0.1",
    }
    apis = []
    for index in range(2):
        port = free_port()
        command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
        apis.append(Service(command, port, tmp_path / f"api{index}.log", env=api_env))
    built = Stack(redis, mongo, apis)
    try:
        redis.start()
        mongo.start()
        built.redis_up()
        built.mongo_up()
        for api in apis:
            api.start()
        built.apis_up()
        yield built
    finally:
        for service in (*apis, redis, mongo):
            service.stop()
        for log in sorted(tmp_path.glob("*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                print(f"--- {log.name} ---\n{text[-4000:]}")  # noqa: T201 - shown with a failure
