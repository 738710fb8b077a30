"""Bootstrapping the first global admin from the command line."""

from backend.access.facts import AccessFacts
from backend.core.caching.stores import MemoryStore, QuietStore
from backend.core.caching.values import JsonValues
from backend.core.config import Settings
from backend.core.pagination import CursorCodec
from backend.core.security import PasswordHasher, derive_key
from backend.core.storage.db import connect
from backend.documents import DOCUMENT_MODELS
from backend.users.documents import GlobalRole
from backend.users.repository import UserRepository
from backend.users.schemas import UserRegister
from backend.users.service import UserService


async def ensure_admin(settings: Settings, *, email: str, password: str, display_name: str) -> bool:
    """Make `email` a global admin: register it when new (True), or promote the existing account (False)."""
    data = UserRegister(email=email, password=password, display_name=display_name)
    mongo = await connect(settings, DOCUMENT_MODELS)
    try:
        accounts = JsonValues(
            QuietStore(MemoryStore()), settings.cache_ttl_seconds
        )  # one-off: nothing to share
        users = UserService(
            PasswordHasher(settings), CursorCodec(derive_key(settings, "cursor")), accounts, AccessFacts()
        )
        existing = await users.find_by_email(data.email)
        if existing is None:
            await users.register(data, role=GlobalRole.ADMIN)
            return True
        await UserRepository().set(existing, {"role": GlobalRole.ADMIN, "disabled": False})
        return False
    finally:
        await mongo.close()
