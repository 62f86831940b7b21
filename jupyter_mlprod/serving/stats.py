"""Live figures for the Endpoints view: scrape the servers' /metrics and turn two scrapes into
rates and latency quantiles over the window between them. The window is the last few minutes
(WINDOW_S), not the time since the previous look: a person who sent 22 requests a minute ago
still sees them."""
from __future__ import annotations

import time
import urllib.request

from .metrics import BUCKETS

WINDOW_S = 300.0  # "the last 5 minutes" of the Endpoints view


def scrape(url: str, timeout: float = 2.0) -> dict:
    """{(endpoint, version): {"codes": {code: n}, "errors": n, "buckets": [...], "count": n,
    "sum": s}} summed over the server's workers."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=timeout) as response:  # noqa: S310
        text = response.read().decode("utf-8")
    out: dict = {}

    def entry(labels):
        key = (labels.get("endpoint", ""), labels.get("version", ""))
        return out.setdefault(key, {"codes": {}, "errors": 0.0, "count": 0.0, "sum": 0.0,
                                    "buckets": [0.0] * (len(BUCKETS) + 1)})

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "mlprod_requests_total":
                e = entry(labels)
                e["codes"][labels["code"]] = e["codes"].get(labels["code"], 0.0) + sample.value
            elif sample.name == "mlprod_errors_total":
                entry(labels)["errors"] += sample.value
            elif sample.name == "mlprod_request_duration_seconds_bucket":
                bound = labels["le"]
                index = len(BUCKETS) if bound == "+Inf" else _bucket_index(float(bound))
                if index is not None:
                    entry(labels)["buckets"][index] += sample.value
            elif sample.name == "mlprod_request_duration_seconds_count":
                entry(labels)["count"] += sample.value
            elif sample.name == "mlprod_request_duration_seconds_sum":
                entry(labels)["sum"] += sample.value
    return out


def _bucket_index(bound: float):
    for i, b in enumerate(BUCKETS):
        if abs(b - bound) < 1e-12:
            return i
    return None


def summarize(endpoint: str, now: dict, before: dict | None, window: float | None) -> dict:
    versions = {}
    for (name, version), cur in now.items():
        if name != endpoint or not version:
            continue
        old = (before or {}).get((name, version))
        if old is None and window:  # the version was not serving at the window's start
            old = {"codes": {}, "errors": 0.0, "buckets": [0.0] * len(cur["buckets"])}
        requests = sum(cur["codes"].values())
        view = {"requests": int(requests), "errors": int(cur["errors"]),
                "codes": {k: int(v) for k, v in sorted(cur["codes"].items())},
                "req_per_s": None, "error_rate": None, "latency_ms": None}
        if old is not None and window:
            delta_req = requests - sum(old["codes"].values())
            delta_err = cur["errors"] - old["errors"]
            view["req_per_s"] = round(delta_req / window, 2)
            view["error_rate"] = round(delta_err / delta_req, 4) if delta_req else 0.0
            buckets = [a - b for a, b in zip(cur["buckets"], old["buckets"])]
            view["latency_ms"] = _quantiles(buckets)
        elif cur["count"]:
            view["latency_ms"] = _quantiles(cur["buckets"])
        versions[version] = view
    return {"endpoint": endpoint, "window_s": round(window, 3) if window else None,
            "versions": versions, "at": time.time()}


def _quantiles(cumulative: list[float]) -> dict | None:
    total = cumulative[-1]
    if total <= 0:
        return None
    bounds = list(BUCKETS) + [BUCKETS[-1] * 2]

    def q(fraction: float) -> float:
        rank = fraction * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in zip(bounds, cumulative):
            if count >= rank:
                share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1
                return round((lower_bound + (bound - lower_bound) * share) * 1000, 3)
            lower_bound, lower_count = bound, count
        return round(bounds[-1] * 1000, 3)

    return {"p50": q(0.5), "p90": q(0.9), "p95": q(0.95), "p99": q(0.99)}
