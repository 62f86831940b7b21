"""Terminal progress of a run: one line per step state change; on a TTY also a live status line
(`train: cell 3/6`) rewritten in place. Plain lines only when the output is a file or a pipe."""
from __future__ import annotations

import shutil
import time
from typing import TextIO

from .output import fmt_duration, fmt_error, fmt_progress, one_line

_CLEAR = "\r\033[K"


class TerminalProgress:
    def __init__(self, stream: TextIO, tty: bool | None = None):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.seen: dict[str, tuple] = {}
        self.started = time.monotonic()
        self.width = 0
        self.header_done = False
        self.live = False

    def update(self, run: dict) -> None:
        steps = run.get("steps", [])
        self.width = max([self.width, *(len(s["step"]) for s in steps)])
        lines = []
        if not self.header_done:
            self.header_done = True
            names = ", ".join(s["step"] for s in steps) or "no steps"
            lines.append(f"run {run['id']}: {names}")
        for step in steps:
            key = (step["status"], step["attempt"])
            if self.seen.get(step["step"]) == key:
                continue
            self.seen[step["step"]] = key
            if step["status"] != "pending":
                lines.append(self._line(step))
        if lines:
            self._clear_live()
            self.stream.write("\n".join(lines) + "\n")
        if self.tty:
            self._show_live(steps)
        self.stream.flush()

    def close(self) -> None:
        self._clear_live()
        self.stream.flush()

    def note(self, text: str) -> None:
        self._clear_live()
        self.stream.write(text + "\n")
        self.stream.flush()

    # -------------------------------------------------------------------------------------
    def _line(self, step: dict) -> str:
        status = step["status"]
        if status == "running":
            detail = f"attempt {step['attempt']}" if step["attempt"] > 1 else ""
            if step.get("reason"):
                detail = f"{detail} ({step['reason']})" if detail else step["reason"]
        elif status == "succeeded":
            detail = fmt_duration(step["duration"])
        elif status == "failed":
            detail = fmt_error(step["error"]) or step.get("reason") or ""
        else:
            detail = step.get("reason") or ""
        stamp = time.strftime("%H:%M:%S")
        return f"{stamp}  {step['step'].ljust(self.width)}  {status.ljust(10)}  " \
               f"{one_line(detail, 160)}".rstrip()

    def _show_live(self, steps: list[dict]) -> None:
        running = [f"{s['step']}: {fmt_progress(s) or 'starting'}" for s in steps
                   if s["status"] == "running"]
        if not running:
            self._clear_live()
            return
        elapsed = fmt_duration(time.monotonic() - self.started)
        text = f"  {' · '.join(running)}  ({elapsed})"
        columns = shutil.get_terminal_size((100, 20)).columns
        self.stream.write(_CLEAR + one_line(text, max(columns - 1, 20)))
        self.live = True

    def _clear_live(self) -> None:
        if self.live:
            self.stream.write(_CLEAR)
            self.live = False
