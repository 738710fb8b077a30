"""Accounts: registration, profiles, and global roles managed by admins."""

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from backend.access.facts import AccessFacts
from backend.core.caching import keys
from backend.core.caching.values import JsonValues
from backend.core.pagination import CursorCodec, InvalidCursor, Page
from backend.core.security import PasswordHasher
from backend.core.time import utcnow
from backend.users.documents import GlobalRole, User
from backend.users.errors import EmailTaken, HandleTaken, LastAdmin, UserNotFound, WrongCurrentPassword
from backend.users.handles import first_free, handle_base, normalize_handle
from backend.users.repository import UserRepository
from backend.users.schemas import ProfileUpdate, UserAdminUpdate, UserRead, UserRegister, normalize_email

USERS_CURSOR_SCOPE = "users"
ACCOUNT_TTL = 30
_HANDLE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class Person:
    """How a person is shown in answers: their name and handle."""

    display_name: str
    handle: str

    @classmethod
    def of(cls, user: User) -> "Person":
        return cls(user.display_name, user.handle or "")


NOBODY = Person("", "")  # an account that is gone


class UserService:
    def __init__(
        self, hasher: PasswordHasher, cursors: CursorCodec, accounts: JsonValues, facts: AccessFacts
    ) -> None:
        self._hasher = hasher
        self._cursors = cursors
        self._accounts = accounts  # display data, for names in answers; never an access decision
        self._users = UserRepository()
        self._facts = facts

    async def register(self, data: UserRegister, *, role: GlobalRole = GlobalRole.USER) -> User:
        """A new account: 409 `EMAIL_TAKEN`, or `HANDLE_TAKEN` for a chosen handle another has. A
        handle made from the email is retried with the next free number if another took it first."""
        chosen = normalize_handle(data.handle) if data.handle is not None else None
        base = handle_base(data.email)
        password_hash = await asyncio.to_thread(self._hasher.hash, data.password)
        for _ in range(_HANDLE_RETRIES):
            user = User(
                email=normalize_email(data.email),
                email_normalized=normalize_email(data.email),
                display_name=data.display_name,
                handle=chosen or first_free(base, await self._users.taken_handles(base)),
                password_hash=password_hash,
                role=role,
            )
            try:
                await self._users.insert(user)
            except DuplicateKeyError as exc:
                if not _on_handle(exc):
                    raise EmailTaken() from exc
                if chosen is not None:
                    raise HandleTaken(field_errors={"handle": ["Taken."]}) from exc
                continue  # another account took the derived handle meanwhile: the next free one
            return user
        raise HandleTaken("No free handle could be made from this email; choose one.")

    async def by_handles(self, handles: list[str]) -> list[User]:
        """Accounts by lower-cased handles, in one query (mentions resolve a text's all at once)."""
        return await self._users.by_handles(handles) if handles else []

    async def find(self, user_id: PydanticObjectId | None) -> User | None:
        return None if user_id is None else await self._users.by_id(user_id)

    async def get(self, user_id: PydanticObjectId) -> User:
        user = await self._users.by_id(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def find_by_email(self, email: str) -> User | None:
        return await self._users.by_email(normalize_email(email))

    async def display_names(self, user_ids: set[PydanticObjectId]) -> dict[PydanticObjectId, str]:
        """Names for many users (see `people`)."""
        return {user_id: person.display_name for user_id, person in (await self.people(user_ids)).items()}

    async def people(self, user_ids: set[PydanticObjectId]) -> dict[PydanticObjectId, Person]:
        """Names and handles for many users: from the accounts this process follows (the callers,
        mostly), the account cache, and the rest in one query (never one per user)."""
        if not user_ids:
            return {}
        people: dict[PydanticObjectId, Person] = {}
        for user_id in user_ids:
            followed = self._facts.known_account(user_id)
            if followed is not None:
                people[user_id] = Person.of(followed.user)
        wanted = sorted(user_ids - people.keys())
        if not wanted:
            return people
        cached = await self._accounts.get_many([keys.account(u) for u in wanted])
        people.update(
            (u, Person(c["display_name"], c["handle"]))
            for u, c in zip(wanted, cached, strict=True)
            if c and "handle" in c  # an entry from before handles is read again
        )
        missing = [u for u in wanted if u not in people]
        if missing:
            found = await self._users.by_ids(missing)
            for user in found:
                assert user.id is not None
                people[user.id] = Person.of(user)
            # Kept for the next answers, in one round trip: the fields read back only.
            await self._accounts.put_many(
                {
                    keys.account(u.id): {"display_name": u.display_name, "handle": u.handle or ""}
                    for u in found
                },
                ACCOUNT_TTL,
            )
        return people

    async def update_profile(self, user: User, data: ProfileUpdate) -> tuple[User, bool]:
        """Apply the changes: the account as stored now, and whether the password changed (the
        caller then ends the other sessions)."""
        # The caller's account is a shared copy without the hash: change the stored document.
        stored = await self.get(_user_id(user))
        changes: dict[str, Any] = {}
        if data.display_name is not None:
            changes["display_name"] = data.display_name
        if data.handle is not None and normalize_handle(data.handle) != stored.handle:
            changes["handle"] = normalize_handle(data.handle)
        if data.password is not None:
            if not await asyncio.to_thread(
                self._hasher.verify, data.current_password or "", stored.password_hash
            ):
                raise WrongCurrentPassword(field_errors={"current_password": ["Does not match."]})
            changes["password_hash"] = await asyncio.to_thread(self._hasher.hash, data.password)
        if changes:
            changes["updated_at"] = utcnow()
            try:
                await self._users.set(stored, changes)
            except DuplicateKeyError as exc:
                raise HandleTaken(field_errors={"handle": ["Taken."]}) from exc
            finally:
                self._facts.forget_account(_user_id(stored))
            await self._accounts.forget(keys.account(stored.id))
        return stored, "password_hash" in changes

    async def page(
        self, *, email_prefix: str | None, cursor: str | None, limit: int, include_total: bool
    ) -> Page[UserRead]:
        conditions: dict[str, Any] = {}
        if email_prefix:
            # Anchored and escaped: an index range scan on email_normalized, never a user-supplied regex.
            conditions["email_normalized"] = {"$regex": f"^{re.escape(normalize_email(email_prefix))}"}
        query: dict[str, Any] = dict(conditions)
        if cursor:
            last_email = self._cursors.decode(USERS_CURSOR_SCOPE, cursor).get("e")
            if not isinstance(last_email, str):
                raise InvalidCursor()
            # Emails are unique: the email alone orders and resumes the list (its unique index serves it).
            last = {"email_normalized": {"$gt": last_email}}
            query = {"$and": [conditions, last]} if conditions else last
        found = await self._users.email_page(query, limit + 1)
        items, more = found[:limit], len(found) > limit
        next_cursor = None
        if more:
            last_user = items[-1]
            next_cursor = self._cursors.encode(USERS_CURSOR_SCOPE, {"e": last_user.email_normalized})
        total = await self._users.count(conditions) if include_total else None
        return Page[UserRead](
            items=[UserRead.model_validate(u) for u in items], next_cursor=next_cursor, total=total
        )

    async def administer(self, target: User, data: UserAdminUpdate) -> User:
        """Change a user's global role or disabled flag; never leave the system without an active admin."""
        changes = data.model_dump(exclude_none=True)
        loses_admin = (
            target.role is GlobalRole.ADMIN
            and not target.disabled
            and (changes.get("role", target.role) is not GlobalRole.ADMIN or changes.get("disabled", False))
        )
        if loses_admin and await self._users.other_active_admins(target.id) == 0:
            raise LastAdmin()
        if changes:
            changes["updated_at"] = utcnow()
            try:
                await self._users.set(target, changes)
            finally:
                self._facts.forget_account(_user_id(target))  # a disabled user is refused at once
            await self._accounts.forget(keys.account(target.id))
        return target


def _on_handle(exc: DuplicateKeyError) -> bool:
    """Whether the unique index that refused an insert is the handle's (else the email's)."""
    details = exc.details or {}
    pattern = details.get("keyPattern") or details.get("keyValue")
    if isinstance(pattern, dict):
        return "handle" in pattern
    return "handle" in str(exc)


def _user_id(user: User) -> PydanticObjectId:
    assert user.id is not None
    return user.id
