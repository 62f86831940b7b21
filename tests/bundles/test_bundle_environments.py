"""A bundle's own environment on a node (`deploy --env recreate`): built from the bundle's lock
once per distinct lock, its kernel runs the bundle's steps, a rollback brings back the
previous bundle's environment, and a lock that cannot be installed fails before activation.

To stay fast the node installs only a small part of the lock (`[node] environment_only`,
plus ipykernel and what it needs), with uv from its cache; one environment is built."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from jupyter_mlprod.bundles.environment import current_lock
from jupyter_mlprod.bundles.environments import ensure_environment, failing_package, lock_digest
from jupyter_mlprod.errors import InvalidInput

from .conftest import wait_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import write_step  # noqa: E402

pytest.importorskip("uv")

PREFIX_STEP = ("import sys, os\nos.makedirs('out', exist_ok=True)\n"
               "open('out/prefix.txt', 'w').write(sys.prefix)")


def _prefix_of_a_run(client) -> str:
    run = wait_run(client, client.start_run())
    assert run["status"] == "succeeded", run
    return (Path(client.deployments()["active"]["path"]) / "out" / "prefix.txt").read_text()


def test_deploy_env_recreate_runs_the_bundle_in_its_own_environment(design, start_node):
    node_root = design.root.parent / "prod"
    node_root.mkdir()
    (node_root / "mlprod.toml").write_text('[node]\nenvironment_only = ["packaging"]\n')
    node = start_node("prod", root=node_root)
    client = node.client()
    write_step(design.root, "where", PREFIX_STEP, outputs=["out/prefix.txt"])
    one = design.bundles.create("own environment")

    first = design.bundles.deploy(one["id"], node.url, token=node.token, env="recreate")
    environment = first["deployment"]["environment"]
    assert environment["kernel"].startswith("mlprod-env-") and environment["created"] is True
    venv = environment["venv"]
    assert Path(venv).is_relative_to(node_root / ".mlprod" / "envs")
    assert _prefix_of_a_run(client) == venv            # the step ran in the bundle's venv
    # the next run's step takes a pre-started kernel: the pool starts them in that venv too
    assert _prefix_of_a_run(client) == venv

    (design.root / "data" / "input.csv").write_text("v2\n")
    two = design.bundles.create("node environment")
    second = design.bundles.deploy(two["id"], node.url, token=node.token)  # env=compare
    assert "kernel" not in second["deployment"]["environment"]
    assert _prefix_of_a_run(client) == sys.prefix      # the node's own environment

    back = design.bundles.rollback(node.url, token=node.token)
    assert back["bundle_id"] == one["id"]
    assert back["environment"]["kernel"] == environment["kernel"]
    assert back["environment"]["created"] is False     # same lock: built once
    assert _prefix_of_a_run(client) == venv


def test_a_lock_that_cannot_be_installed_fails_naming_the_package(tmp_path):
    lock = current_lock()
    broken = json.loads(json.dumps(lock))
    broken["packages"]["packaging"] = "0.0.999"
    with pytest.raises(InvalidInput) as caught:
        ensure_environment(broken, tmp_path, only=["packaging"])
    assert "packaging==0.0.999" in caught.value.message
    assert caught.value.code == "environment_install_failed"
    envs = tmp_path / "envs"
    assert not any(p.name != "share" for p in envs.iterdir())  # nothing half-built is left


def test_the_same_lock_is_one_environment():
    lock = current_lock()
    assert lock_digest(lock, ["packaging"]) == lock_digest(json.loads(json.dumps(lock)),
                                                           ["packaging"])
    other = json.loads(json.dumps(lock))
    other["packages"]["packaging"] = "1.0"
    assert lock_digest(other, ["packaging"]) != lock_digest(lock, ["packaging"])
    pip_says = "ERROR: No matching distribution found for packaging==1.0"
    assert failing_package(pip_says, other) == "packaging==1.0"
