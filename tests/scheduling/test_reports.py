"""Real runs (papermill, real kernels) reported to a real webhook receiver and a real SMTP
server on loopback; retries with backoff; conditions; run_finished chains; run now."""
from __future__ import annotations

import logging

import pytest

from jupyter_mlprod.errors import Conflict

from .conftest import fires_of, free_port, wait_for

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def settle(scheduler, project, timeout=60):
    """Tick until no scenario run is in flight and nothing waits."""
    def idle():
        scheduler.tick()
        return not any(s["active_run_id"] or s["waiting"] for s in project.scenarios.list())
    wait_for(idle, timeout, interval=0.2, message="scenario runs to end")
    scheduler.tick()


def test_a_failed_run_is_reported_to_webhooks_and_email_with_what_failed(
        tmp_path, make_step, open_project, schedulers, clock, webhook, smtp_sink, monkeypatch):
    (tmp_path / "mlprod.toml").write_text('[project]\nname = "loan"\n'
                                          '[scheduler]\nbase_url = "https://jupyter.example.com"\n')
    make_step(tmp_path, "prepare", "open('a.txt','w').write('a')", outputs=["a.txt"])
    make_step(tmp_path, "train", ["x = 1", "raise ValueError('bad row 7')"], inputs=["a.txt"],
              parameters="epochs = 3")
    sink = smtp_sink(user="bot", password="s3cret-from-env")
    monkeypatch.setenv("MLPROD_TEST_HOOK", webhook.url + "/json")
    monkeypatch.setenv("MLPROD_TEST_SMTP_PASSWORD", "s3cret-from-env")
    project = open_project(tmp_path, clock=clock)
    project.scenarios.create({
        "name": "nightly", "run": {"parameters": {"epochs": 5}},
        "triggers": [{"type": "cron", "cron": "0 6 * * *", "timezone": "Europe/Paris"}],
        "reporters": [
            {"type": "webhook", "url": webhook.url + "/slack", "when": "failure"},
            {"type": "webhook", "url_env": "MLPROD_TEST_HOOK", "format": "json"},
            {"type": "webhook", "url": webhook.url + "/template",
             "template": "{emoji} {scenario}: {OUTCOME} at {failed_step} {run_url}"},
            {"type": "webhook", "url": webhook.url + "/never", "when": "success"},
            {"type": "email", "to": ["ops@example.com"], "from": "mlprod@example.com",
             "host": "127.0.0.1", "port": sink.port, "tls": "none", "user": "bot",
             "password_env": "MLPROD_TEST_SMTP_PASSWORD", "when": "failure"}]})
    stored = str(project.scenarios.get("nightly"))
    assert "s3cret" not in stored
    scheduler = schedulers(project, clock=clock)
    clock.advance(30)
    assert scheduler.tick()["launched"] == 1
    settle(scheduler, project)

    [fire] = fires_of(project)
    run = project.get_run(fire["run_id"])
    assert run["status"] == "failed" and fire["outcome"] == "failed"
    link = f"https://jupyter.example.com/lab?mlprod-run={run['id']}"
    [slack] = webhook.received("/slack")
    text = slack["body"]["text"]
    assert text.startswith(":x: loan/nightly FAILED: step train: ValueError: bad row 7 (cell In [4])")
    assert f"(run {run['id']})" in text
    blocks = str(slack["body"]["blocks"])
    assert f"<{link}|run {run['id']}>" in blocks and "Failed step" in blocks
    assert slack["headers"]["Content-Type"] == "application/json"

    [as_json] = webhook.received("/json")
    body = as_json["body"]
    assert (body["scenario"], body["outcome"], body["run_id"], body["failed_step"]) == \
        ("nightly", "failed", run["id"], "train")
    assert body["error"] == "ValueError: bad row 7 (cell In [4])" and body["run_url"] == link
    assert body["steps"] == [{"step": "prepare", "status": "succeeded",
                              "duration": body["steps"][0]["duration"]},
                             {"step": "train", "status": "failed",
                              "duration": body["steps"][1]["duration"]}]
    assert body["trigger_description"] == "At 06:00 (Europe/Paris)"
    assert body["due_at"] == "2025-01-06T05:00:00Z" and body["project"] == "loan"

    [templated] = webhook.received("/template")
    assert templated["body"] == {"text": f":x: nightly: FAILED at train {link}"}
    assert webhook.received("/never") == []

    [mail] = sink.messages
    assert sink.logins == [("bot", "s3cret-from-env")]        # the password came from the env
    assert mail["to"] == ["ops@example.com"]
    assert mail["subject"] == f"[mlprod] loan/nightly: FAILED (run {run['id']})"
    assert "Failed step: train: ValueError: bad row 7 (cell In [4])" in mail["body"]
    assert link in mail["body"] and "Trigger: At 06:00 (Europe/Paris)" in mail["body"]
    sent = project.scenarios.deliveries(fire["id"])
    assert [(d["type"], d["status"], d["attempts"]) for d in sent] == [
        ("webhook", "sent", 1), ("webhook", "sent", 1), ("webhook", "sent", 1),
        ("email", "sent", 1)]


