"""Drift of a served model, end to end: the example scoring notebook served on loopback with
prediction logging on, a reference profile from its declared training table, requests replayed
from the training distribution and from a shifted one, labels sent back as feedback, a drift
check reported to a real webhook by the scenario a drift trigger starts."""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from drift_helpers import FEATURES, applications, reference_psi, requests_of  # noqa: E402

from jupyter_mlprod.project import Project  # noqa: E402

EXAMPLE = HERE.parent.parent / "example_notebooks"
N = 600   # at 300 rows the normed Wasserstein of an unchanged column reaches 0.1 by chance


def _scheduling_fixtures():
    """tests/scheduling/conftest.py by path (another folder's conftest may hold the name)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "scheduling_fixtures", HERE.parent / "scheduling" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The example's score.ipynb serving a model fitted on the example's data (plus a
    categorical `purpose`), declaring data/train.csv as its reference."""
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root = tmp_path_factory.mktemp("drift") / "loan"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "loan"\n')
    train = pd.DataFrame(applications(2000, seed=1))
    (root / "data").mkdir()
    train.to_csv(root / "data" / "train.csv", index=False)
    (root / "models").mkdir()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[FEATURES], train["approved"])
    joblib.dump(model, root / "models" / "model.joblib")
    nb = json.loads((EXAMPLE / "score.ipynb").read_text())
    nb["metadata"]["mlprod-monitoring"] = {
        "reference": "data/train.csv", "label": "approved", "exclude": ["applicant_id"],
        "prediction": "probability", "min_rows": 100, "reference_requests": 200}
    (root / "score.ipynb").write_text(json.dumps(nb))
    project = Project(root)
    project.endpoints.create("score", notebook="score.ipynb",
                             options={"prediction_log": {"enabled": True}})
    server = project.endpoints.serve(workers=1, poll_interval=0.2)
    session = requests.Session()
    yield project, server, session, train
    session.close()
    server.stop()
    project.close()


def _replay(served, records) -> list[str]:
    project, server, session, _ = served
    ids = []
    for record in records:
        answer = session.post(f"{server.url}/score/predict", json=record, timeout=10)
        assert answer.status_code == 200, answer.text
        ids.append(answer.headers["X-Prediction-Id"])
    return ids


def _report(project, n):
    return _wait(lambda: (lambda r: r if r["n_live"] >= n else None)(
        project.drift.report("score", window=str(n))), what=f"{n} logged rows")


