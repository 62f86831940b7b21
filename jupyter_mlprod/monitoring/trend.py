"""A metric's trend across runs as a Vega-Lite v5 spec: JupyterLab renders the
`application/vnd.vegalite.v5+json` MIME type natively, so `%mlprod metrics` needs no frontend."""
from __future__ import annotations

VEGALITE_MIME = "application/vnd.vegalite.v5+json"


def trend_spec(history: dict, width: int = 360) -> dict:
    values = []
    for series in history["series"]:
        for point in series["points"]:
            if point["value"] is None:
                continue
            values.append({"metric": series["metric"], "run": point["run_id"],
                           "value": point["value"], "at": point["at"],
                           "status": point["step_status"] or point["run_status"],
                           "parameters": ", ".join(f"{k}={v}" for k, v in
                                                   sorted(point["parameters"].items())) or "-"})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"step {history['step']}" + (f": {history['metric']}" if history["metric"] else ""),
        "data": {"values": values},
        "facet": {"row": {"field": "metric", "type": "nominal", "title": None}},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": width, "height": 120,
            "layer": [
                {"mark": {"type": "line", "point": True},
                 "encoding": {
                     "x": {"field": "run", "type": "ordinal", "title": "run"},
                     "y": {"field": "value", "type": "quantitative", "title": None,
                           "scale": {"zero": False}},
                     "tooltip": [{"field": "run", "title": "run"},
                                 {"field": "value", "title": "value", "format": ".4g"},
                                 {"field": "status"}, {"field": "parameters"},
                                 {"field": "at", "title": "time"}]}},
            ],
        },
    }
