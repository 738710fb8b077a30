#!/usr/bin/env python3
"""Load benchmark: Tasklane under wrk, each scenario beside a bare FastAPI endpoint in the same run.

    .venv/bin/python -m benchmarks.load [--duration 10] [--connections 32]

Without MONGODB_URL/REDIS_URL it measures the in-memory mode; with them, the real servers. It starts
one Tasklane worker and the bare app with uvicorn on loopback, seeds a project through the API, runs
wrk (Debian package `wrk`) for each scenario and prints a table of req/s, p50, p99 and the ratio of
Tasklane's throughput to the bare endpoint serving the same bytes.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CPU_PER_REQUEST: dict[str, float] = {}  # the last run's server CPU seconds per request, by URL
PYTHON = sys.executable


@dataclass
class Result:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    bare_rps: float | None = None
    find_one_rps: float | None = None  # real servers: a bare Motor find_one endpoint, same run
    ratio_range: tuple[float, float] | None = None  # lowest and highest ratio of the rounds
    cpu_us: float | None = None  # the Tasklane worker's CPU time per request
    cpu_ratio: float | None = None  # bare CPU per request / Tasklane's: the ratio without the noise

    @property
    def ratio(self) -> float | None:
        return self.rps / self.bare_rps if self.bare_rps else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    pid: int


@contextmanager
def server(app: str, env: dict[str, str], *, factory: bool = False) -> Iterator[Server]:
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        command.append("--factory")
    # Logs stay on (INFO, one line a request, as in production) but go nowhere.
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health/live" if factory else f"{url}/docs", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{app} did not start")
            time.sleep(0.2)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    headers: dict[str, str],
    script: str | None = None,
    server_pid: int | None = None,
) -> tuple[float, float, float]:
    """req/s, p50 and p99 (ms); with `server_pid`, also records that process's CPU per request."""
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    if server_pid:
        requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
        CPU_PER_REQUEST[url] = (cpu_seconds(server_pid) - cpu_before) / max(1, requests)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} failed responses\n{output}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


def rss_check(
    target: Server, url: str, headers: dict[str, str], requests: int, connections: int
) -> dict[str, int]:
    """The worker's resident memory after a warm-up, and again after `requests` more (mixed hits,
    misses and creates would each grow a cache; this measures the steady state of a hot read)."""
    wrk(url, duration=3, connections=connections, headers=headers)  # warm-up: caches, pools, imports
    before = rss_kib(target.pid)
    done = 0
    while done < requests:
        rps, _, _ = wrk(url, duration=5, connections=connections, headers=headers)
        done += int(rps * 5)
    return {"before": before, "after": rss_kib(target.pid), "requests": done}


