"""`mlprod drift ENDPOINT [--version V] [--window 1000|1h] [--record] [--json]`: drift of an
endpoint version's live inputs and prediction against its reference profile."""
from __future__ import annotations

from .output import text_table

DRIFT_HEADERS = ["feature", "type", "test", "statistic", "p-value", "drift", "psi", "status"]


def register(command, sub=None, common=None) -> None:
    p = command("drift", cmd_drift, "input and prediction drift of an endpoint version, and its "
                "live performance once labels arrive")
    args_drift(p)


def args_drift(p) -> None:
    p.add_argument("endpoint", metavar="ENDPOINT", help="endpoint name")
    p.add_argument("--version", metavar="V", help="endpoint version (default: the primary one)")
    p.add_argument("--window", metavar="W", default=None,
                   help="the last N logged requests (1000, the default) or T hours (1h)")
    p.add_argument("--record", action="store_true",
                   help="also record the figures as metrics of the version (drift history)")


def drift_data(project, ns) -> dict:
    if getattr(ns, "record", False):
        return project.drift.evaluate(ns.endpoint, version=ns.version, window=ns.window)["report"]
    return project.drift.report(ns.endpoint, version=ns.version, window=ns.window)


def _number(value, fmt: str = ".4g") -> str:
    return "-" if value is None else format(value, fmt)


def feature_rows(report: dict) -> list[list[str]]:
    rows = []
    features = list(report["features"])
    if report["prediction"]:
        features.append(dict(report["prediction"], name=f"{report['prediction']['name']} "
                                                        "(prediction)"))
    for f in features:
        rows.append([f["name"], f["type"], f["test"] or "-", _number(f["statistic"]),
                     _number(f["p_value"]), "DRIFT" if f["drift"] else "no",
                     _number(f["psi"], ".3f"), f["status"]])
    return rows


def drift_text(report: dict) -> str:
    window = report["window"]
    size = f"last {window['size']} " + ("requests" if window["kind"] == "requests" else "hours")
    lines = [f"endpoint {report['endpoint']} version {report['version']}: {size}, "
             f"{report['n_live']} live rows vs {report['n_reference']} reference rows"]
    if report["message"]:
        lines.append(report["message"])
    dataset = report["dataset"]
    lines.append(f"dataset drift: {'YES' if dataset['drift'] else 'no'} "
                 f"({dataset['share']:.0%} of features drift; threshold {dataset['threshold']:.0%})")
    lines.append(text_table(DRIFT_HEADERS, feature_rows(report)))
    perf = report["performance"]
    if perf:
        lines.append(f"live performance on {perf['labels']} labels: accuracy "
                     f"{_number(perf['accuracy'], '.3f')}, AUC {_number(perf['auc'], '.3f')}")
    return "\n".join(lines)


def cmd_drift(ctx) -> int:
    report = drift_data(ctx.project, ctx.ns)
    ctx.emit(report, drift_text(report))
    return 0
