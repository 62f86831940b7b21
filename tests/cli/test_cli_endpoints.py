"""`mlprod serve` and `mlprod endpoint ...` as a user runs them: subprocesses, the example's
scoring notebook with the model its own prepare + train steps made, real HTTP on loopback."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from cli_helpers import cli_env, copy_example, mlprod, mlprod_json, one_error_line

APPLICATION = {"age": 41, "income": 61000.0, "loan_amount": 12000.0, "term_months": 24,
               "credit_score": 690, "employment_years": 3.0, "debt_to_income": 0.31}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = copy_example(tmp_path_factory.mktemp("cli-serve") / "loan")
    result = mlprod("run", "--steps", "prepare,train", "-p", "n_rows=400", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body, key: str | None = None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


def test_serve_a_notebook_answer_over_http_and_stop_on_sigterm(trained):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlprod.cli", "serve", "score.ipynb", "--port", str(port),
         "--workers", "1"], cwd=trained, env=cli_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        status, body = _post(f"{url}/score/predict", APPLICATION)
        assert status == 200 and 0.0 <= body["probability"] <= 1.0
        assert body["decision"] in ("approve", "decline")
        status, body = _post(f"{url}/score/predict", dict(APPLICATION, income="lots"))
        assert status == 400 and body["error"]["field"] == "income"
        # what the server answers is what `endpoint score` computes here
        scored = mlprod_json("endpoint", "score", "score", json.dumps(APPLICATION), cwd=trained)
        assert scored["status"] == 200
        assert scored["body"] == _post(f"{url}/score/predict", APPLICATION)[1]
        [listed] = mlprod_json("endpoint", "list", cwd=trained)
        assert listed["name"] == "score" and listed["traffic"]["weights"] == {"v1": 100}
        assert [s["url"] for s in listed["servers"]] == [url]
        servers = mlprod("endpoint", "servers", cwd=trained)
        assert servers.returncode == 0 and url in servers.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "mlprod serve: stopped" in err and "Traceback" not in err
    assert mlprod_json("endpoint", "servers", cwd=trained) == []


def test_endpoint_commands_and_their_refusals(trained):
    made = mlprod_json("endpoint", "create", "loan", "--notebook", "score.ipynb", cwd=trained)
    assert made["versions"][0]["version"] == "v1"
    listing = mlprod("endpoints", cwd=trained)
    assert listing.returncode == 0 and "loan" in listing.stdout and "v1 100%" in listing.stdout
    added = mlprod("endpoint", "versions", "loan", "--add", "score.ipynb", cwd=trained)
    assert added.returncode == 0 and "added version v2" in added.stdout
    versions = mlprod("endpoint", "versions", "loan", cwd=trained)
    assert versions.returncode == 0 and "v2" in versions.stdout
    split = mlprod("endpoint", "traffic", "loan", "v1=90", "v2=10", cwd=trained)
    assert split.returncode == 0 and "v1 90%, v2 10%" in split.stdout, split.stdout
    history = mlprod("endpoint", "traffic", "loan", cwd=trained)
    assert "set from the CLI" in history.stdout and "current" in history.stdout
    assert "v1 100%" in mlprod("endpoint", "rollback", "loan", cwd=trained).stdout

    key = mlprod_json("endpoint", "keys", "loan", "--create", "--label", "ci", cwd=trained)
    keys = mlprod("endpoint", "keys", "loan", cwd=trained)
    assert key["key_id"] in keys.stdout and key["key"] not in keys.stdout
    revoked = mlprod("endpoint", "keys", "loan", "--revoke", key["key_id"], cwd=trained)
    assert revoked.returncode == 0

    scored = mlprod("endpoint", "score", "loan", cwd=trained)  # the sample request
    assert scored.returncode == 0 and '"probability"' in scored.stdout
    assert "200 in" in scored.stdout
    bad_request = mlprod("endpoint", "score", "loan", '{"age": 1}', cwd=trained)
    assert bad_request.returncode == 1 and "400 in" in bad_request.stdout

    assert "'v9' does not exist" in one_error_line(
        mlprod("endpoint", "traffic", "loan", "v9=100", cwd=trained))
    line = one_error_line(mlprod("endpoint", "traffic", "loan", "v1=lots", cwd=trained))
    assert "weight of v1 must be a number" in line
    assert "does not exist" in one_error_line(mlprod("endpoint", "show", "nope", cwd=trained))
    assert "does not exist" in one_error_line(mlprod("serve", "nope", cwd=trained))
    assert "--port" in one_error_line(mlprod("serve", "score.ipynb", "--port", "70000",
                                             cwd=trained))
    assert "score" in one_error_line(mlprod("serve", "train.ipynb", cwd=trained))
    assert "not valid JSON" in one_error_line(mlprod("endpoint", "score", "loan", "{x",
                                                     cwd=trained))
    assert one_error_line(mlprod("endpoint", "create", "Bad Name", cwd=trained))
    deleted = mlprod("endpoint", "delete", "loan", cwd=trained)
    assert deleted.returncode == 0
