"""`mlprod init|steps|step tag|untag|show|dag` and how the command finds its project."""
from __future__ import annotations

import json
import re
import tomllib

import nbformat
from cli_helpers import copy_example, mlprod, mlprod_json, one_error_line


def new_notebook(path, parameters: str | None = None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    if parameters:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("print('hi')"))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def step_metadata(path):
    return json.loads(path.read_text())["metadata"].get("mlprod")


def test_init_creates_the_config_and_the_store(tmp_path):
    result = mlprod("init", "fresh", "--name", "Credit risk", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "fresh"
    config = tomllib.loads((root / "mlprod.toml").read_text())
    assert config["project"]["name"] == "Credit risk" and config["runs"]["executor"] == "local"
    assert (root / ".mlprod" / "mlprod.db").exists()
    assert "created fresh/mlprod.toml" in result.stdout
    info = mlprod_json("steps", cwd=root)
    assert info == {"steps": [], "edges": [], "problems": []}
    again = mlprod("--json", "init", cwd=root)
    assert again.returncode == 2 and "already exists" in again.stderr
    data = mlprod_json("init", str(tmp_path / "other"), cwd=tmp_path)
    assert data["name"] == "other" and data["store"] == "sqlite"


def test_steps_lists_steps_edges_and_latest_status(tmp_path):
    root = copy_example(tmp_path / "loan")
    result = mlprod("steps", cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"project loan-approval ({root})" or lines[0] == "project loan-approval (.)"
    table = [line.split()[0] for line in lines[2:]]
    assert table == ["STEP", "prepare", "train", "batch_score", "evaluate"]
    assert "never run" in result.stdout and "problems" not in result.stdout
    data = mlprod_json("steps", cwd=root)
    assert [s["name"] for s in data["steps"]] == ["prepare", "train", "batch_score", "evaluate"]
    assert {(e["source"], e["target"]) for e in data["edges"]} == {
        ("prepare", "train"), ("prepare", "batch_score"), ("train", "evaluate"),
        ("train", "batch_score")}
    assert data["steps"][0]["parameters"][0] == {"name": "n_rows", "type": "int",
                                                 "default": 2000,
                                                 "help": "number of applications to generate"}


def test_steps_reports_problems_without_failing(tmp_path, make_step):
    root = copy_example(tmp_path / "loan")
    make_step(root, "clean", "pass", after=["enrich"])
    make_step(root, "enrich", "pass", after=["clean"])
    (root / "broken.ipynb").write_text("not json")
    result = mlprod("steps", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "2 problems:" in result.stdout
    assert "broken.ipynb is not valid JSON" in result.stdout
    assert "cycle: clean -> enrich -> clean" in result.stdout
    codes = sorted(p["code"] for p in mlprod_json("steps", cwd=root)["problems"])
    assert codes == ["cycle", "malformed_notebook"]


def test_tag_edit_show_and_untag_a_notebook(tmp_path):
    root = copy_example(tmp_path / "loan")
    notebook = new_notebook(root / "reports" / "summary.ipynb",
                            parameters="top = 5  # rows to show\nlabel = 'approved'")
    result = mlprod("step", "tag", "reports/summary.ipynb", "--name", "summary",
                    "--input", "data/scored.csv", "--output", "reports/summary.md",
                    "--timeout", "120", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tagged reports/summary.ipynb as step 'summary'")
    assert step_metadata(notebook) == {"step": "summary", "inputs": ["data/scored.csv"],
                                       "outputs": ["reports/summary.md"], "timeout": 120,
                                       "retries": 0}

    # editing keeps what is not given; --after= clears, --input adds by replacing the list
    edit = mlprod("step", "tag", "reports/summary.ipynb", "--retries", "2", "--after", "evaluate",
                  cwd=root)
    assert edit.returncode == 0, edit.stderr
    assert edit.stdout.startswith("updated reports/summary.ipynb")
    assert step_metadata(notebook) == {"step": "summary", "inputs": ["data/scored.csv"],
                                       "outputs": ["reports/summary.md"], "after": ["evaluate"],
                                       "timeout": 120, "retries": 2}
    # from a subfolder, paths are relative to where the user is
    edit = mlprod("step", "tag", "summary.ipynb", "--after=", "--timeout", "0",
                  cwd=root / "reports")
    assert edit.returncode == 0, edit.stderr
    assert step_metadata(notebook) == {"step": "summary", "inputs": ["data/scored.csv"],
                                       "outputs": ["reports/summary.md"], "retries": 2}

    shown = mlprod("step", "show", "summary", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "notebook    reports/summary.ipynb" in shown.stdout
    assert "timeout     project default" in shown.stdout
    rows = [line.split()[:3] for line in shown.stdout.splitlines()
            if line.startswith(("top", "label"))]
    assert rows == [["top", "int", "5"], ["label", "str", "approved"]]
    data = mlprod_json("step", "show", "reports/summary.ipynb", cwd=root)
    assert data["step"]["name"] == "summary" and data["parameters"][0]["help"] == "rows to show"
    assert "summary" in [s["name"] for s in mlprod_json("steps", cwd=root)["steps"]]

    untag = mlprod("step", "untag", "summary", cwd=root)
    assert untag.returncode == 0, untag.stderr
    assert step_metadata(notebook) is None
    assert len(json.loads(notebook.read_text())["cells"]) == 2  # the notebook itself is unchanged
    again = mlprod("step", "untag", "reports/summary.ipynb", cwd=root)
    assert again.returncode == 2 and "is not tagged" in again.stderr
    untagged = mlprod_json("step", "show", "reports/summary.ipynb", cwd=root)
    assert untagged["step"] is None
    assert "not a step" in mlprod("step", "show", "reports/summary.ipynb", cwd=root).stdout


def test_tagging_a_new_notebook_needs_a_name(tmp_path):
    root = copy_example(tmp_path / "loan")
    new_notebook(root / "extra.ipynb")
    result = mlprod("step", "tag", "extra.ipynb", "--input", "data/applications.csv", cwd=root)
    assert result.returncode == 2
    assert result.stderr.strip() == "mlprod: error: extra.ipynb is not a step yet: give it a " \
                                    "name with --name"


def test_the_project_is_found_from_a_subfolder_or_given_explicitly(tmp_path):
    root = copy_example(tmp_path / "loan")
    (root / "notes" / "deep").mkdir(parents=True)
    from_sub = mlprod_json("steps", cwd=root / "notes" / "deep")
    assert len(from_sub["steps"]) == 4
    explicit = mlprod_json("--project", str(root), "steps", cwd=tmp_path)
    assert explicit == from_sub
    after_command = mlprod("steps", "--project", str(root), "--json", cwd=tmp_path)
    assert json.loads(after_command.stdout) == from_sub
    from_env = mlprod("--json", "steps", cwd=tmp_path, env={"MLPROD_PROJECT": str(root)})
    assert json.loads(from_env.stdout) == from_sub


NO_PROJECT = "mlprod: error: no mlprod.toml here or above; run `mlprod init` or pass --project"


def test_without_mlprod_toml_there_is_no_project_and_nothing_is_written(tmp_path, make_step):
    """A folder becomes a project only by `mlprod init`: elsewhere every command refuses in one
    line and writes nothing (no .mlprod/, no scan of whatever the folder holds)."""
    folder = tmp_path / "downloads"
    make_step(folder, "stray", "pass")
    (folder / "sub").mkdir()
    before = sorted(tmp_path.rglob("*"))
    for cwd, args in ((folder, ["steps"]), (folder / "sub", ["runs"]), (folder, ["run"]),
                      (folder, ["scenario", "list"])):
        result = mlprod(*args, cwd=cwd)
        assert one_error_line(result) == NO_PROJECT, args
        assert result.stdout == ""
    for given in (["--project", str(folder)], ["--project", "sub"]):
        line = one_error_line(mlprod(*given, "steps", cwd=folder))
        assert "no mlprod.toml in " in line and "mlprod init" in line, line
    env_given = mlprod("steps", cwd=tmp_path, env={"MLPROD_PROJECT": str(folder)})
    assert "no mlprod.toml in " in one_error_line(env_given)
    assert sorted(tmp_path.rglob("*")) == before
    # `mlprod init` makes it a project; then the same command works.
    assert mlprod("init", cwd=folder).returncode == 0
    steps = mlprod_json("steps", cwd=folder / "sub")
    assert [s["name"] for s in steps["steps"]] == ["stray"]


def test_dag_writes_an_svg_with_a_node_per_step(tmp_path):
    root = copy_example(tmp_path / "loan")
    result = mlprod("dag", "-o", "pipeline.svg", cwd=root)
    assert result.returncode == 0, result.stderr
    svg = (root / "pipeline.svg").read_text()
    assert svg.startswith("<svg") and svg.count('class="node"') == 4
    assert svg.count('class="edge"') == 4
    to_stdout = mlprod("dag", cwd=root)
    assert to_stdout.stdout.strip() == svg.strip()


def test_help_and_version_need_no_project(tmp_path):
    result = mlprod("--help", cwd=tmp_path)
    assert result.returncode == 0 and "resume" in result.stdout
    assert mlprod("--version", cwd=tmp_path).stdout.startswith("mlprod ")
    assert list(tmp_path.iterdir()) == []


def test_help_summaries_name_every_subcommand():
    """`mlprod --help` says what the command covers, and each group's summary lists exactly
    the actions it has (no `run` where the action is `trigger`)."""
    import argparse

    from jupyter_mlprod.cli.app import build_parser

    parser = build_parser()
    for noun in ("pipeline", "scenarios", "bundles", "endpoints"):
        assert noun in parser.description, noun
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    summaries = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, sub in commands.choices.items():
        groups = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if not groups:
            continue
        summary = summaries[name]
        listed = {re.sub(r"\(.*?\)", "", item).strip()
                  for item in summary.rsplit(":", 1)[-1].split(",")}
        assert listed == set(groups[0].choices), (name, summary)
