"""Every 5xx the fault audit found, and the request-body limits: each hostile or odd input is
a 4xx naming what is at fault, through the real doors (Jupyter REST, the production node, the
serving server, the CLI), never a 500."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from served import REPO

DEEP = "[" * 5000 + "]" * 5000  # Python's json needs ~1000 levels to blow its stack


def _error(reply) -> dict:
    status, body = reply
    assert isinstance(body, dict) and "error" in body, (status, body)
    return body["error"]


# -- the Jupyter server (REST) ------------------------------------------------------------
def test_interval_too_long_is_an_error_by_field(lab):
    status, body = lab.request("POST", "scenarios/validate",
                               '{"name": "big", "triggers": [{"type": "interval", "every": 1e308}]}',
                               {"Content-Type": "application/json"})
    assert status == 200, body
    assert not body["valid"]
    assert [e["field"] for e in body["errors"]] == ["triggers[0].every"]
    status, body = lab.request("POST", "scenarios", json.dumps(
        {"name": "big", "triggers": [{"type": "interval", "every": 1e308}]}),
        {"Content-Type": "application/json"})
    assert status == 400 and body["error"]["field"] == "triggers[0].every", body


def test_cron_that_never_fires_is_refused_by_rest_and_cli(lab):
    spec = {"name": "never", "triggers": [{"type": "cron", "cron": "0 6 31 2 *"}]}
    status, body = lab.request("POST", "scenarios/validate", json.dumps(spec),
                               {"Content-Type": "application/json"})
    assert status == 200 and not body["valid"], body
    assert body["errors"][0]["field"] == "triggers[0].cron"
    assert "never fires" in body["errors"][0]["message"]
    status, body = lab.request("POST", "scenarios", json.dumps(spec),
                               {"Content-Type": "application/json"})
    assert status == 400 and body["error"]["field"] == "triggers[0].cron", body

    done = subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", "scenario", "add",
                           "--name", "never", "--cron", "0 6 31 2 *"], cwd=lab.project,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "never fires" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("method,path", [("POST", "runs"), ("POST", "scenarios/validate"),
                                         ("PUT", "notebooks/step?path=hello.ipynb")])
def test_deeply_nested_json_is_a_400_naming_the_body(lab, method, path):
    reply = lab.request(method, path, DEEP, {"Content-Type": "application/json"})
    assert reply[0] == 400 and _error(reply)["field"] == "body", reply
    assert _error(reply)["code"] == "too_deep"


def test_body_over_the_configured_limit_is_a_413(lab):
    big = json.dumps({"steps": ["hello"] * ((11 << 20) // 9)})  # over the 10 MiB default
    assert len(big) > 10 << 20
    reply = lab.request("POST", "runs", big, {"Content-Type": "application/json"})
    assert reply[0] == 413 and _error(reply)["code"] == "body_too_large", reply[0]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_415(lab, content_type):
    reply = lab.request("POST", "scenarios/validate", '{"name": "x"}',
                        {"Content-Type": content_type})
    assert reply[0] == 415, reply
    assert _error(reply)["field"] == "Content-Type"


def test_a_file_name_too_long_is_a_400_naming_path(lab):
    for method in ("GET", "PUT", "DELETE"):
        body = '{"name": "x"}' if method == "PUT" else None
        reply = lab.request(method, "notebooks/step?path=" + "a" * 300 + ".ipynb", body,
                            {"Content-Type": "application/json"} if body else None)
        assert reply[0] == 400 and _error(reply)["field"] == "path", (method, reply)


@pytest.fixture(scope="module")
def keyed(lab):
    """An endpoint of the lab's project (created, not served)."""
    from serving_helpers import write_echo

    write_echo(lab.project, "keyed", "k")
    status, body = lab.request("POST", "endpoints", '{"name": "keyed", "notebook": "keyed.ipynb"}',
                               {"Content-Type": "application/json"})
    assert status == 201, body
    return "keyed"


def test_a_null_body_does_not_create_a_key(lab, keyed):
    reply = lab.request("POST", "endpoints/keyed/keys", "null",
                        {"Content-Type": "application/json"})
    assert reply[0] == 400 and _error(reply)["field"] == "body", reply
    assert lab.request("GET", "endpoints/keyed/keys")[1]["keys"] == []
    # schema checks name the field: a label must be text
    reply = lab.request("POST", "endpoints/keyed/keys", '{"label": 5}',
                        {"Content-Type": "application/json"})
    assert reply[0] == 400 and _error(reply)["field"] == "label", reply
    status, body = lab.request("POST", "endpoints/keyed/keys", '{"label": "ci"}',
                               {"Content-Type": "application/json"})
    assert status == 201 and body["key"], body


