"""Contract fuzzing: schemathesis generates requests from the committed api-specification.yaml (not
the app's own schema) and checks every answer against it. Examples per operation come from
TASKLANE_FUZZ_EXAMPLES (CI sets it; the default keeps a local run short)."""

import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, assume, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.core.config import REPO_ROOT
from backend.main import create_app
from backend.testing import DEFAULT_PASSWORD, make_test_settings

EXAMPLES = int(os.environ.get("TASKLANE_FUZZ_EXAMPLES", "8"))
# Headers that describe the HTTP message itself, which no client codes against.
_MESSAGE_HEADERS = {
    "content-type",
    "content-length",
    "date",
    "server",
    "connection",
    "transfer-encoding",
}


@schemathesis.check
def every_header_documented(ctx: Any, response: Any, case: schemathesis.Case[Any]) -> bool | None:
    """A header the server sends that the contract does not name for this answer is invisible to
    generated clients (and to CORS users who must read it): each one must be documented."""
    documented = case.operation.definition.raw["responses"].get(str(response.status_code))
    if documented is None:  # a method the path does not have: status_code_conformance's concern
        return None
    names = {name.lower() for name in documented.get("headers", {})}
    undocumented = sorted(set(response.headers) - names - _MESSAGE_HEADERS)
    assert not undocumented, f"{response.status_code} sends undocumented headers: {', '.join(undocumented)}"
    return None


CHECKS = [
    every_header_documented,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

# The event stream never ends by design; its contract is tested in tests/activity/test_stream.py.
schema = schemathesis.openapi.from_path(REPO_ROOT / "api-specification.yaml").exclude(path_regex=r"/events$")
# A negative example can be larger than the body limit (a batch of tasks, each description past its
# maxLength): 413 PAYLOAD_TOO_LARGE refuses it as surely as 422 does, and the contract documents it.
_rejections = schema.config.checks.negative_data_rejection
_rejections.expected_statuses = [*_rejections.expected_statuses, "413"]


PUBLIC_TARGET = "https://93.184.215.14/hooks"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(url: str) -> dict[str, Any]:
    """A user who owns a project with a task, its comment and relation, a second member, and tokens."""
    with httpx.Client(base_url=url, timeout=30) as http:

        def user(name: str) -> tuple[str, dict[str, str]]:
            email = f"{name}-{time.time_ns()}@example.com"
            created = http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": DEFAULT_PASSWORD, "display_name": name},
            )
            token = http.post(
                "/api/v1/auth/token", data={"username": email, "password": DEFAULT_PASSWORD}
            ).json()
            return created.json()["id"], {"Authorization": f"Bearer {token['access_token']}"}

        owner_id, owner = user("Owner")
        member_id, _ = user("Member")
        spare_id, _ = user("Spare")
        # A personal access token survives /auth/logout, so the fuzzing keeps its identity.
        pat = http.post("/api/v1/users/me/tokens", json={"name": "fuzz"}, headers=owner).json()["token"]
        spare = http.post("/api/v1/users/me/tokens", json={"name": "spare"}, headers=owner).json()["id"]
        auth = {"Authorization": f"Bearer {pat}"}
        project = http.post("/api/v1/projects", json={"name": "Fuzz", "key": "FUZZ"}, headers=auth).json()
        base = f"/api/v1/projects/{project['id']}"
        http.post(
            f"{base}/members", json={"user_id": member_id, "role": "member"}, headers=auth
        ).raise_for_status()
        task = http.post(
            f"{base}/tasks", json={"title": "Fuzzed", "assignee_ids": [owner_id]}, headers=auth
        ).json()
        comment = http.post(f"{base}/tasks/{task['id']}/comments", json={"body": "hi"}, headers=auth).json()
        parent = http.post(f"{base}/tasks", json={"title": "Parent"}, headers=auth).json()
        # Below `parent` on the board for good: moves only ever move the path's task.
        below = http.post(f"{base}/tasks", json={"title": "Below"}, headers=auth).json()
        relation = http.post(
            f"{base}/tasks/{task['id']}/relations",
            json={"type": "relates_to", "task_id": parent["id"]},
            headers=auth,
        ).json()
        # A public address by its literal (no DNS lookup, refused by no SSRF check); never called,
        # the fuzzed app runs no worker.
        webhook = http.post(
            f"{base}/webhooks", json={"url": PUBLIC_TARGET, "events": ["task.created"]}, headers=auth
        ).json()
        delivery = http.post(f"{base}/webhooks/{webhook['id']}/ping", headers=auth).json()
        return {
            "headers": auth,
            "references": {
                "owner_id": owner_id,
                "spare_id": spare_id,
                "task_id": task["id"],
                "parent_id": parent["id"],
                "below_id": below["id"],
            },
            "parameters": {
                "project_id": project["id"],
                "task_id": task["id"],
                "comment_id": comment["id"],
                "user_id": member_id,
                "token_id": spare,
                "task_key": task["key"],
                "relation_id": relation["id"],
                "webhook_id": webhook["id"],
                "delivery_id": delivery["id"],
            },
        }


