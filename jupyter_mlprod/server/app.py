"""The jupyter_server extension: configuration, the one `Project`, the worker pool, the routes."""
from __future__ import annotations

import asyncio
import functools
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Integer, List, Unicode

from ..errors import MlprodError, Unavailable
from ..project import Project
from ..settings import HELP as SETTINGS_HELP
from ..settings import Settings

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")


class ProjectHolder:
    """Opens the one `Project` off the event loop, at most once at a time.

    If it cannot be opened (bad root, bad mlprod.toml, store down) every request gets a 503
    `Unavailable` saying why; the open is retried at most every `retry_interval` seconds, so a
    store that comes back is picked up without restarting Jupyter."""

    def __init__(self, factory: Callable[[], Project], pool: ThreadPoolExecutor, log,
                 retry_interval: float, describe_root: str,
                 on_open: Callable[[Project], None] | None = None):
        self._factory = factory
        self._on_open = on_open  # run in the pool once the project is open (the scheduler)
        self._pool = pool
        self._log = log
        self._retry_interval = retry_interval
        self._root = describe_root
        self._project: Project | None = None
        self._error: Unavailable | None = None
        self._failed_at = 0.0
        self._lock: asyncio.Lock | None = None
        self._closed = False

    @property
    def project(self) -> Project | None:
        return self._project

    async def get(self) -> Project:
        if self._project is not None:
            return self._project
        if self._closed:
            raise Unavailable("the mlprod extension is shutting down", field="project",
                              code="project_unavailable")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._project is not None:
                return self._project
            waited = time.monotonic() - self._failed_at
            if self._error is not None and waited < self._retry_interval:
                raise self._error
            try:
                loop = asyncio.get_running_loop()
                project = await loop.run_in_executor(self._pool, self._factory)
            except MlprodError as exc:
                self._fail(Unavailable(
                    f"the mlprod project in {self._root} cannot be opened: {exc.message}",
                    field=exc.field or "project", code="project_unavailable"))
                self._log.warning("mlprod: %s", self._error.message)
                raise self._error from None
            except Exception as exc:  # e.g. a permission error creating .mlprod/
                self._fail(Unavailable(
                    f"the mlprod project in {self._root} cannot be opened: "
                    f"{type(exc).__name__}: {exc}", field="project", code="project_unavailable"))
                self._log.exception("mlprod: opening the project failed")
                raise self._error from None
            if self._closed:  # the server stopped while we were opening it
                await asyncio.get_running_loop().run_in_executor(self._pool, project.close)
                raise Unavailable("the mlprod extension is shutting down", field="project",
                                  code="project_unavailable")
            self._project, self._error = project, None
            self._log.info("mlprod: project %r opened (%s, store %s)", project.settings.name,
                           project.root, project.settings.store_kind)
            if self._on_open is not None:
                await asyncio.get_running_loop().run_in_executor(self._pool, self._on_open,
                                                                 project)
            return project

    def _fail(self, error: Unavailable) -> None:
        self._error = error
        self._failed_at = time.monotonic()

    async def warm(self) -> None:
        try:
            await self.get()
        except MlprodError:
            pass  # already logged; requests will answer 503 with the reason

    async def close(self, timeout: float) -> None:
        self._closed = True
        project, self._project = self._project, None
        if project is None:
            return
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(self._pool, project.close), timeout)
        except asyncio.TimeoutError:
            self._log.warning("mlprod: closing the project took longer than %s s; "
                              "steps still running are left to finish", timeout)


