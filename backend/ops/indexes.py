"""`tasklane indexes check|apply`: the index drift report and its fix, with exit codes for ops.

Exit codes: 0 in sync (extra indexes are reported but pass, unless `--strict`), 1 drift remains
(missing, differing or renamed indexes, or an index that failed to build), 2 MongoDB cannot be
used (unreachable, refused, misconfigured), 64 usage (a wrong option; see backend/cli.py).
"""

import asyncio
import json
from dataclasses import asdict, dataclass, field

import typer
from pymongo.errors import ConfigurationError, ConnectionFailure, InvalidURI, PyMongoError
from pymongo.uri_parser import parse_uri

from backend.core.config import MongoSettings
from backend.core.storage.db import make_client
from backend.core.storage.indexes import Applied, DriftRow, apply, check
from backend.documents import DOCUMENT_MODELS
from backend.ops.target import NoTarget, mongo_target

IN_SYNC, DRIFT, ERROR = 0, 1, 2


@dataclass
class Report:
    """Everything one run found and did, printed as a table or as JSON (`--json`)."""

    indexes: list[DriftRow] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    after: list[DriftRow] | None = None
    dry_run: bool = False
    error: str | None = None
    exit_code: int = IN_SYNC

    def print(self, *, as_json: bool) -> None:
        if as_json:
            typer.echo(json.dumps(asdict(self), indent=1))
            return
        if self.error is not None:
            typer.echo(f"error: {self.error}", err=True)
            return
        _print_rows(self.indexes)
        for done in self.applied:
            outcome = done.result if done.error is None else f"failed: {done.error}"
            typer.echo(f"{done.action} {done.collection}.{done.name}: {outcome}")
        if self.after is not None:
            typer.echo("after apply:")
            _print_rows(self.after)
        if self.dry_run:
            typer.echo("dry run: nothing changed")


def _print_rows(rows: list[DriftRow]) -> None:
    if not rows:
        typer.echo("indexes in sync")
        return
    header = DriftRow("collection", "index", "status", "definition", "fix")
    widths = [max(len(getattr(row, f)) for row in [header, *rows]) for f in ("collection", "name", "status")]
    for row in [header, *rows]:
        typer.echo(
            f"{row.collection:<{widths[0]}}  {row.name:<{widths[1]}}  {row.status:<{widths[2]}}  "
            f"{row.definition}" + (f"  -> {row.fix}" if row is not header else "  -> fix")
        )


async def _run(
    settings: MongoSettings, *, apply_changes: bool, dry_run: bool, drop_extra: bool, strict: bool
) -> Report:
    mongo = make_client(settings)
    report = Report(dry_run=dry_run and apply_changes)
    try:
        drift = await check(mongo.database, DOCUMENT_MODELS)
        report.indexes = drift.rows()
        if apply_changes and not dry_run and not drift.in_sync:
            report.applied = await apply(mongo.database, drift, drop_extra=drop_extra)
            if report.applied:
                drift = await check(mongo.database, DOCUMENT_MODELS)
                report.after = drift.rows()
        failed = any(done.error for done in report.applied)
        report.exit_code = DRIFT if failed or drift.needs_fixing(strict=strict) else IN_SYNC
        return report
    finally:
        await mongo.close()


def run(*, apply: bool, dry_run: bool, drop_extra: bool, strict: bool, url: str | None, as_json: bool) -> int:
    report = _report(apply=apply, dry_run=dry_run, drop_extra=drop_extra, strict=strict, url=url)
    report.print(as_json=as_json)
    return report.exit_code


def _report(*, apply: bool, dry_run: bool, drop_extra: bool, strict: bool, url: str | None) -> Report:
    try:
        settings = mongo_target(url)
    except NoTarget as exc:
        return Report(error=str(exc), exit_code=ERROR)
    target = str(settings.mongodb_url)
    try:
        hosts = ", ".join(f"{host}:{port}" for host, port in parse_uri(target)["nodelist"]) or "?"
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        return Report(error=f"the MongoDB URL is invalid: {_first_line(exc)}", exit_code=ERROR)
    options = {"apply_changes": apply, "dry_run": dry_run, "drop_extra": drop_extra, "strict": strict}
    try:
        return asyncio.run(_run(settings, **options))
    except ConnectionFailure as exc:
        return Report(error=f"cannot reach MongoDB at {hosts} ({type(exc).__name__})", exit_code=ERROR)
    except (ConfigurationError, PyMongoError, ValueError) as exc:
        # One line for the operator: the driver's text names hosts but never the password.
        reason = f"({type(exc).__name__}): {_first_line(exc)}"
        return Report(error=f"cannot use MongoDB at {hosts} {reason}", exit_code=ERROR)


def _first_line(exc: BaseException) -> str:
    return str(exc).split(", Timeout:")[0].split("\n")[0]
