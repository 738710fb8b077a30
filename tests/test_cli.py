"""The `tasklane` command, as ops run it."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.core.config import get_settings

runner = CliRunner()


def test_openapi_check_passes_on_the_committed_contract() -> None:
    result = runner.invoke(app, ["openapi", "check"])

    assert result.exit_code == 0, result.output


def test_openapi_check_fails_on_drift_and_export_fixes_it(tmp_path: Path) -> None:
    stale = tmp_path / "spec.yaml"
    stale.write_text("openapi: 3.1.0\n", encoding="utf-8")

    assert runner.invoke(app, ["openapi", "check", "--path", str(stale)]).exit_code == 1
    assert runner.invoke(app, ["openapi", "export", "--path", str(stale)]).exit_code == 0
    assert runner.invoke(app, ["openapi", "check", "--path", str(stale)]).exit_code == 0


def test_create_admin_refuses_the_in_memory_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)
    get_settings.cache_clear()

    result = runner.invoke(app, ["users", "create-admin", "--email", "a@example.com", "--password", "x" * 12])

    assert result.exit_code == 2
    assert "in-memory" in result.output


@pytest.mark.real_servers
def test_create_admin_then_promote(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    monkeypatch.setenv("MONGODB_DB", f"tasklane_cli_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "1024")
    get_settings.cache_clear()
    args = ["users", "create-admin", "--email", " Root@Example.com ", "--password", "root password 1"]

    first = runner.invoke(app, args)
    again = runner.invoke(app, args)
    weak = runner.invoke(app, ["users", "create-admin", "--email", "x@example.com", "--password", "short"])

    assert first.exit_code == 0, first.output
    assert "created admin root@example.com" in first.output
    assert "promoted admin root@example.com" in again.output
    assert weak.exit_code == 2
    assert "password" in weak.output
    get_settings.cache_clear()


def _serve(port: int, *flags: str) -> "subprocess.Popen[bytes]":
    env = {
        k: v for k, v in os.environ.items() if k not in ("MONGODB_URL", "REDIS_URL", "FORWARDED_ALLOW_IPS")
    }
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), *flags]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process
        time.sleep(0.2)
    process.kill()
    raise AssertionError("tasklane serve did not start")


def _remaining_after_forwarded(port: int, forwarded_for: str) -> int:
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/users/me", headers={"X-Forwarded-For": forwarded_for}, timeout=5
    )
    assert response.status_code == 401
    return int(response.headers["ratelimit-remaining"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.in_memory_mongodb
@pytest.mark.parametrize(
    ("flags", "separate_buckets"),
    [((), False), (("--forwarded-allow-ips", "127.0.0.1"), True)],
    ids=["by default nobody is trusted", "a configured proxy is"],
)
def test_serve_trusts_forwarded_headers_only_from_configured_proxies(
    flags: tuple[str, ...], separate_buckets: bool
) -> None:
    port = _free_port()
    server = _serve(port, *flags)
    try:
        first = _remaining_after_forwarded(port, "203.0.113.7")
        second = _remaining_after_forwarded(port, "198.51.100.9")
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Each client address has its own per-IP bucket: a trusted proxy's header picks the bucket; an
    # untrusted client on loopback cannot choose one, so both requests count in loopback's.
    assert (first == second) is separate_buckets


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({}, "error: MONGODB_URL must be set in production (in memory, every write is lost on exit)"),
        (
            {"MONGODB_URL": "mongodb://db:27017/"},
            "error: REDIS_URL must be set in production (in process, nothing is shared)",
        ),
        ({"JWT_SECRET": "short"}, "error: JWT_SECRET must be set to at least 32 characters in production"),
    ],
    ids=["no MongoDB", "no Redis", "weak secret"],
)
def test_production_refuses_to_start_with_one_line_naming_the_setting(
    tmp_path: Path, values: dict[str, str], line: str
) -> None:
    env = {"PATH": os.environ["PATH"], "ENVIRONMENT": "production", "JWT_SECRET": "s" * 40, **values}
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(_free_port())]

    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert (result.returncode, result.stderr.strip()) == (2, line)
