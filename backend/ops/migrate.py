"""`tasklane migrate status|up|down`: document migrations as ops run them.

Exit codes, as `tasklane indexes`: 0 done or in sync, 1 migrations pending (`status`), 2 MongoDB
cannot be used or a migration failed (what was completed stays recorded; run `up` again), 64
usage. `--json` prints one JSON document instead of lines.
"""

import asyncio
import json
from dataclasses import asdict, dataclass, field

import typer
from pymongo.errors import ConnectionFailure, PyMongoError

from backend.core.config import MongoSettings
from backend.core.storage.db import make_client
from backend.migrations import MIGRATIONS
from backend.migrations.migration import MigrationFailed
from backend.migrations.runner import Locked, Step, applied_versions, down, up
from backend.ops.target import NoTarget, mongo_target

DONE, PENDING, ERROR = 0, 1, 2


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    dry_run: bool = False
    error: str | None = None
    exit_code: int = DONE

    def print(self, *, as_json: bool) -> None:
        if as_json:
            typer.echo(json.dumps(asdict(self), indent=1))
            return
        for step in self.steps:
            verb = "would change" if self.dry_run else "changed"
            typer.echo(
                f"{step.direction} {step.version:04d} {step.name}: {verb} {step.changed} documents "
                f"in {step.seconds:.2f} s"
            )
        if self.error is not None:
            typer.echo(f"error: {self.error}", err=True)
            return
        typer.echo(f"applied: {', '.join(self.applied) or 'none'}")
        typer.echo(f"pending: {', '.join(self.pending) or 'none'}")


def _label(version: int, name: str) -> str:
    return f"{version:04d}_{name}"


async def _run(settings: MongoSettings, action: str, *, to: int | None, dry_run: bool) -> MigrationReport:
    mongo = make_client(settings)
    report = MigrationReport(dry_run=dry_run)
    try:
        database = mongo.database
        if action == "up":
            await up(database, to=to, dry_run=dry_run, on_step=report.steps.append)
        elif action == "down":
            await down(database, to=to or 0, dry_run=dry_run, on_step=report.steps.append)
        done = await applied_versions(database)
        report.applied = [_label(m.version, m.name) for m in MIGRATIONS if m.version in done]
        report.pending = [_label(m.version, m.name) for m in MIGRATIONS if m.version not in done]
        if action == "status" and report.pending:
            report.exit_code = PENDING
        return report
    finally:
        await mongo.close()


def run(action: str, *, to: int | None, dry_run: bool, url: str | None, as_json: bool) -> int:
    report = _report(action, to=to, dry_run=dry_run, url=url)
    report.print(as_json=as_json)
    return report.exit_code


def _report(action: str, *, to: int | None, dry_run: bool, url: str | None) -> MigrationReport:
    try:
        settings = mongo_target(url)
    except NoTarget as exc:
        return MigrationReport(error=str(exc), exit_code=ERROR)
    try:
        return asyncio.run(_run(settings, action, to=to, dry_run=dry_run))
    except (MigrationFailed, Locked) as exc:
        return MigrationReport(error=str(exc), exit_code=ERROR)
    except ConnectionFailure as exc:
        return MigrationReport(error=f"cannot reach MongoDB ({type(exc).__name__})", exit_code=ERROR)
    except PyMongoError as exc:
        reason = str(exc).split("\n")[0]
        return MigrationReport(error=f"MongoDB refused ({type(exc).__name__}): {reason}", exit_code=ERROR)
