"""Nothing outside the project is read, run, watched or packaged: a symlinked file or folder
that resolves outside is refused in bundles, step inputs and outputs, step notebooks, file
triggers and `?path=` parameters."""
from __future__ import annotations

import os

import pytest

from jupyter_mlprod.errors import InvalidInput
from security_helpers import opened, write_step  # noqa: F401

SECRET_TEXT = "outside-secret-Hh72"


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.csv").write_text(SECRET_TEXT)
    write_step(folder, "stolen", "print('not mine')")
    return folder


@pytest.fixture
def project(tmp_path, opened, outside):  # noqa: F811
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "mine.csv").write_text("a\n1\n")
    write_step(root, "prepare", "open('out.txt', 'w').write('x')", inputs=["data/mine.csv"],
               outputs=["out.txt"])
    return opened(root)


def _link(project, rel, target):
    path = project.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return rel


def _escape(err, where):
    assert err.value.code == "path_outside_project", err.value.message
    assert where in err.value.message


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_bundle_never_packages_a_file_outside(project, outside, kind):
    if kind == "file":
        link = _link(project, "data/linked.csv", outside / "secret.csv")
    else:
        link = _link(project, "data/shared", outside)
    write_step(project.root, "train", "pass", inputs=[link])
    with pytest.raises(InvalidInput) as err:
        project.bundles.preview()
    _escape(err, link)
    with pytest.raises(InvalidInput):
        project.bundles.create("with a link out")
    assert project.bundles.list()["total"] == 0
    assert all(SECRET_TEXT not in p.read_text(errors="ignore")
               for p in (project.root / ".mlprod" / "blobs").rglob("*") if p.is_file())


def test_an_include_glob_never_packages_a_symlink_out(project, outside):
    (project.root / "mlprod.toml").write_text('[bundles]\ninclude = ["**/*.py", "extra/*"]\n')
    _link(project, "extra/notes.py", outside / "secret.csv")
    with pytest.raises(InvalidInput) as err:
        project.bundles.create("glob")
    _escape(err, "extra/notes.py")


def test_a_symlinked_notebook_outside_is_no_step(project, outside):
    _link(project, "stolen.ipynb", outside / "stolen.ipynb")
    assert [s["name"] for s in project.pipeline().to_dict()["steps"]] == ["prepare"]
    assert "stolen.ipynb" not in [f["path"] for f in project.bundles.preview()["files"]]
    with pytest.raises(InvalidInput) as err:
        project.get_step("stolen.ipynb")
    _escape(err, "stolen.ipynb")


@pytest.mark.parametrize("field", ["inputs", "outputs"])
def test_a_step_path_through_a_symlink_is_refused_when_tagging(project, outside, field):
    _link(project, "shared", outside)
    with pytest.raises(InvalidInput) as err:
        project.tag_step("prepare.ipynb", {"name": "prepare", field: ["shared/secret.csv"]})
    assert err.value.field == f"step.{field}"
    _escape(err, "shared/secret.csv")


@pytest.mark.parametrize("field", ["inputs", "outputs"])
def test_a_run_never_reads_or_writes_through_a_symlink_out(project, outside, field):
    _link(project, "shared", outside)
    # tagged by hand in the notebook (not through tag_step): the run refuses it
    write_step(project.root, "prepare", "open('shared/written.txt', 'w').write('x')",
               **{field: ["shared/secret.csv" if field == "inputs" else "shared/written.txt"]})
    run = project.start_run(wait=True)
    step = run["steps"][0]
    assert step["status"] == "failed", step
    assert "resolves outside the project" in step["reason"]
    assert not (outside / "written.txt").exists()


def test_a_file_trigger_never_watches_a_file_outside(project, outside):
    _link(project, "data/linked.csv", outside / "secret.csv")
    spec = {"name": "watch", "triggers": [{"type": "files", "paths": ["data/*.csv"]}],
            "run": {"steps": ["prepare"]}}
    result = project.scenarios.validate(spec, deep=True)
    assert not result["valid"]
    assert result["errors"][0]["field"] == "triggers[0].paths"
    assert "data/linked.csv" in result["errors"][0]["message"]
    with pytest.raises(InvalidInput):
        project.scenarios.create(spec)
