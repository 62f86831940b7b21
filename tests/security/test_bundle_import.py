"""Importing a bundle (an archive, or a manifest sent to a node) is refused before anything is
stored when it would expand beyond the configured limits, or when its manifest, consistent
with itself, names paths outside the project or names that break the project's rules."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile

import pytest

from jupyter_mlprod.bundles.manifest import bundle_id_of, canonical_bytes
from jupyter_mlprod.errors import InvalidInput
from security_helpers import opened, small_project, write_step  # noqa: F401

BOMB_BYTES = 80 << 20  # above the 64 MB under which any compression ratio is accepted


@pytest.fixture
def design(tmp_path, opened):  # noqa: F811
    root = small_project(tmp_path / "design")
    write_step(root, "score", "response = {}", path="score.ipynb")
    project = opened(root)
    project.scenarios.create({"name": "nightly", "triggers": [{"type": "manual"}],
                              "run": {"steps": ["prepare"]}})
    return project


@pytest.fixture
def bundle(design):
    made = design.bundles.create("the original")
    return made["id"], design.bundles.manifest(made["id"])


@pytest.fixture
def importer(tmp_path, opened):  # noqa: F811
    return opened(tmp_path / "importer")


def _nothing_left(service):
    assert service.list()["total"] == 0
    assert service.blobs.all() == []


def _archive(path, manifest: dict, blobs: dict[str, bytes | int], compress=True):
    """An archive of `manifest` (made canonical, with its true id) and the blobs given (bytes,
    or a count of zero bytes streamed)."""
    raw = canonical_bytes(manifest)
    with tarfile.open(path, "w:gz" if compress else "w") as tar:
        for name, data in (("bundle.json", json.dumps({"format": "mlprod-archive/1",
                                                       "bundle_id": bundle_id_of(raw)}).encode()),
                           ("manifest.json", raw)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for sha, data in blobs.items():
            info = tarfile.TarInfo(f"blobs/{sha}")
            if isinstance(data, int):
                info.size = data
                tar.addfile(info, _Zeros(data))
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


class _Zeros:
    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def _zeros_sha(size: int) -> str:
    digest, chunk = hashlib.sha256(), bytes(1 << 20)
    for _ in range(size >> 20):
        digest.update(chunk)
    return digest.hexdigest()


def _original_blobs(design, manifest):
    return {f["sha256"]: design.bundles.blobs.path(f["sha256"]).read_bytes()
            for f in manifest["files"]}


def test_a_decompression_bomb_is_refused_naming_the_ratio_limit(design, bundle, importer,
                                                                  tmp_path):
    _, manifest = bundle
    bomb = copy.deepcopy(manifest)
    sha = _zeros_sha(BOMB_BYTES)
    bomb["files"].append({"path": "data/zeros.bin", "sha256": sha, "size": BOMB_BYTES,
                          "kind": "data"})
    path = _archive(tmp_path / "bomb.tar.gz", bomb, dict(_original_blobs(design, manifest),
                                                          **{sha: BOMB_BYTES}))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(InvalidInput) as err:
        importer.bundles.import_archive(path)
    assert err.value.code == "archive_too_large" and "import_max_ratio" in err.value.message
    _nothing_left(importer.bundles)


def test_the_expanded_size_limit_is_configurable(design, bundle, opened, tmp_path):  # noqa: F811
    bundle_id, manifest = bundle
    path = design.bundles.export(bundle_id, tmp_path / "good.tar")["path"]
    total = sum(f["size"] for f in {f["sha256"]: f for f in manifest["files"]}.values())
    small = tmp_path / "small"
    small.mkdir()
    (small / "mlprod.toml").write_text(f"[node]\nimport_max_bytes = {total - 1}\n")
    with pytest.raises(InvalidInput) as err:
        opened(small).bundles.import_archive(path)
    assert err.value.code == "archive_too_large" and "import_max_bytes" in err.value.message
    _nothing_left(opened(small).bundles)
    (small / "mlprod.toml").write_text(f"[node]\nimport_max_bytes = {total}\n")
    assert opened(small).bundles.import_archive(path)["id"] == bundle_id


def _step(manifest, **changes):
    bad = copy.deepcopy(manifest)
    bad["pipeline"]["steps"][0].update(changes)
    return bad


def _scenario(manifest, **changes):
    bad = copy.deepcopy(manifest)
    bad["scenarios"][0].update(changes)
    return bad


def _endpoint(manifest, name):
    bad = copy.deepcopy(manifest)
    bad["endpoints"] = [{"name": name, "description": "", "options": {}, "versions": []}]
    return bad


CASES = {
    "step path ../../etc/passwd": lambda m: _step(m, path="../../etc/passwd"),
    "step path to a file not bundled": lambda m: _step(m, path="elsewhere.ipynb"),
    "step input ../../etc/passwd": lambda m: _step(m, inputs=["../../etc/passwd"]),
    "step output /etc/cron.d/x": lambda m: _step(m, outputs=["/etc/cron.d/x"]),
    "step name with a slash": lambda m: _step(m, name="../evil"),
    "scenario watching ../../etc/passwd": lambda m: _scenario(
        m, triggers=[{"type": "files", "paths": ["../../etc/passwd"]}]),
    "scenario named ../evil": lambda m: _scenario(m, name="../evil"),
    "scenario with a bad cron": lambda m: _scenario(
        m, triggers=[{"type": "cron", "cron": "61 * * * *"}]),
    "scenario running an unknown step": lambda m: _scenario(m, run={"steps": ["nope"]}),
    "endpoint named ../evil": lambda m: _endpoint(m, "../evil"),
    "endpoint named metrics (reserved)": lambda m: _endpoint(m, "metrics"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_self_consistent_manifest_breaking_the_project_rules_is_refused(
        case, design, bundle, importer, tmp_path):
    _, manifest = bundle
    bad = CASES[case](manifest)
    path = _archive(tmp_path / "bad.tar", bad, _original_blobs(design, manifest), compress=False)
    with pytest.raises(InvalidInput) as err:
        importer.bundles.import_archive(path)
    assert err.value.code == "bad_manifest", err.value.message
    _nothing_left(importer.bundles)
    # a node receiving the same manifest (blobs uploaded first) refuses it too
    for sha, data in _original_blobs(design, manifest).items():
        importer.bundles.receive_blob(sha, io.BytesIO(data), len(data))
    raw = canonical_bytes(bad)
    with pytest.raises(InvalidInput) as err:
        importer.bundles.register_received(bundle_id_of(raw), raw)
    assert err.value.code == "bad_manifest"
    with pytest.raises(InvalidInput):
        importer.bundles.receive_deployment(bundle_id_of(raw), raw)
    assert importer.bundles.list()["total"] == 0 and importer.bundles.active() is None


def test_the_original_manifest_still_imports(design, bundle, importer, tmp_path):
    bundle_id, manifest = bundle
    path = _archive(tmp_path / "same.tar", manifest, _original_blobs(design, manifest))
    assert importer.bundles.import_archive(path)["id"] == bundle_id



def test_a_bundle_a_node_would_refuse_is_refused_when_created(design):
    # a scenario saved while its step existed; the step's notebook is gone since
    design.scenarios.create({"name": "scoring", "triggers": [{"type": "manual"}],
                             "run": {"steps": ["score"]}})
    (design.root / "score.ipynb").unlink()
    with pytest.raises(InvalidInput) as err:
        design.bundles.create("stale scenario")
    assert err.value.code == "bad_manifest" and "score" in err.value.message
    assert design.bundles.list()["total"] == 0 and design.bundles.blobs.all() == []
