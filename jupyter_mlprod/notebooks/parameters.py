"""Typed parameters inferred from the papermill `parameters` cell, and coercion of user values.

The cell's simple assignments (`C = 1.0  # regularisation`) give name, type and default. As in
papermill, an annotation (`n: int = None`) or a type comment (`n = None  # type: int rows`)
declares the type, and the comment's rest is the help text. Values from the CLI arrive as
strings, from REST as JSON: both are coerced to the declared type, and anything that does not
fit is refused before a kernel starts. A parameter with no type (a `None` default) takes the
text as a literal when it reads as one (`false`, `False`, `null`, `3`, `[1, 2]`, `'a b'`), as
papermill would inject it, else as a string.
"""
from __future__ import annotations

import ast
import dataclasses
import io
import json
import re
import tokenize

from ..errors import InvalidInput
from .reader import cell_source, cell_tags

_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict",
          type(None): "none"}
# Type names an annotation or a `# type:` comment may give (typing's spellings included).
_DECLARED = {"int": "int", "float": "float", "str": "str", "bool": "bool", "list": "list",
             "dict": "dict", "List": "list", "Dict": "dict", "tuple": "list", "Tuple": "list"}
_TYPE_COMMENT = re.compile(r"^type:\s*(?P<type>[^\s]+)\s*(?P<help>.*)$")


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
    comments = _comments_by_line(source)
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
        declared, help_text = _type_and_help(comments.get(node.end_lineno or node.lineno))
        if isinstance(node, ast.AnnAssign):
            declared = _declared_type(ast.unparse(node.annotation)) or declared
        kind = declared or kind
        if kind is None:
            continue
        specs[target.id] = ParameterSpec(target.id, kind, default, help_text)
    return list(specs.values())


def _comments_by_line(source: str) -> dict[int, str]:
    """line number -> its comment's text (without '#'); a `#` inside a string is no comment."""
    comments = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string[1:].strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return comments


def _type_and_help(comment: str | None) -> tuple[str | None, str | None]:
    """`type: int  # rows` -> ("int", "rows"); `rows` -> (None, "rows")."""
    if not comment:
        return None, None
    match = _TYPE_COMMENT.match(comment)
    if not match:
        return None, comment
    help_text = match.group("help").lstrip("#").strip()
    return _declared_type(match.group("type")), help_text or None


def _declared_type(name: str) -> str | None:
    """`int`, `Optional[int]`, `int | None`, `List[str]`, `"float"` -> our type name."""
    name = name.strip().strip("'\"")
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", name)
    if optional:
        name = optional.group(1)
    parts = [p.strip() for p in name.split("|") if p.strip() != "None"]
    if len(parts) != 1:
        return None
    return _DECLARED.get(parts[0].split("[", 1)[0].removeprefix("typing."))


def _literal(text: str) -> object:
    """An untyped parameter's command-line text: a JSON or Python literal if it is one, as
    papermill's own `-p` would pass it (`False` is False, `null` None), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


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
        if kind == "none":
            return _literal(text) if text else value
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
