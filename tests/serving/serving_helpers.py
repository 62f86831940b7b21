"""Helpers of the serving tests: scoring notebooks on disk, HTTP calls, waiting."""
from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import requests


def write_scoring_notebook(path: Path, *, setup: list[str], score: str, sample: str | None = None,
                           skip: list[str] = ()) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for source in setup:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    for source in skip:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["mlprod-skip"]
        nb.cells.append(cell)
    if sample is not None:
        cell = nbformat.v4.new_code_cell(sample)
        cell.metadata["tags"] = ["mlprod-sample"]
        nb.cells.append(cell)
    cell = nbformat.v4.new_code_cell(score)
    cell.metadata["tags"] = ["mlprod-score"]
    nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


ECHO_SETUP = ["import os\nimport time", 'TAG = "{tag}"\n{extra}']
ECHO_SAMPLE = 'request = {"id": 1, "text": "hello", "pause": 0.0, "fail": False}'
ECHO_SCORE = (
    "ident = request['id']\n"
    "if request.get('fail'):\n"
    "    raise ValueError(f'asked to fail on {ident}')\n"
    "if request.get('pause'):\n"
    "    time.sleep(request['pause'])\n"
    "response = {'id': ident, 'tag': TAG, 'pid': os.getpid()}\n")


def write_echo(root: Path, name: str, tag: str, extra: str = "") -> Path:
    return write_scoring_notebook(
        root / f"{name}.ipynb", setup=[ECHO_SETUP[0], ECHO_SETUP[1].format(tag=tag, extra=extra)],
        sample=ECHO_SAMPLE, score=ECHO_SCORE,
        skip=["raise RuntimeError('training-only cell: never runs when serving')"])


BATCH_SCORE = (
    "records = request if isinstance(request, list) else [request]\n"
    "answers = [{'id': r['id'], 'inverse': 1 / r['x'], 'batch': len(records)} for r in records]\n"
    "response = answers if isinstance(request, list) else answers[0]\n")


def post(url: str, body, *, key: str | None = None, headers: dict | None = None,
         timeout: float = 30, session=None) -> requests.Response:
    send = {"Content-Type": "application/json", **(headers or {})}
    if key:
        send["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return (session or requests).post(url, data=data, headers=send, timeout=timeout)


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message or condition}")


def metric(text: str, name: str, **labels) -> float:
    """Sum of a Prometheus sample's values whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
