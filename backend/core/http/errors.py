"""RFC 9457 problem details: one error base class, the shared errors, and the contract entries for them.

Every error a service raises is a `ProblemError` subclass carrying its status and a stable `error_code`;
one handler turns it into `application/problem+json`, and `error_responses()` documents it in the contract.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from backend.core.http.headers import header_refs

PROBLEM_MEDIA_TYPE = "application/problem+json"
_REGISTRY: dict[str, type["ProblemError"]] = {}


class Problem(BaseModel):
    """An RFC 9457 problem details body, with Tasklane's extension members."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "urn:tasklane:error:VALIDATION_FAILED",
                "title": "Request validation failed",
                "status": 422,
                "detail": "One or more fields are invalid.",
                "instance": "/api/v1/projects",
                "error_code": "VALIDATION_FAILED",
                "request_id": "6f1c2b0e9a7d4f55b3e1c0a9d8e7f6a5",
                "field_errors": {"name": ["String should have at least 1 character"]},
            }
        }
    )

    type: str = Field(description="A URN naming the kind of problem: `urn:tasklane:error:<error_code>`.")
    title: str = Field(description="A short, human-readable summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this occurrence, for a person.")
    instance: str = Field(description="The path of the request that failed.")
    error_code: str = Field(description="A stable SCREAMING_SNAKE code for programs to branch on.")
    request_id: str = Field(description="The request id, also in the `X-Request-ID` response header.")
    current_etag: str | None = Field(
        None, description="412 only: the resource's ETag now; read it again, or send this as If-Match."
    )
    field_errors: dict[str, list[str]] | None = Field(
        None,
        description=(
            "Messages per field, on 422 answers about fields. Body fields are keyed by their path "
            "(`title`, `set.status`, `labels.3`); query, path and header parameters by location and "
            "name (`query.limit`)."
        ),
    )


def problem_schema() -> dict[str, Any]:
    """`Problem` as published: the extension members are absent when not sent, never null, so the
    contract shows them optional and non-null; each response requires those its codes always send."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in _OPTIONAL_MEMBERS:
        member = schema["properties"][name]
        (kind,) = [option for option in member.pop("anyOf") if option != {"type": "null"}]
        member.pop("default")
        member.update(kind)
    return schema


_OPTIONAL_MEMBERS = ("current_etag", "field_errors")


def _member_schema(name: str) -> dict[str, Any]:
    member: dict[str, Any] = problem_schema()["properties"][name]
    return member


class ProblemError(Exception):
    """Base of every error the API answers with. Subclasses set the class variables."""

    status: ClassVar[int] = 500
    error_code: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "Internal server error"
    default_detail: ClassVar[str] = "An unexpected error occurred; it has been logged."
    # Extension members every answer of this kind carries (the contract marks them required):
    # Problem's own, and others with their JSON schema.
    members: ClassVar[tuple[str, ...]] = ()
    extra_members: ClassVar[dict[str, dict[str, Any]]] = {}
    # Headers every answer of this kind carries (documented in backend/core/http/headers.py), and the
    # values of those that do not vary (also documented).
    sends_headers: ClassVar[tuple[str, ...]] = ()
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        field_errors: dict[str, list[str]] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.default_detail
        self.headers = {**self.default_headers, **(headers or {})}
        self.field_errors = field_errors
        self.extra = extra
        carried = [*self.members, *self.extra_members]
        missing = [m for m in carried if (field_errors if m == "field_errors" else extra.get(m)) is None]
        if missing:
            raise TypeError(f"{type(self).__name__} needs {', '.join(missing)}: the contract promises it")
        super().__init__(self.detail)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Codes are the stable contract: two classes may not claim one code with different statuses.
        existing = _REGISTRY.get(cls.error_code)
        if existing is not None and existing.status != cls.status:
            raise TypeError(f"error_code {cls.error_code} already used with status {existing.status}")
        _REGISTRY.setdefault(cls.error_code, cls)


class InternalError(ProblemError):
    pass


class RouteNotFound(ProblemError):
    status = 404
    error_code = "NOT_FOUND"
    title = "Not found"
    default_detail = "No resource exists at this path."


class MethodNotAllowed(ProblemError):
    status = 405
    error_code = "METHOD_NOT_ALLOWED"
    title = "Method not allowed"
    default_detail = "This path does not accept this method; see the Allow header."


class BadRequest(ProblemError):
    status = 400
    error_code = "BAD_REQUEST"
    title = "Bad request"
    default_detail = "The request could not be understood."


class PayloadTooLarge(ProblemError):
    status = 413
    error_code = "PAYLOAD_TOO_LARGE"
    title = "Request body too large"
    default_detail = "The request body is larger than this server accepts."


class UnsupportedMediaType(ProblemError):
    status = 415
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"
    default_detail = "The request body's Content-Type is not accepted here."


class ValidationFailed(ProblemError):
    status = 422
    error_code = "VALIDATION_FAILED"
    title = "Request validation failed"
    default_detail = "One or more fields are invalid; see field_errors."
    members = ("field_errors",)


class MalformedJson(ProblemError):
    status = 422
    error_code = "MALFORMED_JSON"
    title = "Malformed JSON"
    default_detail = "The request body is not valid JSON."


class ServiceUnavailable(ProblemError):
    status = 503
    error_code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"
    default_headers = {"Retry-After": "5"}
    default_detail = "A dependency of the service is unavailable; retry after the time in Retry-After."


def problem_type(error_code: str) -> str:
    return f"urn:tasklane:error:{error_code}"


def error_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these errors: one response per status, listing its codes.

    Each response carries `x-error-codes`, so that the contract builder can merge codes added by
    the app-wide rules (validation, rate limits) into a route's own response for the same status.
    """
    by_status: dict[int, list[type[ProblemError]]] = defaultdict(list)
    for error in errors:
        by_status[error.status].append(error)
    return {status: problem_response(group) for status, group in sorted(by_status.items())}


