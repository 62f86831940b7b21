"""Two nodes on loopback (a design project and a production node process, separate folders
and stores), real HTTP, real kernels: deploy, run, deploy again, roll back; every refusal
leaves nothing registered and nothing activated; kill -9 during activation; audit events."""
from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from jupyter_mlprod.bundles.manifest import canonical_bytes
from jupyter_mlprod.errors import Conflict, InvalidInput, NotFound, Unavailable

from .conftest import score_step, wait_run
from .test_bundles import fake_dist


def _state(client) -> tuple:
    history = client.deployments()
    active = history["active"]["id"] if history["active"] else None
    return client.bundles()["total"], history["total"], active


def _run_output(client) -> str:
    run = wait_run(client, client.start_run())
    assert run["status"] == "succeeded", run
    active = client.deployments()["active"]
    return (Path(active["path"]) / "out" / "version.txt").read_text()


def test_deploy_run_deploy_again_roll_back_and_bundle_one_behaviour_is_back(
        design, start_node, pg_url):
    node = start_node("prod", store_url=pg_url)  # production store: PostgreSQL; design: SQLite
    client = node.client()
    one = design.bundles.create("version one")
    first = design.bundles.deploy(one["id"], node.url, token=node.token, message="go live")
    assert first["uploaded_blobs"] == 2 and first["reused_blobs"] == 0
    dep = first["deployment"]
    assert dep["bundle_id"] == one["id"] and dep["active"] and dep["action"] == "deploy"
    assert dep["runtime"]["deployment_id"] == dep["id"]
    assert "scheduler" in dep["runtime"]["services"]
    assert _run_output(client) == "1:v1\n"

    score_step(design.root, "2", "v2 data\n")
    two = design.bundles.create("version two")
    second = design.bundles.deploy(two["short_id"], node.url, token=node.token)
    assert second["deployment"]["previous_bundle_id"] == one["id"]
    assert _run_output(client) == "2:v2 data\n"

    back = design.bundles.rollback(node.url, token=node.token, message="v2 misbehaves")
    assert back["bundle_id"] == one["id"] and back["action"] == "rollback"
    assert back["previous_bundle_id"] == two["id"]
    # bundle 1's code AND data are back, from verified blobs, in a fresh tree
    assert (Path(back["path"]) / "data" / "input.csv").read_text() == "v1\n"
    assert _run_output(client) == "1:v1\n"
    assert client.request("GET", "/deployments/active/verify")["files_checked"] == 2

    # roll forward again to any earlier bundle, by id; redeploying uploads nothing new
    again = design.bundles.rollback(node.url, token=node.token, to=two["id"])
    assert again["bundle_id"] == two["id"]
    history = design.bundles.deployments(node.url, token=node.token)
    assert [d["action"] for d in history["deployments"]] == ["rollback", "rollback", "deploy",
                                                             "deploy"]
    assert [d["status"] for d in history["deployments"]] == ["active"] + ["superseded"] * 3
    assert history["active"]["id"] == again["id"]

    # the node restarts on the same active bundle
    node.stop()
    node.start()
    assert node.client().health()["active"]["id"] == again["id"]
    assert node.client().health()["runtime"]["bundle_id"] == two["id"]


