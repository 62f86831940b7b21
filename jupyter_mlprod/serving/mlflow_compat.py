"""MLflow scoring-server compatibility for `POST /<endpoint>/invocations`.

Accepted, as `mlflow models serve` does: `application/json` (charset utf-8 only, no other
parameter) with one of `dataframe_split` (`{"columns": [...], "data": [[...]]}`),
`dataframe_records` (`[{...}]`), `instances` or `inputs` (rows as objects or lists, or columns as
an object of lists), plus an optional `params`; and `text/csv` with a header row. Each row
becomes one record for the scoring cell; the answer is `{"predictions": [answer per record]}`.

Answers as MLflow's server does: 400 `{"error_code": "BAD_REQUEST", "message": ...}` for a body
it cannot read (and for an exception in the scoring cell, as MLflow does for one in `predict`),
415 in plain text for another content type. `params` reach a scoring cell that reads the name
`params` (a dict; empty when the request sends none); a cell that does not read it refuses them
(MLflow would drop them silently: here a client learns that they do nothing).
"""
from __future__ import annotations

import csv
import io

from ..errors import InvalidInput
from ..jsonbody import parse_json
from .calls import Outcome
from .deadline import ScoringTimeout

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON, CSV = "application/json", "text/csv"
_FIELDS = "{" + ", ".join(repr(f) for f in FORMATS) + "}"


def server_version() -> bytes:
    from .. import __version__

    return __version__.encode()


def bad_request(message: str, stack_trace: str | None = None, field: str | None = None) -> Outcome:
    body = {"error_code": "BAD_REQUEST", "message": message}
    if stack_trace is not None:  # MLflow clients read it; we give where, never our traceback
        body["stack_trace"] = stack_trace
    if field:
        body["field"] = field
    return Outcome(400, _dump(body), "invalid", message)


def _dump(body: dict) -> bytes:
    from .engine import to_json

    return to_json(body)


def media_error(content_type: str | None) -> str | None:
    """MLflow's 415 text for a content type it does not take, else None."""
    if not content_type:
        return None  # no Content-Type: read as JSON, as our /predict does
    parts = [part.strip() for part in content_type.split(";")]
    media, options = parts[0].lower(), dict(p.partition("=")[::2] for p in parts[1:] if p)
    if options.get("charset", "utf-8").lower() != "utf-8":
        return "The scoring server only supports UTF-8"
    unexpected = sorted(set(options) - {"charset"})
    if unexpected:
        return f"Unrecognized content type parameters: {', '.join(unexpected)}."
    if media not in (JSON, CSV):
        return (f"This predictor only supports the following content types: {JSON}, {CSV}. "
                f"Got '{content_type}'.")
    return None


def invocations(version, body: bytes, content_type: str | None, debug: bool) -> Outcome:
    from . import calls

    refused = media_error(content_type)
    if refused is not None:
        return Outcome(415, refused.encode(), "invalid", refused)
    try:
        records, params = parse_with_params(body, content_type or JSON, version.columns)
    except InvalidInput as exc:
        return bad_request(exc.message, exc.details.get("stack_trace") if exc.details else None,
                           exc.field)
    if params and not version.takes_params:
        return bad_request("this endpoint's scoring cell takes no params (it never reads "
                           "`params`): send the request without them", field="params")
    for i, record in enumerate(records):
        try:
            version.validator.validate(record, prefix=f"[{i}]")
        except InvalidInput as exc:
            return bad_request(exc.message, f"record {i} does not match the endpoint's input "
                               "schema", exc.field)
    try:
        if version.batching:
            results = []
            for start in range(0, len(records), version.max_batch):
                results.extend(version.predict_batch(records[start:start + version.max_batch]))
        elif version.takes_params:
            results = [version.predict_with_params(r, dict(params or {})) for r in records]
        else:
            results = [version.predict(record) for record in records]
    except ScoringTimeout as exc:
        return calls.failed(exc, version, debug)
    except Exception as exc:  # noqa: BLE001 - MLflow answers a failing predict with a 400
        failed = calls.failed(exc, version, debug)  # logged with an id, as any scoring error
        return bad_request("Encountered an unexpected error while evaluating the model. Verify "
                           f"that the input is compatible with the model for inference. "
                           f"Error '{type(exc).__name__}: {exc}'",
                           f"error id {failed.json()['error']['error_id']} (in the server log)")
    return calls.answer({"predictions": results}, version, debug)


