"""The only package that writes SQL. Repositories hand out plain dicts."""
from .db import create_store_engine, migrate
from .runs import RunRepository

__all__ = ["RunRepository", "create_store_engine", "migrate"]