@pytest.fixture(scope="module")
def live_api() -> Iterator[dict[str, Any]]:
    """The app under uvicorn in a thread of its own, seeded, and the schema pointed at it."""
    port = _free_port()
    # Warnings only: the server thread's request lines would go around pytest's capture, into CI's log.
    app = create_app(make_test_settings(log_level="WARNING"))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        yield {"url": url, **_seed(url)}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_contract(case: schemathesis.Case[Any], live_api: dict[str, Any]) -> None:
    assume(not breaks_http(case.headers or {}))
    use_real_references(case, live_api)
    case.call_and_validate(base_url=live_api["url"], headers=live_api["headers"], checks=CHECKS)


# Headers that frame the HTTP message itself, and what RFC 9110 allows in a header's name and value.
_FRAMING = {"content-length", "transfer-encoding", "host", "connection", "upgrade", "expect", "te"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def breaks_http(headers: Mapping[str, Any]) -> bool:
    """Negative cases may add random headers. One that reframes or breaks the HTTP message (a bad
    Content-Length, a CR in a value) is refused by the HTTP server with its own plain-text 400
    before the app sees a request: that is uvicorn's parser under test, not the API's contract."""
    return any(
        name.lower() in _FRAMING or not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(str(value))
        for name, value in headers.items()
    )


def _positive(case: schemathesis.Case[Any], location: ParameterLocation) -> bool:
    info = case.meta.components.get(location) if case.meta else None
    return info is None or info.mode is GenerationMode.POSITIVE


def _current_etag(case: schemathesis.Case[Any], live: dict[str, Any]) -> str:
    """If-Match names a version: the current one, read just before (what a careful client sends)."""
    path = case.formatted_path
    response = httpx.get(live["url"] + path, headers=live["headers"])
    return str(response.headers.get("etag", '"v0"'))


def use_real_references(case: schemathesis.Case[Any], live: dict[str, Any]) -> None:
    """Fill what a schema cannot constrain (that an id names an existing resource, that a time is
    in the future, that a cursor came from this API) with real values, in the parts of a case that
    are meant to be valid; parts a case deliberately breaks are left broken, for the API to refuse."""
    if case.path_parameters and _positive(case, ParameterLocation.PATH):
        for name in case.path_parameters:
            case.path_parameters[name] = live["parameters"].get(name, case.path_parameters[name])
    if case.headers and _positive(case, ParameterLocation.HEADER):
        if "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = uuid.uuid4().hex  # a new key per request, as clients do
        if "If-Match" in case.headers:
            case.headers["If-Match"] = _current_etag(case, live)
    if case.query and _positive(case, ParameterLocation.QUERY):
        case.query.pop("cursor", None)  # valid cursors only come from the API's own answers
        if case.query.get("parent") not in (None, "none"):
            case.query["parent"] = live["references"]["parent_id"]
    body = case.body
    if isinstance(body, dict) and _positive(case, ParameterLocation.BODY):
        references = live["references"]
        if body.get("assignee_ids"):
            body["assignee_ids"] = [references["owner_id"]]
        if body.get("parent_id"):
            body["parent_id"] = references["parent_id"]
        if body.get("after_id"):  # a move: between two other live tasks, in their board order
            body["after_id"] = references["parent_id"]
        if body.get("before_id"):
            body["before_id"] = references["below_id"]
        if "task_id" in body and "type" in body:  # a relation: to another task than the path's
            body["task_id"] = references["parent_id"]
        if "ids" in body:
            body["ids"] = [references["task_id"]]
        if "user_id" in body:
            body["user_id"] = references["spare_id"]
        if "url" in body:  # a webhook's target: one the SSRF check lets through
            body["url"] = PUBLIC_TARGET
        if body.get("expires_at"):
            body["expires_at"] = "2999-01-01T00:00:00Z"
