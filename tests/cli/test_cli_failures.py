"""Runs that fail, get resumed, get interrupted; live progress on a terminal; a PostgreSQL store."""
from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time

import nbformat
from cli_helpers import cli_env, mlprod, mlprod_json, statuses


def small_project(root, make_step, *, failing: bool):
    """ok -> audit -> publish, where audit raises ValueError("boom") in its second cell."""
    root.mkdir(parents=True, exist_ok=True)
    init = mlprod("init", str(root), "--name", "small", cwd=root.parent)
    assert init.returncode == 0, init.stderr
    make_step(root, "ok", "open('ok.txt', 'w').write('ok')", outputs=["ok.txt"])
    write_audit(root, make_step, failing)
    make_step(root, "publish", "open('published.txt', 'w').write('done')", inputs=["audit.txt"],
              outputs=["published.txt"])
    return root


def write_audit(root, make_step, failing: bool):
    make_step(root, "audit", ["x = open('ok.txt').read()",
                              'raise ValueError("boom")' if failing else "y = 1",
                              "open('audit.txt', 'w').write(x)"],
              inputs=["ok.txt"], outputs=["audit.txt"])


def test_a_failing_step_exits_1_names_the_error_and_resume_runs_only_what_is_left(
        tmp_path, make_step):
    root = small_project(tmp_path / "small", make_step, failing=True)
    result = mlprod("run", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "run 1 failed" in result.stdout
    failure = result.stderr
    # The cell as the output notebook numbers it (In [2]: `ok.txt` read in In [1]), and its line.
    assert "step audit failed: cell In [2]: ValueError: boom" in failure
    assert '  cell In [2]: raise ValueError("boom")' in failure
    assert "output notebook: .mlprod/runs/1/audit.ipynb" in failure
    output = nbformat.read(root / ".mlprod" / "runs" / "1" / "audit.ipynb", as_version=4)
    failing = next(c for c in output.cells if c.cell_type == "code" and "boom" in c.source)
    assert failing.execution_count == 2
    # The kernel's ZeroMQ traffic is encrypted, so its plain-TCP warning opens no step log.
    log = (root / ".mlprod" / "runs" / "1" / "audit.log").read_text()
    assert "without encryption" not in log and "ValueError: boom" in log

    run = mlprod_json("show", "1", cwd=root)
    assert run["status"] == "failed"
    assert statuses(run) == {"ok": "succeeded", "audit": "failed", "publish": "skipped"}
    audit = next(s for s in run["steps"] if s["step"] == "audit")
    assert audit["error"] == {"cell_index": 1, "execution_count": 2,
                              "cell_source": 'raise ValueError("boom")',
                              "ename": "ValueError", "evalue": "boom"}
    publish = next(s for s in run["steps"] if s["step"] == "publish")
    assert "upstream step audit" in publish["reason"]
    shown = mlprod("show", "1", cwd=root).stdout
    assert "cell In [2]: ValueError: boom" in shown
    assert '  cell In [2]: raise ValueError("boom")' in shown

    write_audit(root, make_step, failing=False)  # the data scientist fixes the notebook
    resumed = mlprod("--json", "resume", "1", cwd=root)
    assert resumed.returncode == 0, resumed.stderr
    run = json.loads(resumed.stdout)
    assert run["resumed_from"] == 1
    assert statuses(run) == {"audit": "succeeded", "publish": "succeeded"}  # not `ok` again
    assert (root / "published.txt").read_text() == "done"
    again = mlprod("resume", "2", cwd=root)
    assert again.returncode == 2 and "no failed or unrun steps" in again.stderr


def test_a_step_missing_a_module_says_which_package_to_install(tmp_path, make_step):
    root = tmp_path / "vision"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "vision"\n')
    make_step(root, "faces", ["import os", "\n# read the images\nimport cv2.data  # OpenCV"])
    result = mlprod("run", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    hint = "install it into the environment of kernel 'python3': pip install opencv-python"
    assert f"ModuleNotFoundError: No module named 'cv2' ({hint})" in result.stderr
    (step,) = mlprod_json("show", "1", cwd=root)["steps"]
    assert step["error"]["evalue"] == f"No module named 'cv2' ({hint})"
    assert step["error"]["cell_source"] == "# read the images"
    assert hint in (root / ".mlprod" / "runs" / "1" / "faces.log").read_text()


def test_ctrl_c_cancels_the_run_and_exits_130(tmp_path, make_step):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "slow"\n')
    make_step(root, "slow", ["import time", "time.sleep(120)"], outputs=["never.txt"])
    # Its own session, as a shell's foreground job: Ctrl-C reaches the whole process group,
    # the executor's workers included.
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_mlprod.cli", "run"], cwd=root,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        for line in proc.stdout:
            if line.split()[1:3] == ["slow", "running"]:
                break
        progress = root / ".mlprod" / "runs" / "1" / "slow.progress.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not progress.exists():
            time.sleep(0.1)  # the kernel is up and executing
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (out, err)   # within communicate()'s bound: it stopped
    assert "cancelling run 1" in out and "run 1 cancelled" in out
    assert "Traceback" not in out + err
    run = mlprod_json("show", "1", cwd=root)
    assert run["status"] == "cancelled" and statuses(run) == {"slow": "cancelled"}


def test_on_a_terminal_a_live_line_shows_the_running_cell(tmp_path, make_step):
    root = tmp_path / "tty"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "tty"\n')
    make_step(root, "steady", ["import time"] + ["time.sleep(0.7)"] * 4)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_mlprod.cli", "run"], cwd=root,
                            env=cli_env({"COLUMNS": "120"}), stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    screen = b"".join(chunks).decode()
    assert "\r\x1b[K" in screen and "steady: cell " in screen
    assert "run 1 succeeded" in screen


def test_a_step_calling_the_magic_cannot_start_a_run_inside_its_run(tmp_path, make_step):
    root = tmp_path / "nested"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "nested"\n')
    make_step(root, "inner", ["%load_ext jupyter_mlprod", "%mlprod run"])
    result = mlprod("run", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    executed = json.loads((root / ".mlprod" / "runs" / "1" / "inner.ipynb").read_text())
    outputs = executed["cells"][-1]["outputs"]
    text = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "%mlprod run is refused here" in text and "step inner of run 1" in text
    assert mlprod_json("runs", cwd=root)["total"] == 1


def test_a_postgresql_store_from_the_command_line(tmp_path, make_step, pg_url):
    root = tmp_path / "pg"
    init = mlprod("--store", pg_url, "init", str(root), "--name", "pg-project", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert "postgresql" in init.stdout
    make_step(root, "hello", ["n = 3  # rows"], parameters="n = 1")
    # mlprod.toml now names the store; --store on each command works as well
    result = mlprod("--store", pg_url, "run", "-p", "n=5", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = mlprod_json("runs", cwd=root)
    assert listed["total"] == 1 and listed["runs"][0]["status"] == "succeeded"
    assert listed["runs"][0]["parameters"] == {"n": 5}
    assert not (root / ".mlprod" / "mlprod.db").exists()
