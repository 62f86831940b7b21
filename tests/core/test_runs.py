"""Real runs through papermill and real kernels: failures, resume, incremental, selection."""
import json

import pytest

from jupyter_mlprod.errors import Conflict, InvalidInput, NotFound
from jupyter_mlprod.project import Project


@pytest.fixture
def project_at(tmp_path):
    opened = []

    def open_project(root=tmp_path, **overrides):
        project = Project(root, parallelism=2, **overrides)
        opened.append(project)
        return project

    yield open_project
    for project in opened:
        project.close()


def _statuses(run):
    return {s["step"]: s["status"] for s in run["steps"]}


def test_failure_skips_downstream_records_the_error_and_resume_reruns_only_the_rest(
        tmp_path, make_step, project_at):
    make_step(tmp_path, "a", "open('a.txt', 'w').write('a')", outputs=["a.txt"])
    make_step(tmp_path, "b", ["x = 1", "raise ValueError('bad row 7')", "open('b.txt','w').write('b')"],
              inputs=["a.txt"], outputs=["b.txt"], parameters="limit = 3")
    make_step(tmp_path, "c", "open('c.txt', 'w').write(open('b.txt').read())", inputs=["b.txt"],
              outputs=["c.txt"])
    make_step(tmp_path, "d", "open('d.txt', 'w').write('d')", outputs=["d.txt"])
    project = project_at()
    run = project.start_run(wait=True, parameters={"limit": 5})
    assert run["status"] == "failed" and run["error"] == "step b failed"
    assert _statuses(run) == {"a": "succeeded", "b": "failed", "c": "skipped", "d": "succeeded"}
    step_b = next(s for s in run["steps"] if s["step"] == "b")
    # index 2 in the user's notebook (parameters cell, x = 1, raise), not in papermill's copy;
    # In [4] as the output notebook shows it (after papermill's injected parameters, In [2])
    assert step_b["error"] == {"cell_index": 2, "execution_count": 4,
                               "cell_source": "raise ValueError('bad row 7')",
                               "ename": "ValueError", "evalue": "bad row 7"}
    assert "upstream step b" in next(s for s in run["steps"] if s["step"] == "c")["reason"]
    executed = json.loads(project.output_notebook(run["id"], "b")[1])
    assert any("limit = 5" in "".join(c["source"]) for c in executed["cells"])  # injected
    assert "cell In [4]: ValueError: bad row 7" in project.step_log(run["id"], "b")
    assert project.output_notebook(run["id"], "b", "html")[0] == "text/html"

    make_step(tmp_path, "b", ["x = 1", "open('b.txt','w').write('b')"], inputs=["a.txt"],
              outputs=["b.txt"], parameters="limit = 3")
    resumed = project.resume_run(run["id"], wait=True)
    assert resumed["resumed_from"] == run["id"] and resumed["status"] == "succeeded"
    assert _statuses(resumed) == {"b": "succeeded", "c": "succeeded"}
    assert resumed["parameters"] == {"limit": 5}
    assert (tmp_path / "c.txt").read_text() == "b"
    with pytest.raises(Conflict):
        project.resume_run(resumed["id"])


def test_incremental_reruns_exactly_what_changed(tmp_path, make_step, project_at):
    (tmp_path / "raw.txt").write_text("v1")
    (tmp_path / "other.txt").write_text("o")
    make_step(tmp_path, "a", "open('a.txt','w').write(open('raw.txt').read())", inputs=["raw.txt"],
              outputs=["a.txt"])
    make_step(tmp_path, "b", "open('b.txt','w').write(open('a.txt').read() + '!')", inputs=["a.txt"],
              outputs=["b.txt"])
    make_step(tmp_path, "c", "open('c.txt','w').write(open('other.txt').read())",
              inputs=["other.txt"], outputs=["c.txt"], parameters="k = 1")
    project = project_at()
    assert set(_statuses(project.start_run(wait=True)).values()) == {"succeeded"}
    again = project.start_run(wait=True)
    assert set(_statuses(again).values()) == {"up_to_date"} and again["status"] == "succeeded"

    (tmp_path / "raw.txt").write_text("v2")          # content change: a and its downstream
    (tmp_path / "other.txt").touch()                  # a touch is not a change
    run = project.start_run(wait=True)
    assert _statuses(run) == {"a": "succeeded", "b": "succeeded", "c": "up_to_date"}
    assert (tmp_path / "b.txt").read_text() == "v2!"

    (tmp_path / "b.txt").unlink()                     # a missing output reruns its step
    assert _statuses(project.start_run(wait=True)) == {"a": "up_to_date", "b": "succeeded",
                                                       "c": "up_to_date"}
    assert _statuses(project.start_run(wait=True, steps=["c"], parameters={"k": 2})) == {
        "c": "succeeded"}                              # new parameters, new fingerprint
    assert _statuses(project.start_run(wait=True, force=True)) == {
        "a": "succeeded", "b": "succeeded", "c": "succeeded"}


