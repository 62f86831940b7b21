"""Door 1: the jupyter_server extension and its REST API (contract: openapi.yaml)."""
from .app import MlprodApp

__all__ = ["MlprodApp"]
