"""Drift reports as Vega-Lite v5 specs (JupyterLab renders them natively): PSI per feature with
the 0.1 / 0.25 thresholds, and the prediction's distribution, reference against live."""
from __future__ import annotations

from .drift_stats import PSI_ERROR, PSI_WARNING

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def psi_bars(report: dict, width: int = 360) -> dict:
    values = [{"feature": f["name"], "psi": f["psi"], "status": f["status"],
               "test": f["test"], "statistic": f["statistic"], "drift": f["drift"]}
              for f in report["features"] if f["psi"] is not None]
    return {
        "$schema": SCHEMA,
        "title": f"{report['endpoint']} {report['version']}: PSI per feature",
        "width": width,
        "layer": [
            {"data": {"values": values}, "mark": "bar",
             "encoding": {
                 "y": {"field": "feature", "type": "nominal", "sort": "-x", "title": None},
                 "x": {"field": "psi", "type": "quantitative", "title": "PSI"},
                 "color": {"field": "status", "type": "nominal",
                           "scale": {"domain": ["ok", "warning", "error"],
                                     "range": ["#4c9a2a", "#e0a800", "#c62828"]}},
                 "tooltip": [{"field": "feature"}, {"field": "psi", "format": ".4f"},
                             {"field": "test"}, {"field": "statistic", "format": ".4g"},
                             {"field": "drift"}]}},
            {"data": {"values": [{"x": PSI_WARNING}, {"x": PSI_ERROR}]},
             "mark": {"type": "rule", "strokeDash": [4, 4]},
             "encoding": {"x": {"field": "x", "type": "quantitative"}}},
        ],
    }


def distribution(feature: dict, title: str, width: int = 360) -> dict:
    values = []
    for side in ("reference", "live"):
        for label, share in zip(feature[side]["bins"], feature[side]["share"]):
            values.append({"bin": str(label) if not isinstance(label, float) else f"{label:.4g}",
                           "share": share, "side": side})
    return {
        "$schema": SCHEMA, "title": title, "width": width, "data": {"values": values},
        "mark": "bar",
        "encoding": {"x": {"field": "bin", "type": "ordinal", "sort": None,
                           "title": "bin (lower edge)" if feature["type"] == "numeric" else None},
                     "xOffset": {"field": "side"},
                     "y": {"field": "share", "type": "quantitative"},
                     "color": {"field": "side", "type": "nominal"}},
    }


def drift_charts(report: dict) -> list[dict]:
    charts = [psi_bars(report)]
    if report.get("prediction") and report["prediction"]["reference"]["bins"]:
        charts.append(distribution(report["prediction"],
                                   f"prediction {report['prediction']['name']}: reference vs live"))
    return charts
