"""Input schemas: inferred from the sample request (JSON Schema) or declared on the endpoint.

Validation is compiled once (fastjsonschema turns a schema into Python code: a few µs per
request); a declared schema that fastjsonschema cannot compile falls back to jsonschema.
An invalid request raises InvalidInput whose `field` names the offending field
(`income`, `applicant.address.zip`, `items[2]`).
"""
from __future__ import annotations

import json

from ..errors import InvalidInput

_TYPE_WORDS = {"number": "a number", "integer": "an integer", "string": "a string",
               "boolean": "true or false", "object": "an object", "array": "a list",
               "null": "null"}


def infer_schema(sample) -> dict:
    """JSON Schema of a sample value: objects require the sample's keys and allow others;
    ints and floats are both `number`; null accepts anything."""
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, (int, float)):
        return {"type": "number"}
    if isinstance(sample, str):
        return {"type": "string"}
    if isinstance(sample, dict):
        return {"type": "object",
                "properties": {str(k): infer_schema(v) for k, v in sample.items()},
                "required": [str(k) for k, v in sample.items() if v is not None]}
    if isinstance(sample, list):
        return {"type": "array", "items": infer_schema(sample[0])} if sample else {"type": "array"}
    return {}


def record_schema(sample, batching: bool) -> dict:
    """A batching cell's sample may be a list of records: validation is per record."""
    if batching and isinstance(sample, list) and sample:
        return infer_schema(sample[0])
    return infer_schema(sample)


def columns_of(schema: dict) -> list[str] | None:
    """Field order of an object schema: how MLflow row lists (`instances: [[...]]`) map."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    return list(props) if isinstance(props, dict) else None


class Validator:
    """Compiled once per version; `validate(value)` raises InvalidInput naming the field."""

    def __init__(self, schema: dict | None):
        self.schema = schema or {}
        self._fast = None
        self._slow = None
        self._flat = None
        if not self.schema:
            self.validate = _accept  # type: ignore[method-assign]
            return
        self._flat = _flat_checker(self.schema)
        try:
            import fastjsonschema

            self._fast = fastjsonschema.compile(self.schema)
        except Exception:  # noqa: BLE001 - anything fastjsonschema refuses, jsonschema may take
            import jsonschema

            try:
                cls = jsonschema.validators.validator_for(self.schema)
                cls.check_schema(self.schema)
            except jsonschema.SchemaError as exc:
                raise InvalidInput(f"the input schema is not a valid JSON Schema: {exc.message}",
                                   field="input_schema") from None
            self._slow = cls(self.schema)

    def validate(self, value, prefix: str = "") -> None:
        if self._flat is not None and self._flat(value):
            return  # the common case (a flat record of numbers, strings, booleans): ~2 µs
        if self._fast is not None:
            from fastjsonschema import JsonSchemaValueException

            try:
                self._fast(value)
                return
            except JsonSchemaValueException as exc:
                name = exc.name or "data"
                inner = name[4:].lstrip(".") if name.startswith("data") else name
                raise _error(_join(prefix, inner), exc.rule, exc.rule_definition, exc.value,
                             exc.definition) from None
        errors = list(self._slow.iter_errors(value))
        if errors:
            import jsonschema

            err = jsonschema.exceptions.best_match(errors)
            raise _error(_field(prefix, list(err.absolute_path)), err.validator,
                         err.validator_value, err.instance, err.schema,
                         fallback=err.message) from None


def _accept(value, prefix: str = "") -> None:
    return None


_FLAT_TYPES = {"number": (int, float), "string": (str,), "boolean": (bool,)}


def _flat_checker(schema: dict):
    """For an object schema whose properties only constrain a primitive type: a check that
    answers True for valid records (False means: ask the full validator for the error)."""
    if set(schema) - {"type", "properties", "required", "additionalProperties", "$schema",
                      "title", "description"} or schema.get("type") != "object" \
            or schema.get("additionalProperties", True) is not True:
        return None
    required = set(schema.get("required") or [])
    checks = []
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or set(sub) - {"type", "title", "description"}:
            return None
        kinds = _FLAT_TYPES.get(sub.get("type")) if "type" in sub else None
        if "type" in sub and kinds is None:
            return None
        checks.append((name, kinds, name in required))
    if required - {name for name, _, _ in checks}:
        return None
    missing = object()

    def check(value) -> bool:
        if type(value) is not dict:
            return False
        for name, kinds, needed in checks:
            item = value.get(name, missing)
            if item is missing:
                if needed:
                    return False
            elif kinds is not None and (type(item) not in kinds):
                return False
        return True
    return check


def _error(field: str, rule: str | None, rule_value, value, definition,
           fallback: str | None = None) -> InvalidInput:
    if rule == "required" and isinstance(value, dict) and isinstance(rule_value, list):
        missing = [k for k in rule_value if k not in value]
        if missing:
            field = _join(field, str(missing[0]))
            return InvalidInput(f"field {field!r} is required", field=field, code="invalid_request")
    where = f"field {field!r}" if field else "the request"
    shown = _show(value)
    if rule == "type":
        kinds = rule_value if isinstance(rule_value, list) else [rule_value]
        wanted = " or ".join(_TYPE_WORDS.get(k, str(k)) for k in kinds)
        message = f"{where} must be {wanted}, got {shown}"
    elif rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        message = f"{where} must respect {rule} {rule_value}, got {shown}"
    elif rule == "enum":
        message = f"{where} must be one of {json.dumps(rule_value)}, got {shown}"
    elif rule in ("minLength", "maxLength", "minItems", "maxItems", "pattern", "format"):
        message = f"{where} must respect {rule} {json.dumps(rule_value)}, got {shown}"
    elif rule == "additionalProperties":
        message = f"{where} has a field the schema does not allow"
    else:
        message = f"{where} is invalid ({fallback or rule}), got {shown}"
    return InvalidInput(message, field=field or None, code="invalid_request")


def _join(prefix: str, inner: str) -> str:
    if not prefix or not inner:
        return prefix or inner
    return prefix + inner if inner.startswith("[") else f"{prefix}.{inner}"


def _field(prefix: str, path: list) -> str:
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _show(value) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
