"""Every route under /api/v1 documents what it answers: a typed JSON schema, a file's media type, or no content."""

from __future__ import annotations

from typing import Any

from admin_api.app import API_PREFIX, create_app
from admin_api.http import Services

JSON = "application/json"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def _untyped(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """Why the schema says nothing of the answer's shape (None when it does)."""
    schema = _resolve(spec, schema)
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if branches:
        reasons = [_untyped(spec, b) for b in branches if _resolve(spec, b).get("type") != "null"]
        return next((r for r in reasons if r), None) if reasons else "only null"
    if not schema or set(schema) <= {"title", "description"}:
        return "empty schema"
    if schema.get("type") == "object" and not schema.get("properties"):
        extra = schema.get("additionalProperties")
        if not isinstance(extra, dict) or _untyped(spec, extra):
            return "object without declared properties"
    if schema.get("type") == "array":
        return _untyped(spec, schema.get("items") or {})
    return None


def test_every_operation_documents_its_success_answer(services: Services) -> None:
    spec = create_app(services).openapi()
    problems = []
    operations = 0
    for path, item in spec["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in item.items():
            operations += 1
            where = f"{method.upper()} {path}"
            success = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            if not success:
                problems.append(f"{where}: no 2xx answer")
            for code, response in success.items():
                content = response.get("content") or {}
                if not content:
                    if code != "204":
                        problems.append(f"{where} {code}: no content documented")
                    continue
                for media_type, body in content.items():
                    if media_type != JSON:
                        continue  # a file (text/csv, application/pdf): its media type is the documentation
                    reason = _untyped(spec, body.get("schema") or {})
                    if reason:
                        problems.append(f"{where} {code}: {reason}")
    assert operations > 0
    assert not problems, "\n".join(problems)
