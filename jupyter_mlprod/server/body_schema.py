"""Request bodies against the contract: the `requestBody` schema of an operation of
openapi.yaml, looked up by the route (as the contract names it) and the HTTP method, checked at
the handler boundary so no handler sees a body the contract says is malformed."""
from __future__ import annotations

import functools
from typing import Any, Callable
from urllib.parse import quote

from ..errors import InvalidInput

_URI = "urn:mlprod:openapi"


@functools.cache
def _registry_and_doc(loader: Callable[[], dict]):
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    doc = loader()
    return Registry().with_resource(_URI, DRAFT202012.create_resource(doc)), doc


@functools.cache
def body_validator(loader: Callable[[], dict], route: str, method: str):
    """A validator of the operation's JSON request body, or None when it declares none."""
    import jsonschema

    registry, doc = _registry_and_doc(loader)
    operation = (doc.get("paths", {}).get(route) or {}).get(method.lower()) or {}
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" not in content or "schema" not in content["application/json"]:
        return None
    pointer = "/".join(["", "paths", route.replace("~", "~0").replace("/", "~1"),
                        method.lower(), "requestBody", "content", "application~1json", "schema"])
    return jsonschema.Draft202012Validator({"$ref": f"{_URI}#{quote(pointer)}"},
                                           registry=registry)


def check_body(loader: Callable[[], dict], route: str, method: str, body: Any) -> None:
    """InvalidInput naming the first field at fault, if `body` breaks the operation's schema."""
    validator = body_validator(loader, route, method)
    if validator is None:
        return
    errors = list(validator.iter_errors(body))
    if not errors:
        return
    import jsonschema

    error = jsonschema.exceptions.best_match(errors)
    path = ".".join(str(p) for p in error.absolute_path)
    where = f"{path}: " if path else "the request body: "
    raise InvalidInput(f"{where}{_short(error.message)}", field=path or "body",
                       code="invalid_body")


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:300] + "..."
