"""Bundles on one machine: what goes in, content addressing, list/show/diff/verify,
environment lock, export/import round trip."""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from jupyter_mlprod.bundles.blobstore import BlobStore
from jupyter_mlprod.bundles.environment import compare, current_lock, requirements_text
from jupyter_mlprod.errors import InvalidInput, NotFound

from .conftest import write_step


def fake_dist(folder, name: str, version: str):
    """A real installed-distribution record (dist-info) in a folder put on sys.path."""
    site = folder / f"site-{name}-{version}"
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return site


def test_create_freezes_notebooks_data_config_code_and_environment(design, make_step):
    root = design.root
    (root / "mlprod.toml").write_text('[project]\nname = "loans"\n\n[bundles]\n'
                                      'include = ["**/*.py", "extra/*.json"]\n'
                                      'exclude = ["extra/secret.json"]\n')
    (root / "helpers.py").write_text("def f():\n    return 1\n")
    (root / "extra").mkdir()
    (root / "extra" / "lookup.json").write_text("{}")
    (root / "extra" / "secret.json").write_text("{}")
    (root / "notes.txt").write_text("not included")
    (root / ".mlprod" / "junk").write_text("state is never bundled")
    make_step(root, "train", "open('models/m.pkl','wb').write(b'm')", inputs=["data/input.csv"],
              outputs=["models/m.pkl"], path="nb/train.ipynb")
    (root / "models").mkdir()
    (root / "models" / "m.pkl").write_bytes(b"model-bytes")
    from jupyter_mlprod.project import Project

    project = Project(root)
    try:
        preview = project.bundles.preview()
        bundle = project.bundles.create("first cut", author="ada")
    finally:
        project.close()
    files = {f["path"]: f for f in bundle["files"]}
    assert set(files) == {"score.ipynb", "nb/train.ipynb", "data/input.csv", "models/m.pkl",
                          "mlprod.toml", "helpers.py", "extra/lookup.json"}
    assert {p: f["kind"] for p, f in files.items()} == {
        "score.ipynb": "notebook", "nb/train.ipynb": "notebook", "data/input.csv": "data",
        "models/m.pkl": "model", "mlprod.toml": "config", "helpers.py": "file",
        "extra/lookup.json": "data"}
    assert files["models/m.pkl"]["sha256"] == hashlib.sha256(b"model-bytes").hexdigest()
    assert files["models/m.pkl"]["size"] == len(b"model-bytes")
    assert {f["path"] for f in preview["files"]} == set(files)
    assert preview["total_size"] == bundle["total_size"]
    assert bundle["project"] == "loans" and bundle["author"] == "ada"
    assert bundle["message"] == "first cut" and set(bundle["steps"]) == {"score", "train"}
    env = bundle["environment"]
    assert env["python"] and env["packages"]["sqlalchemy"] and env["package_count"] > 50
    # the id is the sha256 of the stored manifest's canonical bytes
    project = Project(root)
    try:
        bundle_id, raw = project.bundles.manifest_bytes(bundle["id"][:8])
        assert hashlib.sha256(raw).hexdigest() == bundle_id == bundle["id"]
        assert project.bundles.audit()["events"][0]["action"] == "bundle.create"
        assert project.bundles.audit()["events"][0]["actor"] == "ada"
    finally:
        project.close()


def test_unchanged_data_costs_no_new_bytes_and_is_not_rehashed(design, monkeypatch):
    (design.root / "data" / "big.bin").write_bytes(os.urandom(3 << 20))
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    first = design.bundles.create("one")
    assert first["new_bytes"] >= 3 << 20
    calls = []
    real = BlobStore.ingest_file
    monkeypatch.setattr(BlobStore, "ingest_file",
                        lambda self, path, **kw: calls.append(path) or real(self, path, **kw))
    second = design.bundles.create("two")
    assert second["new_bytes"] == 0 and second["new_blobs"] == 0 and calls == []
    assert second["id"] != first["id"] and second["parent"] == first["id"]
    # a changed file is stored again, the unchanged big one is not
    (design.root / "data" / "input.csv").write_text("v1 changed\n")
    third = design.bundles.create("three")
    assert [p.name for p in calls] == ["input.csv"]
    assert third["new_bytes"] == len("v1 changed\n")


def test_list_show_resolve_and_unknown_ids(design):
    a = design.bundles.create("a")
    b = design.bundles.create("b")
    listed = design.bundles.list()
    assert [x["id"] for x in listed["bundles"]] == [b["id"], a["id"]] and listed["total"] == 2
    assert design.bundles.show(a["short_id"])["message"] == "a"
    assert design.bundles.resolve("latest") == b["id"]
    with pytest.raises(NotFound) as err:
        design.bundles.show("deadbeef")
    assert err.value.code == "unknown_bundle"
    with pytest.raises(InvalidInput) as refused:
        design.bundles.show("not-hex!")
    assert refused.value.field == "bundle"
    with pytest.raises(NotFound):
        design.bundles.diff(a["id"], "0" * 64)


