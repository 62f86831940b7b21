"""One scoring call and what it answers: the same code for the HTTP server and for
`EndpointService.score` (the `%%mlprod score` magic), so both answer exactly alike.

Statuses: 200 the cell's `response`; 400 invalid request naming the field; 422 the request
passed the input schema but holds numbers too large for the scoring cell (it raised an overflow,
or a ValueError about infinite / too large values, e.g. scikit-learn's "Input X contains
infinity" once a scaler overflows): the client's to fix, so not a 500, and the answer names the
largest fields; 500 the cell raised anything else (error id, exception class and message; the
traceback only in debug); 504 over the timeout.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import traceback

from ..errors import InvalidInput
from .deadline import ScoringTimeout
from .engine import to_json

log = logging.getLogger("jupyter_mlprod.serving")


class Outcome:
    __slots__ = ("status", "body", "kind", "error")

    def __init__(self, status: int, body: bytes, kind: str | None = None, error: str | None = None):
        self.status = status
        self.body = body  # JSON bytes, as sent
        self.kind = kind  # None on success; invalid | scoring | timeout
        self.error = error  # "ExceptionClass: message" for the prediction log

    def json(self):
        return json.loads(self.body)


def invalid(exc: InvalidInput) -> Outcome:
    return Outcome(400, to_json({"error": {"code": exc.code, "message": exc.message,
                                           "field": exc.field}}), "invalid", exc.message)


_OUT_OF_RANGE = re.compile(r"infinit|too large|overflow|out of range", re.IGNORECASE)
_HUGE = 1e100  # no feature a model was fitted on is this large; such a value is the suspect


def out_of_range(exc: BaseException) -> bool:
    return isinstance(exc, (OverflowError, FloatingPointError)) or (
        isinstance(exc, ValueError) and bool(_OUT_OF_RANGE.search(str(exc))))


def _huge_fields(value, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _huge_fields(v, f"{prefix}{k}.")]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _huge_fields(v, f"{prefix}[{i}].")]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= _HUGE:
        return [f"{prefix[:-1]} = {value:g}"]
    return []


def failed(exc: BaseException, version, debug: bool, request=None) -> Outcome:
    """A scoring exception or timeout: logged with an id the answer carries."""
    if request is not None and out_of_range(exc):
        fields = _huge_fields(request)
        if fields:
            message = (f"the request's numbers are too large for the scoring cell "
                       f"({', '.join(fields[:5])}): {type(exc).__name__}: {exc}")
            field = fields[0].split(" = ", 1)[0]
            return Outcome(422, to_json({"error": {"code": "out_of_range", "message": message,
                                                   "field": field,
                                                   "exception": type(exc).__name__}}),
                           "invalid", message)
    error_id = "e" + secrets.token_hex(6)
    if isinstance(exc, ScoringTimeout):
        message = f"scoring took longer than the endpoint's timeout ({version.timeout:g} s)"
        log.error("[%s] %s %s: %s", error_id, version.endpoint, version.version, message)
        return Outcome(504, to_json({"error": {"code": "timeout", "message": message,
                                               "error_id": error_id}}), "timeout", message)
    tb = exc.__traceback__  # start at the notebook's cell: our own frames say nothing
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<"):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
    log.error("[%s] %s %s: scoring failed\n%s", error_id, version.endpoint, version.version, text)
    error = {"code": "scoring_error", "message": str(exc), "exception": type(exc).__name__,
             "error_id": error_id}
    if debug:
        error["traceback"] = text
    return Outcome(500, to_json({"error": error}), "scoring", f"{type(exc).__name__}: {exc}")


def answer(result, version, debug: bool) -> Outcome:
    try:
        return Outcome(200, to_json(result))
    except (TypeError, ValueError) as exc:
        wrapped = TypeError(f"the scoring cell's response is not JSON: {exc}")
        return failed(wrapped, version, debug)


def predict(version, request, debug: bool) -> Outcome:
    """Validate and score one request with a non-batching version."""
    try:
        version.validator.validate(request)
    except InvalidInput as exc:
        return invalid(exc)
    try:
        result = version.predict(request)
    except (Exception, ScoringTimeout) as exc:  # noqa: BLE001
        return failed(exc, version, debug, request)
    return answer(result, version, debug)


def predict_records(version, records: list, debug: bool, wrap: bool) -> Outcome:
    """Score several records in one request (a list body, or MLflow /invocations): all are
    validated first; a batching version gets them in chunks of max_batch, others one by one."""
    for i, record in enumerate(records):
        try:
            version.validator.validate(record, prefix=f"[{i}]")
        except InvalidInput as exc:
            return invalid(exc)
    results = []
    try:
        if version.batching:
            for start in range(0, len(records), version.max_batch):
                results.extend(version.predict_batch(records[start:start + version.max_batch]))
        else:
            results = [version.predict(record) for record in records]
    except (Exception, ScoringTimeout) as exc:  # noqa: BLE001
        return failed(exc, version, debug, records)
    return answer({"predictions": results} if wrap else results, version, debug)


def score_in_process(version, request, debug: bool, path: str = "predict",
                     content_type: str = "application/json") -> Outcome:
    """What the server would answer for `request` on `path` (predict | invocations)."""
    if path == "invocations":
        from .mlflow_compat import invocations

        body = request if isinstance(request, bytes) else to_json(request)
        return invocations(version, body, content_type, debug)
    if path != "predict":
        raise InvalidInput(f"path must be predict or invocations, not {path!r}", field="path")
    if version.batching:
        if isinstance(request, list):
            return predict_records(version, request, debug, wrap=False)
        try:
            version.validator.validate(request)
        except InvalidInput as exc:
            return invalid(exc)
        try:
            return answer(version.predict_batch([request])[0], version, debug)
        except (Exception, ScoringTimeout) as exc:  # noqa: BLE001
            return failed(exc, version, debug)
    return predict(version, request, debug)
