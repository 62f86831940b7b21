"""The serving process over real HTTP on loopback: errors, concurrency, batching, workers,
Kernel Gateway compatibility, metrics, keys, traffic (A/B, shadow, switch under load)."""
from __future__ import annotations

import collections
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from serving_helpers import metric, post, wait_for, write_echo


def test_answers_with_the_scoring_cell_and_names_the_version(lab):
    reply = post(lab.at("echo"), {"id": 7, "text": "hi", "pause": 0, "fail": False})
    assert reply.status_code == 200
    assert reply.json()["id"] == 7 and reply.json()["tag"] == "a"
    assert reply.headers["X-Mlprod-Version"] == "v1"
    assert reply.headers["X-Request-Id"]
    assert requests.get(f"{lab.url}/health").json()["status"] == "ok"
    ready = requests.get(f"{lab.url}/ready")
    assert ready.status_code == 200 and "echo" in ready.json()["endpoints"]


def test_concurrent_requests_never_mix_their_request(lab):
    def call(i):
        with requests.Session() as session:
            return [(j, post(lab.at("echo"), {"id": j, "text": str(j), "pause": 0, "fail": False},
                             session=session).json()["id"]) for j in range(i * 1000, i * 1000 + 40)]

    with ThreadPoolExecutor(16) as pool:
        pairs = [pair for chunk in pool.map(call, range(16)) for pair in chunk]
    assert len(pairs) == 640 and all(sent == got for sent, got in pairs)


def test_worker_processes_share_the_port(lab):
    pids = {requests.get(f"{lab.url}/health").json()["pid"] for _ in range(60)}
    assert len(pids) == 2


def test_invalid_requests_get_400_naming_the_field(lab):
    reply = post(lab.at("echo"), {"id": 1, "text": "x", "pause": "soon", "fail": False})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["field"] == "pause" and "must be a number" in error["message"]
    reply = post(lab.at("echo"), {"id": 1, "pause": 0, "fail": False})
    assert reply.status_code == 400 and reply.json()["error"]["field"] == "text"
    assert "required" in reply.json()["error"]["message"]
    reply = post(lab.at("echo"), b"{not json")
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_json"
    assert requests.get(lab.at("echo")).status_code == 405
    assert requests.get(f"{lab.url}/nope/predict").status_code == 404


def test_oversized_bodies_get_413_and_the_server_keeps_serving(lab):
    big = {"id": 1, "text": "x" * 70_000, "pause": 0, "fail": False}
    reply = post(lab.at("echo"), big)
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b"x" * 8192
    reply = requests.post(lab.at("echo"), data=chunks(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert post(lab.at("echo"), {"id": 2, "text": "ok", "pause": 0, "fail": False}).status_code == 200


def test_a_scoring_exception_is_a_500_with_an_error_id_and_the_server_keeps_serving(lab):
    reply = post(lab.at("echo"), {"id": 13, "text": "x", "pause": 0, "fail": True})
    assert reply.status_code == 500
    error = reply.json()["error"]
    assert error["exception"] == "ValueError" and error["message"] == "asked to fail on 13"
    assert error["error_id"].startswith("e") and "traceback" not in error
    assert post(lab.at("echo"), {"id": 14, "text": "x", "pause": 0, "fail": False}).json()["id"] == 14
    log = lab.server.log_path.read_text()
    assert error["error_id"] in log and "Traceback" in log  # the id leads to the traceback

    lab.service.update("echo", options={"debug": True})
    try:
        def with_traceback():
            error = post(lab.at("echo"), {"id": 15, "text": "x", "pause": 0, "fail": True}).json()
            return "traceback" in error["error"] and error
        error = wait_for(with_traceback, message="debug on")
        assert "asked to fail on 15" in error["error"]["traceback"]
    finally:
        lab.service.update("echo", options={"debug": False})


def test_a_scoring_call_over_its_timeout_gets_504_and_the_server_keeps_serving(lab):
    reply = post(lab.at("echo"), {"id": 3, "text": "x", "pause": 3.0, "fail": False})
    assert reply.status_code == 504 and reply.json()["error"]["code"] == "timeout"
    assert post(lab.at("echo"), {"id": 4, "text": "x", "pause": 0, "fail": False}).status_code == 200


def test_micro_batching_coalesces_concurrent_requests_and_isolates_a_bad_record(lab):
    barrier = threading.Barrier(24)

    def call(i):
        barrier.wait()
        return i, post(lab.at("batch"), {"id": i, "x": 0.0 if i == 5 else float(i + 1)})

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(call, range(24)))
    for i, reply in results:
        if i == 5:
            assert reply.status_code == 500
            assert reply.json()["error"]["exception"] == "ZeroDivisionError"
        else:
            assert reply.status_code == 200 and reply.json()["id"] == i
            assert reply.json()["inverse"] == pytest.approx(1 / (i + 1))
    sizes = [reply.json()["batch"] for i, reply in results if i != 5]
    assert max(sizes) > 1, sizes  # coalesced
    listed = post(lab.at("batch"), [{"id": 100, "x": 4.0}, {"id": 101, "x": 8.0}])
    assert [r["inverse"] for r in listed.json()] == [0.25, 0.125]
    assert post(lab.at("batch"), [{"id": 1, "x": "a"}]).json()["error"]["field"] == "[0].x"
    metrics = requests.get(f"{lab.url}/metrics").text
    assert metric(metrics, "mlprod_batch_size_count", endpoint="batch") >= 2


def test_kernel_gateway_notebook_is_served_in_compatibility_mode(lab):
    assert requests.get(lab.at("kg", "hello")).text == "hello world\n"
    reply = requests.get(lab.at("kg", "people/ada"), params={"greeting": "hi"})
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"name": "ada", "full_name": "Ada Lovelace", "greeting": "hi"}
    missing = requests.get(lab.at("kg", "people/nobody"))
    assert missing.status_code == 404 and missing.json()["full_name"] is None
    echoed = requests.post(lab.at("kg", "echo"), json={"a": [1, 2]})
    assert echoed.json() == {"you_sent": {"a": [1, 2]}, "content_type": "application/json"}
    assert requests.delete(lab.at("kg", "echo")).status_code == 405
    assert requests.get(lab.at("kg", "nowhere")).status_code == 404
    doc = requests.get(lab.at("kg", "openapi.json")).json()
    assert "/kg/people/{name}" in doc["paths"] and "post" in doc["paths"]["/kg/echo"]


