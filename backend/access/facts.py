"""The inputs of every access decision, read from MongoDB, the only place that holds their truth.

Accounts (role, disabled), sessions (ended or not), personal access tokens (revoked or not) and
project member maps are needed on every authenticated request. A process keeps copies of them only
while MongoDB's change stream of their collections is live: every change any process makes is then
reported here within milliseconds and drops the copy, and a stream that breaks or goes quiet for
`LIVE_SECONDS` drops every copy and sends reads to MongoDB until it is followed again. Redis holds
none of them, so nothing Redis does (hanging, dying, coming back empty or with old keys) can grant
access that MongoDB has taken away.

A copy read while a change to it was on its way is not kept (`_epoch`). A process's own writes also
forget their copies at once (`forget`), so it reads its own writes without waiting for the stream.
The in-memory MongoDB has no change stream, but there every write is this process's own: the mock
reports each one synchronously (core/db.py `follow_local_changes`), which serves the same purpose.
"""

import asyncio
import time
from collections.abc import Awaitable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, TypeVar

import structlog
from beanie import PydanticObjectId

from backend.auth.documents import PersonalAccessToken
from backend.auth.repository import AuthRepository
from backend.core.logging import OccasionalWarning
from backend.core.storage.db import Change, Database, Mongo, follow_changes, follow_local_changes
from backend.core.time import as_utc, utcnow
from backend.projects.documents import Project, ProjectRole
from backend.projects.repository import ProjectRepository
from backend.users.documents import GlobalRole, User
from backend.users.repository import UserRepository

log = structlog.get_logger(__name__)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class MemberMap:
    """Who is in a project and as what: all the policy needs of a project."""

    project_id: PydanticObjectId
    key: str
    archived: bool
    roles: Mapping[PydanticObjectId, ProjectRole]

    @classmethod
    def of(cls, project: Project) -> "MemberMap":
        assert project.id is not None
        return cls(project.id, project.key, project.archived, {m.user_id: m.role for m in project.members})


@dataclass(frozen=True, slots=True)
class Account:
    """An account as access needs it; `user` is the document without its password hash."""

    user: User
    id: PydanticObjectId
    disabled: bool
    is_global_admin: bool

    @classmethod
    def of(cls, user: User) -> "Account":
        assert user.id is not None
        copy = user.model_copy(update={"password_hash": ""})
        return cls(copy, user.id, user.disabled, user.role is GlobalRole.ADMIN)


@dataclass(frozen=True, slots=True)
class SessionState:
    id: PydanticObjectId
    user_id: PydanticObjectId
    ended: bool
    expires: float  # POSIX seconds: checked on every request, so no datetime arithmetic

    @property
    def active(self) -> bool:
        return not self.ended and self.expires > time.time()


@dataclass(frozen=True, slots=True)
class TokenState:
    """A personal access token, found by the hash of its secret."""

    id: str
    user_id: PydanticObjectId
    revoked: bool
    expires_at: datetime | None

    @classmethod
    def of(cls, token: PersonalAccessToken) -> "TokenState":
        return cls(str(token.id), token.user_id, token.revoked_at is not None, token.expires_at)

    @property
    def active(self) -> bool:
        return not self.revoked and (self.expires_at is None or as_utc(self.expires_at) > utcnow())


_MISSING: Final = object()
# Which collections' changes matter, and for projects only changes to these fields (a task created
# bumps the project's counter, which changes no one's access).
_ACCOUNTS, _SESSIONS, _TOKENS, _PROJECTS = "users", "sessions", "personal_access_tokens", "projects"
_FOLLOWED = (_ACCOUNTS, _SESSIONS, _TOKENS, _PROJECTS)
_PROJECT_ACCESS_FIELDS = frozenset({"members", "archived", "key"})


class _Copies(Generic[K, V]):
    """One kind of copy, bounded: past `limit` entries all go at once (a process needs few)."""

    def __init__(self, limit: int) -> None:
        self.values: dict[K, V] = {}
        self.limit = limit

    def put(self, key: K, value: V) -> None:
        if len(self.values) >= self.limit:
            self.values.clear()
        self.values[key] = value


