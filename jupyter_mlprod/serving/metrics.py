"""Prometheus metrics, by endpoint and version.

With several worker processes, prometheus_client's multiprocess mode sums the workers' values
(each worker writes to memory-mapped files in a private folder), so any worker answers
/metrics for the whole server. Label children are cached: recording costs a dict lookup and
the increments.
"""
from __future__ import annotations

import os

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class ServingMetrics:
    def __init__(self, multiprocess_dir: str | None = None):
        if multiprocess_dir:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir
        import prometheus_client
        from prometheus_client import values

        if multiprocess_dir and values.ValueClass.__name__ != "MmapedValue":
            # prometheus_client was imported before the folder was known: switch it now,
            # before our metrics are created.
            values.ValueClass = values.MultiProcessValue()
        self._multiprocess_dir = multiprocess_dir
        prometheus_client.disable_created_metrics()  # no *_created series: half the output
        self.registry = prometheus_client.CollectorRegistry(auto_describe=True)
        self._p = prometheus_client
        labels = ("endpoint", "version")
        self.requests = prometheus_client.Counter(
            "mlprod_requests", "Requests answered, by endpoint, version and HTTP status.",
            labels + ("code",), registry=self.registry)
        self.latency = prometheus_client.Histogram(
            "mlprod_request_duration_seconds", "Time from request received to answer sent.",
            labels, buckets=BUCKETS, registry=self.registry)
        self.errors = prometheus_client.Counter(
            "mlprod_errors", "Failed requests by kind: invalid, unauthorized, too_large, "
            "scoring, timeout.", labels + ("kind",), registry=self.registry)
        self.shadow = prometheus_client.Counter(
            "mlprod_shadow_requests", "Copies scored by a shadow version, by outcome "
            "(match, differ, error).", labels + ("outcome",), registry=self.registry)
        self.batch_size = prometheus_client.Histogram(
            "mlprod_batch_size", "Records per call of a batching scoring cell.", labels,
            buckets=BATCH_BUCKETS, registry=self.registry)
        self.loads = prometheus_client.Counter(
            "mlprod_version_loads", "Versions set up and warmed by this server, by outcome.",
            labels + ("outcome",), registry=self.registry)
        self._req: dict = {}
        self._lat: dict = {}
        self._err: dict = {}

    def observe(self, endpoint: str, version: str, code: int, seconds: float) -> None:
        key = (endpoint, version, code)
        child = self._req.get(key)
        if child is None:
            child = self._req[key] = self.requests.labels(endpoint, version, str(code))
        child.inc()
        hist = self._lat.get((endpoint, version))
        if hist is None:
            hist = self._lat[(endpoint, version)] = self.latency.labels(endpoint, version)
        hist.observe(seconds)

    def error(self, endpoint: str, version: str, kind: str) -> None:
        key = (endpoint, version, kind)
        child = self._err.get(key)
        if child is None:
            child = self._err[key] = self.errors.labels(endpoint, version, kind)
        child.inc()

    def render(self) -> tuple[bytes, str]:
        if self._multiprocess_dir:
            from prometheus_client import multiprocess

            registry = self._p.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self._multiprocess_dir)
            return self._p.generate_latest(registry), self._p.CONTENT_TYPE_LATEST
        return self._p.generate_latest(self.registry), self._p.CONTENT_TYPE_LATEST
