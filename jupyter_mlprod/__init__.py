"""jupyter_mlprod: from notebook to production without leaving Jupyter."""
from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .server import MlprodApp

    return [{"module": "jupyter_mlprod.server", "app": MlprodApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-mlprod"}]


def load_ipython_extension(ipython):
    from .magics import load_ipython_extension as _load

    _load(ipython)
