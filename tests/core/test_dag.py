"""The DAG derived from outputs -> inputs and `after`."""
from jupyter_mlprod.notebooks import NotebookIndex
from jupyter_mlprod.pipelines import Pipeline


def _pipeline(root):
    return Pipeline(root, NotebookIndex(root).scan())


def test_edges_come_from_outputs_inputs_globs_and_after(tmp_path, make_step):
    make_step(tmp_path, "prep", "pass", outputs=["data/raw.csv", "data/parts/"])
    make_step(tmp_path, "clean", "pass", inputs=["data/*.csv"], outputs=["data/clean.parquet"])
    make_step(tmp_path, "parts", "pass", inputs=["data/parts/a.txt"])
    make_step(tmp_path, "report", "pass", after=["clean"], path="sub/report.ipynb")
    pipeline = _pipeline(tmp_path)
    assert pipeline.problems == []
    edges = {(e.source, e.target): e.via for e in pipeline.edges}
    assert edges == {("prep", "clean"): ("data/*.csv",), ("prep", "parts"): ("data/parts/a.txt",),
                     ("clean", "report"): ()}
    assert pipeline.topological() == ["prep", "clean", "parts", "report"]
    assert pipeline.steps["report"].path == "sub/report.ipynb"
    assert pipeline.select(from_step="clean") == {"clean", "report"}


def test_cycle_is_reported_with_the_steps_in_it(tmp_path, make_step):
    make_step(tmp_path, "a", "pass", inputs=["c.txt"], outputs=["a.txt"])
    make_step(tmp_path, "b", "pass", inputs=["a.txt"], outputs=["b.txt"])
    make_step(tmp_path, "c", "pass", inputs=["b.txt"], outputs=["c.txt"])
    make_step(tmp_path, "free", "pass")
    problem = _pipeline(tmp_path).problems[0]
    assert problem.code == "cycle"
    assert set(problem.steps) == {"a", "b", "c"}
    assert "a -> b -> c -> a" in problem.message


def test_duplicate_names_unknown_after_and_missing_inputs(tmp_path, make_step):
    make_step(tmp_path, "x", "pass", path="one.ipynb")
    make_step(tmp_path, "x", "pass", path="two.ipynb")
    make_step(tmp_path, "y", "pass", after=["ghost"], inputs=["nowhere.csv"])
    (tmp_path / "exists.csv").write_text("1")
    make_step(tmp_path, "z", "pass", inputs=["exists.csv"])
    codes = {p.code: p for p in _pipeline(tmp_path).problems}
    assert set(codes) == {"duplicate_step", "unknown_step", "missing_input"}
    assert "one.ipynb" in codes["duplicate_step"].message and "two.ipynb" in codes["duplicate_step"].message
    assert "nowhere.csv" in codes["missing_input"].message


def test_hidden_folders_and_checkpoints_are_not_steps(tmp_path, make_step):
    make_step(tmp_path, "real", "pass")
    make_step(tmp_path, "ghost", "pass", path=".ipynb_checkpoints/real-checkpoint.ipynb")
    make_step(tmp_path, "old", "pass", path=".mlprod/runs/1/real.ipynb")
    assert list(_pipeline(tmp_path).steps) == ["real"]
