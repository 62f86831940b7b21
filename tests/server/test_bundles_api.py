"""Bundles, nodes, deployments and audit through the REST API: a real Jupyter server (token
auth on, every response validated against openapi.yaml), a small design project, a production
folder and a real production node process (`python -m jupyter_mlprod.node`) on loopback."""
from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from urllib.parse import quote

import pytest

import jupyter_mlprod

from mlprod_api import PREFIX, Reply

PACKAGE_HOME = str(Path(jupyter_mlprod.__file__).resolve().parents[1])
TOKEN_ENV = "MLPROD_TEST_PROD_TOKEN"


def _write_project(root: Path, make_step, version: str, data: str) -> None:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "input.csv").write_text(data)
    make_step(root, "score", [f"VERSION = {version!r}",
                              "open('out.txt', 'w').write(VERSION)"],
              inputs=["data/input.csv"], outputs=["out.txt"])


@pytest.fixture
def project_root(tmp_path, make_step) -> Path:
    root = tmp_path / "design"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "design"\n')
    _write_project(root, make_step, "1", "a,b\n1,2\n")
    return root


class Node:
    """A production node process with its own folder and store, on a free loopback port."""

    def __init__(self, root: Path):
        self.root = root
        self.token = secrets.token_urlsafe(24)
        root.mkdir(parents=True)
        ready = root.parent / f"{root.name}.ready"
        self.log = open(root.parent / f"{root.name}.log", "wb")
        env = dict(os.environ, MLPROD_NODE_TOKEN=self.token,
                   PYTHONPATH=os.pathsep.join(p for p in (PACKAGE_HOME,
                                                          os.environ.get("PYTHONPATH")) if p))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.node", "--root", str(root), "--port", "0",
             "--ready-file", str(ready), "--no-services", "--name", root.name],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.proc.poll() is None, (root.parent / f"{root.name}.log").read_text()
            assert time.monotonic() < deadline, "the node did not start"
            time.sleep(0.05)
        self.url = json.loads(ready.read_text())["url"]

    def client(self, token: str | None = None):
        from jupyter_mlprod.bundles import NodeClient

        return NodeClient(self.url, token or self.token, timeout=60)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture
def node(tmp_path, monkeypatch):
    started = Node(tmp_path / "prodnode")
    monkeypatch.setenv(TOKEN_ENV, started.token)  # the Jupyter server runs in this process
    yield started
    started.stop()


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "prodfolder"
    target.mkdir()
    return target


