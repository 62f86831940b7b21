"""The engine in this process: notebook split, per-request locals, schemas, timeouts, payload
parsing, redaction, and the service's validation. No server here."""
from __future__ import annotations

import ast
import threading
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from serving_helpers import ECHO_SAMPLE, write_echo, write_scoring_notebook

from jupyter_mlprod.errors import Conflict, InvalidInput, NotFound
from jupyter_mlprod.project import Project
from jupyter_mlprod.serving.mlflow_compat import parse_invocations
from jupyter_mlprod.serving.notebook_cells import MISSING, split_notebook
from jupyter_mlprod.serving.predlog import redact
from jupyter_mlprod.serving.schema import Validator, infer_schema


@pytest.fixture
def project(tmp_path):
    project = Project(tmp_path)
    yield project
    project.close()


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


def test_split_by_tags_and_kernel_gateway_routes():
    spec = split_notebook(_nb(("import x", None), ("train()", ["mlprod-skip"]),
                              ("request = {'a': 1}", ["mlprod-sample"]),
                              ("response = request", ["mlprod-score"]),
                              ("# POST /ignored\nprint(1)", None)), "n.ipynb")
    assert spec.mode == "mlprod" and [c.source for c in spec.setup] == ["import x"]
    assert spec.score.index == 3 and spec.static_sample() == {"a": 1} and spec.routes == ()
    kg = split_notebook(_nb(("import json", None), ("# GET /people/:name\nprint(1)", None),
                            ("# ResponseInfo GET /people/:name\nprint('{}')", None)), "kg.ipynb")
    assert kg.mode == "kernel_gateway" and kg.routes[0].path == "/people/:name"
    assert kg.routes[0].response_info is not None and len(kg.setup) == 1
    computed = split_notebook(_nb(("request = make()", ["mlprod-sample"]),
                                  ("response = 1", ["mlprod-score"])), "c.ipynb")
    assert computed.static_sample() is MISSING


@pytest.mark.parametrize("cells, words", [
    ([("x = 1", None)], "no cell tagged mlprod-score"),
    ([("response = 1", ["mlprod-score"]), ("response = 2", ["mlprod-score"])], "2 cells are tagged"),
    ([("print(request)", ["mlprod-score"])], "never sets `response`"),
    ([("response = (", ["mlprod-score"])], "syntax error on line 1"),
])
def test_notebooks_that_cannot_be_served_are_refused_with_the_reason(cells, words):
    with pytest.raises(InvalidInput) as info:
        split_notebook(_nb(*cells), "bad.ipynb")
    assert words in info.value.message and "bad.ipynb" in info.value.message


def test_concurrent_calls_in_threads_each_see_their_own_request(project):
    write_scoring_notebook(
        project.root / "slow.ipynb", setup=["import time"], sample="request = {'id': 0}",
        score="ident = request['id']\ntime.sleep(0.002)\n"
              "doubled = [ident * 2 for _ in range(3)]  # a comprehension sees the locals\n"
              "response = {'id': ident, 'again': request['id'], 'doubled': doubled[0]}")
    score = project.endpoints.score

    def call(i):
        return i, score("slow.ipynb", {"id": i})["body"]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(400)))
    assert all(body == {"id": i, "again": i, "doubled": 2 * i} for i, body in results)


def test_in_process_score_answers_like_the_server(project):
    write_echo(project.root, "echo", "a")
    score = project.endpoints.score
    ok = score("echo.ipynb", {"id": 3, "text": "x", "pause": 0, "fail": False})
    assert ok["status"] == 200 and ok["body"]["id"] == 3 and ok["latency_ms"] >= 0
    bad = score("echo.ipynb", {"id": 3, "text": 5, "pause": 0, "fail": False})
    assert bad["status"] == 400 and bad["body"]["error"]["field"] == "text"
    failed = score("echo.ipynb", {"id": 3, "text": "x", "pause": 0, "fail": True})
    assert failed["status"] == 500 and failed["body"]["error"]["exception"] == "ValueError"
    slow = score("echo.ipynb", {"id": 3, "text": "x", "pause": 5, "fail": False},
                 options={"timeout_ms": 200})  # main thread: the alarm interrupts the sleep
    assert slow["status"] == 504 and slow["body"]["error"]["code"] == "timeout"
    assert project.endpoints.sample("echo.ipynb")["text"] == "hello"


def test_a_busy_loop_in_a_thread_is_stopped_by_the_watchdog(project):
    write_scoring_notebook(project.root / "spin.ipynb", setup=[], sample="request = {}",
                           score="if request.get('spin'):\n    while True:\n        pass\n"
                                 "response = 'ok'")
    out = {}

    def call():
        out["reply"] = project.endpoints.score("spin.ipynb", {"spin": True},
                                               options={"timeout_ms": 300})

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the busy loop was never stopped"
    assert out["reply"]["status"] == 504 and out["reply"]["body"]["error"]["code"] == "timeout"


def test_magics_are_tolerated_or_refused_clearly(project):
    write_scoring_notebook(project.root / "magic.ipynb", setup=["%matplotlib inline\nX = 2"],
                           sample="request = {'x': 1}", score="response = request['x'] * X")
    assert project.endpoints.score("magic.ipynb", {"x": 4})["body"] == 8
    write_scoring_notebook(project.root / "shell.ipynb", setup=["!pip install nothing"],
                           sample="request = {}", score="response = 1")
    with pytest.raises(InvalidInput) as info:
        project.endpoints.score("shell.ipynb", {})
    assert "shell commands" in info.value.message and "mlprod-skip" in info.value.message


