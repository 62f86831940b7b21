"""Executors run one step (a papermill execution) somewhere and hand back a StepResult.
They are chosen by name; they never touch the store (the run service persists what they report).
"""
from .base import Executor, StepJob, StepResult, create_executor, register_executor

__all__ = ["Executor", "StepJob", "StepResult", "create_executor", "register_executor"]