def test_metrics_count_requests_errors_and_latency_by_endpoint_and_version(lab):
    before = requests.get(f"{lab.url}/metrics").text
    for i in range(10):
        post(lab.at("echo"), {"id": i, "text": "m", "pause": 0, "fail": False})
    post(lab.at("echo"), {"id": "x"})
    after = requests.get(f"{lab.url}/metrics").text
    delta = (metric(after, "mlprod_requests_total", endpoint="echo", version="v1", code="200")
             - metric(before, "mlprod_requests_total", endpoint="echo", version="v1", code="200"))
    assert delta == 10  # summed over both workers
    assert metric(after, "mlprod_errors_total", endpoint="echo", kind="invalid") > \
        metric(before, "mlprod_errors_total", endpoint="echo", kind="invalid")
    assert metric(after, "mlprod_request_duration_seconds_count", endpoint="echo") >= \
        metric(before, "mlprod_request_duration_seconds_count", endpoint="echo") + 11


def test_api_keys_are_checked_and_revocation_reaches_the_server(lab):
    body = {"id": 1, "text": "k", "pause": 0, "fail": False}
    assert post(lab.at("secure"), body).status_code == 401
    assert post(lab.at("secure"), body, key="mlp_kbad_nope").status_code == 401
    assert post(lab.at("secure"), body, key=lab.key).status_code == 200
    assert post(lab.at("secure"), body, headers={"X-API-Key": lab.key}).status_code == 200
    assert requests.get(lab.at("secure", "openapi.json")).status_code == 401
    spare = lab.service.create_key("secure", "spare")
    wait_for(lambda: post(lab.at("secure"), body, key=spare["key"]).status_code == 200,
             message="new key live")
    keys = lab.service.list_keys("secure")
    assert {k["key_id"] for k in keys} >= {spare["key_id"]} and all("key" not in k for k in keys)
    lab.service.revoke_key("secure", spare["key_id"])
    wait_for(lambda: post(lab.at("secure"), body, key=spare["key"]).status_code == 401,
             message="revoked key refused")
    assert post(lab.at("secure"), body, key=lab.key).status_code == 200
    assert post(lab.at("echo"), body).status_code == 200  # an endpoint without keys on loopback


def _tags(lab, endpoint, count, headers_for=lambda i: {}):
    with requests.Session() as session:
        return [post(lab.at(endpoint), {"id": i, "text": "t", "pause": 0, "fail": False},
                     headers=headers_for(i), session=session) for i in range(count)]


def test_weighted_split_within_tolerance_and_sticky_by_header(lab):
    lab.service.set_traffic("ab", {"v1": 70, "v2": 30}, sticky_header="X-Customer")
    wait_for(lambda: {r.headers["X-Mlprod-Version"] for r in _tags(lab, "ab", 30)} == {"v1", "v2"},
             message="split live")
    replies = _tags(lab, "ab", 1000)
    assert all(r.status_code == 200 for r in replies)
    share = sum(r.json()["tag"] == "b" for r in replies) / len(replies)
    assert 0.25 <= share <= 0.35, share
    first = _tags(lab, "ab", 200, lambda i: {"X-Customer": f"customer-{i}"})
    again = _tags(lab, "ab", 200, lambda i: {"X-Customer": f"customer-{i}"})
    assert [r.json()["tag"] for r in first] == [r.json()["tag"] for r in again]
    assert 0.15 <= sum(r.json()["tag"] == "b" for r in first) / 200 <= 0.45