class MlprodApp(ExtensionApp):
    """REST API of jupyter_mlprod under `/mlprod/api/v1/` (see openapi.yaml)."""

    name = "jupyter_mlprod"
    load_other_extensions = True

    project_root = Unicode(
        "",
        help="Folder of the mlprod project (notebooks + mlprod.toml). Empty: the Jupyter "
             "server's root_dir. A relative path is taken relative to root_dir.",
    ).tag(config=True)
    store_url = Unicode(
        "",
        help="SQLAlchemy URL of the run store, e.g. sqlite:///runs.db or "
             "postgresql://host/db. Empty: mlprod.toml [store] url, then MLPROD_STORE_URL, "
             "then the SQLite file .mlprod/mlprod.db in the project.",
    ).tag(config=True)
    executor = Unicode(
        "",
        help="Executor running the steps: 'local' (worker processes here) or 'dask'. "
             "Empty: mlprod.toml [runs] executor, then MLPROD_EXECUTOR, then 'local'.",
    ).tag(config=True)
    parallelism = Integer(
        None, allow_none=True,
        help="How many steps of a run may execute at once. Unset: mlprod.toml [runs] "
             "parallelism, then MLPROD_PARALLELISM, then the number of CPUs.",
    ).tag(config=True)
    default_timeout = Integer(
        None, allow_none=True,
        help="Timeout in seconds of a step that declares none. Unset: mlprod.toml [runs] "
             "default_timeout, then MLPROD_DEFAULT_TIMEOUT, then 3600.",
    ).tag(config=True)
    dask_address = Unicode(
        "",
        help="Address of the Dask scheduler for the 'dask' executor (tcp://host:8786). "
             "Empty: mlprod.toml [executors.dask] address, then MLPROD_DASK_ADDRESS.",
    ).tag(config=True)
    prestart_kernels = Integer(
        None, allow_none=True,
        help=SETTINGS_HELP["prestart_kernels"] + " Unset: mlprod.toml [runs] prestart_kernels, "
             "then MLPROD_PRESTART_KERNELS.",
    ).tag(config=True)
    preload = List(
        Unicode(), default_value=None, allow_none=True,
        help=SETTINGS_HELP["preload"] + " Unset: mlprod.toml [runs] preload, then MLPROD_PRELOAD.",
    ).tag(config=True)
    api_threads = Integer(
        4,
        help="Threads that run the API's blocking work (SQL, notebook files, HTML "
             "conversion) off the event loop.",
    ).tag(config=True)
    retry_interval = Float(
        5.0,
        help="Seconds to wait before trying again to open a project that could not be "
             "opened (bad folder, store unreachable); meanwhile the API answers 503.",
    ).tag(config=True)
    close_timeout = Float(
        10.0,
        help="Seconds to wait for the project to close (executor shutdown) when the "
             "server stops.",
    ).tag(config=True)
    scheduler_enabled = Bool(
        True,
        help="Run the scenario scheduler inside this Jupyter server, once the project is "
             "open: it fires the scenarios' triggers and sends their reports. Turn it off "
             "when a headless `mlprod scheduler` serves the project instead (several "
             "schedulers may share one PostgreSQL store: each fire is claimed once).",
    ).tag(config=True)
    base_url = Unicode(
        "",
        help="Full URL where users reach this JupyterLab (e.g. https://lab.example.com/jupyter), "
             "for the links to runs in scenario reports; not ServerApp.base_url. Empty: "
             "mlprod.toml [scheduler] base_url, then MLPROD_SCHEDULER_BASE_URL, then this "
             "server's own URL (its custom_display_url if set).",
    ).tag(config=True)
    scheduler_stop_timeout = Float(
        None, allow_none=True,
        help="When the server stops, seconds the scheduler's running scenario runs may take "
             "to finish before they are cancelled. Unset: mlprod.toml [scheduler] "
             "stop_timeout, then MLPROD_SCHEDULER_STOP_TIMEOUT, then 30.",
    ).tag(config=True)

    max_body_bytes = Integer(
        10 << 20,
        help="Largest JSON request body the REST API reads, in bytes; a bigger one answers "
             "413. 0: no limit (Jupyter's own ServerApp.max_body_size still applies).",
    ).tag(config=True)
    max_json_depth = Integer(
        64,
        help="Deepest nesting of arrays and objects a JSON request body may have; a deeper "
             "one answers 400 naming the body.",
    ).tag(config=True)

    def _overrides(self) -> dict[str, Any]:
        return {"store_url": self.store_url or None, "executor": self.executor or None,
                "parallelism": self.parallelism, "default_timeout": self.default_timeout,
                "dask_address": self.dask_address or None,
                "prestart_kernels": self.prestart_kernels, "preload": self.preload}

    def resolved_root(self) -> Path:
        base = Path(self.serverapp.root_dir).expanduser() if self.serverapp else Path.cwd()
        if not self.project_root:
            return base
        root = Path(self.project_root).expanduser()
        return root if root.is_absolute() else base / root

    def open_project(self) -> Project:
        """Runs in the pool: reads mlprod.toml, connects to and migrates the store."""
        settings = Settings.load(self.resolved_root(), self._overrides())
        return Project(settings=settings)

    def initialize_settings(self) -> None:
        self.pool = ThreadPoolExecutor(max(1, self.api_threads), thread_name_prefix="mlprod-api")
        self.scheduler = None
        self.holder = ProjectHolder(self.open_project, self.pool, self.log, self.retry_interval,
                                    str(self.resolved_root()), on_open=self.start_scheduler)
        self.settings.update({"mlprod_project": self.holder, "mlprod_pool": self.pool,
                              "mlprod_openapi": functools.cache(_load_openapi),
                              "mlprod_body_limits": {"max_bytes": self.max_body_bytes,
                                                     "max_depth": self.max_json_depth}})

    def initialize_handlers(self) -> None:
        from .handlers import routes

        self.handlers.extend(routes())

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        # Open the project in the background: the first request need not wait for the store,
        # and a misconfiguration shows in the log at startup rather than at the first click.
        self._warming = asyncio.ensure_future(self.holder.warm())

    # -- the embedded scheduler (its own threads; never on the event loop) -----------------
    def start_scheduler(self, project: Project) -> None:
        """Runs in the pool once the project is open. A scheduler that cannot start (e.g. a bad
        [scheduler] table) is logged; the REST API keeps working."""
        if not self.scheduler_enabled or getattr(self, "_stopping", False):
            return
        from ..scheduling import Scheduler

        try:
            scheduler = Scheduler(project, base_url=self._report_base_url(project),
                                  stop_timeout=self.scheduler_stop_timeout).start()
        except MlprodError as exc:
            self.log.error("mlprod: the scenario scheduler cannot start: %s", exc.message)
            return
        except Exception:  # noqa: BLE001 - the API must keep working without it
            self.log.exception("mlprod: the scenario scheduler cannot start")
            return
        self.scheduler = scheduler
        self.log.info("mlprod: scenario scheduler %s started (links to %s)", scheduler.name,
                      scheduler.config.base_url)
        if getattr(self, "_stopping", False):  # the server began stopping meanwhile
            self.scheduler = None
            scheduler.stop()

    def _report_base_url(self, project: Project) -> str | None:
        """The explicit trait, else what mlprod.toml / the environment say, else our own URL."""
        from ..scheduling.config import SchedulerConfig

        if self.base_url:
            return self.base_url
        if SchedulerConfig.load(project.root).base_url != SchedulerConfig.base_url:
            return None  # configured in mlprod.toml or MLPROD_SCHEDULER_BASE_URL
        server = self.serverapp
        if server is None:
            return None
        try:
            url = server.connection_url
            if server.custom_display_url:
                custom = urllib.parse.urlsplit(server.custom_display_url)
                url = urllib.parse.urlunsplit((custom.scheme, custom.netloc, server.base_url,
                                               "", ""))
        except Exception:  # noqa: BLE001 - a URL we cannot work out: the configured default
            return None
        url = url.rstrip("/")
        return url if url.startswith(("http://", "https://")) else None

    async def stop_extension(self) -> None:
        self._stopping = True
        scheduler, self.scheduler = getattr(self, "scheduler", None), None
        if scheduler is not None:
            # graceful: its runs finish (or are cancelled) and are recorded before the
            # project closes; in a thread of its own, never on the event loop
            await asyncio.get_running_loop().run_in_executor(None, scheduler.stop)
        holder = getattr(self, "holder", None)
        if holder is not None:
            await holder.close(self.close_timeout)
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _load_openapi() -> dict:
    import yaml

    return yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
