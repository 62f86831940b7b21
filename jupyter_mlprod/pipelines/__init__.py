"""Pipelines: the DAG of steps, planning, incremental fingerprints and running them."""
from .dag import Edge, Pipeline, Problem
from .service import RunService

__all__ = ["Edge", "Pipeline", "Problem", "RunService"]
