"""Ground truth for logged predictions.

Every scored answer of an endpoint that logs predictions carries `X-Prediction-Id`; later,
`POST /<endpoint>/feedback {"prediction_id": "...", "label": 1}` records the true label for
it (a number, or true/false). An id this server never logged, or one the log's retention has
deleted, answers 404; a label that is not a number or boolean answers 400 naming `label`.
Labels are written by the prediction log's background thread, like the log itself."""
from __future__ import annotations

import collections
import math
import random
import time

from ..errors import InvalidInput
from ..jsonbody import parse_json

HEADER = "X-Prediction-Id"
RECENT = 50_000   # ids remembered in memory: their rows may not be on disk yet


def sampled(rt) -> bool:
    rate = rt.log_policy.sample
    return rate >= 1.0 or random.random() < rate


def prediction_id(app, ex, rt, version, outcome, request_id: str,
                  headers: dict) -> str | None:
    """The id of this answer when the endpoint logs predictions (set in `headers`); None when
    this answer is not logged (logging off, or left out by sampling)."""
    if not rt.log_inputs or outcome.kind == "invalid":
        return None
    pid = request_id if ex.request_id is None else \
        app._id_prefix + format(next(app._ids), "x")
    headers[HEADER] = pid
    if not sampled(rt):
        return None
    recent = _recent(app)
    recent[pid] = (version.version, time.time())
    if len(recent) > RECENT:
        recent.popitem(last=False)
    return pid


def _recent(app) -> collections.OrderedDict:
    recent = app.__dict__.get("recent_predictions")
    if recent is None:
        recent = app.recent_predictions = collections.OrderedDict()
    return recent


def handle(app, ex, rt) -> None:
    from .engine import to_json

    if rt.primary.spec.mode != "mlprod":   # Kernel Gateway notebooks answer their own routes
        return app._error(ex, 404, "not_found", f"no route {ex.method} {ex.path}", rt.name, "")
    if ex.method != "POST":
        return app._error(ex, 405, "method_not_allowed", f"use POST for {ex.path}", rt.name, "",
                          {"Allow": "POST"})
    try:
        body = parse_json(ex.body)
        pid, label = _fields(body)
    except InvalidInput as exc:
        return app._send(ex, 400, to_json({"error": exc.to_dict()}), "application/json")
    found = _find(app, rt, pid)
    if found is None:
        return app._error(ex, 404, "not_found", f"unknown or expired prediction id {pid!r} "
                          "(only logged predictions take feedback)", rt.name, "")
    version, _ = found
    app.predlog.label(rt.id, version, pid, label)
    app._send(ex, 200, to_json({"prediction_id": pid, "version": version, "label": label}),
              "application/json")


def _fields(body) -> tuple[str, float]:
    if not isinstance(body, dict):
        raise InvalidInput('send {"prediction_id": "...", "label": 1}', field="body")
    pid = body.get("prediction_id")
    if not isinstance(pid, str) or not 0 < len(pid) <= 64:
        raise InvalidInput("prediction_id must be the X-Prediction-Id of a scored answer",
                           field="prediction_id")
    label = body.get("label")
    if isinstance(label, bool):
        return pid, float(label)
    if not isinstance(label, (int, float)) or not math.isfinite(label):
        raise InvalidInput(f"label must be a number or true/false, got {type(label).__name__}",
                           field="label")
    return pid, float(label)


def _find(app, rt, pid: str):
    entry = _recent(app).get(pid)
    if entry is not None:
        return entry
    columns = getattr(app.predlog, "_columns", None)
    return None if columns is None else columns.find(rt.name, pid)
