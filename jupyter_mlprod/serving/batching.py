"""Adaptive micro-batching for scoring cells that accept a list of records.

Requests that arrive while others are being parsed are coalesced: the first record schedules
a flush on the event loop; the flush waits only while the queue is still growing from one
loop iteration to the next, and never longer than `max_wait_ms` or past `max_batch` records.
At low load a batch is one record and waits one loop iteration (microseconds); under load,
batches grow by themselves. If a batch call fails, its records are retried one by one, so one
bad record cannot fail its neighbours.
"""
from __future__ import annotations

import time

from .deadline import ScoringTimeout


class Batcher:
    __slots__ = ("version", "loop", "on_batch", "_pending", "_scheduled", "_seen", "_started")

    def __init__(self, version, loop, on_batch=None):
        self.version = version  # a LoadedVersion with batching on
        self.loop = loop
        self.on_batch = on_batch  # called with the batch size (metrics)
        self._pending: list = []
        self._scheduled = False
        self._seen = 0
        self._started = 0.0

    def submit(self, record, callback) -> None:
        """`callback(result, error)` is called on the event loop with the record's answer."""
        self._pending.append((record, callback))
        if not self._scheduled:
            self._scheduled = True
            self._seen = 0
            self._started = time.monotonic()
            self.loop.call_soon(self._tick)

    def _tick(self) -> None:
        count = len(self._pending)
        version = self.version
        if (count < version.max_batch and count > self._seen
                and time.monotonic() - self._started < version.max_wait):
            self._seen = count
            self.loop.call_soon(self._tick)
            return
        batch = self._pending[:version.max_batch]
        del self._pending[:version.max_batch]
        if self._pending:
            self._seen = 0
            self._started = time.monotonic()
            self.loop.call_soon(self._tick)
        else:
            self._scheduled = False
        self.run(batch)

    def run(self, batch: list) -> None:
        records = [record for record, _ in batch]
        if self.on_batch is not None:
            self.on_batch(len(records))
        try:
            results = self.version.predict_batch(records)
        except (Exception, ScoringTimeout) as exc:  # noqa: BLE001
            failure = exc
        else:
            for (_, callback), result in zip(batch, results):
                callback(result, None)
            return
        if len(batch) == 1 or not isinstance(failure, Exception):
            for _, callback in batch:
                callback(None, failure)
            return
        for record, callback in batch:  # isolate the record that fails
            try:
                result = self.version.predict_batch([record])[0]
            except (Exception, ScoringTimeout) as single:  # noqa: BLE001
                callback(None, single)
            else:
                callback(result, None)
