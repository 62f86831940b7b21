"""Typed parameters inferred from the papermill `parameters` cell, and coercion of user values.

The cell's simple assignments (`C = 1.0  # regularisation`) give name, type and default. Values
from the CLI arrive as strings, from REST as JSON: both are coerced to the declared type, and
anything that does not fit is refused before a kernel starts.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import re

from ..errors import InvalidInput
from .reader import cell_source, cell_tags

_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict",
          type(None): "none"}


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: str
    default: object
    help: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def infer_parameters(nb: dict) -> list[ParameterSpec]:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell_tags(cell):
            return _parse_parameters_cell(cell_source(cell))
    return []


def _parse_parameters_cell(source: str) -> list[ParameterSpec]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the kernel will report the syntax error with its cell index
    lines = source.splitlines()
    specs: dict[str, ParameterSpec] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value_node = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value_node = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            default = ast.literal_eval(value_node)
        except (ValueError, SyntaxError, TypeError):
            continue  # a computed default has no declared type; papermill still injects it
        kind = _TYPES.get(type(default))
        if kind is None:
            continue
        comment = re.search(r"#\s*(.+)$", lines[node.lineno - 1]) if node.lineno <= len(lines) else None
        specs[target.id] = ParameterSpec(target.id, kind, default,
                                         comment.group(1).strip() if comment else None)
    return list(specs.values())


def coerce_value(spec: ParameterSpec, value: object, *, field: str, from_text: bool) -> object:
    """Coerce `value` to the spec's type or raise InvalidInput naming `field`."""
    def refuse(reason: str = ""):
        shown = repr(value) if from_text else json.dumps(value)
        name = field.split("parameters.", 1)[-1]
        raise InvalidInput(f"parameter {name} must be {_article(spec.type)}, got {shown}{reason}",
                           field=field, code="invalid_parameter")

    kind = spec.type
    if from_text and isinstance(value, str):
        text = value.strip()
        if kind == "str":
            return value
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            refuse()
        if kind == "int":
            try:
                return int(text)
            except ValueError:
                refuse()
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                refuse()
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            if kind == "none":
                return value  # a None default says nothing about the type: accept the text
            refuse(" (expected JSON)")
    if kind == "none":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        refuse()
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        refuse()
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        refuse()
    if kind == "str":
        if isinstance(value, str):
            return value
        refuse()
    if kind == "list" and isinstance(value, list):
        return value
    if kind == "dict" and isinstance(value, dict):
        return value
    refuse()


def _article(kind: str) -> str:
    return {"int": "an int", "float": "a float (number)", "str": "a string", "bool": "a bool (true/false)",
            "list": "a JSON list", "dict": "a JSON object"}.get(kind, kind)
