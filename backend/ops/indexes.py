"""`tasklane indexes check|apply`: the index drift report and its fix, with exit codes for ops."""

import asyncio

import typer
from pymongo.errors import ConfigurationError, OperationFailure, PyMongoError

from backend.core.config import get_settings
from backend.core.db import DOCUMENT_MODELS, make_client
from backend.core.indexes import Drift, apply, check

IN_SYNC, DRIFT, ERROR = 0, 1, 2


def print_table(drift: Drift) -> None:
    rows = drift.rows()
    if not rows:
        typer.echo("indexes in sync")
        return
    widths = [
        max(len(str(row[i])) for row in [("collection", "index", "status", ""), *rows]) for i in range(3)
    ]
    typer.echo(f"{'collection':<{widths[0]}}  {'index':<{widths[1]}}  {'status':<{widths[2]}}  definition")
    for collection, name, status, definition in rows:
        typer.echo(f"{collection:<{widths[0]}}  {name:<{widths[1]}}  {status:<{widths[2]}}  {definition}")


async def _run(*, apply_changes: bool, dry_run: bool, drop_extra: bool) -> int:
    settings = get_settings()
    if settings.mongodb_url is None:
        typer.echo(
            "error: MONGODB_URL is not set (indexes of the in-memory database are built at startup)", err=True
        )
        return ERROR
    mongo = make_client(settings)
    try:
        drift = await check(mongo.database, DOCUMENT_MODELS)
        print_table(drift)
        if apply_changes and not dry_run and not drift.in_sync:
            await apply(mongo.database, drift, drop_extra=drop_extra)
            drift = await check(mongo.database, DOCUMENT_MODELS)
            typer.echo("after apply:")
            print_table(drift)
        elif dry_run and apply_changes:
            typer.echo("dry run: nothing changed")
        return IN_SYNC if drift.in_sync else DRIFT
    finally:
        mongo.close()


def run(*, apply: bool, dry_run: bool, drop_extra: bool) -> int:
    try:
        return asyncio.run(_run(apply_changes=apply, dry_run=dry_run, drop_extra=drop_extra))
    except (ConfigurationError, OperationFailure, PyMongoError, ValueError) as exc:
        # One line for the operator; the driver's text names hosts but never the password.
        reason = str(exc).split(", Timeout:")[0].split("\n")[0]
        typer.echo(f"error: cannot use MongoDB ({type(exc).__name__}): {reason}", err=True)
        return ERROR