class AccessFacts:
    AWAIT_MS = 200  # the change stream answers at least this often while nothing changes
    LIVE_SECONDS = 1.0  # silent this long: the stream may be stuck, trust nothing it did not say
    RETRY_SECONDS = 0.5
    MAX_COPIES = 100_000

    def __init__(self) -> None:
        self._accounts: _Copies[PydanticObjectId, Account | None] = _Copies(self.MAX_COPIES)
        self._sessions: _Copies[PydanticObjectId, SessionState | None] = _Copies(self.MAX_COPIES)
        self._tokens: _Copies[str, TokenState] = _Copies(self.MAX_COPIES)  # by secret hash
        self._token_hashes: dict[str, str] = {}  # token id -> secret hash, to forget by id
        self._projects: _Copies[PydanticObjectId, MemberMap | None] = _Copies(self.MAX_COPIES)
        # user -> the member maps of the projects they are a member of. Any reported change to any
        # project's members drops them all: a change names the project, not whom it added or removed.
        self._memberships: _Copies[PydanticObjectId, tuple[MemberMap, ...]] = _Copies(self.MAX_COPIES)
        self._open = False
        self._local = False  # the in-memory MongoDB reports every write synchronously
        self._heard = 0.0
        self._epoch = 0
        self._unavailable = OccasionalWarning("access_feed_unavailable")

    @property
    def live(self) -> bool:
        """Whether copies are trusted: the change stream is open and spoke within LIVE_SECONDS."""
        return self._local or (self._open and time.monotonic() - self._heard < self.LIVE_SECONDS)

    def trusted_epoch(self) -> int | None:
        """While copies are trusted, a number that moves on with every change reported; else None.
        A decision made from copies at one epoch stands while the epoch is the same."""
        return self._epoch if self.live else None

    # -- reads: a copy while live, else MongoDB --

    async def account(self, user_id: PydanticObjectId) -> Account | None:
        known = self._accounts.values.get(user_id, _MISSING) if self.live else _MISSING
        if known is not _MISSING:
            return known  # type: ignore[return-value]
        return await self._load(self._accounts, user_id, self._load_account(user_id))

    def known_account(self, user_id: PydanticObjectId) -> Account | None:
        """The copy of an account this process keeps while MongoDB reports every change to it, if it
        keeps one; never reads (None: not known here)."""
        known = self._accounts.values.get(user_id) if self.live else None
        return known

    async def session(self, session_id: PydanticObjectId) -> SessionState | None:
        known = self._sessions.values.get(session_id, _MISSING) if self.live else _MISSING
        if known is not _MISSING:
            return known  # type: ignore[return-value]
        return await self._load(self._sessions, session_id, self._load_session(session_id))

    async def token(self, secret_hash: str) -> TokenState | None:
        known = self._tokens.values.get(secret_hash) if self.live else None
        if known is not None:
            return known
        epoch = self._epoch
        found = await AuthRepository().token_by_hash(secret_hash)
        if found is None:
            return None  # not kept: an insert reports the new token's id, not its hash
        state = TokenState.of(found)
        if self.live and epoch == self._epoch:
            self._tokens.put(secret_hash, state)
            self._token_hashes[state.id] = secret_hash
        return state

    async def token_by_id(self, token_id: str) -> TokenState | None:
        """A personal access token by its id (open streams re-check with it): the copy made when it
        authenticated, while trusted (a change to it is reported by id), else MongoDB."""
        secret_hash = self._token_hashes.get(token_id) if self.live else None
        known = self._tokens.values.get(secret_hash) if secret_hash is not None else None
        if known is not None:
            return known
        if not PydanticObjectId.is_valid(token_id):
            return None
        found = await AuthRepository().token(PydanticObjectId(token_id))
        return None if found is None else TokenState.of(found)

    async def member_map(self, project_id: PydanticObjectId) -> MemberMap | None:
        known = self._projects.values.get(project_id, _MISSING) if self.live else _MISSING
        if known is not _MISSING:
            return known  # type: ignore[return-value]
        return await self._load(self._projects, project_id, self._load_member_map(project_id))

    async def member_maps(
        self, project_ids: Collection[PydanticObjectId]
    ) -> dict[PydanticObjectId, MemberMap | None]:
        """The member maps of these projects (None: no such project): the copies while trusted, and
        the ones missing in one query, whatever their number."""
        found: dict[PydanticObjectId, MemberMap | None] = {}
        missing: list[PydanticObjectId] = []
        for project_id in set(project_ids):
            known = self._projects.values.get(project_id, _MISSING) if self.live else _MISSING
            if known is _MISSING:
                missing.append(project_id)
            else:
                found[project_id] = known  # type: ignore[assignment]
        if not missing:
            return found
        epoch = self._epoch
        loaded: dict[PydanticObjectId, MemberMap | None] = dict.fromkeys(missing)
        for project in await ProjectRepository().by_ids(missing):
            assert project.id is not None
            loaded[project.id] = MemberMap.of(project)
        if self.live and epoch == self._epoch:  # no change reported meanwhile: keep the copies
            for project_id, members in loaded.items():
                self._projects.put(project_id, members)
        return found | loaded

    async def memberships(self, user_id: PydanticObjectId) -> tuple[MemberMap, ...]:
        """The member maps of every project the user is a member of (one query on a miss), in `_id`
        order. Lists across projects are scoped by it, so it is trusted exactly as member maps are."""
        known = self._memberships.values.get(user_id) if self.live else None
        if known is not None:
            return known
        return await self._load(self._memberships, user_id, self._load_memberships(user_id))

    # Every request asks for a copy (above, without an await when it is known); only a miss reads.

    @staticmethod
    async def _load_memberships(user_id: PydanticObjectId) -> tuple[MemberMap, ...]:
        projects = await ProjectRepository().of_member(user_id)
        return tuple(MemberMap.of(project) for project in sorted(projects, key=lambda p: str(p.id)))

    @staticmethod
    async def _load_account(user_id: PydanticObjectId) -> Account | None:
        user = await UserRepository().by_id(user_id)
        return None if user is None else Account.of(user)

    @staticmethod
    async def _load_session(session_id: PydanticObjectId) -> SessionState | None:
        found = await AuthRepository().session(session_id)
        if found is None:
            return None
        expires = as_utc(found.expires_at).timestamp()
        return SessionState(session_id, found.user_id, found.ended_at is not None, expires)

    @staticmethod
    async def _load_member_map(project_id: PydanticObjectId) -> MemberMap | None:
        project = await ProjectRepository().by_id(project_id)
        return None if project is None else MemberMap.of(project)

    async def _load(self, copies: _Copies[K, V], key: K, loading: Awaitable[V]) -> V:
        """Read from MongoDB, and keep the copy unless a change was reported meanwhile."""
        epoch = self._epoch
        value = await loading
        if self.live and epoch == self._epoch:
            copies.put(key, value)
        return value

    # -- forgetting: this process's writes, and every change the stream reports --

    def forget_account(self, user_id: PydanticObjectId) -> None:
        self._epoch += 1
        self._accounts.values.pop(user_id, None)

    def forget_sessions(self) -> None:
        """After ending sessions by a condition (not by id): every session copy goes."""
        self._epoch += 1
        self._sessions.values.clear()

    def forget_session(self, session_id: PydanticObjectId) -> None:
        self._epoch += 1
        self._sessions.values.pop(session_id, None)

    def forget_token(self, token_id: str) -> None:
        self._epoch += 1
        secret_hash = self._token_hashes.pop(token_id, None)
        if secret_hash is not None:
            self._tokens.values.pop(secret_hash, None)

    def forget_project(self, project_id: PydanticObjectId) -> None:
        self._epoch += 1
        self._projects.values.pop(project_id, None)
        self._memberships.values.clear()

    def forget_all(self) -> None:
        self._epoch += 1
        for copies in (self._accounts, self._sessions, self._tokens, self._projects, self._memberships):
            copies.values.clear()
        self._token_hashes.clear()

    def changed(self, change: Change) -> None:
        """Forget what a change reported by MongoDB may have made untrue."""
        if change.collection not in _FOLLOWED:
            return
        fields = change.fields
        if change.collection == _PROJECTS and fields is not None and not fields & _PROJECT_ACCESS_FIELDS:
            return  # a task number handed out, a renamed project: nobody's access changed
        document_id = change.document_id
        if document_id is None:
            self.forget_all()  # a change of any number of documents, a drop: start again from MongoDB
        elif change.collection == _PROJECTS:
            self.forget_project(PydanticObjectId(str(document_id)))
        elif change.collection == _ACCOUNTS:
            self.forget_account(PydanticObjectId(str(document_id)))
        elif change.collection == _SESSIONS:
            self.forget_session(PydanticObjectId(str(document_id)))
        else:
            self.forget_token(str(document_id))

    def follow_local(self, mongo: Mongo) -> None:
        """In memory, every write is this process's: the mock reports each as it happens."""
        follow_local_changes(mongo, self.changed)
        self._local = True

    async def follow(self, database: Database) -> None:
        """Follow MongoDB's change stream for as long as the process runs (a background task)."""
        while True:
            try:
                async for change in follow_changes(database, _FOLLOWED, await_ms=self.AWAIT_MS):
                    if not self._open:
                        self.forget_all()  # whatever changed while nobody listened
                        self._open = True
                    self._heard = time.monotonic()
                    if change is not None:
                        self.changed(change)
            except Exception as exc:  # the driver's or the server's: follow again shortly
                self._unavailable(log, exc, detail="access decisions read MongoDB on every request")
            finally:
                self._open = False
                self.forget_all()
            await asyncio.sleep(self.RETRY_SECONDS)
