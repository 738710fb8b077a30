#!/usr/bin/env python3
"""One entry point on a machine with only Python 3.11+: makes `.venv`, installs the pinned packages, runs.

    python3 scripts/dev.py serve [--port 8000]   the API on in-memory stores (no servers needed)
    python3 scripts/dev.py test [pytest args]    install what the tests need, then run them
    python3 scripts/dev.py lint                  ruff and mypy --strict

Installs only when pyproject.toml or constraints.txt changed since the last install.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
EXTRAS = {"serve": "[memory]", "test": "[test]", "lint": "[dev]"}


def ensure_installed(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells an older Python so
        sys.exit("Tasklane needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(
        b"".join((ROOT / name).read_bytes() for name in ("pyproject.toml", "constraints.txt"))
        + extras.encode()
    ).hexdigest()
    stamp = VENV / f".installed{extras.strip('[]') or '-base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing tasklane{extras} into {VENV}", flush=True)
    run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            "-e",
            f"{ROOT}{extras}",
        ]
    )
    stamp.write_text(digest)


def run(command: list[str]) -> None:
    code = subprocess.call(command, cwd=ROOT)
    if code:
        sys.exit(code)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in EXTRAS:
        sys.exit(__doc__)
    action, rest = sys.argv[1], sys.argv[2:]
    ensure_installed(EXTRAS[action])
    if action == "serve":
        os.execv(BIN / "tasklane", [str(BIN / "tasklane"), "serve", *rest])
    elif action == "test":
        run([str(PYTHON), "-m", "pytest", *rest])
    else:
        run([str(BIN / "ruff"), "check", "."])
        run([str(BIN / "ruff"), "format", "--check", "."])
        run([str(BIN / "mypy")])
        run([str(BIN / "mypy"), "contract/compat/gate.py"])  # a script outside the packages above


if __name__ == "__main__":
    main()