def test_selection_by_steps_and_from(tmp_path, make_step, project_at):
    make_step(tmp_path, "a", "open('a.txt','w').write('a')", outputs=["a.txt"])
    make_step(tmp_path, "b", "open('b.txt','w').write('b')", inputs=["a.txt"], outputs=["b.txt"])
    make_step(tmp_path, "c", "pass", inputs=["b.txt"])
    project = project_at()
    with pytest.raises(InvalidInput) as info:   # b's input does not exist and a is not selected
        project.start_run(steps=["b"])
    assert "a.txt" in info.value.message and "'a'" in info.value.message
    assert project.list_runs()["total"] == 0
    run = project.start_run(wait=True, from_step="a")
    assert [s["step"] for s in run["steps"]] == ["a", "b", "c"]
    run = project.start_run(wait=True, steps=["b"], force=True)
    assert _statuses(run) == {"b": "succeeded"}


def test_bad_requests_are_refused_before_anything_is_written(tmp_path, make_step, project_at):
    make_step(tmp_path, "a", "pass", parameters="n = 1\nrate = 0.5")
    make_step(tmp_path, "k", "pass", kernel="no-such-kernel")
    project = project_at()
    cases = [
        (dict(steps=["nope"]), NotFound, "steps"),
        (dict(from_step="nope"), NotFound, "from"),
        (dict(steps=["a"], parameters={"n": "many"}), InvalidInput, "parameters.n"),
        (dict(steps=["a"], parameters={"n": 1.5}), InvalidInput, "parameters.n"),
        (dict(steps=["a"], parameters={"zzz": 1}), InvalidInput, "parameters.zzz"),
        (dict(steps=["a"], parameters={"ghost.n": 1}), InvalidInput, "parameters.ghost.n"),
        (dict(steps="a"), InvalidInput, "steps"),
        (dict(steps=["k"]), InvalidInput, "kernel"),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error) as info:
            project.start_run(**kwargs)
        assert info.value.field == field, (kwargs, info.value.message)
    assert "no-such-kernel" in _message(project, dict(steps=["k"]))
    assert project.list_runs()["total"] == 0
    assert not (tmp_path / ".mlprod" / "runs").exists()


def test_an_active_run_blocks_a_second_one(tmp_path, make_step, project_at):
    make_step(tmp_path, "slow", "import time; time.sleep(30)")
    project = project_at()
    run = project.start_run()
    with pytest.raises(Conflict) as info:
        project.start_run()
    assert str(run["id"]) in info.value.message
    project.cancel_run(run["id"])
    done = project.wait_run(run["id"], timeout=30)
    assert done["status"] == "cancelled" and _statuses(done) == {"slow": "cancelled"}


def _message(project, kwargs):
    try:
        project.start_run(**kwargs)
    except InvalidInput as exc:
        return exc.message
    return ""


def test_runs_on_postgresql_store(tmp_path, make_step, pg_url, project_at):
    make_step(tmp_path, "a", "open('a.txt','w').write('a')", outputs=["a.txt"])
    project = project_at(store_url=pg_url)
    assert project.settings.store_kind == "postgresql"
    first = project.start_run(wait=True)
    assert first["status"] == "succeeded"
    assert _statuses(project.start_run(wait=True)) == {"a": "up_to_date"}
    assert project.pipeline_view()["steps"][0]["latest"]["status"] == "up_to_date"
    assert [r["id"] for r in project.list_runs()["runs"]] == [first["id"] + 1, first["id"]]


def test_outputs_changed_since_their_last_success_rerun_the_step(tmp_path, make_step, project_at):
    # a killed run (or a person) rewrote the model after the last success: not up to date
    make_step(tmp_path, "train", "import os\nos.makedirs('models', exist_ok=True)\n"
                                 "open('models/model.joblib', 'w').write('good')",
              outputs=["models/model.joblib"])
    project = project_at()
    assert _statuses(project.start_run(wait=True)) == {"train": "succeeded"}
    assert _statuses(project.start_run(wait=True)) == {"train": "up_to_date"}
    (tmp_path / "models" / "model.joblib").write_text("half-written by a killed run")
    rerun = project.start_run(wait=True)
    assert _statuses(rerun) == {"train": "succeeded"}
    assert (tmp_path / "models" / "model.joblib").read_text() == "good"
    assert _statuses(project.start_run(wait=True)) == {"train": "up_to_date"}


def test_tagging_a_step_keeps_the_notebook_file_mode(tmp_path, make_step, project_at):
    for mode in (0o644, 0o664):
        path = make_step(tmp_path, f"s{mode:o}", "pass")
        path.chmod(mode)
        project = project_at()
        project.tag_step(path.name, {"name": f"renamed{mode:o}", "outputs": ["x.txt"]})
        assert path.stat().st_mode & 0o777 == mode
        project.untag_step(path.name)
        assert path.stat().st_mode & 0o777 == mode
