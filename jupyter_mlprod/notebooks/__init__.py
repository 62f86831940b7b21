"""Everything we read from and write to .ipynb files: step specs, parameters, discovery."""
from .discovery import NotebookIndex
from .parameters import ParameterSpec, coerce_value, infer_parameters
from .reader import read_notebook, write_notebook_atomic
from .steps import StepSpec, parse_step, validate_project_path

__all__ = ["NotebookIndex", "ParameterSpec", "StepSpec", "coerce_value", "infer_parameters",
           "parse_step", "read_notebook", "validate_project_path", "write_notebook_atomic"]
