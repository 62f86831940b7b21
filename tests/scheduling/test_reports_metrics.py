"""Reports carry the run's key metrics and check outcomes; `warning` and `check_failed`
reporters fire on check outcomes (real runs, a real webhook receiver on loopback)."""
from __future__ import annotations

import nbformat

from .conftest import fires_of, wait_for


def _settle(scheduler, project):
    def idle():
        scheduler.tick()
        return not any(s["active_run_id"] or s["waiting"] for s in project.scenarios.list())
    wait_for(idle, 60, interval=0.2, message="scenario runs to end")
    scheduler.tick()


def test_a_check_warning_is_reported_with_the_metrics(tmp_path, make_step, open_project,
                                                       schedulers, clock, webhook):
    path = make_step(tmp_path, "evaluate", ["import jupyter_mlprod as mlprod",
                                            "mlprod.log_metrics({'roc_auc': auc, 'f1': 0.61})"],
                     parameters="auc = 0.82")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["mlprod"]["checks"] = [{"metric": "roc_auc", "min": 0.8, "warn_below": 0.85}]
    nbformat.write(nb, path)
    project = open_project(tmp_path, clock=clock)
    project.scenarios.create({
        "name": "nightly",
        "triggers": [{"type": "cron", "cron": "0 6 * * *", "timezone": "Europe/Paris"}],
        "reporters": [
            {"type": "webhook", "url": webhook.url + "/warn", "when": "warning"},
            {"type": "webhook", "url": webhook.url + "/failed", "when": "check_failed"},
            {"type": "webhook", "url": webhook.url + "/failure", "when": "failure"},
            {"type": "webhook", "url": webhook.url + "/json", "format": "json"}]})
    scheduler = schedulers(project, clock=clock)
    clock.advance(30)
    assert scheduler.tick()["launched"] == 1
    _settle(scheduler, project)
    [fire] = fires_of(project)
    assert fire["outcome"] == "succeeded"
    wait_for(lambda: scheduler.tick() is not None and webhook.received("/json"), 30,
             message="the reports")
    [warn] = webhook.received("/warn")
    text = str(warn["body"])
    assert "evaluate.roc_auc = 0.82" in text and "evaluate.f1 = 0.61" in text
    assert "Checks" in text and "WARNING" in text
    assert "roc_auc = 0.82 is below the warning level (warn_below 0.85)" in text
    [as_json] = webhook.received("/json")
    body = as_json["body"]
    assert sorted(body["metrics"], key=lambda m: m["name"]) == [
        {"step": "evaluate", "name": "f1", "value": 0.61},
        {"step": "evaluate", "name": "roc_auc", "value": 0.82}]
    assert body["checks_outcome"] == "WARNING"
    assert [(c["metric"], c["outcome"], c["value"]) for c in body["checks"]] == [
        ("roc_auc", "WARNING", 0.82)]
    assert webhook.received("/failed") == [] and webhook.received("/failure") == []
