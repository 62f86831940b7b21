"""Bundles: immutable, content-hashed snapshots of a project (notebooks, pipeline, scenarios,
endpoints, environment lock, data and models), deployed atomically to production nodes."""
from .client import NodeClient
from .service import BundleService

__all__ = ["BundleService", "NodeClient"]
