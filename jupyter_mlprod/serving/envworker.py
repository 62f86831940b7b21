"""The scoring process of a version served from a bundle's own environment (environments.py).

Runs with the environment's Python; imports only the engine's modules (see BOOTSTRAP). Reads
one JSON message per line on stdin, answers one per line on stdout:
  {"op": "setup", endpoint, version, spec, workdir, options} -> {"sample"|"no_sample", "takes_params"}
  {"op": "score", request, timeout[, params]}                 -> {"result"}
Any failure answers {"error": {"type", "message"[, "mlprod", "code", "field", "details"]}}.
`--check` only imports what serving needs; a missing library answers {"missing": name}.
"""
from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> None:
    try:
        from .engine import LoadedVersion, to_json
        from .deadline import Deadline
        from .notebook_cells import MISSING, ScoringSpec
    except ModuleNotFoundError as exc:
        print(json.dumps({"missing": exc.name}), flush=True)
        sys.exit(3)
    if "--check" in argv:
        print(json.dumps({"ok": True, "python": sys.executable}), flush=True)
        return
    from .. import lifetime

    lifetime.die_with_parent()
    class _Scoring(LoadedVersion):
        def _finish(self) -> None:
            """Schema, validation and warm-up happen in the serving process (it validates
            before it sends; its warm-up comes through here)."""

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in a cell must not corrupt the protocol: it goes to stderr
    deadline = Deadline()
    version = None
    for line in sys.stdin.buffer:
        message = json.loads(line)
        try:
            if message["op"] == "setup":
                spec = ScoringSpec.from_dict(message["spec"])
                from pathlib import Path

                version = _Scoring(message["endpoint"], message["version"], spec,
                                   Path(message["workdir"]), message["options"],
                                   deadline).load()
                reply = {"takes_params": version.takes_params}
                if version.sample is MISSING:
                    reply["no_sample"] = True
                else:
                    reply["sample"] = version.sample
            else:
                version.timeout = message["timeout"]
                result = version.predict_with_params(message["request"], message["params"]) \
                    if "params" in message else version.predict(message["request"])
                try:
                    encoded = to_json({"result": result})
                except (TypeError, ValueError) as exc:
                    raise TypeError(f"the scoring cell's response is not JSON: {exc}") from None
                out.write(encoded + b"\n")
                out.flush()
                continue
        except BaseException as exc:  # noqa: BLE001 - ScoringTimeout too: the parent reports it
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reply = {"error": _describe(exc)}
        out.write(to_json(reply) + b"\n")
        out.flush()


def _describe(exc: BaseException) -> dict:
    error = {"type": type(exc).__name__, "message": str(exc)}
    message = getattr(exc, "message", None)
    if isinstance(message, str) and hasattr(exc, "to_dict"):  # one of our errors (setup)
        error.update(exc.to_dict(), mlprod=True, type=type(exc).__name__)
    return error