def test_the_shadow_gets_a_copy_is_logged_and_never_answers(lab):
    lab.service.set_traffic("ab", {"v1": 100}, shadow="v3")
    wait_for(lambda: lab.service.get("ab")["versions"][2]["status"] == "ready", message="v3 warm")
    time.sleep(0.6)  # both workers polled
    before = lab.service.predictions("ab", shadow=True)["total"]
    first = 7_000_000 + uuid.uuid4().int % 1_000_000   # ids no other test sends
    ids = list(range(first, first + 100))
    with requests.Session() as session:
        replies = [post(lab.at("ab"), {"id": i, "text": "t", "pause": 0, "fail": False},
                        session=session) for i in ids]
    assert {r.json()["tag"] for r in replies} == {"a"}
    assert {r.headers["X-Mlprod-Version"] for r in replies} == {"v1"}

    def copies() -> collections.Counter:
        items = lab.service.predictions("ab", shadow=True, limit=1000)["items"]
        return collections.Counter(e["output"]["id"] for e in items
                                   if e["output"] and e["output"]["id"] in ids)

    wait_for(lambda: len(copies()) == len(ids), message="a shadow entry for every request")
    # a later request's copy is the positive control that every earlier copy has been written
    wait_for(lambda: post(lab.at("ab"), {"id": first - 1, "text": "t", "pause": 0, "fail": False})
             and any(e["output"] and e["output"]["id"] == first - 1 for e in
                     lab.service.predictions("ab", shadow=True, limit=20)["items"]),
             message="the control request's shadow copy")
    seen = copies()
    assert set(seen) == set(ids) and set(seen.values()) == {1}, "one copy per request"
    logged = lab.service.predictions("ab", shadow=True, limit=200)
    assert logged["total"] >= before + 101
    entry = next(e for e in logged["items"] if e["output"]["id"] in ids)
    assert entry["version"] == "v3" and entry["shadow"] is True and entry["status"] == 200
    assert entry["output"]["tag"] == "c" and entry["matches_primary"] is False
    assert entry["input"] is None  # the endpoint did not opt into logging inputs
    metrics = requests.get(f"{lab.url}/metrics").text
    assert metric(metrics, "mlprod_shadow_requests_total", endpoint="ab", version="v3") >= 100


def only(seen: collections.Counter, tag: str) -> bool:
    """True once a quarter second passes with answers from `tag` only (every worker moved)."""
    before = dict(seen)
    time.sleep(0.25)
    return seen[tag] > before.get(tag, 0) and all(
        seen[t] == n for t, n in before.items() if t != tag)


def test_switching_versions_under_load_fails_no_request_and_rollback_is_one_action(lab):
    write_echo(lab.root, "switch_b", "b", extra="time.sleep(1.0)  # a slow setup: the switch waits")
    failures, seen, stop = [], collections.Counter(), threading.Event()
    finished = []

    def hammer():
        with requests.Session() as session:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    reply = post(lab.at("switch"), {"id": i, "text": "s", "pause": 0, "fail": False},
                                 session=session, timeout=10)
                    if reply.status_code != 200:
                        failures.append(reply.status_code)
                    else:
                        seen[reply.json()["tag"]] += 1
                except Exception as exc:  # noqa: BLE001  (any error is a failed request)
                    failures.append(repr(exc))
        finished.append(threading.current_thread().name)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        lab.service.add_version("switch", notebook="switch_b.ipynb", activate=True)
        wait_for(lambda: only(seen, "b"), message="all traffic on the new version")
        lab.service.rollback("switch")  # the old version is still set up: back at once
        wait_for(lambda: only(seen, "a"), timeout=5, message="all traffic back on the old one")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(finished) == len(threads), "a load thread died before the end of its loop"
    assert seen["a"] > 0 and seen["b"] > 0  # how many depends on the machine's load, not on us
    assert lab.service.get("switch")["traffic"]["weights"] == {"v1": 100}
    history = lab.service.traffic_history("switch")
    assert history[0]["reason"].startswith("rollback") and history[0]["current"]


