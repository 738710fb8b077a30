"""The `tasklane` command for developers and ops."""

from pathlib import Path
from typing import Annotated

import typer

from backend.core.config import get_settings

app = typer.Typer(help="Tasklane: run the API and manage its contract.", no_args_is_help=True)
openapi_app = typer.Typer(help="The OpenAPI contract in api-specification.yaml.", no_args_is_help=True)
app.add_typer(openapi_app, name="openapi")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

SpecPath = Annotated[Path | None, typer.Option(help="Contract file; default OPENAPI_SPEC_PATH.")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each needs real servers to share state).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Run the API with uvicorn. Without MONGODB_URL/REDIS_URL it runs on in-memory stores."""
    import uvicorn

    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@openapi_app.command("export")
def openapi_export(path: SpecPath = None) -> None:
    """Write the app's OpenAPI document to the contract file (sorted keys, so diffs stay small)."""
    from backend.core.openapi import export_yaml
    from backend.main import create_app

    target = path or get_settings().openapi_spec_path
    target.write_text(export_yaml(create_app().openapi()), encoding="utf-8")
    typer.echo(f"wrote {target}")


@openapi_app.command("check")
def openapi_check(path: SpecPath = None) -> None:
    """Exit 1 and print the diff when the contract file differs from what the app serves."""
    from backend.core.openapi import drift
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
