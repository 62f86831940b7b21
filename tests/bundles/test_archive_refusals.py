"""Every unsafe or damaged archive is refused with a clear message, leaving nothing registered
and no blob behind."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from jupyter_mlprod.bundles.manifest import canonical_bytes
from jupyter_mlprod.errors import InvalidInput


@pytest.fixture
def exported(design, tmp_path):
    (design.root / "data" / "payload.bin").write_bytes(os.urandom(300_000))
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    bundle = design.bundles.create("carry me")
    path = design.bundles.export(bundle["id"], tmp_path / "good.tar")["path"]
    return bundle, path


@pytest.fixture
def importer(tmp_path, opened):
    return opened(tmp_path / "importer")


def _members(path):
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def _write(path, members):
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info = tarfile.TarInfo(info.name) if isinstance(info, str) else info
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def _assert_nothing_left(service):
    assert service.list()["total"] == 0
    assert service.blobs.all() == []
    assert service.history()["total"] == 0 and service.active() is None


def _refused(service, path, code, words):
    with pytest.raises(InvalidInput) as err:
        service.import_archive(path)
    assert err.value.code == code, err.value.message
    for word in words:
        assert word in err.value.message
    _assert_nothing_left(service)
    return err.value


def test_good_archive_imports(exported, importer):
    bundle, path = exported
    assert importer.bundles.import_archive(path)["id"] == bundle["id"]


def test_dotdot_entry_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    bad = _write(tmp_path / "dotdot.tar", members + [(tarfile.TarInfo("../evil.txt"), b"x")])
    _refused(importer.bundles, bad, "unsafe_archive", ["..", "evil.txt"])


def test_absolute_entry_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    bad = _write(tmp_path / "abs.tar", members[:2] + [(tarfile.TarInfo("/etc/cron.d/x"), b"x")]
                 + members[2:])
    _refused(importer.bundles, bad, "unsafe_archive", ["absolute"])


def test_symlink_entry_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    link = tarfile.TarInfo(members[2][0].name)
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    bad = _write(tmp_path / "link.tar", members[:2] + [(link, None)] + members[3:])
    _refused(importer.bundles, bad, "unsafe_archive", ["symlink"])


def test_device_entry_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    dev = tarfile.TarInfo("blobs/" + "0" * 64)
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    bad = _write(tmp_path / "dev.tar", members[:2] + [(dev, None)] + members[2:])
    _refused(importer.bundles, bad, "unsafe_archive", ["device"])


def test_manifest_with_dotdot_path_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    manifest = json.loads(members[1][1])
    manifest["files"][0]["path"] = "../../outside.ipynb"
    raw = canonical_bytes(manifest)
    header = json.dumps({"format": "mlprod-archive/1",
                         "bundle_id": hashlib.sha256(raw).hexdigest()}).encode()
    bad = _write(tmp_path / "mdotdot.tar", [(members[0][0], header), (members[1][0], raw)]
                 + members[2:])
    with pytest.raises(InvalidInput) as err:
        importer.bundles.import_archive(bad)
    assert err.value.code == "unsafe_path" and "outside the project" in err.value.message
    _assert_nothing_left(importer.bundles)


def test_tampered_blob_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    big = max(range(2, len(members)), key=lambda i: len(members[i][1]))
    data = bytearray(members[big][1])
    data[1000] ^= 0xFF
    members[big] = (members[big][0], bytes(data))
    bad = _write(tmp_path / "blob.tar", members)
    err = _refused(importer.bundles, bad, "tampered_blob", ["altered or damaged"])
    assert err.details["expected"] == members[big][0].name[len("blobs/"):]


def test_tampered_manifest_is_refused(exported, importer, tmp_path):
    members = _members(exported[1])
    manifest = json.loads(members[1][1])
    manifest["message"] = "I did not write this"
    bad = _write(tmp_path / "manifest.tar", [members[0], (members[1][0], canonical_bytes(manifest))]
                 + members[2:])
    _refused(importer.bundles, bad, "tampered_manifest", ["does not match bundle"])


def test_truncated_archive_is_refused(exported, importer, tmp_path):
    raw = open(exported[1], "rb").read()
    with tarfile.open(exported[1]) as tar:
        last = tar.getmembers()[-1].offset  # cut exactly before the last blob's header
    for cut in (len(raw) // 2, 700, last):  # mid-blob, mid-manifest, whole blobs lost
        bad = tmp_path / f"cut{cut}.tar"
        bad.write_bytes(raw[:cut])
        _refused(importer.bundles, bad, "truncated_archive", ["truncated"])


def test_truncated_compressed_archive_is_refused(design, exported, importer, tmp_path):
    gz = design.bundles.export(exported[0]["id"], tmp_path / "x.tar.gz", compress=True)["path"]
    raw = open(gz, "rb").read()
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(raw[: len(raw) * 2 // 3])
    _refused(importer.bundles, bad, "truncated_archive", ["truncated"])


def test_not_an_archive_is_refused(importer, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"hello, I am not a tar file" * 40)
    with pytest.raises(InvalidInput) as refused:
        importer.bundles.import_archive(junk)
    assert refused.value.field == "archive"
    with pytest.raises(InvalidInput) as refused:
        importer.bundles.import_archive(tmp_path / "missing.tar")
    assert refused.value.field == "archive"
    _assert_nothing_left(importer.bundles)
