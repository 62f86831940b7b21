"""The audit trail: an append-only, hash-chained record of every state-changing action, who
did it (see `actor`), to which object, before/after, and whether it was done or refused.

Approvals (scenario steps) write `approval.grant` / `approval.deny` through `AuditTrail.event`
in the transaction that records the decision, like every other action."""
from .actor import acting_as, call_as, current_actor, os_user

# Every action the trail records (each also as `outcome: refused`, with the reason).
ACTIONS = (
    "step.tag", "step.untag", "run.start", "run.resume", "run.cancel",
    "scenario.create", "scenario.edit", "scenario.enable", "scenario.disable",
    "scenario.trigger", "scenario.delete",
    "bundle.create", "bundle.import", "bundle.export", "bundle.register", "bundle.deploy",
    "deployment.activate", "deployment.rollback", "node.register", "node.remove",
    "endpoint.create", "endpoint.edit", "endpoint.delete", "endpoint.version",
    "endpoint.traffic", "endpoint.promote", "endpoint.rollback", "key.create", "key.revoke",
    "request.refused",                   # a change the REST door refused before any action ran
    "approval.grant", "approval.deny",   # a person's decision on a waiting approve step
    "scenario.step",                     # a scenario step of a scenario run changed status
)
from .trail import AuditTrail, audited, event_view, parse_since

__all__ = ["ACTIONS", "AuditTrail", "acting_as", "audited", "call_as", "current_actor", "event_view", "os_user",
           "parse_since"]
