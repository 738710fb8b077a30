"""/metrics as Prometheus scrapes it: counts that add up across workers, and the series ops alert on."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from backend.core.config import REPO_ROOT
from backend.testing import Team


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _value(metrics: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} ([0-9.e+]+)$", metrics, flags=re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.in_memory_mongodb
def test_two_workers_add_up_and_never_look_reset(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URL", "REDIS_URL")},
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    series = 'http_requests_total{handler="/health/live",method="GET",status="2xx"}'
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health/live", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "tasklane serve did not start"
                time.sleep(0.2)
        time.sleep(2)  # both workers up
        sent = 1
        for _ in range(40):  # new connections: both workers answer some
            httpx.get(f"{base}/health/live", timeout=5)
            sent += 1
        scrapes = [httpx.get(f"{base}/metrics", timeout=5).text for _ in range(6)]
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert [_value(text, series) for text in scrapes] == [float(sent)] * 6
    pids = set(
        re.findall(r'^tasklane_worker_resident_memory_bytes\{pid="(\d+)"\}', scrapes[-1], re.MULTILINE)
    )
    assert len(pids) == 2


async def test_the_series_ops_alert_on_are_exposed(team: Team, client: httpx.AsyncClient) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Counted"})).json()
    for _ in range(2):
        await team.member.client.get(f"{team.tasks_url}/{task['id']}")

    metrics = (await client.get("/metrics")).text

    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "tasklane_cache_lookups_total",
        "tasklane_open_streams",
        "tasklane_worker_resident_memory_bytes",
    ):
        assert re.search(rf"^{name}[{{ ]", metrics, flags=re.MULTILINE), name
    assert _value(metrics, 'tasklane_cache_lookups_total{result="hit"}') >= 1


@pytest.mark.real_servers
async def test_mongodb_commands_are_timed(team: Team, client: httpx.AsyncClient) -> None:
    await team.member.client.get(team.tasks_url)

    metrics = (await client.get("/metrics")).text

    assert re.search(
        r'^tasklane_mongodb_command_duration_seconds_count\{command="find"\} [1-9]', metrics, re.M
    )
    assert re.search(r'^tasklane_redis_call_duration_seconds_count\{component="cache"\} [1-9]', metrics, re.M)


def test_alert_rules_use_only_series_the_api_exposes() -> None:
    rules = yaml.safe_load((REPO_ROOT / "docs" / "prometheus-alerts.yml").read_text())
    exposed = {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "tasklane_dependency_errors_total",
        "tasklane_mongodb_command_errors_total",
        "probe_success",  # the blackbox exporter's, probing /health/ready
    }
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]

    assert {rule["alert"] for rule in alerts} >= {
        "Tasklane5xxRate",
        "TasklaneP99Latency",
        "TasklaneNotReady",
        "TasklaneRedisErrors",
    }
    for rule in alerts:
        used = set(re.findall(r"[a-z_]+(?=\{|\[)", rule["expr"])) - {
            "rate",
            "sum",
            "by",
            "histogram_quantile",
            "le",
        }
        assert used <= exposed, (rule["alert"], used - exposed)
