"""Sending queued reports. A failed send is logged and retried with exponential backoff, up to
`report_attempts`; it never touches the run or the fire it reports on."""
from __future__ import annotations

import datetime as dt
import logging
import os

from .policies import backoff
from .reporters import ReportError, get_reporter
from ..words import counted

log = logging.getLogger(__name__)


class Deliverer:
    def __init__(self, repo, config, clock, environ=None):
        self.repo = repo
        self.config = config
        self.clock = clock
        self.environ = os.environ if environ is None else environ

    def deliver_due(self, limit: int = 50, stop=None) -> dict:
        now = self.clock.now()
        lease = self.config.report_timeout * 3 + 10
        counts = {"sent": 0, "retrying": 0, "given_up": 0}
        if not self.repo.has_deliveries_due(now):   # a read: no write transaction when idle
            return counts
        for d in self.repo.claim_deliveries(now, lease, limit):
            if stop is not None and stop.is_set():
                # hand it back untouched: the next scheduler sends it
                self.repo.finish_delivery(d["id"], status="pending")
                continue
            counts[self._send(d)] += 1
        return counts

    def _send(self, d: dict) -> str:
        attempts = d["attempts"] + 1
        where = f"report of fire {d['fire_id']} ({d['kind']} #{d['position']})"
        try:
            get_reporter(d["kind"]).send(d["reporter"], d["report"], self.environ,
                                         self.config.report_timeout)
        except ReportError as exc:
            error, retry = exc.message, exc.retry
        except Exception as exc:  # noqa: BLE001 - a reporter bug must not stop the scheduler
            log.exception("%s crashed", where)
            error, retry = f"internal error: {type(exc).__name__}: {exc}", True
        else:
            self.repo.finish_delivery(d["id"], status="sent", attempts=attempts,
                                      sent_at=self.clock.now(), last_error=None)
            log.info("%s sent", where)
            return "sent"
        now = self.clock.now()
        if retry and attempts < self.config.report_attempts:
            delay = backoff(attempts, self.config.report_backoff)
            self.repo.finish_delivery(d["id"], status="pending", attempts=attempts,
                                      last_error=error,
                                      next_attempt_at=now + dt.timedelta(seconds=delay))
            log.warning("%s failed (attempt %s of %s, next in %.0f s): %s", where, attempts,
                        self.config.report_attempts, delay, error)
            return "retrying"
        self.repo.finish_delivery(d["id"], status="failed", attempts=attempts, last_error=error,
                                  next_attempt_at=None)
        log.error("%s given up after %s: %s", where, counted(attempts, "attempt"), error)
        return "given_up"