def test_prediction_log_is_off_by_default_and_nothing_of_the_body_is_kept(lab):
    marker = f"marker-{uuid.uuid4().hex}"
    control = uuid.uuid4().int % 1_000_000
    with requests.Session() as session:   # one connection: one worker, one log writer
        for i in range(5):
            assert post(lab.at("echo"), {"id": i, "text": marker, "pause": 0, "fail": False},
                        session=session).ok
        post(lab.at("echo"), {"id": 99, "text": marker, "pause": 0, "fail": True}, session=session)
        post(lab.at("ab"), {"id": 98, "text": marker, "pause": 0, "fail": False},
             session=session)  # with a shadow
        # positive control: an opted-in endpoint's entry, sent last, is written, so anything
        # the requests before it would have logged is written too
        assert post(lab.at("logged"), {"id": control, "ssn": "0", "amount": 1.0,
                                       "applicant": {"name": "x", "city": "y"}},
                    session=session).ok
    wait_for(lambda: any(e["input"] and e["input"].get("id") == control
                         for e in lab.service.predictions("logged", limit=20)["items"]),
             message="the control request's log entry")
    assert lab.service.predictions("echo")["total"] == 0
    for path in (lab.root / ".mlprod").rglob("*"):
        if path.is_file():
            assert marker.encode() not in path.read_bytes(), path


def test_prediction_log_when_opted_in_records_version_latency_and_redacted_fields(lab):
    body = {"id": 21, "ssn": "123-45-6789", "applicant": {"name": "Ada", "city": "London"},
            "amount": 2.5}
    reply = post(lab.at("logged"), body)
    assert reply.json() == {"id": 21, "double": 5.0, "ssn": "123-45-6789"}
    entry = wait_for(lambda: [e for e in lab.service.predictions("logged")["items"]
                              if e["input"]["id"] == 21], message="logged")[0]
    assert entry["version"] == "v1" and entry["status"] == 200 and entry["latency_ms"] > 0
    assert entry["input"] == {"id": 21, "ssn": "[redacted]",
                              "applicant": {"name": "[redacted]", "city": "London"}, "amount": 2.5}
    assert entry["output"] == {"id": 21, "double": 5.0, "ssn": "[redacted]"}
    store = (lab.root / ".mlprod").rglob("mlprod.db*")
    assert all(b"123-45-6789" not in p.read_bytes() for p in store)


def test_info_openapi_and_live_stats_for_the_doors(lab):
    info = requests.get(f"{lab.url}/echo").json()
    assert info["sample"]["text"] == "hello" and info["input_schema"]["required"]
    doc = requests.get(lab.at("echo", "openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert doc["paths"]["/echo/predict"]["post"]["requestBody"]["content"]["application/json"][
        "example"]["text"] == "hello"
    lab.service.live_stats("echo")
    for i in range(20):
        post(lab.at("echo"), {"id": i, "text": "s", "pause": 0, "fail": False})
    stats = lab.service.live_stats("echo")
    assert stats["versions"]["v1"]["req_per_s"] > 0 and stats["versions"]["v1"]["latency_ms"]["p50"] > 0
    view = lab.service.get("echo")
    assert view["servers"][0]["url"] == lab.url and view["versions"][0]["status"] == "ready"
    assert [s["url"] for s in lab.service.servers()] == [lab.url]
    reply = lab.service.test_request("echo", {"id": 5, "text": "c", "pause": 0, "fail": False})
    assert reply["status"] == 200 and reply["via"] == lab.url and reply["body"]["id"] == 5


def test_a_version_whose_setup_fails_never_takes_traffic(lab):
    from serving_helpers import write_scoring_notebook

    write_scoring_notebook(lab.root / "broken.ipynb", setup=["x = 1", "open('missing.csv')"],
                           sample='request = {"id": 1}', score="response = {'id': request['id']}")
    added = lab.service.add_version("echo", notebook="broken.ipynb", activate=True)
    status = wait_for(lambda: (lambda v: v["status"] == "failed" and v)(
        next(v for v in lab.service.versions("echo") if v["version"] == added["version"])),
        message="version marked failed")
    assert "FileNotFoundError" in status["error"] and "cell 1" in status["error"]
    replies = _tags(lab, "echo", 20)
    assert all(r.status_code == 200 and r.headers["X-Mlprod-Version"] == "v1" for r in replies)
    lab.service.rollback("echo")
    assert lab.service.get("echo")["traffic"]["weights"] == {"v1": 100}
    assert json.loads(json.dumps(lab.service.list()))  # the doors' list is plain JSON


def test_a_worker_that_dies_is_replaced_and_the_others_keep_serving(lab):
    import os
    import signal

    pids = {requests.get(f"{lab.url}/health").json()["pid"] for _ in range(40)}
    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)  # what was on the dead worker's connections is lost
    body = {"id": 1, "text": "w", "pause": 0, "fail": False}

    def replaced():
        try:
            seen = {requests.get(f"{lab.url}/health").json()["pid"] for _ in range(40)}
        except requests.ConnectionError:
            return False
        return len(seen) == 2 and victim not in seen
    wait_for(replaced, timeout=30, message="a new worker")
    assert all(post(lab.at("echo"), dict(body, id=i)).json()["id"] == i for i in range(20))
