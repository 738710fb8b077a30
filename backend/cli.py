"""The `tasklane` command for developers and ops."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

# typer vendors click (0.29): its usage errors are these, not the click package's.
from typer._click.exceptions import UsageError

from backend.core.config import Settings, describe_invalid, get_settings

if TYPE_CHECKING:
    from backend.ops.seed import Login

app = typer.Typer(help="Tasklane: run the API and manage its contract.", no_args_is_help=True)
openapi_app = typer.Typer(help="The OpenAPI contract in api-specification.yaml.", no_args_is_help=True)
app.add_typer(openapi_app, name="openapi")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
indexes_app = typer.Typer(
    help="MongoDB indexes: declared on the documents, compared with the live ones. Exit codes: 0 in "
    "sync (extra indexes pass unless --strict), 1 drift remains, 2 MongoDB cannot be used, 64 usage.",
    no_args_is_help=True,
)
app.add_typer(indexes_app, name="indexes")
migrate_app = typer.Typer(
    help="Document migrations, recorded in the database; run `up` before a new version's API. Exit codes: "
    "0 done or in sync, 1 pending (status), 2 MongoDB cannot be used or a migration failed, 64 usage.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")

SpecPath = Annotated[Path | None, typer.Option(help="Contract file; default OPENAPI_SPEC_PATH.")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    demo: Annotated[bool, typer.Option("--demo", help="Start with demo data (sets DEMO_DATA=true).")] = False,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            envvar="WEB_CONCURRENCY",
            help="Worker processes (each needs real servers to share state); default WEB_CONCURRENCY or 1.",
        ),
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto to trust (comma-separated IPs or CIDRs, `*` for "
            "any); overrides FORWARDED_ALLOW_IPS. Default: none."
        ),
    ] = None,
) -> None:
    """Run the API with uvicorn. Without MONGODB_URL/REDIS_URL it runs on in-memory stores."""
    import os

    import uvicorn

    if demo:
        os.environ["DEMO_DATA"] = "true"
    settings = valid_settings()
    _in_memory_stores_installed(settings)
    if workers > 1:
        _share_metrics_between(workers)
    trusted = settings.forwarded_allow_ips if forwarded_allow_ips is None else forwarded_allow_ips

    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,
        # SIGTERM: in-flight requests get this long to finish (backend/core/http/drain.py).
        timeout_graceful_shutdown=settings.drain_timeout_seconds,
        # uvicorn would trust 127.0.0.1 by default: a client on the host could pick its own address
        # (and so its rate-limit bucket). Forwarded headers count only from the configured proxies.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "",
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once; default WORKER_CONCURRENCY (20).")
    ] = None,
) -> None:
    """Run a background worker: webhook delivery, the outbox relay and sweep, scheduled jobs (the
    purge of old deliveries). Run as many as wanted, on any machine; they share the queue on
    REDIS_URL. Needs MONGODB_URL and REDIS_URL: without them the API runs the worker itself.
    SIGTERM or SIGINT stops it, letting attempts under way finish."""
    import asyncio

    from backend.main import run_worker

    settings = valid_settings()
    if settings.in_memory_mongo or settings.in_memory_redis:
        typer.echo(
            "error: a worker process needs MONGODB_URL and REDIS_URL (without them, `tasklane serve` "
            "runs the worker in the API process)",
            err=True,
        )
        raise typer.Exit(2)
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    asyncio.run(run_worker(settings))


def _share_metrics_between(workers: int) -> None:
    """Workers write their metrics to files in PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder
    unless set), which /metrics adds up: a scrape answered by any worker shows every worker's counts.
    Set before any worker imports prometheus_client; a previous run's files are removed."""
    import os
    import tempfile

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"tasklane-metrics-{workers}w-")


def _in_memory_stores_installed(settings: Settings) -> None:
    """Exit 2 with one line when a store's URL is unset and its in-memory stand-in is not installed."""
    from backend.core.storage.in_memory import in_memory_package

    wanted = [("mongomock_motor", "MONGODB_URL", settings.in_memory_mongo)]
    wanted.append(("fakeredis", "REDIS_URL", settings.in_memory_redis))
    for module, setting, needed in wanted:
        if needed:
            try:
                in_memory_package(module, setting)
            except RuntimeError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None


def valid_settings() -> Settings:
    """The settings, or exit 2 with one line per invalid setting (no traceback for an operator)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for line in describe_invalid(exc):
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2) from None


@openapi_app.command("export")
def openapi_export(path: SpecPath = None) -> None:
    """Write the app's OpenAPI document to the contract file (sorted keys, so diffs stay small)."""
    from backend.core.http.openapi import export_yaml
    from backend.main import create_app

    target = path or get_settings().openapi_spec_path
    target.write_text(export_yaml(create_app().openapi()), encoding="utf-8")
    typer.echo(f"wrote {target}")


@openapi_app.command("check")
def openapi_check(path: SpecPath = None) -> None:
    """Exit 1 and print the diff when the contract file differs from what the app serves."""
    from backend.core.http.openapi import drift
    from backend.main import create_app

    target = path or get_settings().openapi_spec_path
    lines = drift(create_app(), target)
    if lines:
        typer.echo("\n".join(lines))
        typer.echo(f"{target} is out of date: run `tasklane openapi export` and commit it.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{target} matches the app.")


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email (also the login).")],
    display_name: Annotated[str, typer.Option(help="Name shown to others.")] = "Administrator",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted."),
    ] = "",
) -> None:
    """Create the first global admin, or promote an existing account with this email to admin."""
    import asyncio

    from pydantic import ValidationError

    from backend.users.bootstrap import ensure_admin

    settings = get_settings()
    if settings.mongodb_url is None:
        typer.echo(
            "MONGODB_URL is not set: the admin would live in a throwaway in-memory database.", err=True
        )
        raise typer.Exit(2)
    try:
        created = asyncio.run(
            ensure_admin(settings, email=email, password=password, display_name=display_name)
        )
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{'created' if created else 'promoted'} admin {email.strip().lower()}")


