"""`mlprod bundle ...`, `deploy`, `rollback`, `deployments`, `nodes`, `audit` and the `mlprod node`
daemon, run as a user runs them: subprocesses, real files, a real node on loopback."""
from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from cli_helpers import cli_env, mlprod, mlprod_json, one_error_line


def _project(root: Path, version: str, data: str) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "input.csv").write_text(data)
    if not (root / "mlprod.toml").exists():
        (root / "mlprod.toml").write_text(f'[project]\nname = "{root.name}"\n')
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "score", "inputs": ["data/input.csv"],
                             "outputs": ["out.txt"]}
    nb.cells = [nbformat.v4.new_code_cell(f"VERSION = {version!r}"),
                nbformat.v4.new_code_cell("open('out.txt', 'w').write(VERSION)")]
    nbformat.write(nb, root / "score.ipynb")
    return root


@pytest.fixture
def design(tmp_path) -> tuple[Path, dict, dict]:
    """A design project with two bundles: a notebook cell and the data changed between them."""
    root = _project(tmp_path / "design", "1", "a,b\n1,2\n")
    one = mlprod_json("bundle", "create", "-m", "first version", cwd=root)
    _project(root, "2", "a,b\n1,2\n3,4\n5,6\n")
    two = mlprod_json("bundle", "create", "-m", "second version", cwd=root)
    return root, one, two


def test_create_list_diff_verify_export_import_round_trip(design, tmp_path):
    root, one, two = design
    assert one["message"] == "first version" and one["new_blobs"] == 3
    assert two["parent"] == one["id"] and two["new_blobs"] == 2

    listed = mlprod("bundles", cwd=root)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:2] == ["BUNDLE", "CREATED"]
    assert lines[1].startswith(two["short_id"]) and lines[1].endswith("second version")
    assert lines[2].startswith(one["short_id"])
    assert mlprod_json("bundle", "list", "--limit", "1", cwd=root)["total"] == 2

    shown = mlprod("bundle", "show", one["short_id"], "--files", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert f"bundle      {one['id']}" in shown.stdout and "data/input.csv" in shown.stdout

    diff = mlprod("bundle", "diff", one["short_id"], "latest", cwd=root)
    assert diff.returncode == 0, diff.stderr
    assert ("0 files added, 0 removed, 2 changed; 1 notebook cell change; "
            "1 data/model change (8 bytes)") in diff.stdout
    assert "-VERSION = '1'" in diff.stdout and "+VERSION = '2'" in diff.stdout
    assert "data data/input.csv changed: 8 B -> 16 B (+8 B)" in diff.stdout
    data = mlprod_json("bundle", "diff", one["id"], two["id"], cwd=root)
    assert data["notebooks"][0]["cells"][0]["change"] == "changed"

    verified = mlprod("bundle", "verify", "latest", cwd=root)
    assert verified.returncode == 0 and "verified: 3 files" in verified.stdout

    # export, then import into another project; importing again changes nothing
    archive = tmp_path / "one.tar"
    exported = mlprod_json("bundle", "export", one["id"], "-o", str(archive), cwd=root)
    assert exported["path"] == str(archive) and exported["blobs"] == 3
    again = mlprod("bundle", "export", one["id"], "-o", str(archive), cwd=root)
    assert "already exists" in one_error_line(again)
    other = _project(tmp_path / "other", "0", "x\n")
    imported = mlprod("bundle", "import", str(archive), cwd=other)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(f"bundle {one['short_id']} imported: 3 files")
    assert "was already here" in mlprod("bundle", "import", str(archive), cwd=other).stdout
    assert mlprod_json("bundle", "show", one["id"], cwd=other)["origin"] == "imported"
    wrong = mlprod("bundle", "import", str(archive), "--expect", two["short_id"], cwd=other)
    assert f"holds bundle {one['short_id']}, not {two['short_id']}" in one_error_line(wrong)

    # a tampered archive is refused with one line, leaving nothing registered
    fresh = _project(tmp_path / "fresh", "0", "x\n")
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    manifest = json.loads(members[1][1])
    manifest["message"] = "I did not write this"
    members[1] = (members[1][0], json.dumps(manifest, sort_keys=True,
                                            separators=(",", ":")).encode())
    bad = tmp_path / "tampered.tar"
    with tarfile.open(bad, "w") as tar:
        for info, payload in members:
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    refused = mlprod("bundle", "import", str(bad), cwd=fresh)
    line = one_error_line(refused)
    assert "does not match bundle" in line and "altered or damaged" in line
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[:3000])
    assert "truncated" in one_error_line(mlprod("bundle", "import", str(truncated), cwd=fresh))
    assert mlprod_json("bundles", cwd=fresh)["total"] == 0
    assert not [p for p in (fresh / ".mlprod").rglob("*") if len(p.name) == 62]  # no blob left

    # a damaged blob: verify says which file, exit 1
    sha = next(f["sha256"] for f in two["files"] if f["path"] == "data/input.csv")
    blob = root / ".mlprod" / "blobs" / sha[:2] / sha[2:]
    blob.chmod(0o644)
    blob.write_bytes(b"rot")
    damaged = mlprod("bundle", "verify", two["id"], cwd=root)
    assert damaged.returncode == 1
    assert "is DAMAGED" in damaged.stdout and "data/input.csv: damaged" in damaged.stdout

    # bad input: one line, exit 2
    for args, words in ((("bundle", "show", "zzzz"), "is not a bundle id"),
                        (("bundle", "show", "abcdef"), "unknown bundle 'abcdef'"),
                        (("bundle", "diff", "abcd", "latest"), "unknown bundle 'abcd'"),
                        (("deploy", "latest", "--to", str(tmp_path / "nowhere")),
                         "is neither a registered node, a node URL, nor an existing folder"),
                        (("deploy", "latest", "--to", "http://127.0.0.1:9", "--token-env",
                          "MLPROD_TEST_UNSET"), "$MLPROD_TEST_UNSET is not set")):
        assert words in one_error_line(mlprod(*args, cwd=root)), args
    assert mlprod("deploy", "latest", cwd=root).returncode == 2  # --to is required (argparse)
    bad_env = mlprod("deploy", "latest", "--to", str(tmp_path), "--env", "fresh", cwd=root)
    assert bad_env.returncode == 2 and "recreate" in bad_env.stderr  # compare | recreate