def test_failing_reporters_are_retried_with_backoff_and_never_fail_the_run(
        tmp_path, make_step, open_project, schedulers, clock, webhook, caplog):
    make_step(tmp_path, "ok", "print('fine')")
    project = open_project(tmp_path, clock=clock)
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    project.scenarios.create({
        "name": "hourly", "run": {}, "triggers": [{"type": "cron", "cron": "0 * * * *"}],
        "reporters": [{"type": "webhook", "url": webhook.url + "/flaky"},
                      {"type": "webhook", "url": dead}]})
    webhook.statuses = [500, 503]
    scheduler = schedulers(project, clock=clock, report_attempts=3, report_backoff=10)
    clock.advance(30)
    scheduler.tick()
    settle(scheduler, project)
    [fire] = fires_of(project)
    assert fire["outcome"] == "succeeded"
    flaky, unreachable = project.scenarios.deliveries(fire["id"])
    assert (flaky["status"], flaky["attempts"]) == ("pending", 1)
    assert flaky["last_error"] == f"{webhook.url} answered HTTP 500: try later"
    assert flaky["next_attempt_at"] == "2025-01-06T05:00:10Z"          # backoff 10 s
    scheduler.tick()                                                    # not due yet
    assert len(webhook.received("/flaky")) == 1
    clock.advance(10)
    scheduler.tick()
    flaky, unreachable = project.scenarios.deliveries(fire["id"])
    assert (flaky["status"], flaky["attempts"]) == ("pending", 2)
    assert flaky["next_attempt_at"] == "2025-01-06T05:00:30Z"          # then 20 s
    clock.advance(20)
    with caplog.at_level(logging.ERROR, logger="jupyter_mlprod.scheduling"):
        scheduler.tick()
    flaky, unreachable = project.scenarios.deliveries(fire["id"])
    assert (flaky["status"], flaky["attempts"], flaky["last_error"]) == ("sent", 3, None)
    assert [r["status"] for r in webhook.received("/flaky")] == [500, 503, 200]
    assert (unreachable["status"], unreachable["attempts"]) == ("failed", 3)
    assert "cannot reach http://127.0.0.1" in unreachable["last_error"]
    assert any("given up after 3 attempts" in r.message for r in caplog.records)
    assert project.get_run(fire["run_id"])["status"] == "succeeded"
    assert project.scenarios.get("hourly")["last_outcome"] == "succeeded"


def test_conditions_chains_run_now_and_runs_that_cannot_start(
        tmp_path, make_step, open_project, schedulers, clock, webhook):
    make_step(tmp_path, "work", "import os\nassert not os.path.exists('fail'), 'asked to fail'")
    make_step(tmp_path, "extra", "pass")
    project = open_project(tmp_path, clock=clock)
    svc = project.scenarios
    svc.create({"name": "main", "run": {"steps": ["work"], "force": True},
                "triggers": [{"type": "manual"}],
                "reporters": [{"type": "webhook", "url": webhook.url + "/change", "when": "change"},
                              {"type": "webhook", "url": webhook.url + "/ok", "when": "success"}]})
    svc.create({"name": "after-ok", "run": {"steps": ["work"]},
                "triggers": [{"type": "run_finished", "scenario": "main", "on": "success"}]})
    svc.create({"name": "after-ko", "run": {"steps": ["extra"]},
                "triggers": [{"type": "run_finished", "scenario": "main", "on": "failure"}]})
    scheduler = schedulers(project, clock=clock)
    outcomes = []
    for fail in (False, False, True, False):
        (tmp_path / "fail").unlink(missing_ok=True)
        if fail:
            (tmp_path / "fail").write_text("")
        run = svc.trigger("main", by="alice", wait=True)
        outcomes.append(run["status"])
        (tmp_path / "fail").unlink(missing_ok=True)
        settle(scheduler, project)        # the downstream scenario runs
    assert outcomes == ["succeeded", "succeeded", "failed", "succeeded"]
    changes = [r["body"]["text"] for r in webhook.received("/change")]
    assert len(changes) == 3 and "FAILED" in changes[1] and "asked to fail" in changes[1]
    assert len(webhook.received("/ok")) == 3
    fired = fires_of(project)
    mains = [f for f in fired if f["scenario"] == "main"]
    assert {f["kind"] for f in mains} == {"manual"} and mains[0]["trigger"] == "run now by alice"
    after = sorted((f["scenario"], f["details"]["outcome"], f["outcome"]) for f in fired
                   if f["kind"] == "run_finished")
    assert after == [("after-ko", "failed", "succeeded"), ("after-ok", "succeeded", "succeeded"),
                     ("after-ok", "succeeded", "succeeded"), ("after-ok", "succeeded", "succeeded")]

    # run now while the project is busy is refused, and recorded as such
    (tmp_path / "hold").write_text("")
    make_step(tmp_path, "work", "import os, time\nwhile os.path.exists('hold'): time.sleep(0.05)")
    busy = svc.trigger("main")
    with pytest.raises(Conflict) as info:
        svc.trigger("after-ok")
    assert f"run {busy['id']}" in info.value.message
    (tmp_path / "hold").unlink()
    project.wait_run(busy["id"], 60)
    refused = [f for f in fires_of(project, "after-ok") if f["status"] == "skipped"]
    assert refused and refused[0]["reason"].startswith("run now refused")

    # a step removed after saving: the error is recorded on a failed run and reported
    (tmp_path / "extra.ipynb").unlink()
    settle(scheduler, project)
    svc.update("main", {"reporters": [{"type": "webhook", "url": webhook.url + "/broken",
                                       "when": "failure"}]})
    run = svc.trigger("after-ko", wait=True)
    assert run["status"] == "failed" and run["steps"] == []
    assert run["error"].startswith("the scenario's run could not start: unknown step 'extra'")
    assert run["trigger"] == "scenario:manual"
    last = svc.get("after-ko")
    assert last["last_outcome"] == "failed" and last["last"]["run_id"] == run["id"]
    run_again = svc.trigger("main", wait=True)                 # and the rest keeps working
    assert run_again["status"] == "succeeded"