def test_training_traffic_flags_nothing_and_shifted_traffic_flags_only_the_shifted_features(served):
    project, server, session, train = served
    empty = project.drift.report("score", window="100")
    assert empty["message"] == "not enough data (n < 100)" and empty["n_reference"] == 2000
    assert {f["status"] for f in empty["features"]} == {"not_enough_data"}

    same = applications(N, seed=2)
    ids = _replay(served, requests_of(same))
    calm = _report(project, N)
    assert calm["message"] is None and calm["n_live"] == N
    assert {f["name"] for f in calm["features"]} == set(FEATURES) | {"purpose"}
    assert [f["name"] for f in calm["features"] if f["drift"]] == []
    assert calm["dataset"] == {"drift": False, "share": 0.0, "threshold": 0.5}
    tests = {f["name"]: f["test"] for f in calm["features"]}
    assert tests["income"] == "wasserstein" and tests["purpose"] == "jensenshannon"
    assert tests["term_months"] == "jensenshannon"          # 5 values: counted as categories

    # ground truth for half of them: live accuracy / AUC / calibration appear
    labels = same["approved"][: N // 2]
    for pid, label in zip(ids, labels.tolist()):
        answer = session.post(f"{server.url}/score/feedback",
                              json={"prediction_id": pid, "label": label}, timeout=10)
        assert answer.status_code == 200, answer.text
    perf = _wait(lambda: (lambda r: r["performance"] if r["performance"] and
                          r["performance"]["labels"] == N // 2 else None)(
        project.drift.report("score", window=str(N))), what="labels")
    assert 0.6 < perf["accuracy"] <= 1 and 0.6 < perf["auc"] <= 1
    assert sum(b["count"] for b in perf["calibration"]) == N // 2

    shifted = applications(N, seed=3)
    shifted["income"] = shifted["income"] * 1.5
    shifted["purpose"] = np.where(np.arange(N) % 2 == 0, "crypto", shifted["purpose"])
    _replay(served, requests_of(shifted))
    _wait(lambda: project.drift.report("score", window=str(2 * N))["n_live"] >= 2 * N,
          what="the shifted rows")
    drifted = project.drift.report("score", window=str(N))
    flagged = sorted(f["name"] for f in drifted["features"] if f["drift"])
    assert flagged == ["income", "purpose"]
    assert drifted["dataset"]["drift"] is False and drifted["dataset"]["share"] == 2 / 8
    by_name = {f["name"]: f for f in drifted["features"]}
    for name in ("income", "credit_score", "purpose", "age"):
        column = shifted[name] if name != "purpose" else shifted["purpose"].astype(str)
        expected = reference_psi(train[name].to_numpy(), column)
        assert abs(by_name[name]["psi"] - expected) < 1e-6, name
    assert by_name["income"]["status"] == "error" and by_name["income"]["psi"] > 0.25
    assert "crypto" in by_name["purpose"]["live"]["bins"]
    assert drifted["prediction"]["name"] == "probability"


def test_feedback_refuses_unknown_ids_and_labels_of_the_wrong_type(served):
    project, server, session, _ = served
    [pid] = _replay(served, requests_of(applications(1, seed=9)))
    unknown = session.post(f"{server.url}/score/feedback",
                           json={"prediction_id": "nope-1", "label": 1}, timeout=10)
    assert unknown.status_code == 404 and "unknown or expired" in unknown.json()["error"]["message"]
    wrong = session.post(f"{server.url}/score/feedback",
                         json={"prediction_id": pid, "label": "yes"}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "label"
    missing = session.post(f"{server.url}/score/feedback", json={"label": 1}, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "prediction_id"


def test_a_feature_the_reference_lacks_is_reported_as_such(served, tmp_path):
    project, _, _, train = served
    table = train.assign(channel="web")   # the reference rows themselves, plus a new column
    table.to_csv(tmp_path / "batch.csv", index=False)
    report = project.drift.check_table("score", tmp_path / "batch.csv")
    by_name = {f["name"]: f for f in report["features"]}
    assert by_name["channel"]["status"] == "missing_in_reference"
    assert not any(f["drift"] for f in report["features"])


def test_a_drift_trigger_starts_its_scenario_whose_reporter_posts_the_failed_check(
        served, make_step):
    WebhookReceiver = _scheduling_fixtures().WebhookReceiver   # a real receiver

    from jupyter_mlprod.scheduling.scheduler import Scheduler

    project, _, _, _ = served
    make_step(project.root, "retrain", "print('retraining')")
    receiver = WebhookReceiver()
    scheduler = Scheduler(project, poll_interval=0.2)
    try:
        _replay(served, requests_of(applications(N, seed=4)))
        _wait(lambda: project.drift.report("score", window="1h")["n_live"] >= 3 * N + 1,
              what="the calm rows")
        project.scenarios.create({
            "name": "retrain-on-drift", "run": {"steps": ["retrain"]},
            "triggers": [{"type": "drift", "endpoint": "score", "window": str(N), "poll": 1,
                          "checks": [{"metric": "drift:income:psi", "warn_above": 0.1,
                                      "max": 0.25}]}],
            "reporters": [{"type": "webhook", "url": receiver.url + "/drift", "format": "json"}]})

        def polled():
            scheduler.tick()
            return project.drift.history("score", feature="income")["points"]
        _wait(polled, what="a first (calm) evaluation")
        shifted = applications(N, seed=5)
        shifted["income"] = shifted["income"] * 1.5
        _replay(served, requests_of(shifted))
        time.sleep(0.5)   # the log's writer flushes every 0.25 s

        def reported():
            scheduler.tick()
            return receiver.received("/drift")
        [post] = _wait(reported, timeout=60, what="the webhook")
        body = post["body"]
        assert body["scenario"] == "retrain-on-drift" and body["trigger"] == "drift"
        assert "drift:income:psi" in body["trigger_description"]
        assert "above the maximum" in body["trigger_description"]
        assert body["run_id"] is not None
        points = project.drift.history("score", feature="income")["points"]
        assert [p["drift"] for p in points][-1] is True and points[0]["drift"] is False
    finally:
        scheduler.stop(timeout=5)
        receiver.close()


def test_a_batch_step_with_a_drift_check_refuses_a_drifted_input_before_its_kernel_starts(
        served, make_step):
    import nbformat

    project, _, _, train = served
    batch = make_step(project.root, "batch_check", "open('data/scored.txt', 'w').write('ok')",
                      inputs=["data/batch.csv"], outputs=["data/scored.txt"])
    nb = nbformat.read(batch, as_version=4)
    nb.metadata["mlprod"]["drift"] = {"endpoint": "score"}   # table: the first input
    nbformat.write(nb, batch)
    moved = train.copy()
    for name in ("income", "loan_amount", "credit_score", "age", "purpose"):
        moved[name] = moved[name] * 2 if name != "purpose" else "crypto"
    moved.to_csv(project.root / "data" / "batch.csv", index=False)
    run = project.start_run(steps=["batch_check"], wait=True)
    [step] = run["steps"]
    assert step["status"] == "failed" and "drift check of data/batch.csv" in step["reason"]
    assert "drift:dataset:drift = 1 is above the maximum" in step["reason"]
    assert not (project.root / "data" / "scored.txt").exists()    # the kernel never ran
    train.to_csv(project.root / "data" / "batch.csv", index=False)
    run = project.start_run(steps=["batch_check"], wait=True)
    assert run["steps"][0]["status"] == "succeeded"


def test_a_sampled_out_answer_carries_an_id_but_is_neither_logged_nor_labelled(served):
    project, server, session, _ = served
    project.endpoints.create("unsampled", notebook="score.ipynb",
                             options={"prediction_log": {"enabled": True, "sample": 0.0}})
    record = requests_of(applications(1, seed=11))[0]
    answer = _wait(lambda: (lambda r: r if r.status_code == 200 else None)(session.post(
        f"{server.url}/unsampled/predict", json=record, timeout=10)), what="the new endpoint")
    pid = answer.headers["X-Prediction-Id"]
    late = session.post(f"{server.url}/unsampled/feedback",
                        json={"prediction_id": pid, "label": 1}, timeout=10)
    assert late.status_code == 404
    time.sleep(0.5)
    assert project.endpoints.predictions("unsampled")["total"] == 0
    assert not (project.settings.state_dir / "predlog" / "unsampled").exists()
