from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.attachments.documents import Attachment
from backend.attachments.errors import AttachmentNotFound
from backend.attachments.service import AttachmentLimits, AttachmentService
from backend.core.ids import parse_id
from backend.core.storage.gridfs import blob_store
from backend.resources import AppResources, resources_of
from backend.tasks.dependencies import TaskInProject
from backend.users.dependencies import user_service


def attachment_service(resources: AppResources) -> AttachmentService:
    settings = resources.settings
    return AttachmentService(
        user_service(resources),
        blob_store(resources.stores.mongo, chunk_bytes=settings.attachment_chunk_bytes),
        AttachmentLimits.of(settings),
        resources.cursors,
        activity_service(resources),
        resources.stores.generations,
    )


async def get_attachment_service(request: Request) -> AttachmentService:
    return attachment_service(resources_of(request.app))


AttachmentServiceDep = Annotated[AttachmentService, Depends(get_attachment_service)]


async def attachment_on_task(
    attachment_id: str, task: TaskInProject, attachments: AttachmentServiceDep
) -> Attachment:
    """An attachment of a live task the caller can see; anything else is 404."""
    return await attachments.get(task, parse_id(attachment_id, AttachmentNotFound))


AttachmentOnTask = Annotated[Attachment, Depends(attachment_on_task)]
