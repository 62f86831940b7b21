"""jupyter_mlprod: from notebook to production without leaving Jupyter."""
from __future__ import annotations

__version__ = "0.1.0"


def log_metric(name: str, value: float) -> None:
    """Record a metric of the running step (`mlprod.log_metric("roc_auc", 0.91)`); in an
    interactive session it is shown and not recorded."""
    from .monitoring.api import log_metric as _log

    _log(name, value)


def log_metrics(values: dict) -> None:
    """Record several metrics at once (`mlprod.log_metrics({"roc_auc": 0.91, "f1": 0.8})`)."""
    from .monitoring.api import log_metrics as _log

    _log(values)


def _jupyter_server_extension_points():
    from .server import MlprodApp

    return [{"module": "jupyter_mlprod.server", "app": MlprodApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-mlprod"}]


def load_ipython_extension(ipython):
    from .magics import load_ipython_extension as _load

    _load(ipython)
