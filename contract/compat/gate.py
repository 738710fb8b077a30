"""The contract's breaking-change gate: api-specification.yaml against the last released contract.

    .venv/bin/python contract/compat/gate.py [--released contract/released.yaml]
        [--current api-specification.yaml] [--changelog CHANGELOG.md]

A changed contract needs a higher `info.version` and a `## <version>` section in CHANGELOG.md; a
breaking change needs a higher major version. What is breaking is decided by Optic's diff
(`optic diff --check`, its standard breaking-change rules) plus the two kinds it does not see,
checked here: a request parameter made required or narrowed to an enumeration (or to fewer
values), and a named enumeration that lost values a request may send or gained values an answer
may carry. Exit 0 when the contract may ship, 1 when it may not, 2 when the gate cannot run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from backend.core.http.openapi import reachable_schemas

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OPTIC = HERE / "node_modules" / "@useoptic" / "optic" / "build" / "index.js"
METHODS = ("get", "put", "post", "delete", "patch")
MAX_SHOWN = 25


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "openapi" not in document:
        raise SystemExit(f"gate: {path} is not an OpenAPI document")
    return document


def version(document: dict[str, Any]) -> tuple[int, int, int]:
    found = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", str(document["info"]["version"]))
    if found is None:
        raise SystemExit(f"gate: info.version {document['info']['version']!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def optic_breaks(released: Path, current: Path) -> list[str]:
    """Optic's breaking findings (empty when none). Optic 1.0.9 re-parses the file on every allOf
    merge; optic-memo.cjs caches that parser (same output, seconds instead of minutes)."""
    if not OPTIC.exists():
        raise SystemExit(f"gate: {OPTIC} is missing: run `npm ci --ignore-scripts` in {HERE}")
    env = {**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "NO_UPDATE_NOTIFIER": "1", "CI": "true"}
    memo, paths = str(HERE / "optic-memo.cjs"), [str(released.resolve()), str(current.resolve())]
    command = ["node", "--require", memo, str(OPTIC), "diff", *paths, "--check", "--severity", "error"]
    with tempfile.TemporaryDirectory() as scratch:  # under CI it writes ci-run-details.json there
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=scratch, check=False)
    if done.returncode == 0:
        return []
    # Its failed checks: `x [rule] message`, once each (a removed schema repeats per response).
    findings = list(
        dict.fromkeys(m.group(1) for m in re.finditer(r"^\s*x (\[.+)$", done.stdout, re.MULTILINE))
    )
    return findings or [f"optic exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}"]


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _values(document: dict[str, Any], schema: Any) -> set[Any] | None:
    """The values a parameter's schema admits, when it is an enumeration (of items, for arrays)."""
    schema = _resolve(document, schema)
    if isinstance(schema, dict) and schema.get("type") == "array":
        schema = _resolve(document, schema.get("items"))
    if isinstance(schema, dict) and "enum" in schema:
        return set(schema["enum"])
    return None


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    }


def parameter_breaks(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found: list[str] = []
    before = _operations(old)
    for name, operation in _operations(new).items():
        if name not in before:
            continue
        was = {(p["in"], p["name"]): p for p in before[name].get("parameters", [])}
        for parameter in operation.get("parameters", []):
            where = f"{name}: {parameter['in']} parameter {parameter['name']}"
            previous = was.get((parameter["in"], parameter["name"]))
            if previous is None:
                if parameter.get("required"):
                    found.append(f"{where} is new and required")
                continue
            if parameter.get("required") and not previous.get("required"):
                found.append(f"{where} became required")
            admitted, allowed = _values(old, previous.get("schema")), _values(new, parameter.get("schema"))
            if allowed is not None and (admitted is None or admitted - allowed):
                refused = "any other value" if admitted is None else sorted(admitted - allowed, key=str)
                found.append(f"{where} no longer accepts {refused}")
    return found


def enumeration_breaks(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    operations = list(_operations(new).values())
    schemas = new.get("components", {}).get("schemas", {})
    sent = reachable_schemas(
        schemas, [[op.get("requestBody", {}), op.get("parameters", [])] for op in operations]
    )
    answered = reachable_schemas(schemas, [op.get("responses", {}) for op in operations])
    found: list[str] = []
    old_schemas = old.get("components", {}).get("schemas", {})
    for name, schema in new.get("components", {}).get("schemas", {}).items():
        previous = old_schemas.get(name, {})
        if "enum" not in schema or "enum" not in previous:
            continue
        removed = [v for v in previous["enum"] if v not in schema["enum"]]
        added = [v for v in schema["enum"] if v not in previous["enum"]]
        if removed and name in sent:
            found.append(f"{name}: requests may no longer send {removed}")
        if added and name in answered:
            found.append(f"{name}: answers may carry {added}, unknown to clients of the released contract")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--released", type=Path, default=HERE.parent / "released.yaml")
    parser.add_argument("--current", type=Path, default=ROOT / "api-specification.yaml")
    parser.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    args = parser.parse_args()
    old, new = load(args.released), load(args.current)
    released, current = version(old), version(new)
    label = ".".join(map(str, current))
    if {**old, "info": {}} == {**new, "info": {}}:
        print(f"gate: the contract is the released one ({label})")
        return 0
    breaks = (
        optic_breaks(args.released, args.current) + parameter_breaks(old, new) + enumeration_breaks(old, new)
    )
    problems: list[str] = []
    if current <= released:
        problems.append(f"the contract changed but info.version {label} is not above the released one")
    if breaks and current[0] <= released[0]:
        problems.append(f"breaking changes need a new major version (released: {released[0]}.x)")
    changelog = args.changelog.read_text(encoding="utf-8") if args.changelog.exists() else ""
    if not re.search(rf"^## {re.escape(label)}\b", changelog, re.MULTILINE):
        problems.append(f"{args.changelog.name} has no '## {label}' section saying what changed")
    print(f"gate: {'.'.join(map(str, released))} (released) -> {label}; {len(breaks)} breaking change(s)")
    for line in breaks[:MAX_SHOWN]:
        print(f"  breaking: {line}")
    if len(breaks) > MAX_SHOWN:
        print(f"  ... and {len(breaks) - MAX_SHOWN} more")
    for line in problems:
        print(f"  REFUSED: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
