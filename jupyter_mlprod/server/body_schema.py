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
    """InvalidInput naming the field, if `body` breaks the operation's schema at its top level:
    not the declared type (`null` for an object) or a required field missing. Unknown fields
    and what lies deeper are left to the handlers' and the domain's own validation, whose
    messages name the field in its terms (step.colour, reporters[1].url) with its codes."""
    validator = body_validator(loader, route, method)
    if validator is None:
        return
    for error in validator.iter_errors(body):
        if list(error.absolute_path):
            continue
        if error.validator == "type":
            raise InvalidInput(f"the request body must be {_kind(error.validator_value)}, not "
                               f"{_short(repr(body))}", field="body")
        if error.validator == "required":
            missing = [n for n in error.validator_value if n not in body]
            name = missing[0] if missing else "body"
            raise InvalidInput(f"the field {name!r} is required", field=name)


def _kind(value) -> str:
    names = value if isinstance(value, list) else [value]
    return " or ".join(f"an {n}" if n[0] in "aeiou" else f"a {n}" for n in names)


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
