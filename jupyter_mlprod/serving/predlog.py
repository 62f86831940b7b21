"""Prediction logging, off unless an endpoint opts in.

The hot path only enqueues (raw body bytes, answer bytes, timings); a background thread parses,
redacts and writes batches to the store. With logging off, request bodies are never kept:
shadow entries then record version, latency, status and output, without the input.

Redaction: each listed name is either a dotted path from the top (`applicant.ssn`) or a bare
field name, redacted wherever it appears (`ssn`). Redacted values become "[redacted]".
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading

log = logging.getLogger("jupyter_mlprod.serving")
REDACTED = "[redacted]"
MAX_BACKLOG = 20_000


def redact(value, fields: tuple[str, ...] | list[str]):
    if not fields:
        return value
    paths = [f.split(".") for f in fields if "." in f]
    names = {f for f in fields if "." not in f}
    return _redact(value, names, paths, [])


def _redact(value, names: set, paths: list, here: list):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = here + [str(key)]
            if key in names or where in paths:
                out[key] = REDACTED
            else:
                out[key] = _redact(item, names, paths, where)
        return out
    if isinstance(value, list):
        return [_redact(item, names, paths, here) for item in value]
    return value


class PredictionLog:
    """Background writer. `sink(rows)` writes a batch (the store repository)."""

    def __init__(self, sink, flush_every: float = 0.25):
        self._sink = sink
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._flush_every = flush_every
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="mlprod-predlog", daemon=True)
        self._thread.start()

    def record(self, endpoint_id: int, version: str, shadow: bool, latency_ms: float, status: int,
               request_id: str | None, body: bytes | None, output: bytes | None,
               error: str | None, redact_fields: tuple, matches: bool | None = None) -> None:
        if self._queue.qsize() > MAX_BACKLOG:
            self.dropped += 1
            return
        self._queue.put((endpoint_id, version, shadow, dt.datetime.now(dt.timezone.utc),
                         latency_ms, status, request_id, body, output, error, redact_fields,
                         matches))

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self._flush_every)
            rows = []
            while True:
                try:
                    rows.append(_row(self._queue.get_nowait()))
                except queue.Empty:
                    break
                except Exception:  # noqa: BLE001 - one bad entry must not stop the log
                    log.exception("prediction log: could not prepare an entry")
            if rows:
                try:
                    self._sink(rows)
                except Exception:  # noqa: BLE001
                    log.exception("prediction log: could not write %d entries", len(rows))
            if stopping:
                return


def _row(entry) -> dict:
    (endpoint_id, version, shadow, at, latency_ms, status, request_id, body, output, error,
     fields, matches) = entry
    return {"endpoint_id": endpoint_id, "version": version, "shadow": shadow, "at": at,
            "latency_ms": round(latency_ms, 3), "status": status, "request_id": request_id,
            "input": None if body is None else redact(_parse(body), fields),
            "output": None if output is None else redact(_parse(output), fields),
            "error": error, "matches_primary": matches}


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
