"""The local executor with real kernels: parallelism, timeouts, retries and cancellation."""
from __future__ import annotations

import datetime as dt
import json
import time

from executor_helpers import RECORD_PID, live_kernels, process_alive, statuses, step_of, wait_for

# Each step records, from inside its kernel, when its kernel process started and when its
# work ended, both on the boot-time clock (the process start time comes from /proc/self/stat,
# 10 ms ticks). Two such intervals overlap only if both kernels were alive at the same time;
# kernel start is included, so a slow start on a loaded machine does not hide parallelism.
# A pre-started kernel is born before its step: one step at a time is then judged on when
# the step's code ran (the third number).
TIMED_SLEEP = ("import json, os, time\nbegan = time.clock_gettime(time.CLOCK_BOOTTIME)\n"
               "time.sleep({seconds})\n"
               "fields = open('/proc/self/stat').read().rsplit(')', 1)[1].split()\n"
               "born = int(fields[19]) / os.sysconf('SC_CLK_TCK')\n"
               "json.dump([born, time.clock_gettime(time.CLOCK_BOOTTIME), began], "
               "open('{name}.times.json', 'w'))")


def _interval(step: dict) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.fromisoformat(step["started_at"]),
            dt.datetime.fromisoformat(step["finished_at"]))


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _two_sleepers(root, make_step):
    for name in ("left", "right"):
        make_step(root, name, TIMED_SLEEP.format(seconds=2, name=name))


def test_independent_steps_run_in_parallel(tmp_path, make_step, open_project):
    _two_sleepers(tmp_path, make_step)
    project = open_project(tmp_path, parallelism=2)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    left, right = step_of(run, "left"), step_of(run, "right")
    assert _overlap(_interval(left), _interval(right)), (left, right)
    # and the two kernels were alive at the same time
    inside = [tuple(json.loads((tmp_path / f"{n}.times.json").read_text())[:2])
              for n in ("left", "right")]
    assert _overlap(*inside), inside


def test_parallelism_one_runs_one_step_at_a_time(tmp_path, make_step, open_project):
    _two_sleepers(tmp_path, make_step)
    project = open_project(tmp_path, parallelism=1)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    assert not _overlap(_interval(step_of(run, "left")), _interval(step_of(run, "right")))
    ran = [json.loads((tmp_path / f"{n}.times.json").read_text()) for n in ("left", "right")]
    inside = [(began, ended) for _born, ended, began in ran]
    assert not _overlap(*inside), inside


def test_a_step_over_its_timeout_is_killed_with_its_kernel(tmp_path, make_step, open_project):
    make_step(tmp_path, "slow", [RECORD_PID.format(name="slow"), "time.sleep(60)"], timeout=3)
    project = open_project(tmp_path, parallelism=1)
    run = project.start_run(wait=True)
    slow = step_of(run, "slow")
    assert run["status"] == "failed" and slow["status"] == "failed"
    assert slow["reason"] == "timed out"
    assert slow["error"]["ename"] == "TimeoutError" and "timeout of 3 s" in slow["error"]["evalue"]
    pid_file = tmp_path / "slow.pid"  # absent if a loaded machine took 3 s to start the kernel
    if pid_file.exists():
        kernel_pid = int(pid_file.read_text())
        assert wait_for(lambda: not process_alive(kernel_pid), 5), "the timed-out kernel is alive"
    assert wait_for(lambda: live_kernels(project) == [], 5), live_kernels(project)


def test_a_step_that_fails_once_succeeds_on_its_retry(tmp_path, make_step, open_project):
    make_step(tmp_path, "flaky", [
        "from pathlib import Path\ncounter = Path('attempts.txt')\n"
        "n = int(counter.read_text()) + 1 if counter.exists() else 1\ncounter.write_text(str(n))",
        "if n == 1:\n    raise ConnectionError('the database blinked')",
        "open('flaky.txt', 'w').write(str(n))"], outputs=["flaky.txt"], retries=1)
    project = open_project(tmp_path, parallelism=1)
    run = project.start_run(wait=True)
    flaky = step_of(run, "flaky")
    assert run["status"] == "succeeded" and flaky["status"] == "succeeded", run
    assert flaky["attempt"] == 2 and flaky["error"] is None
    assert (tmp_path / "attempts.txt").read_text() == "2"
    log = project.step_log(run["id"], "flaky")
    assert "--- attempt 1 of step flaky" in log and "--- attempt 2 of step flaky" in log
    assert "ConnectionError" in log


def test_without_retries_a_failure_is_final(tmp_path, make_step, open_project):
    make_step(tmp_path, "once", "raise ConnectionError('down')", retries=0)
    run = open_project(tmp_path, parallelism=1).start_run(wait=True)
    once = step_of(run, "once")
    assert once["status"] == "failed" and once["attempt"] == 1
    assert once["error"] == {"cell_index": 0, "execution_count": 1,
                             "cell_source": "raise ConnectionError('down')",
                             "ename": "ConnectionError", "evalue": "down"}


def test_cancel_stops_the_kernel_and_the_rest_of_the_run(tmp_path, make_step, open_project):
    make_step(tmp_path, "long", [RECORD_PID.format(name="long"), "time.sleep(60)",
                                 "open('long.txt', 'w').write('x')"], outputs=["long.txt"])
    make_step(tmp_path, "after_long", "open('after.txt', 'w').write('x')", inputs=["long.txt"])
    project = open_project(tmp_path, parallelism=2)
    run = project.start_run(wait=False)
    pid_file = tmp_path / "long.pid"
    assert wait_for(pid_file.exists, 30), "the long step never started"
    kernel_pid = int(wait_for(pid_file.read_text, 5))
    project.cancel_run(run["id"])
    done = project.wait_run(run["id"], timeout=30)
    assert done["status"] == "cancelled", done
    assert statuses(done) == {"long": "cancelled", "after_long": "cancelled"}
    assert step_of(done, "long")["error"]["ename"] == "Cancelled"
    assert wait_for(lambda: not process_alive(kernel_pid), 5), "the cancelled kernel is still alive"
    assert not (tmp_path / "long.txt").exists() and not (tmp_path / "after.txt").exists()
    assert live_kernels(project) == []
    assert not (tmp_path / "long.txt").exists() and not (tmp_path / "after.txt").exists()