def parse_invocations(body: bytes, content_type: str, columns: list[str] | None) -> list:
    return parse_with_params(body, content_type, columns)[0]


def parse_with_params(body: bytes, content_type: str, columns: list[str] | None):
    """(records, params or None) from an invocations body; InvalidInput with MLflow's message."""
    if content_type.split(";", 1)[0].strip().lower() == CSV:
        return _from_csv(body), None
    try:
        payload = parse_json(body)  # nesting capped, finite numbers only
    except InvalidInput as exc:
        if exc.code == "invalid_json":
            raise InvalidInput("Failed to parse input from JSON. Ensure that input is a valid "
                               f"JSON formatted string. ({exc.message})", field=exc.field,
                               code=exc.code) from None
        raise
    present = [key for key in FORMATS if key in payload] if isinstance(payload, dict) else []
    if len(present) != 1:
        got = (f"Received dictionary with input fields: {sorted(payload)}" if isinstance(
            payload, dict) else f"Received {type(payload).__name__}")
        raise InvalidInput(f"The input must be a JSON dictionary with exactly one of the input "
                           f"fields {_FIELDS}. {got}.",
                           field=present[1] if len(present) > 1 else None, code="invalid_request")
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise InvalidInput("params must be an object of parameter names to values",
                           field="params", code="invalid_request")
    key = present[0]
    value = payload[key]
    if key == "dataframe_split":
        return _from_split(value, columns), params
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            got = "dictionary" if isinstance(value, dict) else type(value).__name__
            raise InvalidInput(f"Dataframe records format must be a list of records. Got {got}.",
                               field="dataframe_records", code="invalid_request")
        return value, params
    return _from_tensor_like(key, value, columns), params


def _from_split(value, columns):
    if not isinstance(value, dict):
        raise InvalidInput(f"Dataframe split format must be a dictionary. Got "
                           f"{'list' if isinstance(value, list) else type(value).__name__}.",
                           field="dataframe_split", code="invalid_request")
    invalid = ("Provided dataframe_split field is not a valid dataframe representation in "
               "'split' format: ")
    if not isinstance(value.get("data"), list):
        raise InvalidInput(invalid + 'it needs {"columns": [...], "data": [[...], ...]}',
                           field="dataframe_split", code="invalid_request")
    names = value.get("columns") or columns
    if not isinstance(names, list):
        raise InvalidInput(invalid + "it needs its columns", field="dataframe_split.columns",
                           code="invalid_request")
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(value["data"])):
        raise InvalidInput(invalid + f"{len(value['data'])} rows but an index of "
                           f"{len(index) if isinstance(index, list) else index!r}",
                           field="dataframe_split.index", code="invalid_request")
    keys = [str(name) for name in names]  # pandas writes column 0 as 0; a JSON record says "0"
    records = []
    for i, row in enumerate(value["data"]):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInput(invalid + f"row {i} must be a list of {len(names)} values",
                               field=f"dataframe_split.data[{i}]", code="invalid_request")
        records.append(dict(zip(keys, row)))
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
    if not text.strip():  # pandas.read_csv refuses an empty body; so does MLflow
        raise InvalidInput("Failed to parse input as a Pandas DataFrame. Ensure that the input is "
                           "a valid CSV-formatted Pandas DataFrame produced using the "
                           "`pandas.DataFrame.to_csv()` method: the body is empty",
                           code="invalid_request", details={"stack_trace": "empty text/csv body"})
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text
