"""The contract: the app's OpenAPI document, its deterministic YAML form, and drift detection.

`api-specification.yaml` is what the frontend codes against; `build_openapi` adds what FastAPI
cannot know (problem responses for app-wide failures), and `export_yaml` writes it with sorted keys
so that a diff shows exactly what changed.
"""

import difflib
import json
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backend.core.http.drain import ShuttingDown
from backend.core.http.errors import (
    InternalError,
    MalformedJson,
    PayloadTooLarge,
    ProblemError,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    problem_response,
    problem_schema,
    registered_error,
)
from backend.core.http.examples import EXAMPLES
from backend.core.http.headers import RESPONSE_HEADERS, header_refs
from backend.core.http.middleware import LIVENESS_PATH
from backend.core.http.routing import API_PREFIX
from backend.core.ratelimit.middleware import RateLimitMiddleware
from backend.core.ratelimit.rules import RateLimited

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_BODY_METHODS = ("post", "put", "patch")
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def operation_id(route: APIRoute) -> str:
    """`<tag>-<name>`: stable, readable names for generated clients (`tasks-update`)."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name.replace('_', '-')}"


MESSAGE_MODELS = "message_models"  # on `app.state`: models only the `webhooks` refer to


def build_openapi(app: FastAPI, *, app_wide_errors: tuple[type[ProblemError], ...] = ()) -> dict[str, Any]:
    """The document. The models in `app.state.message_models` (bodies the server sends, which the
    `webhooks` refer to) are added as answers are (serialization mode)."""
    message_models: tuple[type[BaseModel], ...] = getattr(app.state, MESSAGE_MODELS, ())
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        # Relative: the server that serves this document (generated clients take a base URL).
        servers=app.servers or [{"url": "/", "description": "The server that serves this document."}],
        license_info=app.license_info,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = problem_schema()
    for model in message_models:
        found = model.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
        for name, nested in found.pop("$defs", {}).items():
            schemas.setdefault(name, nested)
        schemas[model.__name__] = found
    spec["components"]["headers"] = RESPONSE_HEADERS
    for path, method, operation in _operations(spec):
        security: list[dict[str, list[str]]] = operation.setdefault("security", [])  # none: public
        if operation.pop(OPTIONAL_SECURITY, False):
            security.append({})  # or anonymous
        _event_streams_as_openapi_31(operation, schemas)
        added: list[type[ProblemError]] = [InternalError, *app_wide_errors]
        if path != LIVENESS_PATH:
            added.append(ShuttingDown)  # answered to any request that arrives after SIGTERM
        if not path.startswith(RateLimitMiddleware.EXEMPT):
            added.append(RateLimited)
        if path.startswith(API_PREFIX):
            added.append(ServiceUnavailable)  # every API operation reads MongoDB, if only for the caller
        if method in _BODY_METHODS:  # the size limit reads any body they are sent
            added.append(PayloadTooLarge)
        if "requestBody" in operation:
            added += [UnsupportedMediaType, MalformedJson, ValidationFailed]
        if operation.get("parameters"):
            added.append(ValidationFailed)
        _add_problem_responses(operation, added)
        _document_headers(path, operation)
    _exact_optionality(spec)
    for name, schema in schemas.items():
        if name in EXAMPLES:
            schema.setdefault("example", EXAMPLES[name])
    return spec


def _exact_optionality(spec: dict[str, Any]) -> None:
    """Optional request fields as generators read them (openapi-typescript's defaults among them).

    In answers, a field with a default is required (backend/core/types.py `Schema`). In a request it
    may be left out, but generators read a `default` as "required", so the default moves into the
    description. A schema used both ways could not say both and is refused.
    """
    schemas: dict[str, Any] = spec["components"]["schemas"]
    operations = [op for _, _, op in _operations(spec)]
    sent = reachable_schemas(schemas, [op.get("requestBody", {}) for op in operations])
    answered = reachable_schemas(schemas, [op.get("responses", {}) for op in operations])
    for name in sent:
        schema = schemas[name]
        variants = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
        defaulted = [p for v in variants for p in v.get("properties", {}).values() if "default" in p]
        if defaulted and name in answered:
            raise ValueError(f"{name} is both a request and a response body; give each its own model")
        for prop in defaulted:
            default = json.dumps(prop.pop("default"))
            prop["description"] = f"{prop.get('description', '').rstrip()} Default: `{default}`.".lstrip()


def reachable_schemas(schemas: dict[str, Any], roots: list[Any]) -> set[str]:
    """Names of the component schemas that `roots` (parts of the document) refer to, at any depth."""
    found: set[str] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending += node
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(schemas.get(name, {}))
            pending += [v for k, v in node.items() if k != "$ref"]
    return found


def _document_headers(path: str, operation: dict[str, Any]) -> None:
    limited = not path.startswith(RateLimitMiddleware.EXEMPT)
    replays = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    for status, response in operation.get("responses", {}).items():
        headers: dict[str, Any] = response.setdefault("headers", {})
        names = ["X-Request-ID", "Vary"]
        if limited:
            names += ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
        if status == "201":
            names.append("Location")
            if replays:
                names.append("Idempotent-Replayed")
        for name, ref in header_refs(*names).items():
            headers.setdefault(name, ref)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    paths: dict[str, dict[str, Any]] = spec.get("paths", {})
    return [(path, m, op) for path, item in paths.items() for m, op in item.items() if m in _HTTP_METHODS]


# `openapi_extra` key of an operation whose security requirement the server may or may not enforce.
OPTIONAL_SECURITY = "x-security-optional"
# Models of the events of Server-Sent Events streams, by name, as routes declare them.
_EVENT_MODELS: dict[str, type[BaseModel]] = {}


def event_stream(event: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` of an SSE route whose events are `event`: a model of fields `id`, `event` and
    `data` (as a client holds them once `data` is parsed), from which the contract types the stream."""
    _EVENT_MODELS[event.__name__] = event
    return {"x-event-model": event.__name__}


def _event_streams_as_openapi_31(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """FastAPI describes SSE items with OpenAPI 3.2's `itemSchema`, which 3.1 tools reject: the body
    is the text stream it is, and `x-item-schema` describes each event on the wire, its `data` the
    JSON of the declared event model's `data` (a named schema, for generated clients)."""
    declared = operation.pop("x-event-model", None)
    for response in operation.get("responses", {}).values():
        media = response.get("content", {}).get("text/event-stream")
        if not media or "itemSchema" not in media:
            continue
        item = media.pop("itemSchema")
        if declared:
            model = _EVENT_MODELS[declared]
            schema = model.model_json_schema(
                ref_template="#/components/schemas/{model}", mode="serialization"
            )
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            fields = schema["properties"]
            # As the model says: a stream may send some events without an id (the count of a user's).
            required = schema.get("required", [])
            item["required"] = [name for name in ("id", "event", "data") if name in required]
            item["properties"].update(
                # An absent id is left out on the wire, never sent as null: no default to state.
                id={k: v for k, v in fields["id"].items() if k != "default"},
                event=fields["event"],
                data={
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": fields["data"],
                },
            )
        media["x-item-schema"] = item
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


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared object out each time: YAML anchors and aliases trip some OpenAPI tools."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def export_yaml(spec: dict[str, Any]) -> str:
    return yaml.dump(
        spec, Dumper=_PlainDumper, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100
    )


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
