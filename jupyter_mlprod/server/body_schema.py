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


def body_required(loader: Callable[[], dict], route: str, method: str) -> bool:
    _, doc = _registry_and_doc(loader)
    operation = (doc.get("paths", {}).get(route) or {}).get(method.lower()) or {}
    return bool((operation.get("requestBody") or {}).get("required"))


@functools.cache
def _query_validators(loader: Callable[[], dict], route: str, method: str) -> dict:
    """name -> (JSON type, validator) of the operation's declared query parameters."""
    import jsonschema

    registry, doc = _registry_and_doc(loader)
    path_item = doc.get("paths", {}).get(route) or {}
    found = {}
    located = [(p, ["paths", route, "parameters", str(i)])
               for i, p in enumerate(path_item.get("parameters", []))]
    located += [(p, ["paths", route, method.lower(), "parameters", str(i)])
                for i, p in enumerate((path_item.get(method.lower()) or {}).get("parameters", []))]
    for param, where in located:
        if "$ref" in param:
            where = [t.replace("~1", "/").replace("~0", "~") for t in param["$ref"][2:].split("/")]
            param = _at(doc, where)
        if param.get("in") != "query" or "schema" not in param:
            continue
        schema = param["schema"]
        while "$ref" in schema:
            schema = _at(doc, schema["$ref"][2:].split("/"))
        pointer = "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in where + ["schema"])
        found[param["name"]] = (schema.get("type"), jsonschema.Draft202012Validator(
            {"$ref": f"{_URI}#{quote(pointer)}"}, registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER))
    return found


def check_query(loader: Callable[[], dict], route: str, method: str,
                arguments: dict[str, list[bytes]]) -> None:
    """InvalidInput naming the first declared query parameter whose value breaks its schema
    (bounds, enums, formats); undeclared ones (e.g. Jupyter's `token`) are left alone."""
    for name, (kind, validator) in _query_validators(loader, route, method).items():
        for raw in arguments.get(name, []):
            text = raw.decode("utf-8", "replace")
            value = _coerce(text, kind)
            errors = list(validator.iter_errors(value))
            if errors:
                raise InvalidInput(f"query parameter {name}={_short(text)!r}: "
                                   f"{_short(errors[0].message)}", field=name)


def _coerce(text: str, kind) -> Any:
    if kind == "integer" and text.lstrip("+-").isdigit() and len(text) < 30:
        return int(text)
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _at(doc: dict, tokens: list[str]) -> Any:
    for token in tokens:
        doc = doc[token]
    return doc
