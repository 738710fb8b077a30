#!/usr/bin/env python3
"""Tasklane beside the peers users would pick instead, in one run, against the same servers.

    .venv/bin/python -m benchmarks.peers [--duration 8] [--rounds 2] [--no-eve] [--only create]

It starts a redis-server and SecantusDB (the MongoDB-wire server) unless MONGODB_URL / REDIS_URL are
given, then on the same two servers:

- Tasklane: one uvicorn worker (uvloop + httptools), logs on, rate limits out of the way;
- the raw peer (`peer_raw.py`): FastAPI + Motor, one uvicorn worker;
- the Eve peer (`peer_eve.py`): Eve 2.3.1 under gunicorn with one gevent worker, from its own
  virtualenv `benchmarks/.venv-eve`, made on demand from `eve-requirements.txt` (`--no-eve` skips it);
- for cache hits, `bare_app.py` serving the very bytes of Tasklane's answer (the static yardstick).

Data: `--projects` projects of `--tasks-per-project` tasks for Tasklane, with one comment and two
activity records per task, inserted directly in the shape Tasklane stores (copied from documents
made through its API); `--peer-tasks` tasks of the same shape for the peers. Each endpoint is
measured with wrk (`-t1 -c<connections>`, `--duration` s) for `--rounds` passes, the systems taking
turns, and reports req/s, p50/p99, server and database CPU per request (from /proc), database
operations per request (SecantusDB's serverStatus opcounters) and Redis commands per request (INFO
commandstats). Tasklane also runs a mixed workload (70% task reads, 20% writes, 10% token
refreshes) that reports the response cache's hit rate on task reads. Results: a markdown table on
stdout and benchmarks/results/peers.json.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import redis
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, MongoClient

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
PYTHON = sys.executable
EVE_VENV = BENCH / ".venv-eve"
EVE_REQUIREMENTS = BENCH / "eve-requirements.txt"
API = "/api/v1"
PASSWORD = "benchmark password"
SYSTEMS = ("raw", "eve", "tasklane", "static")
TITLES = {
    "raw": "raw FastAPI + Motor",
    "eve": "Eve 2.3.1",
    "tasklane": "Tasklane",
    "static": "static bytes",
}
STATUSES = ("backlog", "todo", "in_progress", "in_review", "done")
LABELS = ("backend", "frontend", "bug", "feature", "ops", "docs", "ux", "perf")
WORDS = tuple(
    " ".join(
        (
            "login page fails after password reset on mobile browsers add retry to the export job",
            "cache invalidation for project lists dashboard chart shows wrong totals migrate settings",
            "screen rename field in the api docs flaky test in the billing suite slow query on search",
        )
    ).split(" ")
)


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process and its live children (the workers of `--workers N`) have
    used so far, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children(pid))


def rss_mib(pid: int) -> float:
    """Resident memory of the process and its live children (workers), MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return kib / 1024 + sum(rss_mib(child) for child in children(pid))


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_until(
    ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} was not ready after {timeout:.0f} s")
        time.sleep(0.2)


@dataclass
class Running:
    url: str
    pid: int  # the process that serves requests, or the parent of the workers that do


