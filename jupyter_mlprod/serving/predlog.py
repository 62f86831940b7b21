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
import time

log = logging.getLogger("jupyter_mlprod.serving")
REDACTED = "[redacted]"
MAX_BACKLOG = 20_000
PRUNE_EVERY = 30.0   # seconds between retention passes over the column segments
SEGMENT_ROWS = 5000    # a column segment is written at this many rows...
SEGMENT_SECONDS = 1.0  # ...or when its oldest row has waited this long


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
    """Background writer. `sink(rows)` writes a batch (the store repository); `columns`
    (monitoring.prediction_columns.ColumnLog) also gets the entries that carry a prediction
    id, as column segments for drift."""

    def __init__(self, sink, flush_every: float = 0.25, columns=None, labels=None):
        self._sink = sink
        self._labels_sink = labels
        self._labels: queue.SimpleQueue = queue.SimpleQueue()
        self._columns = columns
        self._policies: dict = {}
        self._pending: dict = {}   # (endpoint, version) -> entries waiting for their segment
        self._pruned_at = 0.0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._flush_every = flush_every
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="mlprod-predlog", daemon=True)
        self._thread.start()

    def record(self, endpoint_id: int, version: str, shadow: bool, latency_ms: float, status: int,
               request_id: str | None, body: bytes | None, output: bytes | None,
               error: str | None, redact_fields: tuple, matches: bool | None = None,
               prediction_id: str | None = None, endpoint: str | None = None,
               policy=None) -> None:
        if self._queue.qsize() > MAX_BACKLOG:
            self.dropped += 1
            return
        self._queue.put((endpoint_id, version, shadow, dt.datetime.now(dt.timezone.utc),
                         latency_ms, status, request_id, body, output, error, redact_fields,
                         matches, prediction_id, endpoint, policy))

    def label(self, endpoint_id: int, version: str, prediction_id: str, label: float) -> None:
        self._labels.put({"endpoint_id": endpoint_id, "version": version,
                          "prediction_id": prediction_id, "label": label,
                          "at": dt.datetime.now(dt.timezone.utc)})

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self._flush_every)
            rows = []
            tagged = []
            while True:
                try:
                    entry = self._queue.get_nowait()
                    row = _row(entry)
                    policy = entry[14]
                    if policy is None or policy.rows:   # rows: false keeps columns only
                        rows.append(row)
                    if entry[12] is not None:
                        tagged.append((entry, row))
                except queue.Empty:
                    break
                except Exception:  # noqa: BLE001 - one bad entry must not stop the log
                    log.exception("prediction log: could not prepare an entry")
            if rows:
                try:
                    self._sink(rows)
                except Exception:  # noqa: BLE001
                    log.exception("prediction log: could not write %d entries", len(rows))
            if self._columns is not None and (tagged or self._pending):
                self._write_columns(tagged, stopping)
            self._write_labels()
            if stopping:
                return


    def _write_labels(self) -> None:
        labels = []
        while True:
            try:
                labels.append(self._labels.get_nowait())
            except queue.Empty:
                break
        if labels and self._labels_sink is not None:
            try:
                self._labels_sink(labels)
            except Exception:  # noqa: BLE001
                log.exception("prediction log: could not write %d labels", len(labels))

    def _write_columns(self, tagged: list, stopping: bool = False) -> None:
        """Buffer the tagged entries per version; write a segment once SEGMENT_ROWS wait or
        the oldest has waited SEGMENT_SECONDS (a segment's fixed cost, paid per flush,
        would otherwise dominate at a few hundred rows)."""
        now = time.monotonic()
        for entry, row in tagged:
            key = (entry[13], entry[1])
            pending = self._pending.setdefault(key, {"since": now, "items": []})
            pending["items"].append((entry, row))
        for key in list(self._pending):
            pending = self._pending[key]
            if not (stopping or len(pending["items"]) >= SEGMENT_ROWS
                    or now - pending["since"] >= SEGMENT_SECONDS):
                continue
            del self._pending[key]
            items = pending["items"]
            endpoint, version = key
            policy = items[-1][0][14]
            self._policies[key] = policy
            try:
                self._columns.write(endpoint, version, [e[12] for e, _ in items],
                                    [e[3].timestamp() for e, _ in items],
                                    [r["input"] for _, r in items],
                                    [r["output"] for _, r in items], policy.columns)
            except Exception:  # noqa: BLE001 - drift data lost, scoring unaffected
                log.exception("prediction log: could not write a column segment")
        now = time.monotonic()
        if now - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = now
            for (endpoint, version), policy in self._policies.items():
                try:
                    self._columns.prune(endpoint, version, policy.max_age_hours, policy.max_rows)
                except OSError:
                    log.exception("prediction log: could not prune old segments")


def _row(entry) -> dict:
    (endpoint_id, version, shadow, at, latency_ms, status, request_id, body, output, error,
     fields, matches) = entry[:12]
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
