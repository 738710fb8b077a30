"""Tasks of a project, and task lookup by key (`WEB-42`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.applications import Starlette

from backend.access.dependencies import AUTH_ERRORS, CurrentCaller
from backend.core.caching.reads import cached_read
from backend.core.caching.responses import CachedResponse, json_entry
from backend.core.dependencies import RedisDep
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import IfMatch, PreconditionFailed
from backend.core.http.problems import problem_of, request_id_of
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.idempotency import Idempotency, IdempotencyKey, IdempotencyKeyInUse, IdempotencyKeyReused
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.core.types import Rfc3339
from backend.projects.dependencies import (
    MEMBER_PROJECTS_KEYS,
    PROJECT_KEYS,
    MemberProjectsDep,
    ProjectScopeDep,
    VisibleProject,
)
from backend.projects.documents import ProjectRole
from backend.projects.errors import InsufficientRole, ProjectArchived, ProjectNotFound
from backend.projects.repository import ProjectRepository
from backend.projects.service import ProjectAccess, TaskScope
from backend.resources import resources_of
from backend.tasks.dependencies import TASK_KEYS, TaskInProject, TaskScopeDep, TaskServiceDep, task_service
from backend.tasks.documents import Priority, Task, TaskStatus
from backend.tasks.errors import (
    AssigneeNotMember,
    BoardChanged,
    InvalidNeighbours,
    InvalidParent,
    NeighbourNotFound,
    TaskNotFound,
)
from backend.tasks.keys import parse_task_key
from backend.tasks.listing import SortOrder, TaskFilters, TaskSort
from backend.tasks.schemas import (
    BulkResult,
    BulkUpdate,
    Label,
    TaskBatch,
    TaskBatchCreated,
    TaskBatchFailed,
    TaskBatchResult,
    TaskCreate,
    TaskMove,
    TaskRead,
    TaskUpdate,
)
from backend.tasks.service import TaskService

router = APIRouter(prefix=API_PREFIX + "/projects/{project_id}/tasks", tags=["tasks"], route_class=ApiRoute)
by_key_router = APIRouter(prefix=API_PREFIX + "/tasks", tags=["tasks"], route_class=ApiRoute)

SEEN = (*AUTH_ERRORS, ProjectNotFound, TaskNotFound)
WRITE = (*AUTH_ERRORS, ProjectNotFound, InsufficientRole, ProjectArchived)
ETAG = header_refs("ETag")


def task_location(task: Task) -> str:
    return f"/api/v1/projects/{task.project_id}/tasks/{task.id}"


async def task_response(
    tasks: TaskServiceDep, task: Task, status_code: int = 200, **headers: str
) -> JSONResponse:
    (read,) = await tasks.read([task])
    return JSONResponse(
        read.model_dump(mode="json"), status_code=status_code, headers={"ETag": task.etag, **headers}
    )


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
    responses={
        201: {"headers": ETAG},
        **error_responses(
            *WRITE, AssigneeNotMember, InvalidParent, IdempotencyKeyReused, IdempotencyKeyInUse
        ),
    },
)
async def create_task(
    data: TaskCreate,
    scope: ProjectScopeDep,
    tasks: TaskServiceDep,
    redis: RedisDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a task (members and above). Its number comes from the project's counter: unique, no gaps.

    Send an `Idempotency-Key` to retry safely: the same key and body replay the first response
    (with `Idempotent-Replayed: true`) for 24 hours; the same key with another body is a 422.
    """
    replay_scope = f"tasks:create:{scope.project_id}:{scope.user_id}"

    async def create() -> Response:
        task = await tasks.create(scope, data)
        return await task_response(tasks, task, 201, Location=task_location(task))

    return await Idempotency(redis).run(replay_scope, idempotency_key, data.model_dump(mode="json"), create)