def lua(body: str, *, unique_query: bool, method: str = "GET") -> str:
    """A wrk script: a POST with a JSON body, or GETs made unique (each a cache miss)."""
    text = ""
    if method == "POST":
        text = (
            f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    elif unique_query:
        text = (
            "local n = 0\nrequest = function()\n  n = n + 1\n"
            '  return wrk.format(nil, wrk.path .. (wrk.path:find("?") and "&" or "?") .. "_n=" .. n)\nend\n'
        )
    path = Path(tempfile.mkdtemp()) / "scenario.lua"
    path.write_text(text)
    return str(path)


def seed(url: str, tasks: int) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as http:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "benchmark password", "display_name": "Bench"},
        )
        token = http.post(
            "/api/v1/auth/token", data={"username": email, "password": "benchmark password"}
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        key = "B" + uuid.uuid4().hex[:6].upper()
        project = http.post("/api/v1/projects", json={"name": "Bench", "key": key}, headers=auth).json()
        tasks_url = f"/api/v1/projects/{project['id']}/tasks"
        ids = [
            http.post(
                tasks_url,
                json={"title": f"Task {i}", "labels": ["bench"], "assignee_ids": [project["created_by"]]},
                headers=auth,
            ).json()["id"]
            for i in range(tasks)
        ]
        return {"auth": auth, "tasks_url": tasks_url, "task_id": ids[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only", default="", help="run only the scenarios whose name contains this (e.g. 'cached')"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating Tasklane/bare runs per scenario (median kept)"
    )
    parser.add_argument("--tasks", type=int, default=60, help="tasks seeded in the project")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load.json")
    parser.add_argument(
        "--rss-requests", type=int, default=50_000, help="requests for the memory check (0: skip)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    env = {
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_AUTHENTICATED": "100000000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000000/minute",
        "MONGODB_DB": f"tasklane_bench_{uuid.uuid4().hex[:8]}",
        "ENVIRONMENT": "development",
    }
    mode = "real servers" if os.environ.get("MONGODB_URL") else "in-memory"
    results: list[Result] = []
    bodies = Path(tempfile.mkdtemp())
    real = bool(os.environ.get("MONGODB_URL"))
    memory: dict[str, int] = {}
    with server("backend.main:create_app", env, factory=True) as tasklane_server:
        tasklane = tasklane_server.url
        data = seed(tasklane, args.tasks)
        auth, task_url = data["auth"], f"{data['tasks_url']}/{data['task_id']}"
        list_url = f"{data['tasks_url']}?limit=50"
        scenarios = [
            ("health", "/health/live", {}, None),
            ("GET task, cached", task_url, auth, None),
            ("GET task, uncached", task_url, auth, lua("", unique_query=True)),
            ("list of 50, cached", list_url, auth, None),
            ("list of 50, uncached", list_url, auth, lua("", unique_query=True)),
            (
                "create task",
                data["tasks_url"],
                auth,
                lua('{"title": "Created under load"}', unique_query=False, method="POST"),
            ),
        ]
        scenarios = [scenario for scenario in scenarios if args.only in scenario[0]]
        for index, (_, path, headers, _) in enumerate(scenarios):
            (bodies / str(index)).write_bytes(httpx.get(tasklane + path, headers=headers).content)
        with server(
            "benchmarks.bare_app:app", {"BARE_BODY_DIR": str(bodies), "MONGODB_DB": env["MONGODB_DB"]}
        ) as bare_server:
            bare = bare_server.url
            for index, (name, path, headers, script) in enumerate(scenarios):
                httpx.get(tasklane + path, headers=headers)  # warm the cache for the cached scenarios
                rounds: list[Result] = []
                cpu = [0.0, 0.0]  # server CPU per request summed over the rounds: Tasklane, bare
                for _ in range(args.rounds):  # alternating, so a slow spell of the machine hits both
                    rps, p50, p99 = wrk(
                        tasklane + path,
                        duration=args.duration,
                        connections=args.connections,
                        headers=headers,
                        script=script,
                        server_pid=tasklane_server.pid,
                    )
                    bare_rps, _, _ = wrk(
                        f"{bare}/bytes/{index}",
                        duration=args.duration,
                        connections=args.connections,
                        headers={},
                        server_pid=bare_server.pid,
                    )
                    cpu[0] += CPU_PER_REQUEST[tasklane + path]
                    cpu[1] += CPU_PER_REQUEST[f"{bare}/bytes/{index}"]
                    rounds.append(Result(name, rps, p50, p99, bare_rps))
                rounds.sort(key=lambda r: r.ratio or 0)
                median = rounds[len(rounds) // 2]
                median.ratio_range = (rounds[0].ratio or 0, rounds[-1].ratio or 0)
                median.cpu_us = cpu[0] / args.rounds * 1e6
                median.cpu_ratio = cpu[1] / cpu[0] if cpu[0] else None
                results.append(median)
                print(
                    f"  {name}: {median.rps:.0f} req/s (bare {median.bare_rps:.0f}), ratios "
                    + ", ".join(f"{r.ratio:.2f}" for r in rounds),
                    file=sys.stderr,
                    flush=True,
                )
            uncached = next((r for r in results if r.scenario == "GET task, uncached"), None)
            if real and uncached:
                # The yardstick for an uncached GET: one Motor find_one by id on the same server.
                found_rps, _, _ = wrk(
                    f"{bare}/find-one/{data['task_id']}",
                    duration=args.duration,
                    connections=args.connections,
                    headers={},
                )
                results.append(Result("bare Motor find_one", found_rps, 0, 0, None))
                uncached.find_one_rps = found_rps
                print(f"  GET task uncached / find_one: {uncached.rps / found_rps:.2f}", file=sys.stderr)
        if args.rss_requests:
            memory = rss_check(
                tasklane_server, f"{tasklane}{task_url}", auth, args.rss_requests, args.connections
            )
    setup = (
        f"{mode}; 1 uvicorn worker; wrk -t1 -c{args.connections} -d{args.duration}s; "
        f"median of {args.rounds} rounds"
    )
    print(f"\nTasklane load benchmark ({setup})\n")
    print(
        "| scenario | req/s | p50 ms | p99 ms | bare req/s | ratio | ratio range | CPU µs/req | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        bare_cell = f"{r.bare_rps:.0f}" if r.bare_rps else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio else "-"
        spread = f"{r.ratio_range[0]:.2f}–{r.ratio_range[1]:.2f}" if r.ratio_range else "-"
        cpu_cells = [f"{r.cpu_us:.0f}" if r.cpu_us else "-", f"{r.cpu_ratio:.2f}" if r.cpu_ratio else "-"]
        row = [
            r.scenario,
            f"{r.rps:.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            bare_cell,
            ratio,
            spread,
            *cpu_cells,
        ]
        print("| " + " | ".join(row) + " |")
    for r in results:
        if r.find_one_rps:
            print(
                f"\nGET task uncached: {r.rps / r.find_one_rps:.2f}x a bare Motor find_one endpoint "
                f"({r.rps:.0f} vs {r.find_one_rps:.0f} req/s)"
            )
    if memory:
        growth = (memory["after"] - memory["before"]) / memory["before"] * 100
        print(
            f"\nworker RSS: {memory['before'] / 1024:.1f} MiB before, {memory['after'] / 1024:.1f} MiB after "
            f"{memory['requests']} requests ({growth:+.1f}%)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"mode": mode, "results": [asdict(r) | {"ratio": r.ratio} for r in results]}, indent=2)
    )


if __name__ == "__main__":
    main()
