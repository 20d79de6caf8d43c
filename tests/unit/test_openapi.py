"""The REST API's OpenAPI document is complete: every operation answers a described 2xx
body (JSON with a schema that names its fields, or a file with its media types), and
every JSON request body has a schema too. Clients and the fuzz test rely on it."""

from __future__ import annotations

import pytest

from warta.web.app import create_app


class NobodySignsIn:
    async def username(self, request, bearer) -> str:
        raise AssertionError("the document is read without calling any route")

    def login_url(self, next_url: str) -> str:
        return "/login"

    def secret_key(self) -> bytes:
        return b"openapi-test"


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(auth=NobodySignsIn()).openapi()


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _untyped(document: dict, schema: dict) -> bool:
    """True for a schema that says nothing: ``{}``, an object without fields, a list of those."""
    schema = _resolve(document, schema)
    if schema.get("type") == "array":
        return _untyped(document, schema.get("items", {}))
    if "anyOf" in schema or "oneOf" in schema:
        return all(_untyped(document, part) for part in schema.get("anyOf", schema.get("oneOf", [])))
    if schema.get("type") == "object":
        return not schema.get("properties")
    return not schema.get("type") and not schema.get("properties")


def _untyped_lists(document: dict, schema: dict, where: str, seen: set) -> list[str]:
    """Lists inside a schema whose entries say nothing (``list[dict]``), at any depth."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = _resolve(document, schema)
    found = []
    if schema.get("type") == "array":
        if _untyped(document, schema.get("items", {})):
            found.append(where)
        found += _untyped_lists(document, schema.get("items", {}), f"{where}[]", seen)
    for part in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _untyped_lists(document, part, where, seen)
    for name, field in (schema.get("properties") or {}).items():
        found += _untyped_lists(document, field, f"{where}.{name}", seen)
    return found


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_answers_a_described_2xx_body(document):
    operations = dict(_operations(document))
    assert len(operations) >= 15
    problems = []
    for name, operation in operations.items():
        success = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        if not success:
            problems.append(f"{name}: no 2xx response")
        for code, answer in success.items():
            content = answer.get("content") or {}
            if not content:
                problems.append(f"{name} {code}: no content")
            for media_type, body in content.items():
                schema = body.get("schema") or {}
                if media_type == "application/json":
                    if _untyped(document, schema):
                        problems.append(f"{name} {code}: untyped JSON {schema}")
                    problems += [f"{name} {code}: untyped entries in {where}"
                                 for where in _untyped_lists(document, schema, "answer", set())]
                elif schema.get("format") != "binary":
                    problems.append(f"{name} {code}: {media_type} is not described as a file")
    assert problems == []


def test_every_json_request_body_has_a_schema(document):
    bodies = {name: operation["requestBody"]["content"] for name, operation in _operations(document)
              if "requestBody" in operation}
    assert {"POST /api/v1/items", "POST /api/v1/intake"} <= set(bodies)
    for name, content in bodies.items():
        for media_type, body in content.items():
            assert not _untyped(document, body["schema"]), (name, media_type)


def test_the_check_finds_an_untyped_answer():
    """The checks above can fail: a bare dict, and a model holding a list of dicts, are caught."""
    from typing import Any

    from pydantic import BaseModel

    class Loose(BaseModel):
        entries: list[dict[str, Any]]

    app = create_app(auth=NobodySignsIn())

    @app.get("/api/v1/untyped")
    def untyped() -> dict[str, Any]:
        return {}

    @app.get("/api/v1/loose", response_model=Loose)
    def loose() -> dict[str, Any]:
        return {"entries": []}

    document = app.openapi()
    answers = {path: document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
               for path in ("/api/v1/untyped", "/api/v1/loose")}
    assert _untyped(document, answers["/api/v1/untyped"])
    assert _untyped_lists(document, answers["/api/v1/loose"], "answer", set()) == ["answer.entries"]
