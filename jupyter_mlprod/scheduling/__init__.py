"""Scenarios: triggers + what to run + reporters, and the scheduler that fires them.

`ScenarioService(project)` (reached as `project.scenarios`) is every scenario action;
`Scheduler(project)` runs them (in the Jupyter server, or headless:
`python -m jupyter_mlprod.scheduling`). No door (server, CLI, magics) is imported here."""
from .scheduler import Scheduler
from .service import ScenarioService

__all__ = ["ScenarioService", "Scheduler"]