def test_batching_cells_must_answer_a_list(project):
    write_scoring_notebook(project.root / "single.ipynb", setup=[], sample="request = {'x': 1}",
                           score="response = {'y': request['x']}")
    with pytest.raises(InvalidInput) as info:
        project.endpoints.score("single.ipynb", {"x": 1},
                                options={"batching": {"enabled": True}})
    assert "batching is on" in info.value.message and "list" in info.value.message
    write_scoring_notebook(project.root / "scalar.ipynb", setup=[], sample="request = {'x': 1}",
                           score="response = len(request)")
    with pytest.raises(InvalidInput) as info:
        project.endpoints.score("scalar.ipynb", {"x": 1}, options={"batching": {"enabled": True}})
    assert "must set `response` to a list of 1; it set int" in info.value.message


def test_schema_inference_and_field_named_errors():
    schema = infer_schema({"age": 3, "name": "a", "ok": True, "tags": ["x"],
                           "address": {"city": "Paris"}, "note": None})
    assert schema["properties"]["age"] == {"type": "number"}
    assert "note" not in schema["required"]
    validator = Validator(schema)
    good = {"age": 3.5, "name": "b", "ok": False, "tags": [], "address": {"city": "Oslo"}}
    validator.validate(good)
    for bad, field, words in [
        (dict(good, age="old"), "age", "must be a number, got \"old\""),
        (dict(good, ok=1), "ok", "true or false"),
        (dict(good, address={"city": 5}), "address.city", "must be a string"),
        (dict(good, tags=[1]), "tags[0]", "must be a string"),
        ({k: v for k, v in good.items() if k != "name"}, "name", "is required"),
    ]:
        with pytest.raises(InvalidInput) as info:
            validator.validate(bad)
        assert info.value.field == field and words in info.value.message, info.value.message
    declared = Validator({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}})
    with pytest.raises(InvalidInput) as info:
        declared.validate({"n": 0})
    assert info.value.field == "n" and "minimum 1" in info.value.message


def test_mlflow_payload_parsing():
    cols = ["a", "b"]
    want = [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert parse_invocations(b'{"dataframe_split": {"columns": ["a","b"], "data": [[1,2],[3,4]]}}',
                             "application/json", None) == want
    assert parse_invocations(b'{"instances": [[1,2],[3,4]]}', "application/json", cols) == want
    assert parse_invocations(b'{"inputs": {"a": [1,3], "b": [2,4]}}', "application/json",
                             None) == want
    assert parse_invocations(b"a,b\n1,2\n3,4\n", "text/csv", None) == want
    with pytest.raises(InvalidInput) as info:
        parse_invocations(b'{"instances": [[1]]}', "application/json", cols)
    assert info.value.field == "instances[0]"
    with pytest.raises(InvalidInput) as refused:
        parse_invocations(b'{"dataframe_records": [], "instances": []}', "application/json", None)
    assert refused.value.field == "instances"


def test_redaction_by_name_and_dotted_path():
    value = {"ssn": 1, "a": {"ssn": 2, "name": "n", "keep": 3}, "rows": [{"ssn": 4}]}
    assert redact(value, ["ssn", "a.name"]) == {
        "ssn": "[redacted]", "a": {"ssn": "[redacted]", "name": "[redacted]", "keep": 3},
        "rows": [{"ssn": "[redacted]"}]}


def test_service_validates_names_versions_traffic_and_options(project):
    service = project.endpoints
    write_echo(project.root, "echo", "a")
    for bad in ("Has Space", "metrics", "x" * 80):
        with pytest.raises(InvalidInput) as refused:
            service.create(bad)
        assert refused.value.field == "name" and refused.value.code == "invalid_name"
    service.create("e", notebook="echo.ipynb")
    with pytest.raises(Conflict):
        service.create("e")
    with pytest.raises(InvalidInput) as info:
        service.set_traffic("e", {"v9": 100})
    assert info.value.field == "weights.v9"
    with pytest.raises(InvalidInput) as refused:
        service.set_traffic("e", {"v1": 0})
    assert refused.value.field == "weights"
    with pytest.raises(InvalidInput) as refused:
        service.set_traffic("e", {"v1": 100}, shadow="v1")
    assert refused.value.field == "shadow"
    with pytest.raises(Conflict):
        service.rollback("e")
    with pytest.raises(InvalidInput) as info:
        service.update("e", options={"timeout_ms": -1})
    assert info.value.field == "options.timeout_ms"
    with pytest.raises(InvalidInput) as refused:
        service.update("e", options={"input_schema": {"type": "nonsense"}})
    assert refused.value.field == "input_schema"
    with pytest.raises(InvalidInput) as refused:
        service.update("e", options={"colour": "blue"})
    assert refused.value.field == "options.colour"
    with pytest.raises(NotFound):
        service.get("nope")
    with pytest.raises(InvalidInput) as refused:
        service.add_version("e", notebook="../outside.ipynb")
    assert refused.value.field == "path" and refused.value.code == "path_outside_project"
    write_echo(project.root, "echo2", "b")
    added = service.add_version("e", notebook="echo2.ipynb")
    assert added["version"] == "v2" and added["weight"] == 0  # not activated by default
    assert service.promote("e", "v2")["traffic"]["weights"] == {"v2": 100}
    assert service.rollback("e")["traffic"]["weights"] == {"v1": 100}
    key = service.create_key("e", "ci")
    assert key["key"].startswith("mlp_" + key["key_id"])
    assert key["key"] not in str(service.list_keys("e")) and service.get("e")["keys"] == 1
    # the sample the echo notebook declares, as its mlprod-sample cell defines it
    declared = ast.literal_eval(ECHO_SAMPLE.partition("=")[2].strip())
    assert service.sample("e") == declared == {"id": 1, "text": "hello", "pause": 0.0, "fail": False}