@contextmanager
def spawn(
    command: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        list(command), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log and not isinstance(out, int):
            out.close()


def http_ready(url: str, headers: dict[str, str] | None = None) -> Callable[[], bool]:
    return lambda: httpx.get(url, headers=headers, timeout=2).status_code < 500


@contextmanager
def uvicorn(
    app: str,
    env: dict[str, str],
    ready_path: str,
    *,
    factory: bool,
    logs: Path,
    python: str = PYTHON,
    workers: int = 1,
) -> Iterator[Running]:
    port = free_port()
    command = [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    if factory:
        command.append("--factory")
    url = f"http://127.0.0.1:{port}"
    with spawn(command, env=env, log=logs / f"{app.split(':')[0]}.log") as process:
        wait_until(http_ready(url + ready_path), app, process)
        yield Running(url, process.pid)


# -- Eve's virtualenv -----------------------------------------------------------------------------


def eve_gunicorn() -> Path:
    """benchmarks/.venv-eve's gunicorn, made or remade when eve-requirements.txt changed."""
    digest = hashlib.sha256(EVE_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = EVE_VENV / ".requirements.sha256"
    gunicorn = EVE_VENV / "bin" / "gunicorn"
    if stamp.exists() and stamp.read_text() == digest and gunicorn.exists():
        return gunicorn
    print(f"making {EVE_VENV.relative_to(ROOT)} from {EVE_REQUIREMENTS.name} ...", file=sys.stderr)
    subprocess.run([PYTHON, "-m", "venv", "--clear", str(EVE_VENV)], check=True, capture_output=True)
    pip = [str(EVE_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "--no-deps", "-r", str(EVE_REQUIREMENTS)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"pip install -r {EVE_REQUIREMENTS.name} failed:\n{done.stderr[-2000:]}")
    check = subprocess.run(
        [str(EVE_VENV / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True
    )
    if check.returncode:
        raise RuntimeError(f"the pins of {EVE_REQUIREMENTS.name} are inconsistent:\n{check.stdout}")
    stamp.write_text(digest)
    return gunicorn


@contextmanager
def eve(gunicorn: Path, env: dict[str, str], logs: Path, workers: int = 1) -> Iterator[Running]:
    """One gevent worker: keep-alive connections and concurrent requests in one process, like the
    single uvicorn worker of the others (a sync worker closes every connection and serves one
    request at a time, which would measure TCP setup and queueing instead of Eve)."""
    port = free_port()
    command = [str(gunicorn), "-k", "gevent", "-w", str(workers), "--worker-connections", "1000"]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "benchmarks.peer_eve:app"]
    url = f"http://127.0.0.1:{port}"
    with spawn(command, env=env, log=logs / "eve.log") as process:
        wait_until(http_ready(url + "/tasks?max_results=1"), "Eve (gunicorn)", process)
        started = children(process.pid)
        if len(started) != workers:
            raise SystemExit(f"gunicorn has {len(started)} workers, expected {workers}")
        yield Running(url, started[0] if workers == 1 else process.pid)


# -- the servers ----------------------------------------------------------------------------------


@dataclass
class Backends:
    mongodb_url: str
    redis_url: str
    db_pid: int | None
    redis_pid: int | None


@contextmanager
def backends(logs: Path) -> Iterator[Backends]:
    with ExitStack() as stack:
        mongodb_url = os.environ.get("MONGODB_URL")
        db_pid = int(os.environ["DB_PID"]) if os.environ.get("DB_PID") else None
        if not mongodb_url:
            port = free_port()
            process = stack.enter_context(
                spawn(
                    [
                        str(Path(PYTHON).parent / "secantusd-py"),
                        *("--host", "127.0.0.1", "--port", str(port)),
                        *("--storage-path", ":memory:", "--log-level", "WARNING"),
                    ],
                    log=logs / "secantusd.log",
                )
            )
            # Without retryable writes for all three: SecantusDB slows each retryable write as they
            # accumulate over a run (PEERS.md, "What skews the comparison").
            mongodb_url = f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"
            url = mongodb_url

            def pings() -> bool:
                client: MongoClient[dict[str, Any]]
                with MongoClient(url, serverSelectionTimeoutMS=1000) as client:
                    return bool(client.admin.command("ping")["ok"])

            wait_until(pings, "secantusd-py", process)
            db_pid = process.pid
        redis_url = os.environ.get("REDIS_URL")
        redis_pid = int(os.environ["REDIS_PID"]) if os.environ.get("REDIS_PID") else None
        if not redis_url:
            port = free_port()
            command = [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            process = stack.enter_context(spawn(command, log=logs / "redis.log"))
            redis_url = f"redis://127.0.0.1:{port}/0"
            wait_until(lambda: bool(redis.Redis.from_url(redis_url).ping()), "redis-server", process)
            redis_pid = process.pid
        yield Backends(mongodb_url, redis_url, db_pid, redis_pid)


@dataclass
class Counters:
    server_cpu: float
    db_cpu: float | None
    redis_cpu: float | None
    db_ops: dict[str, int] | None
    redis_calls: int


class Probe:
    """Reads the counters that one run's deltas are made of."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self.mongo: MongoClient[dict[str, Any]] = MongoClient(backends.mongodb_url)
        self.redis = redis.Redis.from_url(backends.redis_url)
        self.has_opcounters = "opcounters" in self.mongo.admin.command("serverStatus")

    def read(self, server_pid: int) -> Counters:
        ops = None
        if self.has_opcounters:
            ops = {k: int(v) for k, v in self.mongo.admin.command("serverStatus")["opcounters"].items()}
        stats: dict[str, Any] = self.redis.info("commandstats")
        calls = sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")
        b = self.backends
        return Counters(
            server_cpu=cpu_seconds(server_pid),
            db_cpu=cpu_seconds(b.db_pid) if b.db_pid else None,
            redis_cpu=cpu_seconds(b.redis_pid) if b.redis_pid else None,
            db_ops=ops,
            redis_calls=calls,
        )


# -- wrk ------------------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)  # a JSON string of ASCII is a valid Lua string


def lua_headers(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()) + "}"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: str | None = None  # `{n}` becomes the request's number, `{pos}` a fresh float


def requests_script(requests: Sequence[Req], headers: dict[str, str], *, unique: bool) -> str:
    """A wrk script cycling through `requests`; `unique` adds a query parameter the route ignores,
    new in every request and every run (a response-cache miss: the cache key has the query)."""
    nonce = uuid.uuid4().hex[:8]
    base = random.randrange(10**6, 10**9)
    rows = ",\n".join(
        f"  {{{lua_string(r.method)}, {lua_string(r.path)}, {lua_string(r.body) if r.body else 'nil'}}}"
        for r in requests
    )
    json_headers = {**headers, "Content-Type": "application/json"}
    text = f"""
local reqs = {{
{rows}
}}
local headers = {lua_headers(json_headers)}
local unique = {"true" if unique else "false"}
local n = 0
request = function()
  n = n + 1
  local r = reqs[(n - 1) % #reqs + 1]
  local path = r[2]
  if unique then
    path = path .. (path:find("?", 1, true) and "&" or "?") .. "_n={nonce}-" .. n
  end
  local body = r[3]
  if body then
    body = (body:gsub("{{n}}", tostring(n)):gsub("{{pos}}", tostring({base} + n) .. ".5"))
  end
  return wrk.format(r[1], path, headers, body)
end
"""
    path = Path(tempfile.mkdtemp(prefix="peers-")) / "script.lua"
    path.write_text(text)
    return str(path)


MIX_COUNTERS = ("reads", "updates", "creates", "refreshes", "logins", "hits", "misses", "errors")


def mix_script(
    reads: Sequence[str],
    updates: Sequence[str],
    creates: Sequence[tuple[str, str]],
    refresh_tokens: Sequence[str],
    login_form: str,
    headers: dict[str, str],
) -> str:
    """70% GET of a task (random among `reads`), 10% PATCH and 10% POST (random task / project), 10%
    token refresh (each refresh token spent once; a login when none is free). Counts X-Cache."""
    base = random.randrange(10**6, 10**9)

    def lua_list(items: Sequence[str]) -> str:
        return "{" + ", ".join(lua_string(i) for i in items) + "}"

    text = f"""
local reads = {lua_list(reads)}
local updates = {lua_list(updates)}
local create_paths = {lua_list([c[0] for c in creates])}
local create_bodies = {lua_list([c[1] for c in creates])}
local statuses = {lua_list(STATUSES)}
local json_headers = {lua_headers({**headers, "Content-Type": "application/json"})}
local form_headers = {lua_headers({"Content-Type": "application/x-www-form-urlencoded"})}
local plain_headers = {lua_headers({"Content-Type": "application/json"})}
local login_form = {lua_string(login_form)}
pool = {lua_list(refresh_tokens)}
threads = {{}}
-- Counters are globals, `<name>_n`: done() reads them with thread:get.
{" ".join(f"{c}_n = 0" for c in MIX_COUNTERS)}
local n = 0

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  math.randomseed({base})
end

request = function()
  n = n + 1
  local r = math.random(100)
  if r <= 70 then
    reads_n = reads_n + 1
    return wrk.format("GET", reads[math.random(#reads)], json_headers, nil)
  elseif r <= 80 then
    updates_n = updates_n + 1
    local body = '{{"status": "' .. statuses[n % #statuses + 1] .. '", "priority": ' .. (n % 5)
      .. ', "position": ' .. ({base} + n) .. '.5}}'
    return wrk.format("PATCH", updates[math.random(#updates)], json_headers, body)
  elseif r <= 90 then
    creates_n = creates_n + 1
    local i = math.random(#create_paths)
    local body = create_bodies[i]:gsub("{{n}}", tostring(n))
    return wrk.format("POST", create_paths[i], json_headers, body)
  end
  local token = table.remove(pool)
  if token then
    refreshes_n = refreshes_n + 1
    return wrk.format("POST", "{API}/auth/refresh", plain_headers, '{{"refresh_token": "' .. token .. '"}}')
  end
  logins_n = logins_n + 1
  return wrk.format("POST", "{API}/auth/token", form_headers, login_form)
end

response = function(status, headers, body)
  if status >= 400 then
    errors_n = errors_n + 1
  end
  local cache = headers["x-cache"] or headers["X-Cache"]
  if cache == "HIT" then
    hits_n = hits_n + 1
  elseif cache == "MISS" then
    misses_n = misses_n + 1
  end
  if status == 200 and body then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      table.insert(pool, token)
    end
  end
end

done = function(summary, latency, requests)
  local out = {{}}
  for _, name in ipairs({lua_list(MIX_COUNTERS)}) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + thread:get(name .. "_n")
    end
    table.insert(out, name .. "=" .. total)
  end
  io.write("MIX " .. table.concat(out, " ") .. "\\n")
end
"""
    path = Path(tempfile.mkdtemp(prefix="peers-")) / "mix.lua"
    path.write_text(text)
    return str(path)


@dataclass
class Pass:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    timeouts: int  # requests wrk gave up on after 10 s
    server_cpu_ms: float  # per request
    db_cpu_ms: float | None
    redis_cpu_ms: float | None
    db_ops: float | None
    db_ops_by_kind: dict[str, float] | None
    redis_ops: float
    mix: dict[str, int] | None = None


def settle(pids: Sequence[int | None], limit: float = 180) -> None:
    """Wait until the server and the database are idle: requests wrk stopped waiting for (slow lists
    on SecantusDB) are still being served, and would be counted in the next run otherwise."""
    watched = [p for p in pids if p]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = [cpu_seconds(p) for p in watched]
        time.sleep(0.5)
        if max(cpu_seconds(p) - b for p, b in zip(watched, before, strict=True)) < 0.05:
            return
    print("  warning: the servers were still busy after waiting", file=sys.stderr)


def wrk(url: str, script: str, *, duration: int, connections: int, probe: Probe, server_pid: int) -> Pass:
    settle([server_pid, probe.backends.db_pid])
    before = probe.read(server_pid)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    output = subprocess.run([*command, "-s", script, url], capture_output=True, text=True, check=True).stdout
    after = probe.read(server_pid)

    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if not found:
            raise SystemExit(f"unexpected wrk output:\n{output}")
        return float(found.group(1))

    def percentile(p: str) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            raise SystemExit(f"unexpected wrk output:\n{output}")
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    requests = max(1, int(number(r"(\d+) requests in")))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", output)
    db_ops = by_kind = None
    if before.db_ops is not None and after.db_ops is not None:
        # The second serverStatus is counted once: take it off the commands.
        by_kind = {
            k: (after.db_ops[k] - before.db_ops[k] - (k == "command")) / requests for k in after.db_ops
        }
        db_ops = sum(by_kind.values())

    def per_request(a: float | None, b: float | None) -> float | None:
        return (b - a) / requests * 1000 if a is not None and b is not None else None

    mix = None
    found = re.search(r"^MIX (.*)$", output, re.MULTILINE)
    if found:
        mix = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    return Pass(
        rps=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        requests=requests,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        timeouts=int(timeouts.group(1)) if timeouts else 0,
        server_cpu_ms=(after.server_cpu - before.server_cpu) / requests * 1000,
        db_cpu_ms=per_request(before.db_cpu, after.db_cpu),
        redis_cpu_ms=per_request(before.redis_cpu, after.redis_cpu),
        db_ops=db_ops,
        db_ops_by_kind=by_kind,
        redis_ops=(after.redis_calls - before.redis_calls) / requests,
        mix=mix,
    )


def py_spy(binary: Path, pid: int, duration: int, output: Path) -> subprocess.Popen[bytes]:
    command = [
        str(binary),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--duration",
        str(duration),
        "--rate",
        "250",
    ]
    command += ["--format", "raw", "--nonblocking", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_stacks(path: Path, title: str, top: int = 25) -> None:
    """Inclusive and self shares of the sampled frames (py-spy's raw format: `a;b;c count`), to
    path.with_suffix(".md") and stderr."""
    if not path.exists():
        print(f"  py-spy wrote nothing for {title}", file=sys.stderr)
        return
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue  # py-spy cut a sample short (a frame it could not read)
        count = int(count_text)
        frames = [
            re.sub(
                r":\d+\)$",
                ")",
                re.sub(r"\(/\S*(?:site-packages|lib/python3\.\d+)/", "(", f.replace(f"({ROOT}/", "(")),
            )
            for f in stack.split(";")
        ]
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    lines = [f"# py-spy: Tasklane worker, {title} ({total} samples)", "", "## inclusive", ""]
    lines += [f"{n / total:6.1%}  {f}" for f, n in sorted(inclusive.items(), key=lambda i: -i[1])[:top]]
    lines += ["", "## self", ""]
    lines += [f"{n / total:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda i: -i[1])[:top]]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"  py-spy summary: {path.with_suffix('.md')}", file=sys.stderr)


# -- seeding --------------------------------------------------------------------------------------


@dataclass
class TasklaneData:
    auth: dict[str, str]  # a member of every project
    member_email: str
    projects: list[str]  # ids
    tasks: dict[str, list[str]]  # project id -> task ids
    assignees: dict[str, str]  # project id -> a member's id, for creates
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def login(http: httpx.Client, email: str) -> dict[str, Any]:
    answer = http.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def seed_tasklane(url: str, db: Any, projects: int, per_project: int) -> TasklaneData:
    """Two users, the projects, their members, one task and one comment each through the API (the
    templates); the rest inserted directly in the same shape, and each project's task counter set."""
    from backend.tasks.ranks import initial_rank
    from backend.tasks.search import search_terms

    started = time.monotonic()
    rng = random.Random(24)
    with httpx.Client(base_url=url, timeout=60) as http:
        tag = uuid.uuid4().hex[:6]
        owner, member = f"owner-{tag}@example.com", f"member-{tag}@example.com"
        for email, name in ((owner, "Olive Owner"), (member, "Mel Member")):
            http.post(
                f"{API}/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
            ).raise_for_status()
        owner_auth = {"Authorization": f"Bearer {login(http, owner)['access_token']}"}
        member_auth = {"Authorization": f"Bearer {login(http, member)['access_token']}"}
        # More users, inserted in the registered user's shape (the same password hash is valid).
        user_template = db.users.find_one({"email_normalized": owner})
        extra: list[ObjectId] = []
        for i in range(8):
            email = f"user{i}-{tag}@example.com"
            doc = {**user_template, "_id": ObjectId(), "email": email, "email_normalized": email}
            doc["handle"] = f"user{i}-{tag}"  # unique, as registration makes them
            doc["display_name"] = f"User {i} {words(rng, 1).title()}"
            db.users.insert_one(doc)
            extra.append(doc["_id"])
        member_id = str(db.users.find_one({"email_normalized": member})["_id"])
        data = TasklaneData(member_auth, member, [], {}, {})
        project_members: dict[str, list[ObjectId]] = {}
        keys: dict[str, str] = {}
        for p in range(projects):
            answer = http.post(
                f"{API}/projects", json={"name": f"Project {p}", "key": f"PR{p}"}, headers=owner_auth
            )
            answer.raise_for_status()
            project = answer.json()
            pid = project["id"]
            keys[pid] = project["key"]
            chosen = rng.sample(extra, 3)
            for user_id in [member_id, *map(str, chosen)]:
                http.post(
                    f"{API}/projects/{pid}/members",
                    json={"user_id": user_id, "role": "member"},
                    headers=owner_auth,
                ).raise_for_status()
            project_members[pid] = [ObjectId(member_id), *chosen]
            data.projects.append(pid)
            data.assignees[pid] = member_id
            task = http.post(
                f"{API}/projects/{pid}/tasks",
                json={"title": "First task", "labels": ["backend"], "assignee_ids": [member_id]},
                headers=member_auth,
            )
            task.raise_for_status()
            data.tasks[pid] = [task.json()["id"]]
            if p == 0:
                http.post(
                    f"{API}/projects/{pid}/tasks/{task.json()['id']}/comments",
                    json={"body": "First comment"},
                    headers=member_auth,
                ).raise_for_status()
    task_template = db.tasks.find_one()
    comment_template = db.comments.find_one()
    activity_template = db.activity.find_one({"verb": "task.created"})
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=90)
    counts = {"tasks": 0, "comments": 0, "activity": 0}
    for pid in data.projects:
        project_id = ObjectId(pid)
        tasks: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        activity: list[dict[str, Any]] = []
        for number in range(2, per_project + 1):
            created = start + timedelta(seconds=number * 90 * 86400 // (per_project + 1) + rng.randrange(60))
            title = f"{words(rng, rng.randint(3, 7)).capitalize()} {number}"
            description = words(rng, rng.randint(8, 30))
            labels = rng.sample(LABELS, rng.randint(0, 2))
            status = rng.choice(STATUSES)
            assignees = rng.sample(project_members[pid], rng.randint(0, 2))
            doc = {
                **task_template,
                "_id": ObjectId(),
                "project_id": project_id,
                "number": number,
                "key": f"{keys[pid]}-{number}",
                "title": title,
                "description": description,
                "status": status,
                "priority": rng.randint(0, 4),
                "labels": labels,
                "assignee_ids": assignees,
                "due_at": created + timedelta(days=rng.randint(3, 60)) if rng.random() < 0.3 else None,
                "parent_id": None,
                "position": float(number),
                "rank": initial_rank(number),  # unique in its project, as a create makes it
                "created_by": rng.choice(project_members[pid]),
                "created_at": created,
                "updated_at": created + timedelta(hours=rng.randint(0, 72)),
                "completed_at": created + timedelta(days=2) if status == "done" else None,
                "deleted_at": None,
                "search_terms": search_terms(title, description, labels),
                "version": 2,
            }
            assert doc.keys() == task_template.keys(), set(doc) ^ set(task_template)
            tasks.append(doc)
            comments.append(
                {
                    **comment_template,
                    "_id": ObjectId(),
                    "project_id": project_id,
                    "task_id": doc["_id"],
                    "author_id": rng.choice(project_members[pid]),
                    "body": words(rng, rng.randint(5, 25)),
                    "created_at": created + timedelta(hours=1),
                    "edited_at": None,
                }
            )
            target = {**activity_template["target"], "id": doc["_id"], "key": doc["key"]}
            common = {"project_id": project_id, "task_id": doc["_id"], "actor_id": doc["created_by"]}
            activity.append(
                {
                    **activity_template,
                    **common,
                    "_id": ObjectId(),
                    "verb": "task.created",
                    "target": target,
                    "changes": {"title": [None, title], "status": [None, "backlog"]},
                    "created_at": created,
                }
            )
            activity.append(
                {
                    **activity_template,
                    **common,
                    "_id": ObjectId(),
                    "verb": "task.updated",
                    "target": target,
                    "changes": {"status": ["backlog", status]},
                    "created_at": doc["updated_at"],
                }
            )
        for collection, documents in (("tasks", tasks), ("comments", comments), ("activity", activity)):
            for i in range(0, len(documents), 1000):
                db[collection].insert_many(documents[i : i + 1000], ordered=False)
            counts[collection] += len(documents)
        db.projects.update_one({"_id": project_id}, {"$set": {"task_counter": per_project}})
        data.tasks[pid] += [str(t["_id"]) for t in tasks]
        print(f"  seeded project {pid}: {len(tasks) + 1} tasks", file=sys.stderr, flush=True)
    data.seconds = time.monotonic() - started
    data.counts = counts
    return data


def seed_peers(db: Any, project_ids: Sequence[str], total: int) -> dict[str, list[str]]:
    """`total` tasks of the same shape over the projects, an Eve `_etag` each, and the list's index."""
    from backend.tasks.search import search_terms

    rng = random.Random(20)
    db.tasks.create_index(
        [("project_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="project_newest"
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=90)
    ids: dict[str, list[str]] = {p: [] for p in project_ids}
    batch: list[dict[str, Any]] = []
    for i in range(total):
        pid = project_ids[i % len(project_ids)]
        number = i // len(project_ids) + 1
        title = f"{words(rng, rng.randint(3, 7)).capitalize()} {number}"
        description = words(rng, rng.randint(8, 30))
        labels = rng.sample(LABELS, rng.randint(0, 2))
        created = start + timedelta(seconds=i * 90 * 86400 // (total + 1))
        status = rng.choice(STATUSES)
        doc = {
            "_id": ObjectId(),
            "project_id": ObjectId(pid),
            "number": number,
            "key": f"PEER-{number}",
            "title": title,
            "description": description,
            "status": status,
            "priority": rng.randint(0, 4),
            "labels": labels,
            "assignee_ids": [ObjectId() for _ in range(rng.randint(0, 2))],
            "due_at": None,
            "parent_id": None,
            "position": float(number),
            "created_by": ObjectId(),
            "created_at": created,
            "updated_at": created,
            "completed_at": None,
            "deleted_at": None,
            "search_terms": search_terms(title, description, labels),
            "version": 1,
            "_etag": uuid.uuid4().hex,
        }
        batch.append(doc)
        ids[pid].append(str(doc["_id"]))
        if len(batch) == 1000:
            db.tasks.insert_many(batch, ordered=False)
            batch = []
    if batch:
        db.tasks.insert_many(batch, ordered=False)
    return ids


# -- scenarios ------------------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    pid: int
    script: Callable[[], str]  # made anew for every pass (fresh unique query values)


@dataclass
class Scenario:
    name: str
    targets: dict[str, Target]
    before_pass: Callable[[str], None] | None = None  # warms the cache before a hit's pass


@dataclass
class Outcome:
    scenario: str
    system: str
    passes: list[Pass]

    @property
    def rps(self) -> float:
        return sum(p.rps for p in self.passes) / len(self.passes)

    def mean(self, name: str) -> float | None:
        values = [getattr(p, name) for p in self.passes]
        if any(v is None for v in values):
            return None
        # Per request over all passes: weight each pass by its requests.
        total = sum(p.requests for p in self.passes)
        return float(sum(v * p.requests for v, p in zip(values, self.passes, strict=True)) / total)


def spread(ids: dict[str, list[str]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` (project, task) pairs, as many from each project, in random order."""
    per = max(1, count // len(ids))
    pairs = [(p, t) for p, tasks in ids.items() for t in rng.sample(tasks, min(per, len(tasks)))]
    rng.shuffle(pairs)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="passes per endpoint, the systems taking turns")
    parser.add_argument("--only", default="", help="only the endpoints whose name contains this")
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--tasks-per-project", type=int, default=2000)
    parser.add_argument("--peer-tasks", type=int, default=20_000, help="tasks in the peers' collection")
    parser.add_argument(
        "--spread", type=int, default=2000, help="distinct tasks a miss, update or create run visits"
    )
    parser.add_argument("--hot", type=int, default=100, help="distinct tasks of the cache-hit run")
    parser.add_argument("--mix-tasks", type=int, default=500, help="distinct tasks the mixed workload reads")
    parser.add_argument("--no-eve", action="store_true", help="leave Eve out")
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="a py-spy binary: record Tasklane's worker during its passes (stacks and a summary in results/)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes of each system (static bytes keep one)"
    )
    parser.add_argument(
        "--tasklane-python",
        default=PYTHON,
        help="the Python serving Tasklane, e.g. a venv made with -c constraints-pymongo.txt (the image)",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "peers.json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    logs = Path(tempfile.mkdtemp(prefix="peers-logs-"))
    eve_note = ""
    gunicorn: Path | None = None
    if not args.no_eve:
        try:
            gunicorn = eve_gunicorn()
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            eve_note = f"Eve left out: {exc}"
            print(eve_note, file=sys.stderr)
    db_name = f"tasklane_peers_{uuid.uuid4().hex[:6]}"
    peer_db = f"peers_{uuid.uuid4().hex[:6]}"
    outcomes: list[Outcome] = []
    with backends(logs) as servers, ExitStack() as stack:
        probe = Probe(servers)
        mongo: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_url, tz_aware=True)
        env = {
            "MONGODB_URL": servers.mongodb_url,
            "MONGODB_DB": db_name,
            "REDIS_URL": servers.redis_url,
            "LOG_LEVEL": "INFO",
            "ENVIRONMENT": "development",
            "RATE_LIMIT_AUTHENTICATED": "100000000/minute",
            "RATE_LIMIT_ANONYMOUS": "100000000/minute",
            "LOGIN_RATE_LIMIT_PER_IP": "100000000/minute",
            "LOGIN_RATE_LIMIT_PER_EMAIL": "100000000/minute",
            "ACCESS_TOKEN_TTL_SECONDS": "86400",  # the run outlasts the default 15 minutes
        }
        tasklane = stack.enter_context(
            uvicorn(
                "backend.main:create_app",
                env,
                "/health/live",
                factory=True,
                logs=logs,
                python=args.tasklane_python,
                workers=args.workers,
            )
        )
        print("seeding Tasklane ...", file=sys.stderr, flush=True)
        data = seed_tasklane(tasklane.url, mongo[db_name], args.projects, args.tasks_per_project)
        print(f"  {data.counts} in {data.seconds:.0f} s; seeding the peers ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        peer_ids = seed_peers(mongo[peer_db], data.projects, args.peer_tasks)
        peer_seconds = time.monotonic() - started
        print(f"  {args.peer_tasks} peer tasks in {peer_seconds:.0f} s", file=sys.stderr, flush=True)
        peer_env = {"MONGODB_URL": servers.mongodb_url, "PEER_DB": peer_db}
        raw = stack.enter_context(
            uvicorn(
                "benchmarks.peer_raw:app", peer_env, "/health", factory=False, logs=logs, workers=args.workers
            )
        )
        eve_server: Running | None = None
        if gunicorn:
            try:
                eve_server = stack.enter_context(eve(gunicorn, peer_env, logs, workers=args.workers))
            except SystemExit as exc:
                eve_note = f"Eve left out: {exc} (log: {logs / 'eve.log'})"
                print(eve_note, file=sys.stderr)

        rng = random.Random(7)
        auth = data.auth
        t_pairs = spread(data.tasks, args.spread, rng)
        p_pairs = spread(peer_ids, args.spread, rng)
        hot = spread(data.tasks, args.hot, rng)
        tl_task = [f"{API}/projects/{p}/tasks/{t}" for p, t in t_pairs]
        tl_hot = [f"{API}/projects/{p}/tasks/{t}" for p, t in hot]
        tl_lists = [f"{API}/projects/{p}/tasks?limit=50" for p in data.projects]
        raw_lists = [f"/tasks?project_id={p}&limit=50" for p in data.projects]
        eve_lists = [
            "/tasks?where="
            + quote(json.dumps({"project_id": p}), safe="")
            + "&sort=-created_at&max_results=50"
            for p in data.projects
        ]
        create = (
            '{{"title": "Created under load {{n}}", "labels": ["backend"], "assignee_ids": ["{a}"]{extra}}}'
        )
        patch = '{"status": "todo", "priority": 2, "position": {pos}}'

        # The static yardstick of a hit: the very bytes Tasklane answers, from bare_app.py.
        bodies = Path(tempfile.mkdtemp(prefix="peers-bodies-"))
        (bodies / "task").write_bytes(httpx.get(tasklane.url + tl_hot[0], headers=auth).content)
        (bodies / "list").write_bytes(httpx.get(tasklane.url + tl_lists[0], headers=auth).content)
        static = stack.enter_context(
            uvicorn(
                "benchmarks.bare_app:app",
                {"BARE_BODY_DIR": str(bodies)},
                "/bytes/task",
                factory=False,
                logs=logs,
                workers=args.workers,  # as many as Tasklane's, or its ratio would compare 2 with 1
            )
        )

        def warm(paths: Sequence[str]) -> Callable[[str], None]:
            def run(system: str) -> None:
                if system == "tasklane":
                    with httpx.Client(base_url=tasklane.url, headers=auth, timeout=300) as http:
                        for path in paths:
                            http.get(path)
                        seen = http.get(paths[0]).headers.get("X-Cache")
                        if seen != "HIT":
                            print(
                                f"  warning: {paths[0]} answered X-Cache {seen} after warming",
                                file=sys.stderr,
                            )

            return run

        def target(
            server: Running, requests: Sequence[Req], headers: dict[str, str], unique: bool = False
        ) -> Target:
            return Target(server.url, server.pid, lambda: requests_script(requests, headers, unique=unique))

        def peers(requests_of: Callable[[str], Sequence[Req]]) -> dict[str, Target]:
            found = {"raw": target(raw, requests_of("raw"), {})}
            if eve_server:
                found["eve"] = target(eve_server, requests_of("eve"), {})
            return found

        def peer_get(system: str) -> list[Req]:
            return [Req("GET", f"/tasks/{t}") for _, t in p_pairs]

        def peer_list(system: str) -> list[Req]:
            return [Req("GET", path) for path in (raw_lists if system == "raw" else eve_lists)]

        def peer_create(system: str) -> list[Req]:
            return [
                Req("POST", "/tasks", create.format(a=data.assignees[p], extra=f', "project_id": "{p}"'))
                for p in data.projects
            ]

        def peer_patch(system: str) -> list[Req]:
            return [Req("PATCH", f"/tasks/{t}", patch) for _, t in p_pairs]

        scenarios = [
            Scenario(
                "GET task, miss",
                {
                    **peers(peer_get),
                    "tasklane": target(tasklane, [Req("GET", p) for p in tl_task], auth, True),
                },
            ),
            Scenario(
                "GET task, hit",
                {
                    "tasklane": target(tasklane, [Req("GET", p) for p in tl_hot], auth),
                    "static": target(static, [Req("GET", "/bytes/task")], {}),
                },
                warm(tl_hot),
            ),
            Scenario(
                "list of 50, miss",
                {
                    **peers(peer_list),
                    "tasklane": target(tasklane, [Req("GET", p) for p in tl_lists], auth, True),
                },
            ),
            Scenario(
                "list of 50, hit",
                {
                    "tasklane": target(tasklane, [Req("GET", p) for p in tl_lists], auth),
                    "static": target(static, [Req("GET", "/bytes/list")], {}),
                },
                warm(tl_lists),
            ),
            Scenario(
                "create",
                {
                    **peers(peer_create),
                    "tasklane": target(
                        tasklane,
                        [
                            Req(
                                "POST",
                                f"{API}/projects/{p}/tasks",
                                create.format(a=data.assignees[p], extra=""),
                            )
                            for p in data.projects
                        ],
                        auth,
                    ),
                },
            ),
            Scenario(
                "update",
                {
                    **peers(peer_patch),
                    "tasklane": target(tasklane, [Req("PATCH", p, patch) for p in tl_task], auth),
                },
            ),
        ]
        scenarios = [s for s in scenarios if args.only in s.name]
        rss_before = rss_mib(tasklane.pid)  # after seeding and warm-up requests
        for scenario in scenarios:
            systems = [s for s in SYSTEMS if s in scenario.targets]
            passes: dict[str, list[Pass]] = {s: [] for s in systems}
            for round_ in range(args.rounds):
                for system in systems if round_ % 2 == 0 else reversed(systems):
                    t = scenario.targets[system]
                    if scenario.before_pass:
                        scenario.before_pass(system)
                    spy = None
                    if args.py_spy and system == "tasklane":
                        stacks = (
                            args.out.parent
                            / f"py-spy-{re.sub(r'[^a-z0-9]+', '-', scenario.name.lower())}.txt"
                        )
                        stacks.parent.mkdir(parents=True, exist_ok=True)
                        spy = (stacks, py_spy(args.py_spy, t.pid, args.duration, stacks))
                    result = wrk(
                        t.url,
                        t.script(),
                        duration=args.duration,
                        connections=args.connections,
                        probe=probe,
                        server_pid=t.pid,
                    )
                    if spy:
                        spy[1].wait(timeout=120)
                        summarise_stacks(spy[0], scenario.name)
                    passes[system].append(result)
                    print(
                        f"  {scenario.name} / {system}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms"
                        + (f", {result.non_2xx} non-2xx" if result.non_2xx else ""),
                        file=sys.stderr,
                        flush=True,
                    )
            outcomes += [Outcome(scenario.name, s, passes[s]) for s in systems]

        if args.only in "mixed read/write":
            mixed = spread(data.tasks, args.mix_tasks, rng)
            reads = [f"{API}/projects/{p}/tasks/{t}" for p, t in mixed]
            creates = [
                (f"{API}/projects/{p}/tasks", create.format(a=data.assignees[p], extra=""))
                for p in data.projects
            ]
            login_form = f"username={quote(data.member_email)}&password={quote(PASSWORD)}"
            mix_passes: list[Pass] = []
            for _ in range(args.rounds):
                # Refresh tokens to spend, one session each (argon2 makes each login take a while).
                with httpx.Client(base_url=tasklane.url, timeout=60) as http:
                    tokens = [
                        login(http, data.member_email)["refresh_token"] for _ in range(args.connections + 8)
                    ]
                # Every task read first, in each pass (the logins above outlast the cache's TTL): the
                # hit rate then says what writes end, not what was never read or has expired.
                warm(reads)("tasklane")
                script = mix_script(reads, reads, creates, tokens, login_form, auth)
                result = wrk(
                    tasklane.url,
                    script,
                    duration=args.duration,
                    connections=args.connections,
                    probe=probe,
                    server_pid=tasklane.pid,
                )
                mix_passes.append(result)
                print(
                    f"  mixed / tasklane: {result.rps:.0f} req/s, {result.mix}", file=sys.stderr, flush=True
                )
            outcomes.append(Outcome("mixed read/write", "tasklane", mix_passes))
        size = mongo[db_name].command("dbStats")
        served = sum(p.requests for o in outcomes if o.system == "tasklane" for p in o.passes)
        memory = {"before_mib": rss_before, "after_mib": rss_mib(tasklane.pid), "requests": served}
    report(outcomes, args, eve_note, data, size, memory)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(
    outcomes: list[Outcome],
    args: argparse.Namespace,
    eve_note: str,
    data: TasklaneData,
    size: dict[str, Any],
    memory: dict[str, float],
) -> None:
    by = {(o.scenario, o.system): o for o in outcomes}
    names = list(dict.fromkeys(o.scenario for o in outcomes))
    setup = (
        f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} pass(es) each, "
        f"{args.workers} worker(s) per system; "
        f"Tasklane: {args.projects} projects x {args.tasks_per_project} tasks "
        f"(+ {data.counts.get('comments', 0)} comments, {data.counts.get('activity', 0)} activity records); "
        f"peers: {args.peer_tasks} tasks"
    )
    lines = [f"Tasklane and its peers ({setup})", ""]
    lines.append(
        "| endpoint | raw FastAPI + Motor | Eve 2.3.1 | Tasklane | Tasklane ÷ raw | Tasklane ÷ Eve |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|")

    def passes(o: Outcome | None) -> str:
        return " / ".join(f"{p.rps:,.0f}" for p in o.passes) if o else ""

    def ratio(a: Outcome | None, b: Outcome | None) -> str:
        return f"{a.rps / b.rps:.2f}" if a and b and b.rps else ""

    for name in names:
        tl = by.get((name, "tasklane"))
        if name.endswith(", hit"):
            # No cache in the peers: what their users get is the peers' read (the miss row's figure).
            base = name.replace(", hit", ", miss")
            raw, ev = by.get((base, "raw")), by.get((base, "eve"))
            st = by.get((name, "static"))
            label = f"{name} (static bytes: {passes(st)}; Tasklane = {ratio(tl, st)} of static)"
            cells = [label, f"({passes(raw)})", f"({passes(ev)})", passes(tl), ratio(tl, raw), ratio(tl, ev)]
            lines.append("| " + " | ".join(cells) + " |")
        else:
            raw, ev = by.get((name, "raw")), by.get((name, "eve"))
            cells = [name, passes(raw), passes(ev), passes(tl), ratio(tl, raw), ratio(tl, ev)]
            lines.append("| " + " | ".join(cells) + " |")
        for label, metric, digits in (
            ("server CPU ms", "server_cpu_ms", 2),
            ("database CPU ms", "db_cpu_ms", 2),
            ("database ops", "db_ops", 2),
            ("Redis ops", "redis_ops", 2),
        ):
            if name.endswith(", hit") and metric != "server_cpu_ms":
                continue
            cells = []
            for system in ("raw", "eve", "tasklane"):
                o = by.get((name, system))
                cells.append(fmt(o.mean(metric), digits) if o else "")
            lines.append(f"| {label} per request | {' | '.join(cells)} | | |")
    lines += [
        "",
        "Per system and endpoint (passes averaged; CPU, ops per request). The work of requests still "
        "running when wrk stops is divided among those completed: with few completed, the per-request "
        "figures are not meaningful.",
        "",
    ]
    lines.append(
        "| endpoint | system | completed | req/s | p50 ms | p99 ms | server CPU ms | DB CPU ms | "
        "Redis CPU ms | DB ops | Redis ops | non-2xx | timeouts |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for o in outcomes:
        p50 = sum(p.p50_ms for p in o.passes) / len(o.passes)
        p99 = sum(p.p99_ms for p in o.passes) / len(o.passes)
        lines.append(
            f"| {o.scenario} | {TITLES[o.system]} | {sum(p.requests for p in o.passes):,} | {o.rps:,.0f} | "
            f"{p50:.1f} | {p99:.1f} | "
            f"{fmt(o.mean('server_cpu_ms'))} | {fmt(o.mean('db_cpu_ms'))} | {fmt(o.mean('redis_cpu_ms'))} | "
            f"{fmt(o.mean('db_ops'))} | {fmt(o.mean('redis_ops'))} | {sum(p.non_2xx for p in o.passes)} | "
            f"{sum(p.timeouts for p in o.passes)} |"
        )
    mix = by.get(("mixed read/write", "tasklane"))
    if mix:
        totals: dict[str, int] = {}
        for p in mix.passes:
            for k, v in (p.mix or {}).items():
                totals[k] = totals.get(k, 0) + v
        reads = totals.get("hits", 0) + totals.get("misses", 0)
        rate = totals.get("hits", 0) / reads * 100 if reads else 0.0
        lines += [
            "",
            f"Mixed workload ({args.mix_tasks} tasks read at random over {args.projects} projects): "
            f"task-detail reads {totals.get('hits', 0)} hits / {reads} ({rate:.1f}% hit rate); "
            f"requests: {totals.get('reads', 0)} reads, {totals.get('updates', 0)} updates, "
            f"{totals.get('creates', 0)} creates, {totals.get('refreshes', 0)} refreshes, "
            f"{totals.get('logins', 0)} logins; {totals.get('errors', 0)} errors.",
        ]
    if eve_note:
        lines += ["", eve_note]
    lines += [
        "",
        f"Tasklane database: {size.get('objects', '?')} documents, "
        f"{size.get('dataSize', 0) / 2**20:.0f} MiB data.",
        f"Tasklane RSS: {memory['before_mib']:.1f} MiB before the runs, {memory['after_mib']:.1f} MiB after "
        f"{memory['requests']:,.0f} requests ({memory['after_mib'] / memory['before_mib'] - 1:+.1%}).",
    ]
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "setup": setup,
                "eve": eve_note or "included",
                "seeding": {"seconds": data.seconds, **data.counts},
                "memory": memory,
                "results": [
                    {
                        "scenario": o.scenario,
                        "system": o.system,
                        "rps": o.rps,
                        "passes": [asdict(p) for p in o.passes],
                    }
                    for o in outcomes
                ],
                "table": lines,
            },
            indent=2,
        )
    )
    print(f"\n(written to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
