"""`%mlprod run` as a live widget: one row per step (progress bar over its cells, status, cell
i/n, duration), the run's elapsed time, and a Cancel button.

The magic returns as soon as the run is started, so the kernel stays free to receive the
button's clicks (comm messages wait while a cell executes). A daemon thread follows the run,
woken early by the run service's `on_update`, and sets the widgets' values; ipykernel sends
those updates from any thread. Everything it shows comes from `Project.get_run`.
"""
from __future__ import annotations

import datetime as dt
import threading
from html import escape

import ipywidgets as widgets

from ..cli.output import ACTIVE, fmt_duration, fmt_error, fmt_progress, run_summary
from ..errors import Conflict, MlprodError
from .output import badge
from .widgets import message_html

POLL_SECONDS = 0.5
_DONE = ("succeeded", "up_to_date")
_BAR_STYLE = {"succeeded": "success", "up_to_date": "success", "failed": "danger",
              "cancelled": "warning", "timed_out": "danger"}


class StepRow(widgets.HBox):
    """One step of the run: name, a progress bar over its cells, and a status line."""

    def __init__(self, step: str):
        self.name = widgets.Label(step, layout=widgets.Layout(width="120px"))
        self.progress = widgets.IntProgress(value=0, min=0, max=1,
                                            layout=widgets.Layout(width="160px"))
        self.detail = widgets.HTML()
        super().__init__([self.name, self.progress, self.detail])
        self.add_class("mlprod-run-step")

    def show(self, step: dict, now: dt.datetime) -> None:
        status = step["status"]
        cell = step.get("cell") or {}
        if cell.get("count"):
            self.progress.max = cell["count"]
        if status in _DONE:
            self.progress.value = self.progress.max
        elif status == "running" and cell.get("index") is not None:
            self.progress.value = min(cell["index"] + 1, self.progress.max)
        self.progress.bar_style = _BAR_STYLE.get(status, "info" if status == "running" else "")
        duration = step.get("duration")
        if duration is None and status == "running" and step.get("started_at"):
            duration = (now - _parse(step["started_at"])).total_seconds()
        parts = [fmt_progress(step), fmt_duration(duration), step.get("reason") or "",
                 fmt_error(step.get("error"))]
        self.detail.value = badge(status) + "".join(
            f' <span style="color:#607d8b">{escape(p)}</span>' for p in parts if p)


class RunWidget(widgets.VBox):
    """A run followed live. `.data` is the latest run view, `.wait()` blocks until it ends."""

    def __init__(self, project, run: dict, changed: threading.Event | None = None):
        self.project = project
        self.run_id = run["id"]
        self._data = run
        self._changed = changed or threading.Event()
        self._thread: threading.Thread | None = None
        self.header = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop",
                                            button_style="danger",
                                            tooltip="cancel this run: stops its kernels")
        self.cancel_button.on_click(self.cancel)
        self.cancel_button.add_class("mlprod-run-cancel")
        self.message = widgets.HTML()
        self.rows = {step["step"]: StepRow(step["step"]) for step in run["steps"]}
        super().__init__([widgets.HBox([self.header, self.cancel_button]),
                          *self.rows.values(), self.message])
        self.add_class("mlprod-run")  # classes name the parts for styling and browser tests
        self.header.add_class("mlprod-run-header")
        self.show(run)

    @property
    def data(self) -> dict:
        return self._data

    def follow(self) -> "RunWidget":
        self._thread = threading.Thread(target=self._follow, name=f"mlprod-widget-{self.run_id}",
                                        daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> dict:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._data

    def cancel(self, _button=None) -> None:
        self.cancel_button.disabled = True
        self.cancel_button.description = "Cancelling…"
        try:
            self.project.cancel_run(self.run_id)
            self.message.value = message_html(f"cancelling run {self.run_id}: stopping its "
                                              "kernels…")
        except Conflict:
            pass  # it finished in the meantime
        except MlprodError as exc:
            self.message.value = message_html(exc.message, error=True)
        self._changed.set()

    def show(self, run: dict) -> None:
        self._data = run
        now = self.project.clock.now()
        active = run["status"] in ACTIVE
        if active:
            started = run.get("started_at") or run.get("created_at")
            elapsed = (now - _parse(started)).total_seconds() if started else None
            title = f"run {run['id']} {run['status']}" + (
                f" · {fmt_duration(elapsed)} elapsed" if elapsed is not None else "")
        else:
            title = run_summary(run)
        # Rows first, header last: the browser applies comm updates in order, so a header
        # that says the run ended never sits above rows that still say "running".
        for step in run["steps"]:
            row = self.rows.get(step["step"])
            if row is not None:
                row.show(step, now)
        self.header.value = f"<b>{escape(title)}</b>"
        if not active:
            self.cancel_button.disabled = True
            self.cancel_button.description = "Cancel"
            self.message.value = message_html(run["error"], error=True) if run.get("error") \
                else ""

    def _follow(self) -> None:
        try:
            while True:
                self._changed.wait(POLL_SECONDS)
                self._changed.clear()
                run = self.project.get_run(self.run_id)
                if run["status"] not in ACTIVE:
                    self.project.wait_run(self.run_id, timeout=30)  # the service's thread closes
                    self.show(self.project.get_run(self.run_id))
                    return
                self.show(run)
        except Exception as exc:  # noqa: BLE001 - a widget has no traceback to show; say it
            self.message.value = message_html(f"stopped following run {self.run_id}: {exc}",
                                              error=True)


def start_run_widget(project, request: dict, trigger: str) -> RunWidget:
    """Start a run (validation errors raise before anything runs) and follow it in a widget."""
    changed = threading.Event()
    run = project.start_run(**request, trigger=trigger, wait=False,
                            on_update=lambda _run_id: changed.set())
    return RunWidget(project, run, changed).follow()


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
