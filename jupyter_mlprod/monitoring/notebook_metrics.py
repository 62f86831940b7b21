"""Metrics logged by `mlprod.log_metric(s)`, read back from an executed notebook."""
from __future__ import annotations

import json
import math
from pathlib import Path

from .api import MAX_NAME, METRIC_MIME


def read_logged_metrics(path: Path) -> dict[str, float]:
    """name -> value, in logging order; a name logged twice keeps its last value."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, float] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") if isinstance(output, dict) else None
            payload = data.get(METRIC_MIME) if isinstance(data, dict) else None
            values = payload.get("metrics") if isinstance(payload, dict) else None
            if not isinstance(values, dict):
                continue
            for name, value in values.items():
                # The kernel validated them; a hand-edited notebook is filtered again.
                if isinstance(name, str) and 0 < len(name) <= MAX_NAME and \
                        isinstance(value, (int, float)) and not isinstance(value, bool) and \
                        math.isfinite(value):
                    found.pop(name, None)
                    found[name] = float(value)
    return found