@pytest.fixture
def by_path(http_server_client, jp_auth_header, jp_base_url, contract):
    """A request whose path value is a folder or URL, percent-encoded ONCE as a browser's
    encodeURIComponent does (jp_fetch would encode the `%` again)."""

    async def request(method: str, route: str, value: str, body: dict | None = None) -> Reply:
        path = route.replace("{name}", quote(value, safe=""))
        response = await http_server_client.fetch(
            f"{jp_base_url}{PREFIX}{path}", method=method,
            headers={**jp_auth_header, "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body), raise_error=False,
            request_timeout=60)
        decoded = contract.check(method, route, response.code,
                                 response.headers.get("Content-Type"), response.body or b"")
        return Reply(response.code, dict(response.headers), decoded)

    return request


def _node_state(node: Node) -> tuple:
    history = node.client().deployments()
    return (node.client().bundles()["total"], history["total"],
            history["active"]["bundle_id"] if history["active"] else None)


async def test_create_diff_verify_export_deploy_roll_back_and_audit(api, by_path, project_root,
                                                                     make_step, node, folder):
    # an empty project answers with empty lists, a preview and no audit yet
    assert (await api.get("/bundles")).body == {"bundles": [], "total": 0}
    preview = (await api.get("/bundles/preview")).body
    assert {f["path"]: f["kind"] for f in preview["files"]} == {
        "data/input.csv": "data", "mlprod.toml": "config", "score.ipynb": "notebook"}
    assert preview["steps"] == ["score"] and preview["new_bytes_at_most"] == preview["total_size"]

    reply = await api.post("/bundles", json_body={"message": "first version"})
    assert reply.status == 201, reply.body
    one = reply.body
    assert one["message"] == "first version" and one["origin"] == "created"
    assert one["new_blobs"] == 3 and one["new_bytes"] == one["total_size"]
    assert {f["path"] for f in one["files"]} == {"data/input.csv", "mlprod.toml", "score.ipynb"}

    # change one notebook cell and the data; the config stays: it costs no new bytes
    _write_project(project_root, make_step, "2", "a,b\n1,2\n3,4\n5,6\n")
    two = (await api.post("/bundles", json_body={"message": "second version"})).body
    assert two["parent"] == one["id"] and two["new_blobs"] == 2
    listed = (await api.get("/bundles", params={"limit": "1"})).body
    assert listed["total"] == 2 and [b["id"] for b in listed["bundles"]] == [two["id"]]
    assert (await api.get("/bundles/preview")).body["new_bytes_at_most"] == 0

    shown = await api.get("/bundles/{id}", id=one["short_id"])
    assert shown.status == 200 and shown.body["id"] == one["id"]
    assert shown.body["pipeline"]["steps"][0]["name"] == "score"
    assert shown.body["environment"]["packages"]["jupyter-mlprod"]
    assert (await api.get("/bundles/{id}", id="latest")).body["id"] == two["id"]

    diff = (await api.get("/bundles/diff", params={"a": one["id"], "b": two["short_id"]})).body
    assert [f["path"] for f in diff["files"]["changed"]] == ["data/input.csv", "score.ipynb"]
    assert diff["files"]["unchanged_count"] == 1
    [notebook] = diff["notebooks"]
    [cell] = notebook["cells"]
    assert cell["change"] == "changed" and "-VERSION = '1'" in cell["diff"]
    assert "+VERSION = '2'" in cell["diff"]
    [data] = diff["data"]
    assert data == {"path": "data/input.csv", "kind": "data", "change": "changed",
                    "size_before": 8, "size_after": 16, "delta": 8}
    assert "1 notebook cell change" in diff["summary"]

    verified = await api.post("/bundles/{id}/verify", id=two["id"])
    assert verified.status == 200 and verified.body["ok"] is True
    assert verified.body["files_checked"] == 3 and verified.body["bad"] == []

    # the archive download is the file `mlprod bundle import` reads
    archive = await api.get("/bundles/{id}/archive", id=one["id"])
    assert archive.status == 200 and archive.headers["X-Mlprod-Bundle-Id"] == one["id"]
    assert f"design-{one['short_id']}.mlprod-bundle.tar" in archive.headers["Content-Disposition"]
    raw = archive.body.encode("utf-8")
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        names = tar.getnames()
    assert names[:2] == ["bundle.json", "manifest.json"] and len(names) == 5
    response = await api._fetch(PREFIX + f"/bundles/{one['id']}/archive",
                                params={"compress": "true"}, raise_error=False)
    assert response.code == 200 and response.headers["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.body), mode="r:gz") as tar:
        assert tar.getnames() == names

    # deploy to a production folder on this machine, then again to roll back
    reply = await api.post("/bundles/{id}/deploy", id=one["id"],
                           json_body={"target": str(folder), "message": "go"})
    assert reply.status == 201, reply.body
    assert reply.body["target"]["kind"] == "folder" and reply.body["uploaded_blobs"] == 3
    assert reply.body["deployment"]["active"] and reply.body["deployment"]["message"] == "go"
    reply = await api.post("/bundles/{id}/deploy", id=two["id"], json_body={"target": str(folder)})
    assert reply.status == 201 and reply.body["uploaded_blobs"] == 2
    assert reply.body["reused_blobs"] == 1
    history = await by_path("GET", "/nodes/{name}/deployments", str(folder))
    assert history.status == 200 and history.body["total"] == 2
    assert history.body["active"]["bundle_id"] == two["id"]
    back = await by_path("POST", "/nodes/{name}/rollback", str(folder), {})
    assert back.status == 201 and back.body["bundle_id"] == one["id"]
    assert back.body["action"] == "rollback" and back.body["previous_bundle_id"] == two["id"]
    assert (Path(back.body["path"]) / "data" / "input.csv").read_text() == "a,b\n1,2\n"

    # a registered node: its token lives in the server's environment, never in a request
    reply = await api.post("/nodes", json_body={"name": "prod", "url": node.url,
                                                "token_env": TOKEN_ENV})
    assert reply.status == 201 and reply.body["token_available"] is True
    assert (await api.get("/nodes")).body["nodes"] == [reply.body]
    reply = await api.post("/bundles/{id}/deploy", id=one["id"],
                           json_body={"target": "prod", "strict": True, "message": "live"})
    assert reply.status == 201, reply.body
    assert reply.body["target"] == {"kind": "node", "name": "prod", "address": node.url}
    assert reply.body["deployment"]["runtime"]["bundle_id"] == one["id"]
    assert reply.body["environment"]["ok"] is True
    reply = await api.post("/bundles/{id}/deploy", id=two["id"], json_body={"target": "prod"})
    assert reply.status == 201 and reply.body["uploaded_blobs"] == 2
    again = await api.post("/bundles/{id}/deploy", id=two["id"], json_body={"target": "prod"})
    assert again.status == 409 and again.error["code"] == "already_active"

    history = (await api.get("/nodes/{name}/deployments", name="prod")).body
    assert history["node"] == "prodnode" and history["total"] == 2
    assert [d["bundle_id"] for d in history["deployments"]] == [two["id"], one["id"]]
    back = await api.post("/nodes/{name}/rollback", name="prod",
                          json_body={"message": "two misbehaves"})
    assert back.status == 201 and back.body["bundle_id"] == one["id"]
    assert back.body["runtime"]["bundle_id"] == one["id"]
    forward = await api.post("/nodes/{name}/rollback", name="prod", json_body={"to": two["id"]})
    assert forward.status == 201 and forward.body["bundle_id"] == two["id"]
    assert _node_state(node) == (2, 4, two["id"])

    # every create, export, deploy and rollback is in the audit, with the bundle ids
    audit = (await api.get("/audit", params={"limit": "100"})).body
    actions = [e["action"] for e in audit["events"]]
    assert actions.count("bundle.create") == 2 and actions.count("bundle.export") == 2
    assert actions.count("bundle.deploy") == 5  # 4 done + 1 refused (already active)
    assert actions.count("deployment.rollback") == 3
    refused = [e for e in audit["events"] if e["outcome"] == "refused"]
    assert [e["details"]["code"] for e in refused] == ["already_active"]
    to_node = [e for e in audit["events"] if e["node"] == "prod" and e["outcome"] == "ok"]
    assert {e["bundle_id"] for e in to_node} == {one["id"], two["id"]}
    only = (await api.get("/audit", params={"action": "bundle.create",
                                            "bundle": one["short_id"]})).body
    assert only["total"] == 1 and only["events"][0]["details"]["message"] == "first version"

    assert (await api.delete("/nodes/{name}", name="prod")).status == 204
    assert (await api.get("/nodes")).body == {"nodes": []}


async def test_refusals_are_clear_and_leave_nothing_behind(api, by_path, project_root, node,
                                                           folder, tmp_path, monkeypatch):
    one = (await api.post("/bundles", json_body={"message": "one"})).body

    # unknown or malformed bundle references
    for ref, status, code in (("abcdef12", 404, "unknown_bundle"), ("nothex", 400, "invalid"),
                              ("ab", 400, "invalid")):
        for reply in (await api.get("/bundles/{id}", id=ref),
                      await api.post("/bundles/{id}/verify", id=ref),
                      await api.get("/bundles/{id}/archive", id=ref),
                      await api.post("/bundles/{id}/deploy", id=ref,
                                     json_body={"target": str(folder)})):
            assert (reply.status, reply.error["code"], reply.error["field"]) == (
                status, code, "bundle"), reply.body
    reply = await api.get("/bundles/diff", params={"a": one["id"]})
    assert reply.status == 400 and reply.error["field"] == "b"
    reply = await api.get("/bundles/diff", params={"a": one["id"], "b": "feedbeef"})
    assert reply.status == 404 and "feedbeef" in reply.error["message"]

    # bad bodies: unknown fields (a token is never accepted), wrong types, missing target
    reply = await api.post("/bundles", json_body={"message": 5})
    assert reply.status == 400 and reply.error["field"] == "message"
    reply = await api.post("/nodes", json_body={"name": "prod", "url": node.url,
                                                "token": node.token})
    assert reply.status == 400 and reply.error["field"] == "token"
    for body, field in (({"name": "9lives", "url": node.url}, "name"),
                        ({"name": "prod", "url": "ftp://x"}, "url"),
                        ({"name": "prod", "url": node.url, "token_env": "not a name"},
                         "token_env")):
        reply = await api.post("/nodes", json_body=body)
        assert reply.status == 400 and reply.error["field"] == field, reply.body
    assert (await api.get("/nodes")).body == {"nodes": []}
    for body, field in (({}, "target"), ({"target": str(folder), "strict": "yes"}, "strict"),
                        ({"target": str(folder), "force": True}, "force"),
                        ({"target": str(folder), "message": 5}, "message")):
        reply = await api.post("/bundles/{id}/deploy", id=one["id"], json_body=body)
        assert reply.status == 400 and reply.error["field"] == field, reply.body
    reply = await api.get("/audit", params={"limit": "0"})
    assert reply.status == 400 and reply.error["field"] == "limit"
    reply = await api.delete("/nodes/{name}", name="ghost")
    assert reply.status == 404

    # a target that does not exist
    reply = await api.post("/bundles/{id}/deploy", id=one["id"],
                           json_body={"target": str(tmp_path / "nowhere")})
    assert reply.status == 404 and reply.error["code"] == "unknown_target"
    reply = await api.get("/nodes/{name}/deployments", name="ghost")
    assert reply.status == 404 and reply.error["code"] == "unknown_target"
    # a folder that is not a project (nothing ever deployed there) is no target to roll back
    reply = await by_path("POST", "/nodes/{name}/rollback", str(folder), {})
    assert reply.status == 404 and reply.error["code"] == "not_a_project"
    assert list(folder.iterdir()) == []
    reply = await by_path("POST", "/nodes/{name}/rollback", str(folder), {"strict": "yes"})
    assert reply.status == 400 and reply.error["field"] == "strict"

    # the node refuses a wrong token: 502 (the caller's Jupyter login is fine), nothing sent
    monkeypatch.setenv("MLPROD_TEST_WRONG_TOKEN", "wrong-token-wrong-token")
    await api.post("/nodes", json_body={"name": "wrong", "url": node.url,
                                        "token_env": "MLPROD_TEST_WRONG_TOKEN"})
    await api.post("/nodes", json_body={"name": "tokenless", "url": node.url,
                                        "token_env": "MLPROD_TEST_UNSET_TOKEN"})
    for name, status, code in (("wrong", 502, "unauthorized"), ("tokenless", 400, "missing_token")):
        for reply in (await api.post("/bundles/{id}/deploy", id=one["id"],
                                     json_body={"target": name}),
                      await api.post("/nodes/{name}/rollback", name=name, json_body={}),
                      await api.get("/nodes/{name}/deployments", name=name)):
            assert reply.status == status and reply.error["code"] == code, reply.body
    reply = await api.post("/bundles/{id}/deploy", id=one["id"], json_body={"target": "wrong"})
    assert "refused the token (401)" in reply.error["message"]
    assert _node_state(node) == (0, 0, None)

    # an unreachable node (with its own token: a token goes to one node URL only)
    monkeypatch.setenv("MLPROD_TEST_DOWN_TOKEN", "down-token-down-token")
    await api.post("/nodes", json_body={"name": "down", "url": "http://127.0.0.1:9",
                                        "token_env": "MLPROD_TEST_DOWN_TOKEN"})
    reply = await api.post("/bundles/{id}/deploy", id=one["id"], json_body={"target": "down"})
    assert reply.status == 503 and reply.error["code"] == "node_unreachable"

    # strict mode refuses an environment mismatch before any upload; nothing is activated
    site = tmp_path / "site"
    info = site / "design_only_pkg-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: design-only-pkg\n"
                                   "Version: 1.2.3\n")
    monkeypatch.syspath_prepend(str(site))
    needs = (await api.post("/bundles", json_body={"message": "needs a package"})).body
    await api.post("/nodes", json_body={"name": "prod", "url": node.url, "token_env": TOKEN_ENV})
    reply = await api.post("/bundles/{id}/deploy", id=needs["id"],
                           json_body={"target": "prod", "strict": True})
    assert reply.status == 409 and reply.error["code"] == "environment_mismatch"
    assert "design-only-pkg==1.2.3" in reply.error["message"]
    assert reply.error["details"]["environment"]["missing"] == [
        {"name": "design-only-pkg", "version": "1.2.3"}]
    assert _node_state(node) == (0, 0, None)
    assert node.client().missing([f["sha256"] for f in needs["files"]])  # nothing uploaded
    # without strict it deploys and says what is missing
    reply = await api.post("/bundles/{id}/deploy", id=needs["id"], json_body={"target": "prod"})
    assert reply.status == 201 and reply.body["environment"]["ok"] is False
    assert reply.body["deployment"]["environment"]["missing"][0]["name"] == "design-only-pkg"
    # and with only one deployment there is nothing earlier to roll back to
    reply = await api.post("/nodes/{name}/rollback", name="prod", json_body={})
    assert reply.status == 409 and reply.error["code"] == "no_previous_bundle"
    assert _node_state(node) == (1, 1, needs["id"])

    refused = (await api.get("/audit", params={"action": "bundle.deploy"})).body["events"]
    codes = [e["details"].get("code") for e in refused if e["outcome"] == "refused"]
    assert {"unauthorized", "node_unreachable", "environment_mismatch"} <= set(codes)
    assert (await api.get("/bundles")).body["total"] == 2


@pytest.mark.parametrize("method,route", [("GET", "/bundles"), ("POST", "/bundles"),
                                          ("POST", "/bundles/{id}/deploy"),
                                          ("POST", "/nodes"), ("GET", "/audit")])
async def test_bundle_routes_need_the_jupyter_token(api, method, route):
    body = {"json_body": {"message": "x"}} if method == "POST" else {}
    reply = await api.request(method, route, id="latest", headers={"Authorization": ""}, **body)
    assert reply.status in (401, 403) and reply.error["code"] in ("unauthorized", "forbidden")
    assert (await api.get("/bundles")).body["total"] == 0