def test_deploy_to_a_folder_is_picked_up_by_the_node_serving_it(design, start_node, tmp_path):
    node = start_node("prod")
    one = design.bundles.create("one")
    result = design.bundles.deploy(one["id"], str(node.root))
    assert result["target"]["kind"] == "folder"
    deadline = time.monotonic() + 15
    while node.client().health()["runtime"]["deployment_id"] != result["deployment"]["id"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert _run_output(node.client()) == "1:v1\n"


def test_wrong_token_is_401_on_every_route(start_node):
    node = start_node("prod")
    parsed = urllib.parse.urlsplit(node.url)
    routes = [("GET", "/health"), ("GET", "/environment"), ("POST", "/blobs/missing"),
              ("PUT", "/blobs/" + "a" * 64), ("POST", "/bundles"), ("GET", "/bundles"),
              ("GET", "/bundles/latest"), ("POST", "/deployments"), ("GET", "/deployments"),
              ("GET", "/deployments/active/verify"), ("POST", "/rollback"), ("GET", "/audit"),
              ("POST", "/runs"), ("GET", "/runs"), ("GET", "/runs/1")]
    for header in (None, "Bearer wrong-token-wrong-token", f"Basic {node.token}",
                   f"Bearer {node.token}x"):
        for method, path in routes:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            headers = {"Authorization": header} if header else {}
            body = b"{}" if method in ("POST", "PUT") else None
            conn.request(method, "/api/node" + path, body=body, headers=headers)
            response = conn.getresponse()
            payload = json.loads(response.read())
            conn.close()
            assert response.status == 401, (method, path, header)
            assert payload["error"]["code"] == "unauthorized"
    with pytest.raises(InvalidInput) as err:
        node.client("wrong-token-wrong-token").health()
    assert err.value.code == "unauthorized" and "401" in err.value.message
    big = node.root.parent / "big.bin"  # refused before its body is read: still a clear 401
    big.write_bytes(b"\0" * (8 << 20))
    with pytest.raises(InvalidInput) as err:
        node.client("wrong-token-wrong-token").upload("b" * 64, big)
    assert err.value.code == "unauthorized"
    assert _state(node.client()) == (0, 0, None)
    assert node.client().missing(["b" * 64]) == ["b" * 64]


def test_unknown_bundle_id_is_refused_everywhere(design, start_node):
    node = start_node("prod")
    client = node.client()
    with pytest.raises(NotFound) as err:
        design.bundles.deploy("0123456789ab", node.url, token=node.token)
    assert err.value.code == "unknown_bundle"
    with pytest.raises(NotFound) as err:
        client.deploy("ab" * 32, None)  # by id, never registered on the node
    assert err.value.code == "unknown_bundle"
    one = design.bundles.create("one")
    design.bundles.deploy(one["id"], node.url, token=node.token)
    before = _state(client)
    with pytest.raises(NotFound):
        client.rollback("cd" * 32)
    with pytest.raises(Conflict) as err:
        client.rollback()  # the first bundle has no previous one
    assert err.value.code == "no_previous_bundle"
    assert _state(client) == before


def test_tampered_blob_upload_is_refused(design, start_node):
    node = start_node("prod")
    client = node.client()
    one = design.bundles.create("one")
    entry = next(f for f in one["files"] if f["path"] == "data/input.csv")
    path = design.bundles.blobs.path(entry["sha256"])
    tampered = path.parent / "tampered"
    tampered.write_bytes(b"v1 but evil\n")
    with pytest.raises(InvalidInput) as err:
        client.upload(entry["sha256"], tampered)
    assert err.value.code == "tampered_blob"
    assert client.missing([entry["sha256"]]) == [entry["sha256"]]  # nothing was kept
    with pytest.raises(InvalidInput) as err:  # activation refuses what it does not have
        client.deploy(one["id"], design.bundles.manifest_bytes(one["id"])[1])
    assert err.value.code == "missing_blobs"
    assert _state(client) == (0, 0, None)


def test_tampered_manifest_is_refused(design, start_node):
    node = start_node("prod")
    client = node.client()
    one = design.bundles.create("one")
    bundle_id, raw = design.bundles.manifest_bytes(one["id"])
    for sha in client.missing(sorted({f["sha256"] for f in one["files"]})):
        client.upload(sha, design.bundles.blobs.path(sha))
    manifest = json.loads(raw)
    manifest["files"][0]["sha256"] = manifest["files"][1]["sha256"]  # point a file elsewhere
    for bad in (canonical_bytes(manifest), raw.replace(b"one", b"eno"), raw + b" "):
        with pytest.raises(InvalidInput) as err:
            client.deploy(bundle_id, bad)
        assert err.value.code == "tampered_manifest"
        with pytest.raises(InvalidInput) as refused:
            client.register(bundle_id, bad)
        assert refused.value.field == "manifest" and refused.value.code == "tampered_manifest"
    assert _state(client) == (0, 0, None)
    refused = client.audit()["events"]
    assert refused and all(e["outcome"] == "refused" for e in refused)


def test_strict_environment_mismatch_is_refused(design, start_node, tmp_path, monkeypatch):
    node = start_node("prod")
    client = node.client()
    # the design environment has a distribution the node does not have
    monkeypatch.syspath_prepend(str(fake_dist(tmp_path, "design-only-pkg", "1.2.3")))
    one = design.bundles.create("needs design-only-pkg")
    with pytest.raises(Conflict) as err:
        design.bundles.deploy(one["id"], node.url, token=node.token, strict=True)
    assert err.value.code == "environment_mismatch"
    assert "design-only-pkg==1.2.3" in err.value.message
    hashes = sorted({f["sha256"] for f in one["files"]})
    assert sorted(client.missing(hashes)) == hashes  # refused before any upload: none sent
    # the node itself refuses too, even when the blobs are there
    for sha in client.missing([f["sha256"] for f in one["files"]]):
        client.upload(sha, design.bundles.blobs.path(sha))
    with pytest.raises(Conflict) as err:
        client.deploy(one["id"], design.bundles.manifest_bytes(one["id"])[1], strict=True)
    assert err.value.details["environment"]["missing"] == [
        {"name": "design-only-pkg", "version": "1.2.3"}]
    assert _state(client) == (0, 0, None)
    # without strict mode it deploys, and the report says what is missing
    done = design.bundles.deploy(one["id"], node.url, token=node.token)
    assert done["deployment"]["environment"]["ok"] is False
    assert done["environment"]["missing"][0]["name"] == "design-only-pkg"


@pytest.mark.parametrize("phase", ["materialize", "renamed", "commit", "committed"])
def test_kill_9_during_activation_leaves_a_whole_bundle_active(design, start_node, phase):
    node = start_node("prod")
    one = design.bundles.create("one")
    first = design.bundles.deploy(one["id"], node.url, token=node.token)["deployment"]
    score_step(design.root, "2", "v2\n")
    (design.root / "data" / "more.bin").write_bytes(b"x" * 300_000)
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    two = design.bundles.create("two")
    node.stop()
    node.start(env={"MLPROD_TEST_ACTIVATION_PAUSE": f"{phase}=60"})
    errors = []
    deployer = threading.Thread(target=lambda: _catch(errors, design.bundles.deploy, two["id"],
                                                      node.url, token=node.token))
    deployer.start()
    marker = node.root / ".mlprod" / f"activation-{phase}.reached"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, node.read_log()[-3000:]
        time.sleep(0.05)
    node.kill9()
    deployer.join(30)
    assert errors and isinstance(errors[0], Unavailable)
    marker.unlink()
    node.start()
    client = node.client()
    health = client.health()
    if phase == "committed":  # the switch had committed: the new bundle is active and whole
        assert health["active"]["bundle_id"] == two["id"]
    else:
        assert health["active"]["id"] == first["id"] and health["active"]["bundle_id"] == one["id"]
        assert client.bundles()["total"] == 1 and client.deployments()["total"] == 1
    verified = client.request("GET", "/deployments/active/verify")
    assert verified["ok"], verified
    trees = sorted(p.name for p in (node.root / ".mlprod" / "deployments").iterdir())
    assert trees == sorted(Path(d["tree"]).name for d in client.deployments()["deployments"])
    assert not list((node.root / ".mlprod" / "blobs" / "tmp").glob("*"))
    expected = "2:v2\n" if phase == "committed" else "1:v1\n"
    assert _run_output(client) == expected


def _catch(errors, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as exc:
        errors.append(exc)


def test_audit_events_for_create_deploy_activate_and_rollback(design, start_node):
    node = start_node("prod")
    one = design.bundles.create("one", author="ada")
    design.bundles.deploy(one["id"], node.url, token=node.token, actor="ada")
    score_step(design.root, "2", "v2\n")
    two = design.bundles.create("two", author="bob")
    design.bundles.deploy(two["id"], node.url, token=node.token, actor="bob")
    design.bundles.rollback(node.url, token=node.token, actor="carol")
    ours = design.bundles.audit()["events"][::-1]
    assert [(e["action"], e["actor"], e["bundle_id"]) for e in ours] == [
        ("bundle.create", "ada", one["id"]), ("bundle.deploy", "ada", one["id"]),
        ("bundle.create", "bob", two["id"]), ("bundle.deploy", "bob", two["id"]),
        ("deployment.rollback", "carol", one["id"])]
    assert all(e["node"] == node.url for e in ours[1:] if e["action"] != "bundle.create")
    assert ours[-1]["previous_bundle_id"] == two["id"]
    theirs = node.client().audit()["events"][::-1]
    assert [e["action"] for e in theirs] == [
        "bundle.register", "bundle.deploy", "deployment.activate",
        "bundle.register", "bundle.deploy", "deployment.activate",
        "deployment.rollback", "deployment.activate"]
    activate = theirs[-1]
    assert activate["actor"].startswith("carol (token default)")
    assert activate["node"] == "prod" and activate["bundle_id"] == one["id"]
    assert activate["previous_bundle_id"] == two["id"] and activate["at"].endswith("Z")
    assert activate["details"]["trigger"] == "rollback"
    for event in theirs + ours:
        assert event["at"] and event["host"] and event["outcome"] == "ok"
    # append-only: the repository has no way to change or remove an event
    from jupyter_mlprod.store.audit import AuditRepository

    assert not [n for n in dir(AuditRepository) if n.startswith(("update", "delete", "remove"))]


def test_scheduled_pipeline_runs_on_the_node_and_rollback_brings_bundle_one_back(
        design, start_node):
    node = start_node("prod")
    client = node.client()
    design.scenarios.create({"name": "refresh", "triggers": [{"type": "interval", "every": 2}],
                             "run": {}})
    one = design.bundles.create("one")
    assert [s["name"] for s in design.bundles.show(one["id"])["scenarios"]] == ["refresh"]
    dep = design.bundles.deploy(one["id"], node.url, token=node.token)["deployment"]
    assert dep["runtime"]["services"]["scheduler"] == "running", dep["runtime"]
    assert _scheduled_output(client, dep) == "1:v1\n"

    score_step(design.root, "2", "v2\n")
    two = design.bundles.create("two")
    dep2 = design.bundles.deploy(two["id"], node.url, token=node.token)["deployment"]
    assert _scheduled_output(client, dep2) == "2:v2\n"

    back = design.bundles.rollback(node.url, token=node.token)
    assert back["bundle_id"] == one["id"]
    assert _scheduled_output(client, back) == "1:v1\n"  # bundle 1's scenario fires again


def _scheduled_output(client, deployment, timeout: float = 90) -> str:
    """Wait for a run fired by the node's scheduler in this deployment's tree."""
    out = Path(deployment["path"]) / "out" / "version.txt"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = client.request("GET", "/runs")["runs"]
        if any(r["status"] == "succeeded" and r["trigger"] != "node" for r in runs) and out.exists():
            return out.read_text()
        time.sleep(0.5)
    raise AssertionError(f"no scheduled run in {deployment['tree']}: {client.health()}")


def test_registered_node_with_its_token_in_the_environment(design, start_node, monkeypatch):
    node = start_node("prod")
    with pytest.raises(InvalidInput) as refused:
        design.bundles.register_node("prod", "ftp://nope")
    assert refused.value.field == "url"
    with pytest.raises(InvalidInput) as refused:
        design.bundles.register_node("prod", node.url, token_env="not a name")
    assert refused.value.field == "token_env"
    design.bundles.register_node("prod", node.url, token_env="PROD_NODE_TOKEN")
    assert design.bundles.nodes()[0]["token_available"] is False
    one = design.bundles.create("one")
    with pytest.raises(InvalidInput) as err:
        design.bundles.deploy(one["id"], "prod")
    assert "PROD_NODE_TOKEN" in err.value.message
    monkeypatch.setenv("PROD_NODE_TOKEN", node.token)
    assert design.bundles.nodes() == [{"name": "prod", "url": node.url,
                                       "token_env": "PROD_NODE_TOKEN", "token_available": True,
                                       "created_at": design.bundles.nodes()[0]["created_at"]}]
    assert design.bundles.deploy(one["id"], "prod")["target"]["name"] == "prod"
    assert design.bundles.deployments("prod")["active"]["bundle_id"] == one["id"]
    with pytest.raises(NotFound):
        design.bundles.deploy(one["id"], "no-such-node-or-folder")
    design.bundles.remove_node("prod")
    assert design.bundles.nodes() == []


def test_after_an_unclean_stop_the_active_tree_is_restored_from_its_blobs(design, start_node):
    node = start_node("prod")
    (design.root / "data" / "model.bin").write_bytes(b"m" * 5000)
    (design.root / "mlprod.toml").write_text('[bundles]\ninclude = ["data/*.bin"]\n')
    one = design.bundles.create("one")
    dep = design.bundles.deploy(one["id"], node.url, token=node.token)["deployment"]
    tree = Path(dep["path"])
    node.kill9()  # as after a power loss: files the disk had not written come back empty
    (tree / "data" / "model.bin").write_bytes(b"")
    (tree / "score.ipynb").unlink()
    node.start()
    assert node.client().request("GET", "/deployments/active/verify")["ok"]
    assert (tree / "data" / "model.bin").read_bytes() == b"m" * 5000
    node.stop()  # a clean stop: nothing is touched on the next start
    (tree / "data" / "model.bin").write_bytes(b"")
    node.start()
    assert (tree / "data" / "model.bin").read_bytes() == b""
