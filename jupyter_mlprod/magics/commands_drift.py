"""`%mlprod drift ENDPOINT [--version V] [--window 1000|1h] [--record]`: the drift report as
Vega-Lite charts (PSI per feature with its thresholds; the prediction's distribution, reference
against live), with the CLI's table as the text fallback."""
from __future__ import annotations

from ..cli import commands_drift as cli


class DriftCharts:
    """One output per chart: JupyterLab renders application/vnd.vegalite.v5+json natively."""

    def __init__(self, report: dict, charts: list[dict], text: str):
        self.data = report
        self.charts = charts
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        from ..monitoring.trend import VEGALITE_MIME

        if len(self.charts) == 1:
            return {VEGALITE_MIME: self.charts[0], "text/plain": self.text}
        combined = {"$schema": self.charts[0]["$schema"],
                    "vconcat": [{k: v for k, v in c.items() if k != "$schema"}
                                for c in self.charts]}
        return {VEGALITE_MIME: combined, "text/plain": self.text}

    def __repr__(self) -> str:
        return self.text


def add_parsers(sub, common) -> None:
    cli.args_drift(sub.add_parser("drift", parents=[common],
                                  help="drift of an endpoint version, as charts"))


def cmd_drift(magics, ns):
    from ..monitoring.drift_charts import drift_charts

    report = cli.drift_data(magics._project(ns), ns)
    return DriftCharts(report, drift_charts(report), cli.drift_text(report))


COMMANDS = {"drift": cmd_drift}