class NodeCommand:
    """`mlprod node` as a subprocess; its first stdout line says where it serves."""

    def __init__(self, root: Path, token: str, *args: str):
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.token = root, token
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.cli", "node", "--project", str(root),
             "--port", "0", "--no-services", "--sync-interval", "0.5", *args],
            cwd=root, env=cli_env({"MLPROD_NODE_TOKEN": token}), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.line = self.proc.stdout.readline()
        assert " at http://127.0.0.1:" in self.line, (self.line, self._stderr())
        self.url = self.line.split(" at ")[1].split()[0]

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.stderr.read()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        return code, self.proc.stderr.read()


@pytest.fixture
def node(tmp_path):
    started = NodeCommand(tmp_path / "prod", secrets.token_urlsafe(24))
    yield started
    if started.proc.poll() is None:
        started.stop()


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url + "/api/node/health",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_node_deploy_rollback_history_and_wrong_token(design, node, tmp_path):
    root, one, two = design
    assert node.line.startswith("mlprod node prod serving ")
    assert _status(node.url, node.token) == 200
    assert _status(node.url, "wrong-token-wrong-token") == 401
    env = {"MLPROD_NODE_TOKEN": node.token}

    deployed = mlprod("deploy", one["short_id"], "--to", node.url, "-m", "go live", cwd=root,
                      env=env)
    assert deployed.returncode == 0, deployed.stderr
    out = deployed.stdout.splitlines()
    assert out[0] == "environment: the target matches the bundle's lock"
    assert out[1].startswith("upload: 3 file contents the target lacks, ")
    assert out[2] == "activate: writing and verifying the bundle's files, then switching"
    assert out[3].startswith(f"deployed bundle {one['short_id']} to {node.url} (node ")
    assert "deployment 1 is active" in out[3]
    second = mlprod_json("deploy", "latest", "--to", node.url, cwd=root, env=env)
    assert second["uploaded_blobs"] == 2 and second["reused_blobs"] == 1
    assert second["deployment"]["previous_bundle_id"] == one["id"]

    # a wrong token: exit 2, one line naming the 401; nothing changes on the node
    refused = mlprod("deploy", one["id"], "--to", node.url, cwd=root,
                     env={"MLPROD_NODE_TOKEN": "wrong-token-wrong-token"})
    assert "refused the token (401)" in one_error_line(refused)
    assert mlprod_json("deployments", "--target", node.url, cwd=root,
                       env=env)["active"]["bundle_id"] == two["id"]

    back = mlprod("rollback", "--target", node.url, "-m", "two misbehaves", cwd=root, env=env)
    assert back.returncode == 0, back.stderr
    assert back.stdout.startswith(f"rolled back: bundle {one['short_id']} is active on prod "
                                  "(deployment 3, rollback)")
    # a registered node reads its token from the variable it names
    registered = mlprod("nodes", "register", "prod", node.url, "--token-env", "PROD_TOKEN",
                        cwd=root)
    assert "set $PROD_TOKEN before deploying" in registered.stdout
    history = mlprod("deployments", "--target", "prod", cwd=root, env={"PROD_TOKEN": node.token})
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0] == f"bundle {one['short_id']} is active on prod (deployment 3, rollback)"
    assert [line.split()[2:4] for line in lines[3:]] == [
        ["rollback", "active"], ["deploy", "superseded"], ["deploy", "superseded"]]
    assert "go live" in history.stdout
    nodes = mlprod("nodes", cwd=root, env={"PROD_TOKEN": node.token}).stdout.splitlines()
    assert nodes[1].split() == ["prod", node.url, "$PROD_TOKEN", "yes"]
    missing = mlprod("rollback", "--target", "prod", cwd=root)
    assert "no token for node 'prod': set $PROD_TOKEN" in one_error_line(missing)
    assert mlprod("nodes", "remove", "prod", cwd=root).returncode == 0
    assert "no registered node named 'prod'" in one_error_line(
        mlprod("nodes", "remove", "prod", cwd=root))

    audit = mlprod_json("audit", "--action", "bundle.deploy", cwd=root)["events"]
    assert [e["outcome"] for e in audit] == ["refused", "ok", "ok"]
    assert audit[0]["details"]["code"] == "unauthorized"
    text = mlprod("audit", cwd=root).stdout
    assert "deployment.rollback" in text and "refused (unauthorized)" in text

    code, stderr = node.stop()  # SIGTERM: a graceful stop
    assert code == 0 and "mlprod node stopped" in stderr
    assert (node.root / ".mlprod" / "node.clean").exists()


def test_node_refuses_bad_settings_in_one_line(tmp_path):
    folder = tmp_path / "prod"
    folder.mkdir()
    env = {"MLPROD_NODE_TOKEN": ""}
    no_token = mlprod("node", "--project", str(folder), "--port", "0", cwd=folder, env=env)
    assert "the node needs a token" in one_error_line(no_token)
    short = mlprod("node", "--project", str(folder), "--token", "short", cwd=folder, env=env)
    assert "too short" in one_error_line(short)
    port = mlprod("node", "--project", str(folder), "--port", "70000", cwd=folder,
                  env={"MLPROD_NODE_TOKEN": secrets.token_urlsafe(24)})
    assert "--port must be from 0 to 65535" in one_error_line(port)
    assert os.listdir(folder) in ([], [".mlprod"])
