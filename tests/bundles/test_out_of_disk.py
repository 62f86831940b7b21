"""A deploy that runs out of disk halfway leaves the previous bundle active. The production
node's folder is a real 2 MB tmpfs (we are root in the test machine); its store lives
elsewhere so that the full disk hits the blobs and the working tree."""
from __future__ import annotations

import os
import subprocess

import pytest

from jupyter_mlprod.errors import Unavailable

from .conftest import score_step


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _used(path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


@pytest.mark.parametrize("size, where", [(1_300_000, "tree"), (3_000_000, "upload")])
def test_deploy_out_of_disk_halfway_leaves_the_previous_bundle_active(
        design, start_node, small_disk, tmp_path, size, where):
    node = start_node("prod", root=small_disk, store_url=f"sqlite:///{tmp_path / 'node.db'}")
    client = node.client()
    one = design.bundles.create("small")
    first = design.bundles.deploy(one["id"], node.url, token=node.token)["deployment"]
    used_before = _used(small_disk)

    score_step(design.root, "2", "v2\n")
    (design.root / "data" / "big.bin").write_bytes(os.urandom(size))
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    two = design.bundles.create("too big for the node")
    with pytest.raises(Unavailable) as err:
        design.bundles.deploy(two["id"], node.url, token=node.token)
    assert err.value.code == "out_of_space" and "disk space" in err.value.message
    health = client.health()
    assert health["active"]["id"] == first["id"] and health["active"]["bundle_id"] == one["id"]
    assert client.bundles()["total"] == 1 and client.deployments()["total"] == 1
    assert client.request("GET", "/deployments/active/verify")["ok"]
    trees = list((small_disk / ".mlprod" / "deployments").iterdir())
    assert [t.name for t in trees] == [first["tree"].rsplit("/", 1)[1]]  # no half tree left
    assert not list((small_disk / ".mlprod" / "blobs" / "tmp").glob("*"))  # no half blob left
    big = next(f["sha256"] for f in two["files"] if f["path"] == "data/big.bin")
    assert client.missing([big]) == [big]  # the space is given back
    assert _used(small_disk) <= used_before + 64 * 1024
    refused = [e for e in client.audit()["events"] if e["outcome"] == "refused"]
    assert where == "upload" or refused[0]["details"]["code"] == "out_of_space"
    # the node still works: the old bundle runs
    from .test_nodes import _run_output

    assert _run_output(client) == "1:v1\n"
    design_events = design.bundles.audit(action="bundle.deploy")["events"]
    assert design_events[0]["outcome"] == "refused"
