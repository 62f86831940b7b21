"""Serving: a notebook's tagged scoring cell as a real-time HTTP endpoint.

`project.endpoints` (an EndpointService) holds every action: endpoints, versions, traffic,
keys, in-process scoring, starting servers. `serve_notebook(path)` is the one-liner.
"""
from __future__ import annotations

from pathlib import Path

from .service import EndpointService

__all__ = ["EndpointService", "serve_notebook"]


def serve_notebook(path: str | Path, *, project: str | Path | None = None, name: str | None = None,
                   host: str = "127.0.0.1", port: int = 0, workers: int | None = None,
                   options: dict | None = None, poll_interval: float = 1.0,
                   startup_timeout: float = 300.0):
    """Serve a notebook's scoring cell and return the running server's handle (`.url`,
    `.stop()`, `.request(...)`). The project is `project`, else the nearest folder above the
    notebook holding `mlprod.toml`, else the notebook's folder; the endpoint is named after
    the notebook unless `name` is given."""
    from ..project import Project

    notebook = Path(path).expanduser().resolve()
    root = Path(project).expanduser().resolve() if project else _project_root(notebook)
    service = Project(root).endpoints
    return service.serve_notebook(str(notebook), name=name, options=options, host=host, port=port,
                                  workers=workers, poll_interval=poll_interval,
                                  startup_timeout=startup_timeout)


def _project_root(notebook: Path) -> Path:
    for folder in notebook.parents:
        if (folder / "mlprod.toml").exists():
            return folder
    return notebook.parent
