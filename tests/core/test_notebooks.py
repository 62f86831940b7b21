"""Step specs and typed parameters read from notebooks."""
import json

import pytest

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.notebooks import ParameterSpec, coerce_value, infer_parameters, parse_step
from jupyter_mlprod.notebooks.reader import read_notebook


def _nb(source, tags=("parameters",)):
    return {"cells": [{"cell_type": "code", "source": source, "metadata": {"tags": list(tags)}}]}


def test_parameters_inferred_with_types_defaults_and_help():
    specs = infer_parameters(_nb("n_rows = 2000  # rows to make\nC: float = 1.0\nname = 'a'\n"
                                 "flag = True\nitems = [1, 2]\ncomputed = len('x')\nnothing = None\n"))
    assert [(s.name, s.type, s.default) for s in specs] == [
        ("n_rows", "int", 2000), ("C", "float", 1.0), ("name", "str", "a"), ("flag", "bool", True),
        ("items", "list", [1, 2]), ("nothing", "none", None)]
    assert specs[0].help == "rows to make"


def test_type_comments_and_annotations_declare_the_type_and_stay_out_of_the_help():
    """papermill's conventions: `x = None  # type: int help`, `x: int = None`."""
    specs = infer_parameters(_nb(
        "limit = None  # type: int  rows to score (all when unset)\n"
        "ratio = None  # type:float\n"
        "tags: list = None  # labels\n"
        "label: Optional[str] = None\n"
        "note = 'a # b'  # a hash inside a string is no comment\n"
        "odd = None  # type: Widget  free text\n"))
    assert [(s.name, s.type, s.default, s.help) for s in specs] == [
        ("limit", "int", None, "rows to score (all when unset)"), ("ratio", "float", None, None),
        ("tags", "list", None, "labels"), ("label", "str", None, None),
        ("note", "str", "a # b", "a hash inside a string is no comment"),
        ("odd", "none", None, "free text")]
    limit = specs[0]
    assert coerce_value(limit, "7", field="parameters.limit", from_text=True) == 7
    with pytest.raises(InvalidInput):
        coerce_value(limit, "seven", field="parameters.limit", from_text=True)


@pytest.mark.parametrize("text,expected", [
    ("False", False), ("false", False), ("True", True), ("true", True), ("null", None),
    ("None", None), ("3", 3), ("2.5", 2.5), ('"quoted text"', "quoted text"),
    ("'single'", "single"), ("[1, 2]", [1, 2]), ("['a', None]", ["a", None]),
    ('{"k": 1}', {"k": 1}), ("plain words", "plain words"), ("", "")])
def test_an_untyped_parameter_takes_literals_as_papermill_would(text, expected):
    """A `None` default declares no type: `-p flag=False` must inject False, not "False"."""
    spec = ParameterSpec("flag", "none", None)
    value = coerce_value(spec, text, field="parameters.flag", from_text=True)
    assert value == expected and type(value) is type(expected)


def test_no_parameters_cell_means_no_parameters():
    assert infer_parameters(_nb("x = 1", tags=())) == []


@pytest.mark.parametrize("kind,text,expected", [
    ("int", "7", 7), ("float", "0.5", 0.5), ("float", "3", 3.0), ("bool", "yes", True),
    ("bool", "false", False), ("str", "007", "007"), ("list", "[1, 2]", [1, 2]),
    ("dict", '{"a": 1}', {"a": 1})])
def test_cli_text_is_coerced_to_the_declared_type(kind, text, expected):
    value = coerce_value(ParameterSpec("p", kind, None), text, field="parameters.p", from_text=True)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("kind,value,from_text", [
    ("int", "many", True), ("int", 1.5, False), ("int", True, False), ("float", "x", True),
    ("bool", "maybe", True), ("bool", 1, False), ("str", 5, False), ("list", "{", True)])
def test_wrong_types_are_refused_naming_the_parameter(kind, value, from_text):
    with pytest.raises(InvalidInput) as info:
        coerce_value(ParameterSpec("p", kind, None), value, field="parameters.train.p",
                     from_text=from_text)
    assert info.value.field == "parameters.train.p"
    assert info.value.message.startswith("parameter train.p must be")


def test_step_metadata_is_validated():
    spec = parse_step({"step": "train", "inputs": ["data/a.csv"], "outputs": "models/m.joblib",
                       "after": ["prep"], "timeout": 60, "retries": 2}, "train.ipynb")
    assert spec.outputs == ("models/m.joblib",) and spec.after == ("prep",) and spec.retries == 2
    for bad, field in [({"step": "1bad"}, "name"), ({"step": "a", "timeout": 0}, "timeout"),
                       ({"step": "a", "retries": 99}, "retries"),
                       ({"step": "a", "inputs": ["../secret"]}, "inputs"),
                       ({"step": "a", "outputs": ["/etc/passwd"]}, "outputs"),
                       ({"step": "a", "colour": "red"}, "colour")]:
        with pytest.raises(InvalidInput) as info:
            parse_step(bad, "a.ipynb")
        assert info.value.field == field, bad


@pytest.mark.parametrize("content", ["{not json", json.dumps({"metadata": {}}),
                                     json.dumps({"cells": [{}], "nbformat": 4}),
                                     json.dumps({"cells": [], "nbformat": 3})])
def test_malformed_notebooks_are_named(tmp_path, content):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    with pytest.raises(InvalidInput) as info:
        read_notebook(path, "broken.ipynb")
    assert "broken.ipynb" in info.value.message and info.value.code == "malformed_notebook"
