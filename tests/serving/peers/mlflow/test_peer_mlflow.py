"""MLflow's scoring-server tests (tests/pyfunc/test_scoring_server.py of mlflow/mlflow, Apache-2.0:
LICENSE.txt here), ported to `mlprod serve`: the same payloads, content types and expectations,
sent over HTTP to `POST /<endpoint>/invocations` of notebooks serving MLflow's test model
(k-nearest neighbours on iris's first two features: iris_knn.ipynb). One server for the module.
What is not ported, and why, is listed in README.md here.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import sklearn.neighbors as knn
from sklearn import datasets

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from peer_helpers import MlprodServe  # noqa: E402

HERE = Path(__file__).resolve().parent
CONTENT_TYPE_JSON, CONTENT_TYPE_CSV = "application/json", "text/csv"


@pytest.fixture(scope="module")
def sklearn_model():
    iris = datasets.load_iris()
    X = iris.data[:, :2]
    return knn.KNeighborsClassifier().fit(X, iris.target), X


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-peer")
    notebooks = ("iris_knn.ipynb", "iris_params.ipynb", "constant.ipynb")
    for name in notebooks:
        shutil.copy(HERE / name, root / name)
    served = MlprodServe(root, *notebooks, "--workers", "1", ready_path="/iris_knn/ping")
    yield served
    served.stop()


def score(server, data, content_type=CONTENT_TYPE_JSON, endpoint="iris_knn"):
    if isinstance(data, pd.DataFrame):  # as MLflow's pyfunc_serve_and_score_model sends one
        data = json.dumps({"dataframe_split": data.to_dict(orient="split")})
    return requests.post(f"{server.url}/{endpoint}/invocations", data=data,
                         headers={"Content-Type": content_type})


def bad_request(response) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "BAD_REQUEST" and "message" in body
    return body


def test_scoring_server_responds_to_malformed_json_input_with_error_code_and_message(server):
    body = bad_request(score(server, "this is,,,, not valid json"))
    assert ("Failed to parse input from JSON. Ensure that input is a valid JSON formatted string."
            in body["message"])


def test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message(server):
    for content in [1, "1", [1], {"not": "a serialized dataframe"},
                    {"dataframe_records": [], "dataframe_split": {"data": []}}]:
        body = bad_request(score(server, json.dumps(content)))
        assert ("The input must be a JSON dictionary with exactly one of the input fields"
                in body["message"]), content


def test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code(
        server, sklearn_model):
    pdf = pd.DataFrame(sklearn_model[1])
    body = bad_request(score(server, json.dumps({"dataframe_split": pdf.to_dict(orient="records")})))
    assert "Dataframe split format must be a dictionary. Got list" in body["message"]
    body = bad_request(score(server, json.dumps({"dataframe_records": pdf.to_dict(orient="split")})))
    assert "Dataframe records format must be a list of records. Got dictionary." in body["message"]


def test_scoring_server_responds_to_invalid_dataframe_with_stacktrace_and_error_code(server):
    content = json.dumps({"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}})
    body = bad_request(score(server, content))
    assert "Provided dataframe_split field is not a valid dataframe representation" in body["message"]


def test_scoring_server_responds_to_incompatible_inference_dataframe_with_stacktrace_and_error_code(
        server):
    body = bad_request(score(server, pd.DataFrame(np.array(range(10)))))
    assert "stack_trace" in body


def test_scoring_server_responds_to_invalid_csv_input_with_stacktrace_and_error_code(server):
    body = bad_request(score(server, "", CONTENT_TYPE_CSV))
    assert "stack_trace" in body


def test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation(
        server, sklearn_model):
    model, X = sklearn_model
    content = json.dumps({"dataframe_records": pd.DataFrame(X).to_dict(orient="records")})
    for content_type in (CONTENT_TYPE_JSON, CONTENT_TYPE_JSON + "; charset=UTF-8"):
        response = score(server, content, content_type)
        assert response.status_code == 200
        assert response.json() == {"predictions": model.predict(X).tolist()}


def test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_split_orientation(
        server, sklearn_model):
    model, X = sklearn_model
    content = json.dumps({"dataframe_split": pd.DataFrame(X).to_dict(orient="split")})
    for content_type in (CONTENT_TYPE_JSON + "; charset=UTF-8", CONTENT_TYPE_JSON):
        response = score(server, content, content_type)
        assert response.status_code == 200
        assert response.json() == {"predictions": model.predict(X).tolist()}


@pytest.mark.parametrize("content_type", ["not_a_supported_content_type", "text/plain",
                                          CONTENT_TYPE_JSON + "; something=something"])
def test_scoring_server_responds_to_invalid_content_type_request_with_unsupported_content_type_code(
        server, sklearn_model, content_type):
    content = pd.DataFrame(sklearn_model[1]).to_json(orient="split")
    assert score(server, content, content_type).status_code == 415


@pytest.mark.parametrize("payload", ["instances", "instances as objects", "inputs as columns",
                                     "csv"])
def test_scoring_server_successfully_evaluates_correct_tf_serving_and_csv(
        server, sklearn_model, payload):
    """MLflow's tf-serving cases (`instances` rows; its keras cases send objects and columns)
    and CSV, all against the sklearn model."""
    model, X = sklearn_model
    frame = pd.DataFrame(X, columns=["0", "1"])
    data, content_type = {
        "instances": (json.dumps({"instances": X.tolist()}), CONTENT_TYPE_JSON),
        "instances as objects": (json.dumps({"instances": frame.to_dict(orient="records")}),
                                 CONTENT_TYPE_JSON),
        "inputs as columns": (json.dumps({"inputs": frame.to_dict(orient="list")}),
                              CONTENT_TYPE_JSON),
        "csv": (frame.to_csv(index=False), CONTENT_TYPE_CSV),
    }[payload]
    response = score(server, data, content_type)
    assert response.status_code == 200
    assert response.json() == {"predictions": model.predict(X).tolist()}


def test_serving_model_with_param_schema(server, sklearn_model):
    model, X = sklearn_model
    dataframe = {"dataframe_split": pd.DataFrame(X[:5]).to_dict(orient="split")}
    response = score(server, json.dumps(dataframe), CONTENT_TYPE_JSON + "; charset=UTF-8",
                     endpoint="iris_params")
    assert response.status_code == 200  # no params: the cell's defaults
    assert response.json()["predictions"] == model.predict_proba(X[:5])[:, 0].tolist()
    response = score(server, json.dumps({**dataframe, "params": {"label": 2}}),
                     endpoint="iris_params")
    assert response.json()["predictions"] == model.predict_proba(X[:5])[:, 2].tolist()
    # an invalid value: the cell fails on it, which MLflow answers with a 400
    bad_request(score(server, json.dumps({**dataframe, "params": {"label": "invalid_value1"}}),
                      endpoint="iris_params"))
    # MLflow drops a param its schema lacks; a cell that reads no params refuses them
    body = bad_request(score(server, json.dumps({**dataframe, "params": {"invalid_param": 1}})))
    assert body["field"] == "params"


def test_parse_json_input_including_path(server):
    frame = pd.DataFrame({"url": ["http://foo.com", "https://bar.com"],
                          "bad_protocol": ["aaa://bbb", "address:/path"]})
    response = score(server, frame, endpoint="constant")
    assert response.status_code == 200 and response.json() == {"predictions": [1, 1]}


def test_scoring_server_client(server, sklearn_model):
    """What MLflow's ScoringServerClient calls: /ping until ready, /invocations, /version."""
    model, X = sklearn_model
    for path in ("ping", "health"):
        assert requests.get(f"{server.url}/iris_knn/{path}").status_code == 200
    response = score(server, pd.DataFrame(X))
    np.testing.assert_allclose(response.json()["predictions"], model.predict(X), rtol=1e-5)
    version = requests.get(f"{server.url}/iris_knn/version")
    assert version.status_code == 200 and version.text