@router.post(
    "/batch",
    name="batch-create",
    response_model=TaskBatchResult,
    responses={
        200: {"headers": header_refs("Idempotent-Replayed")},
        **error_responses(*WRITE, IdempotencyKeyReused, IdempotencyKeyInUse),
    },
)
async def batch_create_tasks(
    data: TaskBatch,
    scope: ProjectScopeDep,
    tasks: TaskServiceDep,
    redis: RedisDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create 1 to 100 tasks at once (members and above), with the database work of one create.

    Answers 200 with one result per item, in request order, whatever the items' outcomes: `created`
    (`status` 201, the `task`) or `failed` (`status` and the `problem` the item alone would have got,
    e.g. 422 `ASSIGNEE_NOT_MEMBER` or `INVALID_PARENT`); a failed item creates nothing and takes no
    number, the others are created with contiguous numbers in request order. A request that is
    wrong as a whole gets one problem as usual: 422 for 0 or over 100 items or an item that does not
    validate, 403 for viewers, 409 `PROJECT_ARCHIVED`.

    `Idempotency-Key` works as on `POST .../tasks`: the same key and body replay the first answer,
    results and all (with `Idempotent-Replayed: true`), for 24 hours.
    """
    replay_scope = f"tasks:batch-create:{scope.project_id}:{scope.user_id}"

    async def create() -> Response:
        outcomes = await tasks.create_many(scope, data.tasks)
        shown = iter(await tasks.read([o for o in outcomes if isinstance(o, Task)]))
        path, request_id = request.url.path, request_id_of(request.scope)
        results = TaskBatchResult(
            results=[
                TaskBatchCreated(index=index, task=next(shown))
                if isinstance(outcome, Task)
                else TaskBatchFailed(
                    index=index,
                    status=outcome.status,
                    problem=problem_of(outcome, path=path, request_id=request_id),
                )
                for index, outcome in enumerate(outcomes)
            ]
        )
        return JSONResponse(results.model_dump(mode="json"))

    return await Idempotency(redis).run(replay_scope, idempotency_key, data.model_dump(mode="json"), create)


# The filters, sort and paging a project's list and the list across projects share: one declaration each.
StatusFilter = Annotated[list[TaskStatus], Query(alias="status", description="Any of these.")]
PriorityFilter = Annotated[list[Priority], Query(description="Any of these.")]
AssigneeFilter = Annotated[
    str | None, Query(pattern=r"^(me|none|[0-9a-fA-F]{24})$", description="A user id, `me` or `none`.")
]
LabelFilter = Annotated[list[Label], Query(description="All of these labels.")]
DueBefore = Annotated[Rfc3339 | None, Query(description="Due strictly before.")]
DueAfter = Annotated[Rfc3339 | None, Query(description="Due strictly after.")]
UpdatedAfter = Annotated[Rfc3339 | None, Query(description="Changed strictly after.")]
SortParam = Annotated[TaskSort, Query(description="A field, `-` first for descending; ties by id.")]
CursorParam = Annotated[str | None, Query(max_length=1024)]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@cached_read(
    router,
    "",
    keys=PROJECT_KEYS,
    # `assignee=me` makes the answer depend on who asks, not only on their role.
    vary=lambda user, query: [user if query.get("assignee") == "me" else ""],
    name="list",
    response_model=Page[TaskRead],
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound, InsufficientRole),
)
async def list_tasks(
    scope: ProjectScopeDep,
    tasks: TaskServiceDep,
    status_: StatusFilter = [],  # noqa: B006
    priority: PriorityFilter = [],  # noqa: B006
    assignee: AssigneeFilter = None,
    label: LabelFilter = [],  # noqa: B006
    parent: Annotated[
        str | None,
        Query(pattern=r"^(none|[0-9a-fA-F]{24})$", description="A task id, or `none` for top level."),
    ] = None,
    due_before: DueBefore = None,
    due_after: DueAfter = None,
    updated_after: UpdatedAfter = None,
    include_deleted: Annotated[bool, Query(description="Also deleted tasks (project admins).")] = False,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            # No pattern: JSON Schema's \w is ASCII, Python's is Unicode, and a search in any script
            # must be valid to both. A query without a word of two letters matches nothing instead.
            description="Words or word prefixes, all of which must match. One-letter words are "
            "ignored, so a query without a word of two letters or more matches no task; an empty "
            "one filters nothing. A task key of this project (`WEB-42`, any case) matches that "
            "task: `q=web-42` lists just it, and `q=WEB-42 login` lists it and the tasks matching "
            "`login`. A key of another project is searched as words.",
        ),
    ] = None,
    sort: SortParam = TaskSort.CREATED_AT_DESC,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    include_total: bool = False,
) -> CachedResponse:
    """The project's tasks, filtered and sorted, a page at a time. Cursors survive inserts."""
    filters = TaskFilters(
        status=status_,
        priority=priority,
        assignee=assignee,
        label=label,
        parent=parent,
        due_before=due_before,
        due_after=due_after,
        updated_after=updated_after,
        include_deleted=include_deleted,
        q=q,
    )
    if include_deleted:
        scope.require(ProjectRole.ADMIN)

    page = await tasks.page(
        scope.project_id,
        scope.user_id,
        filters,
        SortOrder.parse(sort),
        cursor=cursor,
        limit=limit,
        include_total=include_total,
        project_key=scope.key,
    )
    return json_entry(page)


@router.post("/bulk-update", name="bulk-update", responses=error_responses(*WRITE))
async def bulk_update_tasks(data: BulkUpdate, access: VisibleProject, tasks: TaskServiceDep) -> BulkResult:
    """Change up to 100 tasks at once. Each id gets a result: `updated`, `not_found` or `invalid`
    (with why); the database work does not grow with the number of ids."""
    return await tasks.bulk_update(access, data)


async def task_entry(tasks: TaskService, scope: TaskScope) -> CachedResponse:
    task = await tasks.get(scope.project_id, scope.task_id)
    (read,) = await tasks.read([task])
    return json_entry(read, etag=task.etag)


async def load_task_entry(app: Starlette, scope: TaskScope) -> CachedResponse:
    return await task_entry(task_service(resources_of(app)), scope)


@cached_read(
    router,
    "/{task_id}",
    keys=TASK_KEYS,
    load=load_task_entry,
    name="get",
    response_model=TaskRead,
    responses=error_responses(*SEEN),
)
async def read_task(task_id: str, scope: TaskScopeDep, tasks: TaskServiceDep) -> CachedResponse:
    """One task, with its ETag (its revision)."""
    return await task_entry(tasks, scope)


@router.patch(
    "/{task_id}",
    name="update",
    response_model=TaskRead,
    responses={
        200: {"headers": ETAG},
        **error_responses(*WRITE, TaskNotFound, AssigneeNotMember, InvalidParent, PreconditionFailed),
    },
)
async def update_task(
    data: TaskUpdate,
    task: TaskInProject,
    access: VisibleProject,
    tasks: TaskServiceDep,
    if_match: IfMatch = None,
) -> Response:
    """Change some fields of a task (members and above). With If-Match, only if unchanged (else 412)."""
    return await task_response(tasks, await tasks.update(access, task, data, if_match=if_match))


@router.post(
    "/{task_id}/move",
    name="move",
    response_model=TaskRead,
    responses={
        200: {"headers": ETAG},
        **error_responses(
            *WRITE,
            TaskNotFound,
            NeighbourNotFound,
            InvalidNeighbours,
            BoardChanged,
            PreconditionFailed,
        ),
    },
)
async def move_task(
    data: TaskMove,
    task: TaskInProject,
    access: VisibleProject,
    tasks: TaskServiceDep,
    if_match: IfMatch = None,
) -> Response:
    """Drag a card on the board (members and above): it lands between `after_id` (the card above)
    and `before_id` (the card below), in the column `status` if given. The server gives it a `rank`
    between theirs; list the board with `sort=rank`. With If-Match, only if unchanged (else 412).
    409 `BOARD_CHANGED` when the two cards are no longer in that order: read the board again."""
    return await task_response(tasks, await tasks.move(access, task, data, if_match=if_match))


@router.delete(
    "/{task_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, TaskNotFound, PreconditionFailed),
)
async def delete_task(
    task: TaskInProject, access: VisibleProject, tasks: TaskServiceDep, if_match: IfMatch = None
) -> None:
    """Delete a task (members and above). It can be restored; project admins can still list it."""
    await tasks.delete(access, task, if_match=if_match)


@router.post(
    "/{task_id}/restore",
    name="restore",
    response_model=TaskRead,
    responses={200: {"headers": ETAG}, **error_responses(*WRITE, TaskNotFound)},
)
async def restore_task(task_id: str, access: VisibleProject, tasks: TaskServiceDep) -> Response:
    """Bring back a deleted task (members and above)."""
    return await task_response(tasks, await tasks.restore(access, parse_id(task_id, TaskNotFound)))


@cached_read(
    by_key_router,
    "",
    keys=MEMBER_PROJECTS_KEYS,
    name="list-across",
    response_model=Page[TaskRead],
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound),
)
async def list_tasks_across_projects(
    projects: MemberProjectsDep,
    tasks: TaskServiceDep,
    project_id: Annotated[
        list[Annotated[str, Query(pattern=r"^[0-9a-fA-F]{24}$")]],
        Query(
            max_length=100,
            description="Only these of your projects (any number of times); one you are not a member "
            "of is a 404.",
        ),
    ] = [],  # noqa: B006
    status_: StatusFilter = [],  # noqa: B006
    priority: PriorityFilter = [],  # noqa: B006
    assignee: AssigneeFilter = None,
    label: LabelFilter = [],  # noqa: B006
    due_before: DueBefore = None,
    due_after: DueAfter = None,
    updated_after: UpdatedAfter = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words or word prefixes, all of which must match (one-letter words are "
            "ignored). A task key of one of the listed projects (`WEB-42`, any case) matches that "
            "task: `q=web-42` lists just it, `q=WEB-42 APP-7 login` those two and the tasks matching "
            "`login`. A key of no listed project is searched as words.",
        ),
    ] = None,
    sort: SortParam = TaskSort.CREATED_AT_DESC,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    include_total: bool = False,
) -> CachedResponse:
    """Tasks of every project you are a member of (archived ones too), or of the `project_id`s given,
    with the filters, sorts and cursors of a project's list; `project_id` tells each task's project.

    One query whatever the number of projects. Cached for you alone: a change in any of your projects,
    or to the projects you are in, ends the cached answer (a removed member's next list is without the
    project at once). Global admins see here the projects they are members of; other projects' tasks
    are listed per project.
    """
    filters = TaskFilters(
        status=status_,
        priority=priority,
        assignee=assignee,
        label=label,
        due_before=due_before,
        due_after=due_after,
        updated_after=updated_after,
        q=q,
    )
    chosen = [parse_id(p, ProjectNotFound) for p in project_id]
    page = await tasks.page_across(
        projects,
        chosen,
        filters,
        SortOrder.parse(sort),
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    return json_entry(page)


@by_key_router.get(
    "/{task_key}",
    name="get-by-key",
    response_model=TaskRead,
    responses={200: {"headers": ETAG}, **error_responses(*AUTH_ERRORS, TaskNotFound)},
)
async def read_task_by_key(task_key: str, caller: CurrentCaller, tasks: TaskServiceDep) -> Response:
    """A task by its key, `WEB-42`, for members of its project."""
    key = parse_task_key(task_key)
    project = await ProjectRepository().by_key(key.project_key) if key else None
    access = ProjectAccess.decide(caller, project) if project is not None else None
    if key is None or access is None:
        raise TaskNotFound()
    return await task_response(tasks, await tasks.get_by_number(access.grant.project_id, key.number))
