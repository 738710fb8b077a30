"""Files on a task: members upload (multipart, streamed to GridFS), everyone in the project reads and
downloads (ranges too), the uploader or a project admin deletes. A deleted task hides them (404)."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from backend.access.dependencies import AUTH_ERRORS
from backend.attachments.dependencies import AttachmentOnTask, AttachmentServiceDep
from backend.attachments.documents import Attachment
from backend.attachments.errors import (
    AttachmentNotFound,
    AttachmentTooLarge,
    ContentTypeMismatch,
    ContentTypeNotAllowed,
    NotAttachmentUploader,
    QuotaExceeded,
    RangeNotSatisfiable,
)
from backend.attachments.files import content_disposition
from backend.attachments.schemas import AttachmentRead
from backend.core.http.errors import UnsupportedMediaType, error_responses
from backend.core.http.headers import header_refs
from backend.core.http.multipart import FILE_FIELD, MalformedUpload, incoming_file
from backend.core.http.preconditions import IfNoneMatch, none_match
from backend.core.http.ranges import Unsatisfiable, requested_range
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import VisibleProject
from backend.projects.errors import InsufficientRole, ProjectArchived, ProjectNotFound
from backend.tasks.dependencies import TaskInProject
from backend.tasks.errors import TaskNotFound

PATH = "/projects/{project_id}/tasks/{task_id}/attachments"
# The upload's path, as the body size limit recognises it (its limits are its own).
UPLOAD_PATH = re.compile(r"^/api/v1/projects/[^/]+/tasks/[^/]+/attachments/?$")
router = APIRouter(prefix=API_PREFIX + PATH, tags=["attachments"], route_class=ApiRoute)
SEEN = (*AUTH_ERRORS, ProjectNotFound, TaskNotFound)
WRITE = (*SEEN, InsufficientRole, ProjectArchived)
UPLOAD_ERRORS = (
    *WRITE,
    AttachmentTooLarge,
    QuotaExceeded,
    ContentTypeNotAllowed,
    ContentTypeMismatch,
    UnsupportedMediaType,
    MalformedUpload,
)
BINARY = {"type": "string", "format": "binary"}
# The upload's body as the contract shows it (the endpoint reads the stream itself, so FastAPI
# cannot derive it): one `file` part; its part Content-Type is the claim the bytes are checked against.
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            **BINARY,
                            "description": "The file. Its part's `filename` names it (made safe); its "
                            "part's Content-Type is checked against its bytes.",
                        }
                    },
                },
                "encoding": {FILE_FIELD: {"contentType": "*/*"}},
            }
        },
    }
}
CONTENT_HEADERS = header_refs(
    "ETag", "Content-Disposition", "X-Content-Type-Options", "Content-Security-Policy", "Accept-Ranges"
)


def attachment_location(attachment: Attachment) -> str:
    task = f"{API_PREFIX}/projects/{attachment.project_id}/tasks/{attachment.task_id}"
    return f"{task}/attachments/{attachment.id}"


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentRead,
    responses={201: {"headers": header_refs("Location")}, **error_responses(*UPLOAD_ERRORS)},
    openapi_extra=UPLOAD_BODY,
)
async def upload_attachment(
    request: Request, task: TaskInProject, access: VisibleProject, attachments: AttachmentServiceDep
) -> Response:
    """Attach a file to a task (members and above), sent as `multipart/form-data` with one part named
    `file`. The body is streamed to storage as it arrives (never buffered whole), so the limits
    answer while it streams: above the per-file limit 413 `ATTACHMENT_TOO_LARGE`, beyond the
    project's quota 413 `QUOTA_EXCEEDED` (the announced Content-Length is held against the quota
    while the upload runs), and nothing of a refused or cut-off upload stays stored. The content
    type is sniffed from the bytes: it must be allowed (415 `CONTENT_TYPE_NOT_ALLOWED`) and match
    the part's claim (415 `CONTENT_TYPE_MISMATCH`; `application/octet-stream` or none takes the
    sniffed type)."""
    length = request.headers.get("content-length", "")
    attachment = await attachments.upload(
        access,
        task,
        lambda: incoming_file(request.stream(), request.headers.get("content-type")),
        announced=int(length) if length.isdigit() else None,
    )
    (read,) = await attachments.read([attachment])
    return JSONResponse(
        read.model_dump(mode="json"), status_code=201, headers={"Location": attachment_location(attachment)}
    )


@router.get("", name="list", responses=error_responses(*SEEN))
async def list_attachments(
    task: TaskInProject,
    attachments: AttachmentServiceDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AttachmentRead]:
    """The task's attachments, oldest first."""
    return await attachments.page(task, cursor=cursor, limit=limit)


