"""The benchmark commands the docs show start as shown (one once failed with ModuleNotFoundError
when run as a file path, as its README said to)."""

import re
import subprocess
import sys

import pytest

from backend.core.config import REPO_ROOT

BENCHMARKS = REPO_ROOT / "benchmarks"
PAGES = [*BENCHMARKS.glob("*.md"), *BENCHMARKS.glob("*.py")]
# `.venv/bin/python -m benchmarks.load` or `.venv/bin/python benchmarks/load.py`, as written.
COMMAND = re.compile(r"\.venv/bin/python (-m benchmarks\.\w+|benchmarks/\w+\.py)")


def documented() -> list[str]:
    return sorted({match for page in PAGES for match in COMMAND.findall(page.read_text())})


def runnable() -> list[str]:
    scripts = (path for path in BENCHMARKS.glob("*.py") if '__name__ == "__main__"' in path.read_text())
    return sorted(path.stem for path in scripts)


def test_every_benchmark_is_documented_as_a_command() -> None:
    shown = {command.removeprefix("-m benchmarks.") for command in documented()}
    assert set(runnable()) <= shown


@pytest.mark.parametrize("command", documented())
def test_documented_benchmark_command_starts(command: str) -> None:
    ran = subprocess.run(
        [sys.executable, *command.split(), "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("usage:")
