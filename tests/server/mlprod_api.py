"""Talking to the server by the contract: `Contract` validates every response against the
OpenAPI schema of its route + status; `Api` sends requests by route name and checks each reply."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jsonschema
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

OPENAPI = Path(__file__).resolve().parents[2] / "jupyter_mlprod" / "server" / "openapi.yaml"
PREFIX = "mlprod/api/v1"
TERMINAL = {"succeeded", "failed", "cancelled"}
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class Contract:
    """The OpenAPI document, able to validate a response against its route + status."""

    URI = "urn:mlprod:openapi"

    def __init__(self, path: Path = OPENAPI):
        self.doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(self.URI, DRAFT202012.create_resource(self.doc))

    def resolve(self, node: dict) -> tuple[dict, list[str]]:
        """Follow a local `$ref`; returns the node and its JSON-pointer tokens."""
        ref = node.get("$ref")
        if ref is None:
            return node, []
        assert ref.startswith("#/"), ref
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]
        target = self.doc
        for token in tokens:
            target = target[token]
        return target, tokens

    def validator(self, tokens: list[str]) -> jsonschema.Draft202012Validator:
        pointer = "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)
        return jsonschema.Draft202012Validator(
            {"$ref": f"{self.URI}#{quote(pointer)}"}, registry=self.registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def schema_validator(self, name: str) -> jsonschema.Draft202012Validator:
        return self.validator(["components", "schemas", name])

    def check(self, method: str, route: str, status: int, content_type: str | None,
              body: bytes) -> object:
        """Validate one response; returns the decoded body (JSON value, text or None)."""
        operation = self.doc["paths"][route].get(method.lower())
        assert operation is not None, f"{method} {route} is not in the contract"
        declared = operation["responses"]
        assert str(status) in declared, (
            f"{method} {route} answered {status}, which the contract does not declare "
            f"(declared: {sorted(declared)}); body: {body[:500]!r}")
        response, base = self.resolve(declared[str(status)])
        tokens = base or ["paths", route, method.lower(), "responses", str(status)]
        if "content" not in response:
            assert not body, f"{method} {route} {status} must have no body, got {body[:200]!r}"
            return None
        media = (content_type or "").split(";")[0].strip()
        assert media in response["content"], (
            f"{method} {route} {status} answered {media!r}, the contract declares "
            f"{sorted(response['content'])}")
        if media.endswith("json"):
            value = json.loads(body)
        else:
            value = body.decode("utf-8")
        errors = sorted(self.validator(tokens + ["content", media, "schema"]).iter_errors(value),
                        key=lambda e: list(e.absolute_path))
        assert not errors, f"{method} {route} {status} breaks the contract:\n" + "\n".join(
            f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in errors[:10])
        return value


@dataclass
class Reply:
    status: int
    headers: dict
    body: object  # decoded JSON, text, or None

    @property
    def error(self) -> dict:
        assert isinstance(self.body, dict) and "error" in self.body, self.body
        return self.body["error"]


class Api:
    """`await api.get("/runs/{id}", id=3)`: requests by the contract's route names."""

    def __init__(self, fetch, contract: Contract):
        self._fetch = fetch
        self.contract = contract

    async def request(self, method: str, route: str, *, params: dict | None = None,
                      json_body: object = ..., raw: bytes | str | None = None,
                      headers: dict | None = None, **path_values) -> Reply:
        path = route.format(**{k: quote(str(v), safe="") for k, v in path_values.items()})
        if raw is None and json_body is not ...:
            raw = json.dumps(json_body)
        if raw is None and method in ("POST", "PUT", "PATCH"):
            raw = b""
        headers = dict(headers or {})
        if raw:  # tornado's client would label a POST body a form
            headers.setdefault("Content-Type", "application/json")
        response = await self._fetch(PREFIX + path, method=method, body=raw, params=params or {},
                                     headers=headers, raise_error=False,
                                     request_timeout=60)
        body = self.contract.check(method, route, response.code,
                                   response.headers.get("Content-Type"), response.body or b"")
        return Reply(response.code, dict(response.headers), body)

    async def get(self, route: str, **kw) -> Reply:
        return await self.request("GET", route, **kw)

    async def post(self, route: str, **kw) -> Reply:
        return await self.request("POST", route, **kw)

    async def put(self, route: str, **kw) -> Reply:
        return await self.request("PUT", route, **kw)

    async def delete(self, route: str, **kw) -> Reply:
        return await self.request("DELETE", route, **kw)

    async def wait_run(self, run_id: int, timeout: float = 240.0) -> dict:
        """Poll GET /runs/{id} (as the panel does) until the run is finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            reply = await self.get("/runs/{id}", id=run_id)
            assert reply.status == 200, reply.body
            if reply.body["status"] in TERMINAL:
                return reply.body
            assert loop.time() < deadline, f"run {run_id} is still {reply.body['status']}"
            await asyncio.sleep(0.3)

    async def total_runs(self) -> int:
        reply = await self.get("/runs")
        assert reply.status == 200, reply.body
        return reply.body["total"]


def operations(doc: dict) -> list[tuple[str, str]]:
    """Every (METHOD, route) of the contract."""
    return sorted((method.upper(), route) for route, item in doc["paths"].items()
                  for method in item if method in HTTP_METHODS)
