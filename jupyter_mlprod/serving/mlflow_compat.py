"""MLflow scoring-server payloads for `POST /<endpoint>/invocations`.

Accepted, as `mlflow models serve` does: JSON with one of `dataframe_split`
(`{"columns": [...], "data": [[...]]}`), `dataframe_records` (`[{...}]`), `instances` or
`inputs` (rows as objects or lists, or columns as an object of lists), plus an optional
`params` (ignored); and `text/csv` with a header row. Each row becomes one record for the
scoring cell; the answer is `{"predictions": [answer per record]}`.
"""
from __future__ import annotations

import csv
import io

from ..errors import InvalidInput
from ..jsonbody import parse_json

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def parse_invocations(body: bytes, content_type: str, columns: list[str] | None) -> list:
    if content_type.split(";", 1)[0].strip().lower() == "text/csv":
        return _from_csv(body)
    payload = parse_json(body)  # nesting capped, finite numbers only
    if not isinstance(payload, dict):
        raise InvalidInput(f"an invocations body must be an object with one of "
                           f"{', '.join(FORMATS)}", code="invalid_request")
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        raise InvalidInput(f"an invocations body needs exactly one of {', '.join(FORMATS)}"
                           + (f" (got {', '.join(present)})" if present else ""),
                           field=present[1] if len(present) > 1 else None, code="invalid_request")
    key = present[0]
    value = payload[key]
    if key == "dataframe_split":
        return _from_split(value, columns)
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise InvalidInput("dataframe_records must be a list of objects",
                               field="dataframe_records", code="invalid_request")
        return value
    return _from_tensor_like(key, value, columns)


def _from_split(value, columns):
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise InvalidInput('dataframe_split must be {"columns": [...], "data": [[...], ...]}',
                           field="dataframe_split", code="invalid_request")
    names = value.get("columns") or columns
    if not isinstance(names, list):
        raise InvalidInput("dataframe_split needs its columns", field="dataframe_split.columns",
                           code="invalid_request")
    records = []
    for i, row in enumerate(value["data"]):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInput(f"dataframe_split row {i} must be a list of {len(names)} values",
                               field=f"dataframe_split.data[{i}]", code="invalid_request")
        records.append(dict(zip(names, row)))
    return records


def _from_tensor_like(key: str, value, columns):
    if isinstance(value, dict):  # columnar: {"col": [v1, v2], ...} or one record
        if value and all(isinstance(v, list) for v in value.values()):
            lengths = {len(v) for v in value.values()}
            if len(lengths) != 1:
                raise InvalidInput(f"{key}: every column needs the same number of values",
                                   field=key, code="invalid_request")
            count = lengths.pop()
            return [{name: col[i] for name, col in value.items()} for i in range(count)]
        return [value]
    if not isinstance(value, list):
        raise InvalidInput(f"{key} must be a list of rows or an object of columns", field=key,
                           code="invalid_request")
    records = []
    for i, row in enumerate(value):
        if isinstance(row, dict):
            records.append(row)
        elif isinstance(row, list):
            if not columns or len(row) != len(columns):
                raise InvalidInput(
                    f"{key}[{i}] is a list of {len(row)} values, but the endpoint's input has "
                    f"{len(columns or [])} named fields; send objects, or lists in the order "
                    f"{', '.join(columns or [])}", field=f"{key}[{i}]", code="invalid_request")
            records.append(dict(zip(columns, row)))
        else:
            raise InvalidInput(f"{key}[{i}] must be an object or a list", field=f"{key}[{i}]",
                               code="invalid_request")
    return records


def _from_csv(body: bytes) -> list:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("a text/csv body must be UTF-8", code="invalid_request") from None
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text