@router.get("/{attachment_id}", name="get", responses=error_responses(*SEEN, AttachmentNotFound))
async def read_attachment(attachment: AttachmentOnTask, attachments: AttachmentServiceDep) -> AttachmentRead:
    """One attachment's metadata: name, size, content type, SHA-256, uploader, time."""
    (read,) = await attachments.read([attachment])
    return read


@router.get(
    "/{attachment_id}/content",
    name="download",
    response_class=Response,
    responses={
        200: {
            "description": "The file, as `application/octet-stream` or its stored content type.",
            "headers": CONTENT_HEADERS,
            "content": {"application/octet-stream": {"schema": BINARY}},
        },
        206: {
            "description": "The part of the file the Range asked for.",
            "headers": {**CONTENT_HEADERS, **header_refs("Content-Range")},
            "content": {"application/octet-stream": {"schema": BINARY}},
        },
        304: {"description": "Not modified: your If-None-Match is current.", "headers": header_refs("ETag")},
        **error_responses(*SEEN, AttachmentNotFound, RangeNotSatisfiable),
    },
)
async def download_attachment(
    attachment: AttachmentOnTask,
    attachments: AttachmentServiceDep,
    range_: Annotated[
        str | None,
        Header(
            alias="Range",
            max_length=256,
            description="`bytes=start-end`, `bytes=start-` or `bytes=-suffix`: 206 with that part; "
            "416 when it starts beyond the end. Several ranges get the whole file.",
        ),
    ] = None,
    if_range: Annotated[
        str | None,
        Header(alias="If-Range", max_length=1024, description="Honour Range only if this is the ETag."),
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The file, streamed a chunk at a time, as a download (`Content-Disposition: attachment`) that
    browsers must not sniff (`X-Content-Type-Options: nosniff`). The ETag is the SHA-256 of the
    content; Range requests answer 206 (resume, seek)."""
    etag = f'"{attachment.sha256}"'
    headers = {
        "ETag": etag,
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
        # A file a browser was tricked into opening in place still runs nothing of ours.
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    size = attachment.size
    try:
        part = requested_range(range_ if if_range in (None, etag) else None, size)
    except Unsatisfiable as exc:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"}) from exc
    if part is None:
        body = attachments.content(attachment, 0, size)
        code, length = status.HTTP_200_OK, size
    else:
        body = attachments.content(attachment, part.start, part.end)
        code, length = status.HTTP_206_PARTIAL_CONTENT, part.length
        headers["Content-Range"] = part.content_range(size)
    headers["Content-Length"] = str(length)
    return StreamingResponse(body, status_code=code, headers=headers, media_type=attachment.content_type)


@router.delete(
    "/{attachment_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, AttachmentNotFound, NotAttachmentUploader),
)
async def delete_attachment(
    attachment: AttachmentOnTask,
    task: TaskInProject,
    access: VisibleProject,
    attachments: AttachmentServiceDep,
) -> None:
    """Delete an attachment (its uploader, or a project admin): its bytes leave storage and the
    project's quota."""
    await attachments.delete(access, task, attachment)
