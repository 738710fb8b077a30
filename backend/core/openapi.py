"""The contract: the app's OpenAPI document, its deterministic YAML form, and drift detection.

`api-specification.yaml` is what the frontend codes against; `build_openapi` adds what FastAPI
cannot know (problem responses for app-wide failures), and `export_yaml` writes it with sorted keys
so that a diff shows exactly what changed.
"""

import difflib
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from backend.core.errors import (
    InternalError,
    MalformedJson,
    PayloadTooLarge,
    Problem,
    ProblemError,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    problem_response,
    registered_error,
)
from backend.core.ratelimit import RateLimited, RateLimitMiddleware
from backend.core.routing import API_PREFIX

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def operation_id(route: APIRoute) -> str:
    """`<tag>-<name>`: stable, readable names for generated clients (`tasks-update`)."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name}"


def build_openapi(app: FastAPI, *, app_wide_errors: tuple[type[ProblemError], ...] = ()) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    spec["components"]["headers"] = RESPONSE_HEADERS
    for path, operation in _operations(spec):
        _event_streams_as_openapi_31(operation)
        added: list[type[ProblemError]] = [InternalError, *app_wide_errors]
        if not path.startswith(RateLimitMiddleware.EXEMPT):
            added.append(RateLimited)
        if path.startswith(API_PREFIX):
            added.append(ServiceUnavailable)  # every API operation reads MongoDB, if only for the caller
        if "requestBody" in operation:
            added += [PayloadTooLarge, UnsupportedMediaType, MalformedJson, ValidationFailed]
        if operation.get("parameters"):
            added.append(ValidationFailed)
        _add_problem_responses(operation, added)
        _document_headers(path, operation)
    return spec


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "schema": schema, **({"required": True} if required else {})}


_INTEGER = {"type": "integer", "minimum": 0}
# Every header the server sends beside the body, documented once and referenced per response.
RESPONSE_HEADERS: dict[str, Any] = {
    "X-Request-ID": _header(
        "The request's id (yours if you sent a valid one); quote it in bug reports.",
        {"type": "string", "maxLength": 128},
        required=True,
    ),
    "RateLimit-Limit": _header(
        "Requests allowed per window for this caller (or IP).", _INTEGER, required=True
    ),
    "RateLimit-Remaining": _header("Requests left in the current window.", _INTEGER, required=True),
    "RateLimit-Reset": _header("Seconds until the window frees a request.", _INTEGER, required=True),
    "Retry-After": _header("Seconds to wait before retrying.", _INTEGER, required=True),
    "Location": _header("The created resource's path.", {"type": "string"}, required=True),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        {"type": "string", "enum": ["true"]},
    ),
}


def _document_headers(path: str, operation: dict[str, Any]) -> None:
    limited = not path.startswith(RateLimitMiddleware.EXEMPT)
    replays = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    for status, response in operation.get("responses", {}).items():
        headers: dict[str, Any] = response.setdefault("headers", {})
        names = ["X-Request-ID"]
        if limited:
            names += ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
        if status in ("429", "503"):
            names.append("Retry-After")
        if status == "201":
            names.append("Location")
            if replays:
                names.append("Idempotent-Replayed")
        for name in names:
            headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})


def _operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    paths: dict[str, dict[str, Any]] = spec.get("paths", {})
    return [(path, op) for path, item in paths.items() for m, op in item.items() if m in _HTTP_METHODS]


def _event_streams_as_openapi_31(operation: dict[str, Any]) -> None:
    """FastAPI describes SSE items with OpenAPI 3.2's `itemSchema`, which 3.1 tools reject: keep it
    as an extension and describe the body as the text stream it is."""
    for response in operation.get("responses", {}).values():
        media = response.get("content", {}).get("text/event-stream")
        if media and "itemSchema" in media:
            media["x-item-schema"] = media.pop("itemSchema")
            media["schema"] = {"type": "string", "description": "Server-Sent Events (text/event-stream)."}


def _add_problem_responses(operation: dict[str, Any], errors: list[type[ProblemError]]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    by_status: dict[str, list[type[ProblemError]]] = {}
    for status, response in responses.items():
        by_status[status] = [registered_error(code) for code in response.get("x-error-codes", [])]
    for error in errors:
        by_status.setdefault(str(error.status), []).append(error)
    for status, group in by_status.items():
        existing = responses.get(status, {})
        # FastAPI's own 422 (HTTPValidationError) has no x-error-codes and is replaced by ours.
        if group and ("x-error-codes" in existing or not existing or status == "422"):
            responses[status] = problem_response(group)


def export_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100)


def load_spec(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold an OpenAPI document")
    return loaded


def drift(app: FastAPI, path: Path) -> list[str]:
    """A unified diff from the committed file to what the app generates; empty when they agree."""
    generated = export_yaml(app.openapi())
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    if committed == generated:
        return []
    return list(
        difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), str(path), "generated by the app", lineterm=""
        )
    )