def test_diff_reports_files_cells_packages_and_data_sizes(design, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "gonepkg", "1.0")))
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "steadypkg", "1.0")))
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "downpkg", "2.0")))
    one = design.bundles.create("one")
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "newpkg", "0.3")))
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "steadypkg", "1.10")))
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "downpkg", "1.9")))
    root = design.root
    write_step(root, "score", ["VERSION = '2'",
                               "import os\nos.makedirs('out', exist_ok=True)\n"
                               "open('out/version.txt', 'w').write(VERSION + ':' + "
                               "open('data/input.csv').read())", "print('a new cell')"],
               inputs=["data/input.csv"], outputs=["out/version.txt"])
    (root / "data" / "input.csv").write_text("v2 is longer\n")
    (root / "data" / "more.csv").write_text("x\n")
    write_step(root, "extra", "print(1)", inputs=["data/more.csv"])
    two = design.bundles.create("two")
    d = design.bundles.diff(one["id"], two["id"])
    assert [f["path"] for f in d["files"]["added"]] == ["data/more.csv", "extra.ipynb"]
    assert {f["path"] for f in d["files"]["changed"]} == {"score.ipynb", "data/input.csv"}
    score = next(nb for nb in d["notebooks"] if nb["path"] == "score.ipynb")
    changes = {(c["change"], c["index_before"], c["index_after"]) for c in score["cells"]}
    assert changes == {("changed", 0, 0), ("added", None, 2)}
    changed = next(c for c in score["cells"] if c["change"] == "changed")
    assert "-VERSION = '1'" in changed["diff"] and "+VERSION = '2'" in changed["diff"]
    assert next(nb for nb in d["notebooks"] if nb["path"] == "extra.ipynb")["status"] == "added"
    data = {x["path"]: x for x in d["data"]}
    assert data["data/input.csv"] == {"path": "data/input.csv", "kind": "data",
                                      "change": "changed", "size_before": 3,
                                      "size_after": 13, "delta": 10}
    assert data["data/more.csv"]["change"] == "added" and data["data/more.csv"]["size_after"] == 2
    pk = d["packages"]
    assert {"name": "newpkg", "version": "0.3"} in pk["added"]
    assert {"name": "gonepkg", "version": "1.0"} in pk["removed"]
    assert {"name": "steadypkg", "from": "1.0", "to": "1.10"} in pk["upgraded"]
    assert {"name": "downpkg", "from": "2.0", "to": "1.9"} in pk["downgraded"]
    assert d["pipeline"] == {"added": ["extra"], "removed": [], "changed": []}
    assert "2 files added" in d["summary"]


def test_verify_rehashes_and_finds_damage(design):
    bundle = design.bundles.create("x")
    assert design.bundles.verify(bundle["id"])["ok"] is True
    sha = next(f["sha256"] for f in bundle["files"] if f["path"] == "data/input.csv")
    design.bundles.blobs.path(sha).write_bytes(b"rotten")
    report = design.bundles.verify(bundle["id"])
    assert report["ok"] is False
    assert report["bad"] == [{"path": "data/input.csv", "sha256": sha, "problem": "damaged"}]
    design.bundles.blobs.path(sha).unlink()
    assert design.bundles.verify(bundle["id"])["bad"][0]["problem"] == "missing"


def test_export_import_round_trip(design, tmp_path, opened):
    (design.root / "data" / "blob.bin").write_bytes(os.urandom(200_000))
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    bundle = design.bundles.create("to carry")
    exported = design.bundles.export(bundle["short_id"], tmp_path, compress=True)
    assert exported["path"].endswith(f"{bundle['short_id']}.mlprod-bundle.tar.gz")
    other = opened(tmp_path / "elsewhere")
    imported = other.bundles.import_archive(exported["path"], expect_id=bundle["short_id"])
    assert imported["id"] == bundle["id"] and imported["origin"] == "imported"
    assert other.bundles.verify(bundle["id"])["ok"]
    assert other.bundles.import_archive(exported["path"])["already_present"] is True
    assert other.bundles.audit(action="bundle.import")["total"] == 1  # registered once
    with pytest.raises(InvalidInput) as refused:
        design.bundles.export(bundle["id"], exported["path"])  # no silent overwrite


    assert refused.value.field == "dest"
def test_environment_lock_text_and_comparison(tmp_path, monkeypatch):
    lock = current_lock()
    text = requirements_text(lock)
    assert f"sqlalchemy=={lock['packages']['sqlalchemy']}" in text
    assert text.startswith(f"# environment lock: Python {lock['python']}")
    assert compare(lock, lock)["ok"] is True
    wanted = json.loads(json.dumps(lock))
    wanted["packages"]["not-installed-here"] = "1.0"
    wanted["packages"]["sqlalchemy"] = "0.1"
    report = compare(wanted, lock)
    assert report["ok"] is False
    assert report["missing"] == [{"name": "not-installed-here", "version": "1.0"}]
    assert report["mismatched"][0]["name"] == "sqlalchemy"
    assert any("missing" in p for p in report["problems"])
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "onlyhere", "9.9")))
    assert current_lock()["packages"]["onlyhere"] == "9.9"
