"""Feedback against a server of several workers: the worker a label reaches is often not the
one that answered the prediction, and that one's log has not flushed yet. A valid id must
still take its label (no 404); unknown and expired ids still answer 404. The log keeps what the
client sent even when the scoring cell changes its request."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "serving"))
from serving_helpers import post, wait_for, write_scoring_notebook  # noqa: E402

from jupyter_mlprod.monitoring.prediction_columns import ColumnLog  # noqa: E402
from jupyter_mlprod.project import Project  # noqa: E402
from jupyter_mlprod.store.drift import DriftRepository  # noqa: E402

PAIRS = 16


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback")
    (root / "mlprod.toml").write_text('[project]\nname = "feedback"\n')
    write_scoring_notebook(
        root / "score.ipynb", setup=["import os"],
        sample='request = {"x": 1.0, "kind": "a"}',
        # the cell changes its request: the log must still hold what the client sent
        score="request['x'] = -1.0\nresponse = {'p': 0.5, 'pid': os.getpid()}\n")
    project = Project(root)
    project.endpoints.create("score", notebook="score.ipynb",
                             options={"prediction_log": {"enabled": True}})
    server = project.endpoints.serve(workers=2, poll_interval=0.2)
    yield project, server
    server.stop()
    project.close()


def test_feedback_sent_right_after_each_prediction_is_never_refused(served):
    project, server = served
    workers, labelled = set(), {}
    for i in range(PAIRS):
        # a new connection each time: SO_REUSEPORT spreads them over both workers
        answer = post(f"{server.url}/score/predict", {"x": float(i), "kind": "a"})
        assert answer.status_code == 200, answer.text
        workers.add(answer.json()["pid"])
        pid = answer.headers["X-Prediction-Id"]
        label = post(f"{server.url}/score/feedback", {"prediction_id": pid, "label": i % 2})
        assert label.status_code == 200, (i, label.text)
        labelled[pid] = float(i % 2)
    assert len(workers) == 2   # both workers answered, so labels crossed workers
    row = project.endpoints._endpoint("score")
    version = label.json()["version"]
    repo = DriftRepository(project.engine, project.settings.name)
    wait_for(lambda: repo.labels(row["id"], version) == labelled, message="the labels")

    # what the client sent, not what the cell made of it: in the store and in the columns
    logged = wait_for(lambda: (lambda p: p if p["total"] >= PAIRS else None)(
        project.endpoints.predictions("score", limit=1000)), message="the logged rows")
    assert sorted(item["input"]["x"] for item in logged["items"]) == \
        [float(i) for i in range(PAIRS)]
    columns = ColumnLog(project.settings.state_dir / "predlog")
    window = wait_for(lambda: (lambda w: w if w and w["__id"].size >= PAIRS else None)(
        columns.window("score", version, last=PAIRS)), message="the column segments")
    assert sorted(window["f:x"].tolist()) == [float(i) for i in range(PAIRS)]
    assert set(window["__id"].tolist()) == set(labelled)


def test_unknown_expired_and_unlogged_ids_still_answer_404_at_once(served):
    _, server = served
    answer = post(f"{server.url}/score/predict", {"x": 1.0, "kind": "a"})
    pid = answer.headers["X-Prediction-Id"]
    worker, _, stamp = pid.rpartition("-")
    old = f"{worker}-{int((time.time() - 60) * 1000):x}L"   # made a minute ago, never logged
    for fake in ("nope-1", old, pid[:-1] + "U"):
        started = time.monotonic()
        refused = post(f"{server.url}/score/feedback", {"prediction_id": fake, "label": 1})
        assert refused.status_code == 404, fake
        assert "unknown or expired" in refused.json()["error"]["message"]
        assert time.monotonic() - started < 3, fake   # no wait for an id that cannot appear
    wrong = requests.post(f"{server.url}/score/feedback",
                          json={"prediction_id": pid, "label": "yes"}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "label"
