"""`%mlprod` metrics commands, with the CLI's own argument builders:

    %mlprod metrics STEP [--metric NAME] [--last N]
                                        the step's metrics across runs as a trend chart
                                        (Vega-Lite, rendered natively by JupyterLab)
    %mlprod metrics                     every metric of the latest run, as a table
    %mlprod checks RUN                  the outcomes of a run's checks
"""
from __future__ import annotations

from html import escape

from ..cli import commands_metrics as cli
from ..cli.output import text_table
from ..cli.output_metrics import CHECK_HEADERS, METRIC_HEADERS, check_rows, metric_rows
from .output import Rich, html_table


class TrendChart:
    """A Vega-Lite trend chart with a text fallback; `data` keeps the history it shows."""

    def __init__(self, spec: dict, text: str, data: dict):
        self.spec = spec
        self.text = text
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        from ..monitoring.trend import VEGALITE_MIME

        return {VEGALITE_MIME: self.spec, "text/plain": self.text}

    def __repr__(self) -> str:
        return self.text


def add_parsers(sub, common) -> None:
    cli.args_metrics(sub.add_parser("metrics", parents=[common],
                                    help="a step's metrics across runs, as a trend chart"))
    sub.add_parser("checks", parents=[common],
                   help="a run's check outcomes").add_argument("run", metavar="RUN")


def cmd_metrics(magics, ns):
    project = magics._project(ns)
    data, text = cli.metrics_data(project, ns)
    if ns.step:
        if not data["series"]:
            return Rich(f"<div>{escape(text)}</div>", text, data)
        return TrendChart(project.metrics.trend_chart(ns.step, ns.metric, ns.last), text, data)
    rows = metric_rows(data["metrics"])
    if not rows:
        return Rich(f"<div>{escape(text)}</div>", text, data)
    return Rich(f"<div>run {data['run_id']}</div>" + html_table(METRIC_HEADERS, rows), text, data)


def cmd_checks(magics, ns):
    checks = magics._project(ns).metrics.run_checks(ns.run)
    rows = check_rows(checks["checks"])
    if not rows:
        text = "no checks were judged in this run"
        return Rich(f"<div>{text}</div>", text, checks)
    return Rich(f"<div>checks: {escape(checks['outcome'])}</div>" + html_table(CHECK_HEADERS, rows),
                text_table(CHECK_HEADERS, rows), checks)


COMMANDS = {"metrics": cmd_metrics, "checks": cmd_checks}
