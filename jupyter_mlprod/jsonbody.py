"""The one JSON request-body parser of every door (REST, node, serving): a size cap, a nesting
depth cap, JSON's own grammar (no NaN/Infinity) and finite numbers only, so a hostile body is a
clear 4xx naming the body (or the field) and never a RecursionError or OverflowError later.

Pure functions over bytes: each HTTP layer passes its configured limits in and maps the
`InvalidInput` codes once (`body_too_large` -> 413, `unsupported_media_type` -> 415)."""
from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 10 << 20
TOO_LARGE = "body_too_large"
UNSUPPORTED_TYPE = "unsupported_media_type"
# a whole number beyond this is no number any float-based code can hold (10**400 would
# overflow the first time it meets a float)
_MAX_INT = 2 ** 1023

from .errors import InvalidInput  # noqa: E402


def check_size(size: int, max_bytes: int, field: str = "body") -> None:
    if max_bytes and size > max_bytes:
        raise InvalidInput(f"the request body is {size} bytes, over the limit of {max_bytes}",
                           field=field, code=TOO_LARGE, details={"limit": max_bytes})


def is_json_type(content_type: str | None) -> bool:
    """True for application/json, any +json type, and a missing Content-Type."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


def check_json_type(content_type: str | None, field: str = "Content-Type") -> None:
    if not is_json_type(content_type):
        raise InvalidInput(f"send the body as application/json, not {content_type}", field=field,
                           code=UNSUPPORTED_TYPE)


def check_depth(raw: str, max_depth: int, field: str = "body") -> None:
    """Refuse nesting deeper than `max_depth` before any recursive parser sees it."""
    if raw.count("[") + raw.count("{") <= max_depth:
        return  # cannot be deeper than its number of brackets
    depth, in_string, escaped = 0, False, False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise InvalidInput(f"the request body nests deeper than {max_depth} levels",
                                   field=field, code="too_deep")
        elif char in "]}":
            depth -= 1


def parse_json(raw: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH,
               max_bytes: int | None = None, field: str = "body",
               syntax_code: str = "invalid_json") -> Any:
    """The parsed body, or InvalidInput naming `field` (or the path of a bad number)."""
    if max_bytes is not None:
        check_size(len(raw), max_bytes, field)
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray, memoryview)) else raw
    except UnicodeDecodeError:
        raise InvalidInput("the request body is not UTF-8 text", field=field,
                           code=syntax_code) from None
    check_depth(text, max_depth, field)
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_int=_int)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc}", field=field,
                           code=syntax_code) from None
    bad = _out_of_range(data, "")
    if bad is not None:
        path, what = bad
        raise InvalidInput(f"{path or field}: {what} is out of range (a number must be finite "
                           "and within about ±1.8e308, a 64-bit float)", field=path or field,
                           code="number_out_of_range")
    return data


class _HugeInt(int):
    """A whole number too long to be worth converting; only its length is kept."""

    digits = 0


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # Python's json accepts NaN/Infinity; JSON does not


def _int(text: str) -> int:
    if len(text) > 330:  # 2**1023 has 308 digits; int() of a huge literal is slow or refused
        huge = _HugeInt(0)
        huge.digits = len(text)
        return huge
    return int(text)


def _out_of_range(value: Any, path: str) -> tuple[str, str] | None:
    """(dotted path, the number) of the first non-finite float or too-large integer."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return where, "a number that overflows to infinity"
        elif isinstance(item, _HugeInt):
            return where, f"a whole number of {item.digits} digits"
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) >= _MAX_INT:
                return where, f"a whole number of {len(str(abs(item)))} digits"
        elif isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k))
                         for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None
