"""Every benchmark, end to end on small data, failing on any error: CI runs this so that none of
them rots between the times someone measures (peers.py's seeding failed for two issues unnoticed).

    .venv/bin/python -m benchmarks.smoke

It measures nothing worth reading: each run is a second or two on a few dozen documents. It checks
that each benchmark seeds, drives every endpoint and reports without a failed request. load.py and
attachments.py use MONGODB_URL/REDIS_URL when set (else in memory); peers.py and webhooks.py start
servers of their own. Needs wrk and redis-server (Debian packages) and SecantusDB (PyPI).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run(name: str, *arguments: str, own_servers: bool = False) -> None:
    env = dict(os.environ)
    if own_servers:  # the benchmark starts and watches servers of its own
        for variable in ("MONGODB_URL", "REDIS_URL", "DB_PID", "REDIS_PID"):
            env.pop(variable, None)
    command = [sys.executable, "-m", f"benchmarks.{name}", *arguments]
    print(f"== {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        # The ends: a failed insert's error can hold every document of its batch.
        raise SystemExit(
            f"benchmarks.{name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    print(f"   ok in {time.monotonic() - started:.0f} s", flush=True)


def failed_requests(report: dict[str, Any]) -> list[str]:
    """Every run of peers.py's report with a failed request, a timeout or no request at all."""
    found = []
    for result in report["results"]:
        for number, run_pass in enumerate(result["passes"], 1):
            mix_errors = (run_pass.get("mix") or {}).get("errors", 0)
            if run_pass["non_2xx"] or run_pass["timeouts"] or not run_pass["requests"] or mix_errors:
                found.append(f"{result['scenario']} / {result['system']}, pass {number}: {run_pass}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tasklane-bench-smoke-") as folder:
        out = Path(folder)
        run("load", "--duration", "1", "--rounds", "1", "--tasks", "5", "--rss-requests", "0",
            "--out", str(out / "load.json"))  # fmt: skip
        run("hit_cost", "--requests", "50", "--rounds", "1")
        run("attachments", "--mb", "2", "--rounds", "1", "--concurrency", "2")
        run("webhooks", "--deliveries", "20", "--changes", "5", own_servers=True)
        peers = out / "peers.json"
        run("peers", "--duration", "1", "--rounds", "1", "--no-eve", "--projects", "2",
            "--tasks-per-project", "30", "--peer-tasks", "60", "--spread", "20", "--hot", "5",
            "--mix-tasks", "10", "--out", str(peers), own_servers=True)  # fmt: skip
        failures = failed_requests(json.loads(peers.read_text()))
        if failures:
            raise SystemExit("benchmarks.peers: failed requests\n" + "\n".join(failures))
    print("every benchmark ran")


if __name__ == "__main__":
    main()
