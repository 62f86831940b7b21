"""`mlprod.log_metric` / `mlprod.log_metrics`, called inside a notebook.

The value never goes to the store from the kernel: it is displayed as an output with the
METRIC_MIME type, so it travels inside the executed notebook (local pool or Dask alike) and
the run service records it after the step. Interactively the same output just shows the value.
Everything a cell logs becomes one output at the end of the cell.
This module is imported by the kernel: it stays stdlib-only and cheap.
"""
from __future__ import annotations

import math
import numbers
import sys

from ..errors import InvalidInput

METRIC_MIME = "application/vnd.mlprod.metric+json"
MAX_NAME = 200


def validate_metric(name: object, value: object) -> tuple[str, float]:
    """A metric is a non-empty name (at most MAX_NAME characters) and a finite number."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"metric name must be a non-empty string, got {name!r}", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"metric name {name[:40]!r}... is {len(name)} characters long; the "
                           f"limit is {MAX_NAME}", field="name")
    if any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"metric name {name!r} contains control characters", field="name")
    if type(value) not in (float, int) and (isinstance(value, str) or
                                            not isinstance(value, numbers.Real)):
        raise InvalidInput(f"metric {name!r} must be a number, got {type(value).__name__} "
                           f"{value!r:.60}", field=name)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(f"metric {name!r} must be a finite number, got {number}", field=name)
    return name.strip(), number


def log_metric(name: str, value: float) -> None:
    """Record one metric of this step run (shown, not recorded, outside a run)."""
    name, number = validate_metric(name, value)
    _emit({name: number})


def log_metrics(values: dict) -> None:
    """Record several metrics at once: one output for all of them."""
    if not isinstance(values, dict):
        raise InvalidInput(f"log_metrics takes a dict of name -> number, got "
                           f"{type(values).__name__}", field="values")
    checked = dict(validate_metric(name, value) for name, value in values.items())
    if checked:
        _emit(checked)


# Metrics logged during a cell, shown as ONE output when the cell ends: a loop of 1,000
# log_metric calls must not send 1,000 messages (nbclient gives up waiting for IOPub output).
_pending: dict[str, float] = {}
_hooked: list = []


def _emit(metrics: dict[str, float]) -> None:
    shell = _shell()
    if shell is None:
        print(_text(metrics))
        return
    for name, value in metrics.items():
        _pending.pop(name, None)   # a name logged again moves to the end with its last value
        _pending[name] = value
    if shell not in _hooked:
        shell.events.register("post_run_cell", _flush)
        _hooked.append(shell)


def _shell():
    ipython = sys.modules.get("IPython")  # a kernel has imported it; plain Python may not
    if ipython is None:
        return None
    return ipython.get_ipython()


def _flush(*_result) -> None:
    """At the end of the cell (post_run_cell: still the cell's output), show what it logged."""
    if not _pending:
        return
    from IPython.display import publish_display_data

    metrics = dict(_pending)
    _pending.clear()
    publish_display_data({METRIC_MIME: {"metrics": metrics}, "text/plain": _text(metrics)})


def _text(metrics: dict[str, float]) -> str:
    return "\n".join(f"metric {name} = {value:g}" for name, value in metrics.items())
