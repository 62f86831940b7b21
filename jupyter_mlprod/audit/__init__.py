"""The audit trail: an append-only, hash-chained record of every state-changing action, who
did it (see `actor`), to which object, before/after, and whether it was done or refused.

Approvals do not exist yet; when they do, `approval.grant` / `approval.deny` events go through
`AuditTrail.event` in the transaction that records the decision, like every other action."""
from .actor import acting_as, call_as, current_actor, os_user
from .trail import AuditTrail, audited, event_view, parse_since

__all__ = ["AuditTrail", "acting_as", "audited", "call_as", "current_actor", "event_view", "os_user",
           "parse_since"]
