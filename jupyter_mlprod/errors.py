"""The one error tree. Each door maps these once: REST -> status, CLI -> exit code."""
from __future__ import annotations


class MlprodError(Exception):
    """Base of every error a user can act on. `message` is written for a person."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "field": self.field}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(MlprodError):
    """The caller sent something we refuse (bad value, bad file, bad pipeline)."""

    code = "invalid"


class NotFound(MlprodError):
    code = "not_found"


class Conflict(MlprodError):
    """The request is valid but clashes with current state (e.g. a run already going)."""

    code = "conflict"


class Unavailable(MlprodError):
    """A backend we depend on (store, executor, cluster) cannot be reached."""

    code = "unavailable"


class Forbidden(MlprodError):
    """The caller is known but may not do this (e.g. not among a step's approvers)."""

    code = "forbidden"
