"""Attachments: members upload, everyone in the project reads, the uploader or a project admin
deletes. Contents go to the blob store a chunk at a time; the project's usage is reserved before
the bytes are written, so two racing uploads cannot both pass the quota, and released on failure."""

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from beanie import PydanticObjectId
from bson import ObjectId

from backend.activity.diff import diff
from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.attachments.documents import Attachment
from backend.attachments.errors import (
    AttachmentNotFound,
    AttachmentTooLarge,
    ContentTypeMismatch,
    ContentTypeNotAllowed,
    NotAttachmentUploader,
    QuotaExceeded,
)
from backend.attachments.files import SNIFF_BYTES, decide_content_type, safe_filename
from backend.attachments.repository import AttachmentRepository
from backend.attachments.schemas import AttachmentRead
from backend.comments.schemas import AuthorSummary
from backend.core.caching.generations import Generations
from backend.core.config import Settings
from backend.core.http.multipart import IncomingFile
from backend.core.pagination import CursorCodec, Page
from backend.core.storage.gridfs import BlobStore
from backend.projects.documents import ProjectRole
from backend.projects.service import ProjectAccess
from backend.tasks.documents import Task
from backend.users.service import NOBODY, Person, UserService

# Reservations beyond the announced length (a chunked body announces none) grow by this much at a
# time: a few round trips per 100 MB rather than one per chunk.
RESERVATION_STEP = 4 * 1024 * 1024
_SHOWN = ("filename", "content_type", "size")


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    project_quota: int
    content_types: frozenset[str]

    @classmethod
    def of(cls, settings: Settings) -> "AttachmentLimits":
        return cls(
            settings.attachment_max_bytes,
            settings.attachment_project_quota_bytes,
            frozenset(t.lower() for t in settings.attachment_content_types),
        )


class _Reservation:
    """Bytes of a project's quota held for one upload under way."""

    def __init__(
        self, repo: AttachmentRepository, project_id: PydanticObjectId, limits: AttachmentLimits
    ) -> None:
        self._repo = repo
        self._project_id = project_id
        self._limits = limits
        self.held = 0

    async def cover(self, size: int) -> None:
        """Hold at least `size` bytes (a step more when the quota allows it), or QUOTA_EXCEEDED."""
        if size <= self.held:
            return
        needed = size - self.held
        wanted = max(needed, min(RESERVATION_STEP, self._limits.max_bytes - self.held))
        for amount in dict.fromkeys((wanted, needed)):
            if await self._repo.reserve(self._project_id, amount, self._limits.project_quota):
                self.held += amount
                return
        raise QuotaExceeded()

    async def keep(self, size: int) -> None:
        """The upload is stored with `size` bytes: give back what was held beyond them."""
        await self._repo.release(self._project_id, self.held - size)
        self.held = size

    async def release(self) -> None:
        await self._repo.release(self._project_id, self.held)
        self.held = 0


