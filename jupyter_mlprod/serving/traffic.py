"""Traffic: which version answers a request.

A traffic setting is `{"weights": {"v1": 90, "v2": 10}, "shadow": "v3" | None,
"sticky_header": "X-Customer-Id" | None}`. Weights split requests at random, or by a hash of
the sticky header's value when the request has it (the same key always reaches the same
version while the weights stay put). The shadow version gets a copy of every request after
the answer is sent; its answers are logged, never returned.

A server never switches to a version it has not set up and warmed: it builds a new
`EndpointRuntime` off the event loop, then swaps it in with one assignment.
"""
from __future__ import annotations

import bisect
import hashlib
import random
import re
import typing

from ..errors import InvalidInput

_HEADER_RE = re.compile(r"^[A-Za-z0-9-]{1,100}$")


def normalize_traffic(weights, shadow, sticky_header, known: set[str]) -> dict:
    if not isinstance(weights, dict) or not weights:
        raise InvalidInput("traffic weights must be an object like {\"v1\": 90, \"v2\": 10}",
                           field="weights")
    clean: dict[str, float] = {}
    for version, weight in weights.items():
        if version not in known:
            raise InvalidInput(f"version {version!r} does not exist (known: "
                               f"{', '.join(sorted(known)) or 'none'})", field=f"weights.{version}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise InvalidInput(f"the weight of {version} must be a number >= 0, got {weight!r}",
                               field=f"weights.{version}")
        if weight > 0:
            clean[version] = weight
    if not clean:
        raise InvalidInput("at least one version needs a weight above 0", field="weights")
    if shadow is not None:
        if shadow not in known:
            raise InvalidInput(f"shadow version {shadow!r} does not exist", field="shadow")
        if shadow in clean:
            raise InvalidInput(f"version {shadow} cannot both take traffic and shadow it",
                               field="shadow")
    if sticky_header is not None and (not isinstance(sticky_header, str)
                                      or not _HEADER_RE.match(sticky_header)):
        raise InvalidInput("sticky_header must be an HTTP header name", field="sticky_header")
    return {"weights": clean, "shadow": shadow, "sticky_header": sticky_header}


def primary_version(traffic: dict | None) -> str | None:
    """The version with the largest weight (ties: the first)."""
    if not traffic or not traffic.get("weights"):
        return None
    return max(traffic["weights"].items(), key=lambda kv: kv[1])[0]


def live_versions(traffic: dict | None) -> list[str]:
    if not traffic:
        return []
    names = list(traffic.get("weights") or {})
    if traffic.get("shadow"):
        names.append(traffic["shadow"])
    return names


class Router:
    __slots__ = ("_only", "_versions", "_bounds", "_header")

    def __init__(self, entries: list[tuple[object, float]], sticky_header: str | None):
        total = float(sum(weight for _, weight in entries))
        self._versions = [version for version, _ in entries]
        self._bounds = []
        running = 0.0
        for _, weight in entries:
            running += weight / total
            self._bounds.append(running)
        self._bounds[-1] = 1.0
        self._only = self._versions[0] if len(entries) == 1 else None
        self._header = sticky_header

    def pick(self, headers):
        if self._only is not None:
            return self._only
        point = None
        if self._header:
            key = headers.get(self._header)
            if key:
                digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
                point = int.from_bytes(digest, "big") / 2.0 ** 64
        if point is None:
            point = random.random()
        return self._versions[min(bisect.bisect_right(self._bounds, point), len(self._versions) - 1)]


class LogPolicy(typing.NamedTuple):
    """How much of the prediction log is kept (see config.DEFAULT_OPTIONS["prediction_log"])."""
    sample: float
    columns: list | None
    max_age_hours: float
    max_rows: int
    rows: bool = True   # also a JSON row per request in the store (the /predictions listing)


class EndpointRuntime:
    """Everything a worker needs to answer one endpoint, immutable once built."""

    def __init__(self, name: str, revision: int, options: dict, traffic: dict,
                 versions: dict, key_hashes: frozenset, require_keys: bool):
        self.name = name
        self.revision = revision
        self.options = options
        self.traffic = traffic
        self.versions = versions  # version name -> LoadedVersion (only live ones)
        self.router = Router([(versions[v], w) for v, w in traffic["weights"].items()],
                             traffic.get("sticky_header"))
        self.primary = versions[primary_version(traffic)]
        self.shadow = versions[traffic["shadow"]] if traffic.get("shadow") else None
        self.key_hashes = key_hashes
        self.needs_key = require_keys or bool(key_hashes)
        self.max_body = int(options["max_body_bytes"])
        log = options["prediction_log"]
        self.log_inputs = bool(log["enabled"])
        self.redact = tuple(log["redact"])
        self.log_policy = LogPolicy(float(log.get("sample", 1.0)), log.get("columns"),
                                    float(log.get("max_age_hours", 168)),
                                    int(log.get("max_rows", 1_000_000)),
                                    bool(log.get("rows", True)))

    def describe(self) -> dict:
        return {"revision": self.revision, "traffic": self.traffic,
                "versions": {name: {"digest": v.digest, "mode": v.spec.mode,
                                    "batching": v.batching} for name, v in self.versions.items()}}