def test_query_parameters_and_required_bodies_follow_the_contract(lab, keyed):
    for path, field in (("endpoints/keyed/predictions?limit=501", "limit"),
                        ("endpoints/keyed/predictions?offset=-1", "offset"),
                        ("endpoints/keyed/traffic?limit=0", "limit"),
                        ("scenarios/timeline?since=", "since"),
                        ("scenarios/timeline?until=yesterday", "until")):
        reply = lab.request("GET", path)
        assert reply[0] == 400 and _error(reply)["field"] == field, (path, reply)
    assert lab.request("GET", "endpoints/keyed/predictions?limit=500")[0] == 200
    reply = lab.request("PUT", "endpoints/keyed")  # the contract requires a body here
    assert reply[0] == 400 and _error(reply)["field"] == "body", reply


def test_a_missing_node_token_names_the_setting(lab):
    os.environ.pop("MLPROD_TEST_NEVER_SET_TOKEN", None)
    status, body = lab.request("POST", "nodes", json.dumps(
        {"name": "far", "url": "http://127.0.0.1:9", "token_env": "MLPROD_TEST_NEVER_SET_TOKEN"}),
        {"Content-Type": "application/json"})
    assert status in (200, 201), body
    reply = lab.request("GET", "nodes/far/deployments")
    assert reply[0] == 400, reply
    assert _error(reply)["field"] == "token_env" and "MLPROD_TEST_NEVER_SET_TOKEN" in \
        _error(reply)["message"]


@pytest.mark.parametrize("trigger", [{"type": {}}, {"type": "run_finished", "scenario": []},
                                     {"type": "run_finished", "scenario": "x", "on": {}}])
def test_odd_values_in_a_scenario_are_400s(lab, trigger):
    status, body = lab.request("POST", "scenarios/validate",
                               json.dumps({"name": "odd", "triggers": [trigger]}),
                               {"Content-Type": "application/json"})
    assert status in (200, 400), body
    if status == 200:
        assert not body["valid"] and body["errors"][0]["field"].startswith("triggers[0]")


# -- the production node ------------------------------------------------------------------
def _node(node, method, path, body=None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {node.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    reply = requests.request(method, node.url + path, data=body, headers=headers, timeout=30)
    return reply.status_code, reply.json()


def test_node_refuses_deep_large_and_non_json_bodies(node):
    status, body = _node(node, "POST", "/api/node/bundles", DEEP[:200] * 0 + "[" * 40 + "]" * 40)
    assert status == 400 and body["error"]["code"] == "too_deep", body
    status, body = _node(node, "POST", "/api/node/bundles", DEEP)
    assert status in (400, 413), body  # 10,000 bytes: over this node's 4096-byte cap too
    status, body = _node(node, "POST", "/api/node/bundles", json.dumps({"x": "y" * 5000}))
    assert status == 413 and body["error"]["code"] == "body_too_large", body
    status, body = _node(node, "POST", "/api/node/bundles", '{"bundle_id": "ab"}', "text/plain")
    assert status == 415, body


def test_node_verify_with_a_huge_id_is_a_404(node):
    status, body = _node(node, "GET", "/api/node/deployments/99999999999999999999999/verify",
                         content_type=None)
    assert status == 404 and body["error"]["field"] == "id", body
    status, body = _node(node, "GET", "/api/node/runs/99999999999999999999999",
                         content_type=None)
    assert status in (404, 409), body


# -- the serving server -------------------------------------------------------------------
def _score(serving, body, path="predict", content_type="application/json"):
    reply = requests.post(f"{serving.url}/echo/{path}", data=body,
                          headers={"Content-Type": content_type}, timeout=30)
    return reply.status_code, reply.json()


def test_serving_answers_numbers_out_of_range_with_a_400_naming_the_field(serving):
    assert _score(serving, '{"age": 41}') == (200, {"age": 41, "double": 82})
    for raw in ('{"age": 1e400}', '{"age": -1e400}', '{"age": ' + "1" * 400 + "}"):
        status, body = _score(serving, raw)
        assert status == 400 and body["error"]["field"] == "age", (raw, body)
    status, body = _score(serving, '{"age": NaN}')
    assert status == 400, body
    status, body = _score(serving, '{"dataframe_records": [{"age": 1e400}]}', "invocations")
    assert status == 400 and body["error_code"] == "BAD_REQUEST", body  # MLflow's error body
    assert body["field"] == "dataframe_records[0].age", body


def test_serving_refuses_deep_json_and_other_content_types(serving):
    status, body = _score(serving, DEEP)
    assert status == 400 and body["error"]["code"] == "too_deep", body
    status, body = _score(serving, DEEP, "invocations")  # MLflow's error body there
    assert status == 400 and body["error_code"] == "BAD_REQUEST" and "nest" in body["message"]
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        status, body = _score(serving, '{"age": 41}', content_type=content_type)
        assert status == 415, (content_type, body)
    status, _ = _score(serving, "age\n41\n", "invocations", "text/csv")
    assert status == 200
