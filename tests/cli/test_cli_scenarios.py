"""`mlprod scenario add|list|show|enable|disable|trigger|remove` and `mlprod scheduler`, run as a
user does (subprocesses, real files, real kernels): bad input is exit 2 with one line naming the
field; the headless scheduler fires an interval scenario, then SIGTERM stops it gracefully."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from cli_helpers import cli_env, copy_example, mlprod, mlprod_json, one_error_line

from jupyter_mlprod.project import Project

SECRET = "T000/B000/XXXXsecret"


@pytest.fixture
def loan(tmp_path):
    return copy_example(tmp_path / "loan")


def test_scenario_lifecycle(loan):
    result = mlprod("scenario", "add", "--name", "nightly", "--cron", "0 6 * * 1-5", "--tz",
                    "Europe/Paris", "--steps", "prepare", "-p", "n_rows=40", "--webhook",
                    f"https://hooks.slack.com/services/{SECRET}", "--when", "failure",
                    "--description", "the morning refresh", cwd=loan)
    assert result.returncode == 0, result.stderr
    assert "created scenario 'nightly' (id 1)" in result.stdout
    assert "At 06:00, Monday through Friday (Europe/Paris)" in result.stdout
    assert "steps prepare with n_rows=40" in result.stdout
    assert SECRET not in result.stdout

    spec = {"name": "refresh", "triggers": [{"type": "manual"}],
            "run": {"steps": ["prepare"], "parameters": {"n_rows": 30}}}
    (loan / "refresh.json").write_text(json.dumps(spec))
    created = mlprod_json("scenario", "add", "--file", "refresh.json", cwd=loan)
    assert created["name"] == "refresh" and created["triggers"] == [{"type": "manual"}]

    listed = mlprod_json("scenario", "list", cwd=loan)["scenarios"]
    assert [s["name"] for s in listed] == ["nightly", "refresh"]
    nightly = listed[0]
    assert nightly["run"]["parameters"] == {"n_rows": 40}          # -p text, typed by the step
    assert nightly["triggers"] == [{"type": "cron", "cron": "0 6 * * 1-5",
                                    "timezone": "Europe/Paris"}]
    assert nightly["reporters"][0]["url"] == "https://hooks.slack.com/***"
    assert nightly["reporters"][0]["when"] == "failure"
    text = mlprod("scenario", "list", cwd=loan).stdout
    header, first, second = text.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "ENABLED"]
    assert first.split()[:3] == ["1", "nightly", "yes"] and "(Europe/Paris)" in first
    # next fire times are read in the scenario's zone, and say so
    assert " 06:00:00 Europe/Paris" in first
    assert second.split()[:4] == ["2", "refresh", "yes", "manually"]

    shown = mlprod("scenario", "show", "nightly", cwd=loan)
    assert shown.returncode == 0, shown.stderr
    assert "description the morning refresh" in shown.stdout and "no fires yet" in shown.stdout
    assert "webhook https://hooks.slack.com/*** (failure)" in shown.stdout
    next_line = next(line for line in shown.stdout.splitlines() if line.startswith("next fire"))
    assert next_line.endswith(" 06:00:00 Europe/Paris"), next_line
    assert "(next fire " in shown.stdout and " 06:00:00 Europe/Paris)" in shown.stdout

    assert mlprod_json("scenario", "disable", "nightly", cwd=loan)["enabled"] is False
    assert mlprod_json("scenario", "list", cwd=loan)["scenarios"][0]["next_fire_at"] is None
    enabled = mlprod("scenario", "enable", "1", cwd=loan)
    assert enabled.returncode == 0 and "enabled scenario 'nightly'; next fire" in enabled.stdout
    assert enabled.stdout.rstrip().endswith(" 06:00:00 Europe/Paris")

    # run now: in the foreground, like `mlprod run`, and the run is the scenario's
    run = mlprod("scenario", "trigger", "refresh", cwd=loan)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("run 1 succeeded")
    record = mlprod_json("show", "1", cwd=loan)
    assert record["scenario_id"] == created["id"] and record["trigger"] == "scenario:manual"
    assert record["parameters"] == {"n_rows": 30}
    shown = mlprod("scenario", "show", "refresh", cwd=loan).stdout
    assert "recent fires (1):" in shown and "done" in shown and "succeeded" in shown

    # --defer only queues it for a running scheduler
    fire = mlprod_json("scenario", "trigger", "nightly", "--defer", cwd=loan)
    assert (fire["scenario"], fire["status"], fire["run_id"]) == ("nightly", "pending", None)

    removed = mlprod("scenario", "remove", "refresh", cwd=loan)
    assert removed.returncode == 0 and "removed scenario 'refresh'" in removed.stdout
    line = one_error_line(mlprod("scenario", "show", "refresh", cwd=loan))
    assert "scenario 'refresh' does not exist" in line
    assert [s["name"] for s in mlprod_json("scenario", "list", cwd=loan)["scenarios"]] == \
        ["nightly"]
    assert mlprod_json("runs", cwd=loan)["total"] == 1           # its run stays


BAD = [
    # (arguments after `scenario add`, words the one line must contain)
    (["--name", "x", "--cron", "61 * * * *"], ["triggers[0].cron", "'61 * * * *'"]),
    (["--name", "x", "--cron", "0 6 * * *", "--tz", "Mars/Olympus"],
     ["triggers[0].timezone", "'Mars/Olympus'"]),
    (["--name", "x", "--every", "15m", "--webhook", "ftp://example.com/hook"],
     ["reporters[0].url", "http://"]),
    (["--name", "x", "--every", "15m", "--steps", "prepare,nope"], ["run.steps[1]", "'nope'"]),
    (["--name", "x", "--every", "15m", "-p", "n_rows=many"], ["run.parameters.n_rows", "int"]),
    (["--name", "x", "--every", "soon"], ["triggers[0].every"]),
    (["--name", "x", "--sql-url", "sqlite:///nowhere.db", "--query", "SELECT 1"],
     ["triggers[0].url", "nowhere.db"]),
    (["--name", "x", "--after", "ghost"], ["triggers[0].scenario", "'ghost'"]),
    (["--name", "x", "--every", "15m", "--email", "ops@example.com"], ["reporters[0].host"]),
    (["--name", "x"], ["triggers", "at least one trigger"]),
    (["--name", "9lives", "--manual"], ["name"]),
    (["--cron", "0 6 * * *"], ["--name"]),
    (["--name", "x", "--every", "15m", "--tz", "UTC"], ["--tz", "--cron"]),
    (["--file", "missing.json"], ["--file", "missing.json"]),
    (["--file", "spec.json", "--cron", "0 6 * * *"], ["--file", "--cron"]),
]


def test_bad_input_exits_2_with_one_line_naming_the_field(loan):
    (loan / "spec.json").write_text("{}")
    for args, words in BAD:
        line = one_error_line(mlprod("scenario", "add", *args, cwd=loan))
        for word in words:
            assert word in line, (args, line)
    (loan / "broken.json").write_text('{"name": ')
    line = one_error_line(mlprod("scenario", "add", "--file", "broken.json", cwd=loan))
    assert "not valid JSON" in line
    line = one_error_line(mlprod("scenario", "trigger", "ghost", cwd=loan))
    assert "scenario 'ghost' does not exist" in line
    line = one_error_line(mlprod("scheduler", "--poll-interval", "fast", cwd=loan))
    assert "--poll-interval" in line
    # --check shows every problem, saves nothing, exit 2
    check = mlprod("scenario", "add", "--name", "x", "--cron", "0 99 * * *", "--every", "0",
                   "--check", cwd=loan)
    assert check.returncode == 2 and check.stdout.startswith("invalid (2 problems)")
    assert "triggers[0].cron:" in check.stdout and "triggers[1].every:" in check.stdout
    assert mlprod_json("scenario", "list", cwd=loan) == {"scenarios": []}
    assert mlprod_json("runs", cwd=loan)["total"] == 0


def test_check_previews_the_next_fire_times(loan):
    result = mlprod_json("scenario", "add", "--name", "x", "--cron", "30 7 * * *", "--tz",
                         "America/New_York", "--check", cwd=loan)
    assert result["valid"] and result["errors"] == []
    [cron] = result["triggers"]
    assert cron["description"] == "At 07:30 (America/New_York)" and len(cron["next"]) == 5
    text = mlprod("scenario", "add", "--name", "x", "--cron", "30 7 * * *", "--tz",
                  "America/New_York", "--check", cwd=loan).stdout.splitlines()
    nexts = [line for line in text if line.startswith("  next ")]
    assert len(nexts) == 5 and all(line.endswith(" 07:30:00 America/New_York") for line in nexts)
    assert mlprod_json("scenario", "list", cwd=loan) == {"scenarios": []}


# -- the headless daemon ----------------------------------------------------------------------
@pytest.fixture
def daemon():
    procs = []

    def _start(root, *args):
        proc = subprocess.Popen([sys.executable, "-m", "jupyter_mlprod.cli", "scheduler", *args],
                                cwd=root, env=cli_env({"PYTHONUNBUFFERED": "1"}),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:   # whatever a failed test left: the daemon, its workers and kernels
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_scheduler_daemon_fires_then_stops_gracefully_on_sigterm(tmp_path, make_step, daemon):
    root = tmp_path / "small"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "small"\n')
    make_step(root, "tick", "import time\nopen('ticks.txt', 'a').write('x')\ntime.sleep(0.5)",
              outputs=["ticks.txt"])
    added = mlprod("scenario", "add", "--name", "every-2s", "--every", "2s", "--force",
                   "--overlap", "skip", cwd=root)
    assert added.returncode == 0, added.stderr

    proc = daemon(root, "--poll-interval", "0.2", "--stop-timeout", "20")
    project = Project(root)
    try:
        deadline = time.monotonic() + 60
        while True:
            runs = [r for r in project.list_runs()["runs"] if r["status"] == "succeeded"]
            if len(runs) >= 2:
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scheduler did not fire twice in 60 s"
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        listed = project.list_runs()["runs"]
        assert listed and all(r["status"] in ("succeeded", "failed", "cancelled") for r in listed)
        assert all(r["scenario_id"] == 1 and r["trigger"] == "scenario:interval" for r in listed)
        fires = project.scenarios.fires("every-2s")
        assert all(f["status"] not in ("launching", "launched") for f in fires), fires
    finally:
        project.close()
    first = out.splitlines()[0]
    assert first.startswith("mlprod scheduler: project small") and "1 of 1 scenarios" in first
    assert "started run" in err and "signal SIGTERM: stopping" in err and "stopped" in err
    assert "Traceback" not in err
    assert len((root / "ticks.txt").read_text()) >= 2
