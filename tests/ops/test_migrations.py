"""Document migrations as ops run them: recorded, locked, resumable, reversible, and readiness
refusing to say ready while any is pending."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI

from backend.core.security import digest
from backend.core.storage.db import Database
from backend.core.time import utcnow
from backend.migrations import MIGRATIONS
from backend.migrations.migration import MigrationFailed
from backend.migrations.runner import APPLIED, Lock, Locked, applied_versions, down, pending, up
from backend.resources import resources_of
from backend.testing import UserFactory, problem


async def as_before_migrations(db: Database) -> None:
    """The database as a release without migrations left it: nothing recorded."""
    await db[APPLIED].delete_many({})


async def legacy_user(db: Database, email: str) -> ObjectId:
    """An account stored by the previous release: email_normalized was email.strip().lower()."""
    result = await db["users"].insert_one(
        {
            "email": email.strip().lower(),
            "email_normalized": email.strip().lower(),
            "display_name": "Legacy",
            "password_hash": "x",
            "role": "user",
            "disabled": False,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
    )
    return ObjectId(result.inserted_id)


async def legacy_refresh_token(db: Database, user_id: Any) -> str:
    secret = f"tlr_{uuid.uuid4().hex}"
    await db["refresh_tokens"].insert_one(
        {
            "token_hash": digest(secret),
            "family_id": uuid.uuid4().hex,  # the previous release's family ids were uuid hex
            "user_id": user_id,
            "created_at": utcnow(),
            "expires_at": utcnow() + timedelta(days=1),
            "used_at": None,
            "revoked_at": None,
        }
    )
    return secret


async def test_a_new_database_starts_migrated(client: httpx.AsyncClient, db: Database) -> None:
    assert await pending(db) == []
    assert (await client.get("/health/ready")).status_code == 200


async def test_readiness_names_pending_migrations_until_they_are_applied(
    client: httpx.AsyncClient, db: Database
) -> None:
    await as_before_migrations(db)

    body = problem(await client.get("/health/ready"), 503, "MIGRATIONS_PENDING")
    steps = await up(db)

    assert body["pending"] == [f"{m.version:04d}_{m.name}" for m in MIGRATIONS]
    assert [s.version for s in steps] == [m.version for m in MIGRATIONS]
    assert (await client.get("/health/ready")).status_code == 200


async def test_a_legacy_refresh_token_works_after_the_upgrade(
    client: httpx.AsyncClient, db: Database, users: UserFactory
) -> None:
    alice = await users.create()
    await as_before_migrations(db)
    old = await legacy_refresh_token(db, ObjectId(alice.id))

    await up(db)
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": old})

    assert refreshed.status_code == 200, refreshed.text
    me = await client.get(
        "/api/v1/users/me/sessions", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert any(s["current"] for s in me.json()["items"])


async def test_emails_are_renormalised_and_log_in_by_any_spelling(
    client: httpx.AsyncClient, db: Database
) -> None:
    await as_before_migrations(db)
    user_id = await legacy_user(db, "\uff21da@x.example")  # stored by the old rule: full-width A kept

    await up(db)

    stored = await db["users"].find_one({"_id": user_id})
    assert stored is not None
    assert stored["email_normalized"] == "ada@x.example"


async def test_up_twice_changes_nothing_the_second_time(db: Database) -> None:
    await as_before_migrations(db)
    await legacy_user(db, "\uff22ob@x.example")

    first = await up(db)
    await db[APPLIED].delete_many({})  # as if the run had died before recording anything
    second = await up(db)

    assert [s.changed for s in first] >= [1, 0]
    assert [s.changed for s in second] == [0] * len(MIGRATIONS)


async def test_down_undoes_and_up_redoes(db: Database) -> None:
    await as_before_migrations(db)
    user_id = await legacy_user(db, "\uff23arl@x.example")
    await legacy_refresh_token(db, user_id)
    await up(db)

    await down(db, to=0)

    assert await applied_versions(db) == set()
    assert await db["sessions"].count_documents({"migrated_from_family": {"$exists": True}}) == 0
    await up(db)
    assert await applied_versions(db) == {m.version for m in MIGRATIONS}


async def test_two_accounts_that_become_one_address_stop_the_migration(db: Database) -> None:
    await as_before_migrations(db)
    await legacy_user(db, "\uff44an@x.example")
    await legacy_user(db, "dan@x.example")

    with pytest.raises(MigrationFailed, match="would share an email address"):
        await up(db)

    assert 1 not in await applied_versions(db)


async def test_a_second_runner_waits_for_the_lock(db: Database) -> None:
    holder = Lock(db)
    await holder.acquire()
    await as_before_migrations(db)
    try:
        with pytest.raises(Locked):
            await up(db)
    finally:
        await holder.release()
    assert len(await up(db)) == len(MIGRATIONS)


@pytest.mark.real_servers
def test_the_command_reports_and_exits_as_ops_expect(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from backend.cli import app as cli
    from backend.core.config import get_settings

    monkeypatch.setenv("MONGODB_DB", resources_of(app).settings.mongodb_db)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        synced = runner.invoke(cli, ["migrate", "status", "--json"])
        undone = runner.invoke(cli, ["migrate", "down", "--to", "0"])
        waiting = runner.invoke(cli, ["migrate", "status"])
        dry = runner.invoke(cli, ["migrate", "up", "--dry-run"])
        done = runner.invoke(cli, ["migrate", "up", "--json"])
    finally:
        get_settings.cache_clear()

    assert (synced.exit_code, json.loads(synced.output)["pending"]) == (0, [])
    assert undone.exit_code == 0, undone.output
    assert waiting.exit_code == 1
    assert "pending: 0001_email_nfkc, 0002_sessions_for_refresh_families" in waiting.output
    assert dry.exit_code == 0
    assert "would change" in dry.output
    assert done.exit_code == 0
    assert [s["version"] for s in json.loads(done.output)["steps"]] == [m.version for m in MIGRATIONS]


async def test_accounts_without_a_handle_get_a_unique_one_and_log_in(
    client: httpx.AsyncClient, db: Database, users: UserFactory
) -> None:
    taken = await users.create(email="grace@new.example")  # registered with handle `grace`
    await as_before_migrations(db)
    first = await legacy_user(db, "grace@old.example")
    second = await legacy_user(db, "Grace@older.example")

    dry = await up(db, dry_run=True)
    assert [s.changed for s in dry if s.version == 5] == [2]
    assert await db["users"].count_documents({"handle": None}) == 2

    await up(db)

    handles = {
        u["_id"]: u["handle"] for u in await db["users"].find({"_id": {"$in": [first, second]}}).to_list(None)
    }
    assert taken.handle == "grace"
    assert sorted(handles.values()) == ["grace2", "grace3"]
    await db[APPLIED].delete_many({})
    assert [s.changed for s in await up(db) if s.version == 5] == [0]
