"""A project's label catalogue: everyone in the project reads it, members and above change it."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from backend.access.dependencies import AUTH_ERRORS
from backend.core.caching.reads import cached_read
from backend.core.caching.responses import CachedResponse, json_entry
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import IfMatch, PreconditionFailed
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.labels.dependencies import LabelInProject, LabelServiceDep
from backend.labels.documents import Label
from backend.labels.errors import LabelExists, LabelNotFound
from backend.labels.schemas import MAX_NAME, LabelCreate, LabelRead, LabelUpdate
from backend.labels.service import label_read
from backend.projects.dependencies import PROJECT_KEYS, ProjectScopeDep
from backend.projects.errors import InsufficientRole, ProjectArchived, ProjectNotFound

router = APIRouter(prefix=API_PREFIX + "/projects/{project_id}/labels", tags=["labels"], route_class=ApiRoute)
SEEN = (*AUTH_ERRORS, ProjectNotFound)
WRITE = (*SEEN, InsufficientRole, ProjectArchived)
ETAG = header_refs("ETag")


def label_location(label: Label) -> str:
    return f"/api/v1/projects/{label.project_id}/labels/{label.id}"


def label_response(label: Label, status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        label_read(label).model_dump(mode="json"),
        status_code=status_code,
        headers={"ETag": label.etag, **headers},
    )


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelRead,
    responses={201: {"headers": ETAG}, **error_responses(*WRITE, LabelExists)},
)
async def create_label(data: LabelCreate, scope: ProjectScopeDep, labels: LabelServiceDep) -> Response:
    """Add a label to the project's catalogue (members and above). Names are unique ignoring case:
    `Bug` after `bug` is a 409 `LABEL_EXISTS`. A label put on a task joins the catalogue by itself,
    with a colour picked from its name."""
    label = await labels.create(scope, data)
    return label_response(label, 201, Location=label_location(label))


@cached_read(
    router,
    "",
    keys=PROJECT_KEYS,
    name="list",
    response_model=Page[LabelRead],
    responses=error_responses(*SEEN),
)
async def list_labels(
    scope: ProjectScopeDep,
    labels: LabelServiceDep,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_NAME,
            description="Only labels whose name starts with this, ignoring case (for autocomplete).",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> CachedResponse:
    """The project's labels in name order, ignoring case."""
    return json_entry(await labels.page(scope.project_id, prefix=q, cursor=cursor, limit=limit))


@cached_read(
    router,
    "/{label_id}",
    keys=PROJECT_KEYS,
    name="get",
    response_model=LabelRead,
    responses=error_responses(*SEEN, LabelNotFound),
)
async def read_label(label_id: str, scope: ProjectScopeDep, labels: LabelServiceDep) -> CachedResponse:
    """One label, with its ETag."""
    label = await labels.get(scope.project_id, parse_id(label_id, LabelNotFound))
    return json_entry(label_read(label), etag=label.etag)


@router.patch(
    "/{label_id}",
    name="update",
    response_model=LabelRead,
    responses={
        200: {"headers": ETAG},
        **error_responses(*WRITE, LabelNotFound, LabelExists, PreconditionFailed),
    },
)
async def update_label(
    data: LabelUpdate,
    label: LabelInProject,
    scope: ProjectScopeDep,
    labels: LabelServiceDep,
    if_match: IfMatch = None,
) -> Response:
    """Rename, recolour or re-describe a label (members and above). A new name replaces the old one
    on every task of the project at once: task lists, the `label=` filter and `q` search see it, and
    those tasks get a new ETag. With If-Match, only if unchanged (else 412)."""
    return label_response(await labels.update(scope, label, data, if_match=if_match))


@router.delete(
    "/{label_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, LabelNotFound, PreconditionFailed),
)
async def delete_label(
    label: LabelInProject, scope: ProjectScopeDep, labels: LabelServiceDep, if_match: IfMatch = None
) -> None:
    """Delete a label (members and above): it leaves the catalogue and every task of the project,
    whose ETags change. With If-Match, only if unchanged (else 412)."""
    await labels.delete(scope, label, if_match=if_match)
