"""The contract itself: a valid OpenAPI 3.1 document, the same routes as the server, served
as JSON, and auth required on every route."""
from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema
import pytest
from tornado import web

from jupyter_mlprod.server.handlers import ROUTES, MlprodHandler

from mlprod_api import HTTP_METHODS as METHODS
from mlprod_api import PREFIX, Contract, operations

CONTRACT = Contract()
DOC = CONTRACT.doc
OPERATIONS = operations(DOC)
# routes that do not need the project (so never 503)
PROJECT_FREE = {("GET", "/openapi.json")}


def _refs(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def test_document_is_openapi_31_with_valid_schemas(contract):
    doc = contract.doc
    assert doc["openapi"].startswith("3.1.")
    assert doc["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    for ref in _refs(doc, []):
        contract.resolve({"$ref": ref})  # raises KeyError if dangling
    for name in ("Project", "Pipeline", "Step", "Parameter", "Edge", "Problem", "StepInfo",
                 "Run", "StepRun", "RunList", "Error"):
        assert name in doc["components"]["schemas"], name
    assert set(doc["components"]["securitySchemes"]) == {"JupyterToken", "JupyterTokenQuery"}
    assert doc["security"] == [{"JupyterToken": []}, {"JupyterTokenQuery": []}]
    run_status = doc["components"]["schemas"]["RunStatus"]["enum"]
    assert run_status == ["queued", "running", "succeeded", "failed", "cancelled"]
    step_status = doc["components"]["schemas"]["StepRunStatus"]["enum"]
    assert step_status == ["pending", "running", "succeeded", "failed", "skipped", "up_to_date",
                           "cancelled"]


@pytest.mark.parametrize("method,route", OPERATIONS)
def test_every_operation_declares_its_errors(method, route):
    operation = DOC["paths"][route][method.lower()]
    assert operation.get("operationId")
    codes = set(operation["responses"])
    assert {"403", "500"} <= codes, codes
    if (method, route) not in PROJECT_FREE:
        assert "503" in codes
    for name in route.split("{")[1:]:
        name = name.split("}")[0]
        declared = DOC["paths"][route].get("parameters", []) + operation.get("parameters", [])
        names = {CONTRACT.resolve(p)[0]["name"] for p in declared}
        assert name in names, f"{route}: path parameter {name} not declared"


def test_server_routes_are_the_contract_routes():
    assert [route for route, _, _ in ROUTES] == list(DOC["paths"])
    for route, _, handler in ROUTES:
        implemented = {m for m in METHODS
                       if getattr(handler, m) is not getattr(web.RequestHandler, m)}
        assert implemented == set(DOC["paths"][route]) & set(METHODS), (route, implemented)
        assert issubclass(handler, MlprodHandler)


async def test_openapi_json_is_the_yaml_document(api, contract):
    reply = await api.get("/openapi.json")
    assert reply.status == 200
    assert reply.body == contract.doc


async def test_unknown_api_route_is_a_json_404(jp_fetch, contract):
    response = await jp_fetch(PREFIX, "nope", raise_error=False)
    assert response.code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    import json

    body = json.loads(response.body)
    contract.schema_validator("Error").validate(body)
    assert body["error"]["code"] == "unknown_route"


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".mlprod" not in p.parts}


@pytest.mark.parametrize("credentials", ["", "token not-the-token"], ids=["no-token", "bad-token"])
@pytest.mark.parametrize("method,route", OPERATIONS)
async def test_every_route_requires_the_token(api, project_root, method, route, credentials):
    before = _snapshot(project_root)
    kwargs = {}
    if method in ("POST", "PUT"):
        kwargs["json_body"] = {} if route == "/runs" or "{id}" in route else {"step": "x"}
    params = {"path": "prepare.ipynb"} if route == "/notebooks/step" else None
    reply = await api.request(method, route, id=1, step="prepare", name="prod", params=params,
                              headers={"Authorization": credentials}, **kwargs)
    assert reply.status in (401, 403), reply.body
    assert reply.error["code"] in ("unauthorized", "forbidden")
    assert _snapshot(project_root) == before  # nothing written by a refused request
    assert await api.total_runs() == 0