class AttachmentService:
    def __init__(
        self,
        users: UserService,
        blobs: BlobStore,
        limits: AttachmentLimits,
        cursors: CursorCodec,
        activity: ActivityService,
        generations: Generations,
    ) -> None:
        self._users = users
        self._blobs = blobs
        self._limits = limits
        self._cursors = cursors
        self._activity = activity
        self._generations = generations
        self._attachments = AttachmentRepository()

    async def upload(
        self,
        access: ProjectAccess,
        task: Task,
        receive: Callable[[], Awaitable[IncomingFile]],
        *,
        announced: int | None,
    ) -> Attachment:
        """Store the file as it arrives. `announced` is the request's Content-Length (an upper bound
        of the file's size), reserved at once; without it the reservation grows with the bytes.
        Whatever stops the upload (a limit, a cut-off body, the quota) leaves nothing stored and
        nothing reserved. `receive` starts reading the body: only once the caller may upload."""
        access.writable()
        assert task.id is not None
        incoming = await receive()
        filename = safe_filename(incoming.filename)
        head, first, rest, complete = await _head(incoming.chunks, SNIFF_BYTES)
        content_type = decide_content_type(incoming.content_type, head, complete=complete)
        if content_type is None:
            raise ContentTypeMismatch()
        if content_type not in self._limits.content_types:
            raise ContentTypeNotAllowed(f"Files of type {content_type} cannot be attached.")
        if complete and len(head) > self._limits.max_bytes:
            raise AttachmentTooLarge()
        reservation = _Reservation(self._attachments, task.project_id, self._limits)
        await reservation.cover(min(announced or len(head), self._limits.max_bytes) or 1)
        digest = hashlib.sha256()
        blob_id = ObjectId()

        async def checked() -> AsyncIterator[memoryview]:
            size = 0
            async for chunk in _chained(first, rest):
                size += len(chunk)
                if size > self._limits.max_bytes:
                    raise AttachmentTooLarge()
                await reservation.cover(size)
                digest.update(chunk)
                yield chunk

        try:
            size = await self._blobs.write(blob_id, filename, checked())
            attachment = Attachment(
                project_id=task.project_id,
                task_id=task.id,
                uploader_id=access.user_id,
                filename=filename,
                content_type=content_type,
                size=size,
                sha256=digest.hexdigest(),
                blob_id=PydanticObjectId(blob_id),
            )
            await self._attachments.insert(attachment)
        except BaseException:
            await self._blobs.delete(blob_id)  # written, but no attachment names it
            await reservation.release()
            raise
        await reservation.keep(size)
        await self._record(attachment, task, access.user_id, ActivityVerb.ATTACHMENT_ADDED, True)
        return attachment

    async def get(self, task: Task, attachment_id: PydanticObjectId) -> Attachment:
        attachment = await self._attachments.by_id(attachment_id)
        if attachment is None or attachment.task_id != task.id or attachment.project_id != task.project_id:
            raise AttachmentNotFound()
        return attachment

    def content(self, attachment: Attachment, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive), a chunk at a time."""
        return self._blobs.read(attachment.blob_id, start, end)

    async def delete(self, access: ProjectAccess, task: Task, attachment: Attachment) -> None:
        access.writable()
        is_admin = access.role is not None and access.role.at_least(ProjectRole.ADMIN)
        if attachment.uploader_id != access.user_id and not is_admin:
            raise NotAttachmentUploader()
        if not await self._attachments.delete(attachment):
            raise AttachmentNotFound()  # a racing delete got there first
        await self._blobs.delete(attachment.blob_id)
        await self._attachments.release(attachment.project_id, attachment.size)
        await self._record(attachment, task, access.user_id, ActivityVerb.ATTACHMENT_DELETED, False)

    async def purge_task(self, project_id: PydanticObjectId, task_id: PydanticObjectId) -> int:
        """Remove a purged task's attachments with their chunks, and give their bytes back to the
        project's quota; how many. (A deleted task only hides them: its routes answer 404.)"""
        found = await self._attachments.of_task(project_id, task_id)
        # The blobs first: a purge cut short leaves the records, so the next run finds them again.
        for attachment in found:
            await self._blobs.delete(attachment.blob_id)
        await self._attachments.delete_of_task(project_id, task_id)
        await self._attachments.release(project_id, sum(a.size for a in found))
        return len(found)

    async def usage(self, project_id: PydanticObjectId) -> int:
        """Bytes the project's attachments hold (and uploads under way have reserved)."""
        return await self._attachments.usage(project_id)

    async def page(self, task: Task, *, cursor: str | None, limit: int) -> Page[AttachmentRead]:
        """Oldest first."""
        assert task.id is not None
        items, next_cursor = await self._attachments.oldest_first(
            task.project_id, task.id, codec=self._cursors, cursor=cursor, limit=limit
        )
        return Page[AttachmentRead](items=await self.read(items), next_cursor=next_cursor)

    async def read(self, attachments: list[Attachment]) -> list[AttachmentRead]:
        people = await self._users.people({a.uploader_id for a in attachments})
        return [
            AttachmentRead(
                id=a.id,
                project_id=a.project_id,
                task_id=a.task_id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                uploader=_uploader(a.uploader_id, people),
                created_at=a.created_at,
            )
            for a in attachments
        ]

    async def _record(
        self, attachment: Attachment, task: Task, actor: PydanticObjectId, verb: ActivityVerb, added: bool
    ) -> None:
        assert attachment.id is not None
        shown = {name: getattr(attachment, name) for name in _SHOWN}
        record = ActivityRecord(
            project_id=attachment.project_id,
            task_id=attachment.task_id,
            actor_id=actor,
            verb=verb,
            target=Target(type="attachment", id=attachment.id, key=task.key),
            changes=diff({}, shown, _SHOWN) if added else diff(shown, {}, _SHOWN),
        )
        # Its task's activity changed.
        await self._activity.record_change(
            [record], partial(self._generations.bump, attachment.project_id, [attachment.task_id])
        )


async def _head(
    chunks: AsyncIterator[memoryview], wanted: int
) -> tuple[bytes, list[memoryview], AsyncIterator[memoryview], bool]:
    """The first `wanted` bytes (all of them when the file is shorter: then `complete`), the pieces
    they were read from, and the pieces after those. The head is a copy of `wanted` bytes only: the
    pieces (up to a received buffer each) are not joined for the whole upload's length."""
    parts: list[memoryview] = []
    size = 0
    while size < wanted:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return b"".join(parts), parts, chunks, True
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:wanted], parts, chunks, False


async def _chained(first: list[memoryview], rest: AsyncIterator[memoryview]) -> AsyncIterator[memoryview]:
    while first:
        yield first.pop(0)
    async for chunk in rest:
        yield chunk


def _uploader(user_id: PydanticObjectId, people: Mapping[PydanticObjectId, Person]) -> AuthorSummary:
    person = people.get(user_id, NOBODY)
    return AuthorSummary(id=user_id, display_name=person.display_name, handle=person.handle)
