"""Fixtures of the monitoring tests: projects that close themselves."""
from __future__ import annotations

import pytest

from jupyter_mlprod.project import Project


@pytest.fixture
def open_project():
    opened: list[Project] = []

    def _open(root, **overrides) -> Project:
        project = Project(root, **overrides)
        opened.append(project)
        return project

    yield _open
    for project in opened:
        project.close()
