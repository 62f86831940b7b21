"""The example's scoring notebook, served: the server answers what the notebook itself computes
(papermill, real kernel), MLflow clients' payloads work, bundles deploy and roll back."""
from __future__ import annotations

import json

import nbformat
import pandas as pd
import papermill
import pytest
import requests
from serving_helpers import post, wait_for, write_scoring_notebook

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.serving import serve_notebook

FEATURES = ["age", "income", "loan_amount", "term_months", "credit_score", "employment_years",
            "debt_to_income"]


@pytest.fixture(scope="module")
def loan_server(loan):
    server = serve_notebook(loan.root / "score.ipynb", workers=1, poll_interval=0.2)
    yield server
    server.stop()


def _applications(loan, count: int) -> list[dict]:
    rows = pd.read_csv(loan.root / "data" / "applications.csv").head(count)
    return [json.loads(row.to_json()) for _, row in rows[FEATURES].iterrows()]


def test_the_server_answers_what_the_notebook_computes(loan, loan_server, tmp_path):
    sample = loan.endpoints.sample("score")
    others = _applications(loan, 3)
    nb = nbformat.read(loan.root / "score.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "mlprod-score" in c.metadata.get("tags", []))
    score_source = nb.cells[index].source
    report = "import json\nprint('RESPONSE', json.dumps(response))"
    extra = [nbformat.v4.new_code_cell(report)]
    for request in others:  # the scoring cell's own code, in the notebook's kernel
        extra.append(nbformat.v4.new_code_cell(f"request = {json.dumps(request)}"))
        extra.append(nbformat.v4.new_code_cell(score_source))
        extra.append(nbformat.v4.new_code_cell(report))
    nb.cells[index + 1:index + 1] = extra
    check = loan.root / ".score_check.ipynb"
    nbformat.write(nb, check)
    out = papermill.execute_notebook(str(check), str(tmp_path / "out.ipynb"), cwd=str(loan.root),
                                     kernel_name="python3", progress_bar=False)
    expected = [json.loads(line.split(" ", 1)[1])
                for cell in out.cells if cell.cell_type == "code"
                for output in cell.get("outputs", []) if output.get("name") == "stdout"
                for line in output["text"].splitlines() if line.startswith("RESPONSE ")]
    assert len(expected) == 4
    for request, answer in zip([sample] + others, expected):
        reply = post(f"{loan_server.url}/score/predict", request)
        assert reply.status_code == 200 and reply.json() == answer
        assert loan.endpoints.score("score", request)["body"] == answer  # %%mlprod score
    assert {a["decision"] for a in expected} <= {"approve", "decline"}


def test_mlflow_clients_payloads_in_all_four_formats_and_csv(loan, loan_server):
    records = _applications(loan, 3)
    expected = [post(f"{loan_server.url}/score/predict", r).json() for r in records]
    url = f"{loan_server.url}/score/invocations"
    payloads = {
        "dataframe_split": {"dataframe_split": {"columns": FEATURES, "index": [0, 1, 2],
                                                "data": [[r[c] for c in FEATURES] for r in records]}},
        "dataframe_records": {"dataframe_records": records},
        "instances": {"instances": records},
        "instances as rows": {"instances": [[r[c] for c in FEATURES] for r in records]},
        "inputs": {"inputs": {c: [r[c] for r in records] for c in FEATURES}},
    }
    for name, payload in payloads.items():
        reply = requests.post(url, json=payload)
        assert reply.status_code == 200, (name, reply.text)
        assert reply.json() == {"predictions": expected}, name
    csv = pd.DataFrame(records).to_csv(index=False)
    reply = requests.post(url, data=csv, headers={"Content-Type": "text/csv"})
    assert reply.json() == {"predictions": expected}
    bad = requests.post(url, json={"dataframe_records": [dict(records[0], income="lots")]})
    assert bad.status_code == 400 and bad.json()["error_code"] == "BAD_REQUEST"  # MLflow's body
    assert bad.json()["field"] == "[0].income"
    # the scoring cell reads no `params`: sending some is refused, not silently dropped
    ignored = requests.post(url, json={"inputs": records, "params": {"ignored": True}})
    assert ignored.status_code == 400 and ignored.json()["field"] == "params"
    assert requests.post(url, json={"records": records}).status_code == 400
    assert requests.get(f"{loan_server.url}/score/ping").status_code == 200


def test_numbers_too_large_for_the_model_answer_422_naming_the_field(loan, loan_server):
    """1e308 is valid JSON and passes the schema, but once scaled it overflows to infinity and
    scikit-learn refuses the row: the client's to fix, so a 422 naming the field, not a 500."""
    record = dict(_applications(loan, 1)[0], debt_to_income=1e308)
    reply = post(f"{loan_server.url}/score/predict", record)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "out_of_range" and error["field"] == "debt_to_income"
    assert "debt_to_income = 1e+308" in error["message"] and "infinity" in error["message"]
    assert loan.endpoints.score("score", record)["status"] == 422  # %%mlprod score alike
    # MLflow clients get MLflow's answer to a failing predict: 400 BAD_REQUEST
    mlflow = requests.post(f"{loan_server.url}/score/invocations",
                           json={"dataframe_records": [record]})
    assert mlflow.status_code == 400 and mlflow.json()["error_code"] == "BAD_REQUEST"
    assert "infinity" in mlflow.json()["message"]


def test_openapi_document_describes_the_endpoint(loan, loan_server):
    doc = requests.get(f"{loan_server.url}/score/openapi.json").json()
    body = doc["paths"]["/score/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["required"] == FEATURES
    assert body["example"] == loan.endpoints.sample("score")
    assert "/score/invocations" in doc["paths"] and "security" not in doc
    view = loan.endpoints.get("score")
    assert view["input_schema"]["required"] == FEATURES and view["mode"] == "mlprod"


def _bundle_tree(project, bundle_id: str, dest) -> None:
    """The bundle's files, as a node lays them out from its blobs when it activates it."""
    for entry in project.bundles.manifest(bundle_id)["files"]:
        (dest / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        project.bundles.blobs.copy_out(entry["sha256"], dest / entry["path"])


def test_a_bundle_version_deploys_warm_and_rolls_back(loan, loan_server, tmp_path):
    bundle_id = loan.bundles.create("served from a bundle")["id"]  # a real bundle, content-hashed
    label = bundle_id[:12]                                          # the short id labels it
    bundle = tmp_path / "tree"
    _bundle_tree(loan, bundle_id, bundle)
    before = post(f"{loan_server.url}/score/predict", loan.endpoints.sample("score")).json()
    [view] = loan.endpoints.deploy_bundle(bundle, bundle_id)
    assert view["traffic"]["weights"] == {label: 100}
    version = next(v for v in view["versions"] if v["version"] == label)
    assert version["source"] == "bundle" and version["bundle_id"] == bundle_id
    sample = loan.endpoints.sample("score")
    reply = wait_for(lambda: (lambda r: r.headers["X-Mlprod-Version"] == label and r)(
        post(f"{loan_server.url}/score/predict", sample)), message="bundle version live")
    assert reply.json() == before
    loan.endpoints.rollback("score")
    wait_for(lambda: post(f"{loan_server.url}/score/predict", sample).headers["X-Mlprod-Version"]
             == "v1", message="rolled back")
    again = loan.endpoints.deploy_bundle(bundle, bundle_id)  # redeploying reuses the version
    assert [v["version"] for v in again[0]["versions"]] == ["v1", label]
    loan.endpoints.rollback("score")
    empty = tmp_path / "no-scoring"
    empty.mkdir()
    assert loan.endpoints.deploy_bundle(empty, "e" * 64) == []  # nothing to serve: no error


@pytest.fixture
def broken_notebook(loan):
    """A scoring notebook whose setup fails; removed afterwards, since `loan` is shared and a
    later bundle of it must not carry the broken endpoint."""
    path = loan.root / "broken.ipynb"
    write_scoring_notebook(path,
                           setup=["import joblib", "model = joblib.load('models/missing.joblib')"],
                           sample="request = {'x': 1}", score="response = model.predict([[1]])")
    yield path
    path.unlink(missing_ok=True)


def test_a_setup_failure_stops_the_start_with_a_clear_message(loan, broken_notebook):
    loan.endpoints.create("broken", notebook="broken.ipynb")
    with pytest.raises(InvalidInput) as info:
        loan.endpoints.serve(["broken"])
    error = info.value
    assert error.code == "setup_failed"
    assert "cell 1" in error.message and "FileNotFoundError" in error.message
    assert "models/missing.joblib" in error.message
    assert error.details["exception"] == "FileNotFoundError"
    assert loan.endpoints.get("broken")["versions"][0]["status"] == "failed"
    with pytest.raises(InvalidInput) as info:
        loan.endpoints.score("broken", {"x": 1})
    assert info.value.code == "setup_failed"
    loan.endpoints.delete("broken")


def test_the_service_gives_the_openapi_document_without_running_the_notebook(loan):
    doc = loan.endpoints.openapi("score", server_url="http://127.0.0.1:8000")
    assert doc["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert doc["paths"]["/score/predict"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["required"] == FEATURES