def problem_response(errors: list[type[ProblemError]]) -> dict[str, Any]:
    unique = sorted({e.error_code: e for e in errors}.values(), key=lambda e: e.error_code)
    first = unique[0]
    title = first.title if len(unique) == 1 else "Error"
    codes = [e.error_code for e in unique]
    always = sorted(set.intersection(*({*e.members, *e.extra_members} for e in unique)))
    extras = {name: schema for e in unique for name, schema in e.extra_members.items()}
    headers = sorted({name for e in unique for name in (*e.sends_headers, *e.default_headers)})
    return {
        "description": f"{title}. error_code: {', '.join(codes)}.",
        "x-error-codes": codes,
        **({"headers": header_refs(*headers)} if headers else {}),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                # The codes this answer can carry, as an enumeration: generated clients get a union
                # of them to switch on (the `x-error-codes` list above is read by no generator).
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {
                            "type": "object",
                            # Members listed with their schema too: generators ignore a bare `required`.
                            "properties": {
                                "error_code": {"type": "string", "enum": codes},
                                **{name: _member_schema(name) for name in always if name not in extras},
                                **extras,
                            },
                            **({"required": always} if always else {}),
                        },
                    ]
                },
                "example": problem_example(first),
            }
        },
    }


def problem_example(error: type[ProblemError]) -> dict[str, Any]:
    return {
        "type": problem_type(error.error_code),
        "title": error.title,
        "status": error.status,
        "detail": error.default_detail,
        "instance": "/api/v1/...",
        "error_code": error.error_code,
        "request_id": "6f1c2b0e9a7d4f55b3e1c0a9d8e7f6a5",
        **{member: _MEMBER_EXAMPLES[member] for member in error.members},
    }


_MEMBER_EXAMPLES: dict[str, object] = {
    "field_errors": {"title": ["String should have at least 1 character"]},
    "current_etag": '"v3"',
}


def registered_error(error_code: str) -> type[ProblemError]:
    return _REGISTRY[error_code]
