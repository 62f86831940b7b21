"""Bundle actions' audit names. The audit trail itself is the `jupyter_mlprod.audit`
capability; these names stay importable from here for the bundle modules."""
from __future__ import annotations

from ..audit import AuditTrail as AuditLog  # noqa: F401
from ..audit import current_actor as current_user  # noqa: F401
from ..audit import event_view  # noqa: F401

ACTIONS = ("bundle.create", "bundle.import", "bundle.export", "bundle.register", "bundle.deploy",
           "deployment.activate", "deployment.rollback")
