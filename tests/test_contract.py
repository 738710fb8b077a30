"""The committed api-specification.yaml is exactly what the app serves."""

import re
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from backend.core.config import REPO_ROOT
from backend.core.http.openapi import build_openapi, drift, export_yaml, load_spec
from backend.core.http.routing import ApiRoute
from backend.main import create_app
from backend.testing import make_test_settings

SPEC = REPO_ROOT / "api-specification.yaml"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_committed_contract_matches_the_app() -> None:
    lines = drift(create_app(make_test_settings()), SPEC)

    assert lines == [], "api-specification.yaml is stale; run `tasklane openapi export`:\n" + "\n".join(lines)


def test_committed_contract_is_valid_openapi() -> None:
    validate(load_spec(SPEC))


def test_drift_is_caught_until_exported(tmp_path: Path) -> None:
    app = create_app(make_test_settings())
    exported = tmp_path / "spec.yaml"
    exported.write_text(export_yaml(app.openapi()), encoding="utf-8")
    changed = create_app(make_test_settings())
    extra = APIRouter(tags=["probe"], route_class=ApiRoute)

    @extra.get("/probe/new", name="new")
    async def new_route() -> dict[str, str]:
        return {}

    changed.include_router(extra)

    assert any("probe-new" in line for line in drift(changed, exported))
    exported.write_text(export_yaml(changed.openapi()), encoding="utf-8")
    assert drift(changed, exported) == []


def test_export_is_deterministic() -> None:
    first = export_yaml(build_openapi(create_app(make_test_settings())))
    second = export_yaml(build_openapi(create_app(make_test_settings())))

    assert first == second


def test_every_operation_has_a_tagged_id_and_documents_its_errors() -> None:
    spec = load_spec(SPEC)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            tag = operation["tags"][0]
            assert re.fullmatch(rf"{tag}-[a-z]+(-[a-z]+)*", operation["operationId"]), (method, path)
            assert operation.get("description"), f"{method} {path} has no description"
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            assert "500" in errors, (method, path)
            for status, response in errors.items():
                content = response["content"]["application/problem+json"]
                problem, codes = content["schema"]["allOf"]
                assert problem == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
                # The codes as an enumeration generated clients read, and as the extension list.
                assert codes["properties"]["error_code"]["enum"] == response["x-error-codes"], (method, path)
                assert response["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(errors), (method, path)


async def test_server_serves_the_committed_document(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json() == load_spec(SPEC)


def _examples(node: object, where: str) -> list[tuple[str, object, dict[str, Any]]]:
    """Every (location, example, schema) pair of a document: schema examples and media examples."""
    found: list[tuple[str, object, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "example" in node and ("type" in node or "properties" in node or "enum" in node or "$ref" in node):
            found.append((where, node["example"], {k: v for k, v in node.items() if k != "example"}))
        if "example" in node and "schema" in node:  # a media type object
            found.append((where, node["example"], node["schema"]))
        for key, value in node.items():
            if key != "example":
                found += _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _examples(value, f"{where}/{index}")
    return found


def test_every_schema_has_an_example_valid_against_it() -> None:
    spec = load_spec(SPEC)
    schemas = spec["components"]["schemas"]

    assert [name for name, schema in schemas.items() if "example" not in schema] == []
    examples = _examples(spec, "#")
    assert len(examples) > len(schemas)
    for where, example, schema in examples:
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [f"{where}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(example)]
        assert errors == []


def test_an_example_that_drifts_from_its_schema_is_caught() -> None:
    spec = load_spec(SPEC)
    schema = {"$ref": "#/components/schemas/TaskRead", "components": spec["components"]}
    drifted = {**spec["components"]["schemas"]["TaskRead"]["example"], "status": "started"}

    assert not Draft202012Validator(schema).is_valid(drifted)