Url = Annotated[str | None, typer.Option("--url", help="MongoDB connection string (default: MONGODB_URL).")]
Json = Annotated[bool, typer.Option("--json", help="One JSON document on stdout instead of the table.")]
Strict = Annotated[bool, typer.Option("--strict", help="Extra (undeclared) indexes count as drift (exit 1).")]


@indexes_app.command("check")
def indexes_check(url: Url = None, as_json: Json = False, strict: Strict = False) -> None:
    """Report missing, renamed, differing and extra indexes, each with the command that fixes it;
    change nothing."""
    from backend.ops.indexes import run

    raise typer.Exit(
        run(apply=False, dry_run=True, drop_extra=False, strict=strict, url=url, as_json=as_json)
    )


@indexes_app.command("apply")
def indexes_apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    drop_extra: Annotated[
        bool,
        typer.Option(
            "--drop-extra",
            help="Also drop indexes not declared (never _id_), and rebuild differing and renamed ones.",
        ),
    ] = False,
    url: Url = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """Create the missing indexes (idempotent), going on past any that fails and reporting each.
    Drops nothing unless --drop-extra."""
    from backend.ops.indexes import run

    raise typer.Exit(
        run(apply=True, dry_run=dry_run, drop_extra=drop_extra, strict=strict, url=url, as_json=as_json)
    )


DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")]


@migrate_app.command("status")
def migrate_status(url: Url = None, as_json: Json = False) -> None:
    """List applied and pending migrations; exit 1 while any is pending."""
    from backend.ops.migrate import run

    raise typer.Exit(run("status", to=None, dry_run=True, url=url, as_json=as_json))


@migrate_app.command("up")
def migrate_up(
    to: Annotated[int | None, typer.Option("--to", help="Stop after this version.")] = None,
    dry_run: DryRun = False,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """Apply the pending migrations in order, under a lock; each is recorded once complete, so a run
    that stopped halfway is finished by running it again."""
    from backend.ops.migrate import run

    raise typer.Exit(run("up", to=to, dry_run=dry_run, url=url, as_json=as_json))


@migrate_app.command("down")
def migrate_down(
    to: Annotated[int, typer.Option("--to", help="Undo the migrations above this version (0: all).")],
    dry_run: DryRun = False,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """Undo applied migrations above --to, newest first (refused, changing nothing, if one of them
    cannot be undone)."""
    from backend.ops.migrate import run

    raise typer.Exit(run("down", to=to, dry_run=dry_run, url=url, as_json=as_json))


@indexes_app.command("coverage")
def indexes_coverage(
    shapes_file: Annotated[
        Path, typer.Argument(help="Query shapes recorded by the test suite (TASKLANE_QUERY_SHAPES).")
    ],
) -> None:
    """Exit 1, listing them, when a recorded query shape is served by no declared index."""
    from backend.core.storage.indexes import declared
    from backend.core.storage.query_shapes import load_shapes, uncovered
    from backend.documents import DOCUMENT_MODELS

    shapes = load_shapes(shapes_file)
    missing = uncovered(shapes, declared(DOCUMENT_MODELS))
    for shape in missing:
        typer.echo(f"uncovered: {shape.describe()}")
    typer.echo(f"{len(shapes)} query shapes, {len(missing)} without an index.")
    raise typer.Exit(1 if missing else 0)


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Demo users, projects, tasks and comments.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Seed even if the database has data (adds a set).")
    ] = False,
) -> None:
    """Fill MONGODB_URL's database with demo data for the frontend team, and print the logins.

    For an in-memory API, use `tasklane serve --demo` instead: a separate process cannot fill it.
    """
    import asyncio

    from backend.main import create_app
    from backend.ops.seed import is_empty, seed_demo

    if not demo:
        typer.echo("nothing to seed: pass --demo", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    if settings.mongodb_url is None:
        typer.echo(
            "MONGODB_URL is not set: run `tasklane serve --demo` for an in-memory API with demo data.",
            err=True,
        )
        raise typer.Exit(2)

    async def run() -> int:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            if not force and not await is_empty(application):
                typer.echo("the database is not empty; pass --force to add the demo data anyway", err=True)
                return 1
            logins = await seed_demo(application)
        print_logins(logins)
        return 0

    raise typer.Exit(asyncio.run(run()))


def print_logins(logins: "list[Login]") -> None:
    typer.echo("demo logins (password for all: " + logins[0].password + "):")
    for login in logins:
        typer.echo(f"  {login.email:<32} {login.display_name}")


USAGE_ERROR = 64  # EX_USAGE (sysexits.h): told apart from 2, "MongoDB cannot be used"


def main(argv: list[str] | None = None) -> None:
    """The `tasklane` command: a wrong option or argument exits 64, not click's 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except UsageError as exc:
        exc.show()
        sys.exit(USAGE_ERROR)
    except typer.Abort:
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
