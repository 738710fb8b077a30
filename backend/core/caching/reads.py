"""Cached GET routes, each declared once: its key, its variance, its registration with the fast path,
and the answer it serves (strong ETag, 304, `X-Cache`) all come from one `cached_read` decorator.

    @cached_read(router, "/{task_id}", keys=TASK_KEYS, name="get", response_model=TaskRead)
    async def read_task(task_id: str, scope: TaskScopeDep, ...) -> CachedResponse:
        ...  # runs on a miss only; returns the entry to store

`keys` says how a read learns what the caller may see (its `KeyScope`): `fast` from a bare request,
for the cache-hit fast path (fastpath.py), and `dependency` for the route, which the handler must
take as a parameter. Both decide through the same access policy, so they agree; the key is built by
`CachedRead.key_parts` for both. The fast path finds every read so declared on the app's routes.

A read whose answer follows from its key scope alone (no query parameter, body or header to
validate) may also declare `load(app, key_scope)`, the entry its handler computes: the fast path
then answers its misses too, without routing (its handler must compute the same, through the same
function; a test compares the two answers for every such read).
"""

import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response, params, status
from starlette.applications import Starlette
from starlette.types import Scope

from backend.core.caching.responses import JSON, CachedResponse, ResponseCache, reply
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import IfNoneMatch
from backend.core.resources import resources


class KeyScope:
    """What a caller may see of the data a cached read answers from: the first parts of its key.
    Callers with equal parts share entries; anything else they differ in must go into `vary`."""

    def key_parts(self) -> list[str]:
        raise NotImplementedError

    def caller_id(self) -> str:
        raise NotImplementedError


K = TypeVar("K", bound=KeyScope)


@dataclass(frozen=True)
class KeyResolver(Generic[K]):
    # From the bare request, before routing: None whenever the route must answer (no caller, not
    # allowed, anything unusual). Never raises for a request's content.
    fast: Callable[[Scope, Mapping[str, str]], Awaitable[K | None]]
    # The route's dependency: the same decision, raising the route's errors (401, 404, ...).
    dependency: Callable[..., Awaitable[K]]


# The entry of a read whose answer follows from its key scope alone, for misses before routing.
MissLoader = Callable[[Starlette, K], Awaitable[CachedResponse]]

# What an answer depends on beyond the key scope, path and query: the caller's id and the last value
# of each query parameter (FastAPI reads a repeated single-valued parameter as its last value).
Variance = Callable[[str, Mapping[str, str]], list[str]]


def invariant(_: str, __: Mapping[str, str]) -> list[str]:
    return []


_NO_QUERY = json.dumps([])  # the normalised query of a request without one


@dataclass(frozen=True)
class CachedRead:
    path: str  # the route's template, e.g. /api/v1/projects/{project_id}/tasks/{task_id}
    keys: KeyResolver[Any]
    vary: Variance = invariant
    load: MissLoader[Any] | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        object.__setattr__(self, "pattern", re.compile(regex + "$"))

    def key_parts(self, scope: KeyScope, path: str, query_string: bytes) -> list[str]:
        """Everything the answer depends on: what the caller may see, this route's variance, the
        path and the normalised query."""
        if query_string:
            query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
            # By name only: a stable sort keeps a repeated parameter's values in their order, which
            # decides the answer (FastAPI reads a single-valued parameter's last value).
            normalised = json.dumps(sorted(query, key=itemgetter(0)))
        else:  # most reads: the parsing and the JSON of nothing cost a hit 3%
            query, normalised = [], _NO_QUERY
        return [*scope.key_parts(), *self.vary(scope.caller_id(), dict(query)), path, normalised]


_HEADER_DOCS = header_refs("ETag", "X-Cache", "Cache-Control")
_REQUEST = "cached_read_request"
_IF_NONE_MATCH = "if_none_match"


def response_cache(app: Any) -> ResponseCache:
    return resources(app).stores.responses


def cached_responses() -> dict[int | str, dict[str, Any]]:
    """Contract entries of a cached GET: its headers, and 304 for a current If-None-Match."""
    return {
        200: {"headers": _HEADER_DOCS},
        304: {"description": "Not modified: your If-None-Match is current.", "headers": _HEADER_DOCS},
    }


Handler = Callable[..., Awaitable[CachedResponse]]


def cached_read(
    router: APIRouter,
    path: str,
    *,
    keys: KeyResolver[K],
    vary: Variance = invariant,
    load: MissLoader[K] | None = None,
    responses: dict[int | str, dict[str, Any]] | None = None,
    **route: Any,
) -> Callable[[Handler], Handler]:
    """Declare a cached GET route at `router.prefix + path` (see the module's docstring)."""
    read = CachedRead(router.prefix + path, keys, vary, load)

    def declare(handler: Handler) -> Handler:
        hints = get_type_hints(handler, include_extras=True)
        signature = inspect.signature(handler)
        scope_name = _key_scope_parameter(handler, hints, keys)
        parameters = [
            p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
        ]
        if any(p.name in (_REQUEST, _IF_NONE_MATCH) for p in parameters):
            raise TypeError(f"{handler.__name__}: the cached read adds {_IF_NONE_MATCH} itself")
        parameters += [
            inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request),
            inspect.Parameter(
                _IF_NONE_MATCH, inspect.Parameter.KEYWORD_ONLY, annotation=IfNoneMatch, default=None
            ),
        ]

        @functools.wraps(handler)
        async def endpoint(**values: Any) -> Response:
            request: Request = values.pop(_REQUEST)
            if_none_match: str | None = values.pop(_IF_NONE_MATCH)
            parts = read.key_parts(values[scope_name], request.scope["path"], request.scope["query_string"])
            entry, hit = await response_cache(request.app).fetch(parts, lambda: handler(**values))
            answer = reply(entry, hit=hit, if_none_match=if_none_match)
            if answer.status == status.HTTP_304_NOT_MODIFIED:
                return Response(status_code=answer.status, headers=answer.headers)
            return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type=JSON)

        endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=Response
        )
        del endpoint.__wrapped__  # FastAPI reads the signature above, not the handler's
        endpoint.cached_read = read  # type: ignore[attr-defined]
        router.get(path, responses={**cached_responses(), **(responses or {})}, **route)(endpoint)
        return handler

    return declare


def _key_scope_parameter(handler: Handler, hints: dict[str, Any], keys: KeyResolver[Any]) -> str:
    """The handler's parameter that receives `keys.dependency`: the route's access decision."""
    found = [
        name
        for name, hint in hints.items()
        if get_origin(hint) is Annotated
        and any(isinstance(m, params.Depends) and m.dependency is keys.dependency for m in get_args(hint)[1:])
    ]
    if len(found) != 1:
        raise TypeError(f"{handler.__name__} must take exactly one parameter of {keys.dependency.__name__}")
    return found[0]


def declared_reads(routes: Any) -> list[CachedRead]:
    """The cached reads declared among an app's routes, in included routers too."""
    found: list[CachedRead] = []
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI 0.163+ keeps includes as such
        if included is not None:
            found += declared_reads(included.routes)
        read = getattr(getattr(route, "endpoint", None), "cached_read", None)
        if isinstance(read, CachedRead):
            found.append(read)
    return found
