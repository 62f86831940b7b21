"""The audit trail of a project: who did what, when, to which object, with a before/after
summary (never a secret) and the outcome. Capabilities hand `event(...)` to the store write
that makes the change (one transaction), and wrap each action in `refusals(...)` so a refused
attempt is recorded too, with its reason."""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from contextlib import contextmanager
from typing import Iterator

from ..clock import isoformat
from ..errors import InvalidInput, MlprodError, Unavailable
from .actor import current_actor
from .chain import verify as verify_chain

log = logging.getLogger(__name__)
MAX_LIMIT = 500
_in_action: contextvars.ContextVar[bool] = contextvars.ContextVar("mlprod_in_action",
                                                                  default=False)


class AuditTrail:
    def __init__(self, engine, owner: str, clock):
        from ..store.audit import AuditRepository  # the store imports chain.py from here

        self.repo = AuditRepository(engine, owner)
        self.clock = clock

    # -- writing ----------------------------------------------------------------------------
    def event(self, action: str, object_type: str, object_id=None, *, before=None, after=None,
              outcome: str = "ok", reason: str | None = None, **extra) -> dict:
        """An event for a store write to insert in its own transaction (`insert_event`)."""
        return {"at": self.clock.now(), "action": action, "object_type": object_type,
                "object_id": None if object_id is None else str(object_id),
                "actor": extra.pop("actor", None) or current_actor(), "outcome": outcome,
                "reason": reason, "before_summary": before, "after_summary": after,
                "details": extra.pop("details", None) or {}, **extra}

    def record(self, action: str, *, actor: str | None = None, object_type: str = "bundle",
               object_id=None, outcome: str = "ok", details: dict | None = None,
               reason: str | None = None, before=None, after=None, **extra) -> int:
        """Append an event in its own transaction: for refusals, and for changes that are not
        SQL writes (a notebook's metadata, an exported archive)."""
        if outcome == "refused" and reason is None and details:
            reason = details.get("error")
        return self.repo.append(None, self.event(
            action, object_type, object_id, before=before, after=after, outcome=outcome,
            reason=reason, actor=actor, details=details, **extra))

    @contextmanager
    def refusals(self, action: str, object_type: str, object_id=None, **extra) -> Iterator[None]:
        """Record a refused attempt (an error raised by the action: bad input, not found,
        conflict) with its reason, then let the error go on to the door."""
        outermost = not _in_action.get()
        token = _in_action.set(True)
        try:
            yield
        except MlprodError as exc:
            # an action inside another (create -> first version): the outer one records the
            # refusal, once. Unavailable is the store or a node failing, not a refusal.
            if not outermost or isinstance(exc, Unavailable):
                raise
            try:
                self.record(action, object_type=object_type, object_id=object_id,
                            outcome="refused", reason=exc.message,
                            details={"code": exc.code, "field": exc.field}, **extra)
            except Exception:  # noqa: BLE001 - the store may be the reason for the error
                log.exception("could not audit a refused %s", action)
            raise
        finally:
            _in_action.reset(token)

    # -- reading ----------------------------------------------------------------------------
    def list(self, limit: int = 100, offset: int = 0, **filters) -> dict:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                               field="limit")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset must be a whole number from 0", field="offset")
        rows, total = self.repo.list(limit, offset, **_filters(filters))
        return {"events": [event_view(r) for r in rows], "total": total}

    def export_lines(self, **filters) -> Iterator[str]:
        """Every matching event, oldest first, one JSON object a line (with its hashes, so an
        exported copy can be checked against the chain)."""
        for row in self.repo.iterate(**_filters(filters)):
            yield json.dumps(event_view(row, chain=True), sort_keys=True) + "\n"

    def verify(self) -> dict:
        return verify_chain(self.repo.chain_rows(), self.repo.head())


def _filters(filters: dict) -> dict:
    out = {k: v for k, v in filters.items() if v not in (None, "")}
    if "object" in out:  # `type:id` or a bare id
        value = str(out.pop("object"))
        kind, sep, ident = value.partition(":")
        if sep and kind and ident:
            out["object_type"], out["object_id"] = kind, ident
        else:
            out["object_id"] = value
    if "bundle" in out:
        out["bundle_id"] = out.pop("bundle")
    if "since" in out:
        out["since"] = parse_since(out["since"])
    return out


def parse_since(value) -> dt.datetime:
    """An ISO date or time (UTC unless it says otherwise), or a duration back from now:
    `30m`, `12h`, `7d`."""
    if isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        try:
            return dt.datetime.now(dt.timezone.utc) - dt.timedelta(
                seconds=int(text[:-1]) * units[text[-1]])
        except OverflowError:
            raise InvalidInput(f"since {text[:60]!r} reaches back before year 1",
                               field="since") from None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"since must be an ISO date/time or a duration like 12h or 7d, got "
                           f"{text[:60]!r}", field="since") from None
    # compared in UTC: SQLite keeps the store's (UTC) times without their zone
    try:
        return when.astimezone(dt.timezone.utc) if when.tzinfo else \
            when.replace(tzinfo=dt.timezone.utc)
    except OverflowError:
        raise InvalidInput(f"since {text[:60]!r} is out of range", field="since") from None


def event_view(row: dict, *, chain: bool = False) -> dict:
    view = {"id": row["id"], "at": isoformat(row["at"]), "actor": row["actor"],
            "action": row["action"], "object_type": row["object_type"],
            "object_id": row["object_id"], "node": row["node"], "bundle_id": row["bundle_id"],
            "previous_bundle_id": row["previous_bundle_id"], "outcome": row["outcome"],
            "reason": row.get("reason"), "before": row.get("before_summary"),
            "after": row.get("after_summary"), "host": row["host"],
            "details": row["details"] or {}}
    if chain:
        view.update(seq=row.get("seq"), prev_hash=row.get("prev_hash"), hash=row.get("hash"))
    return view


def audited(action: str, object_type: str, object_of=None):
    """Decorate a service method (whose object has `audit_trail`) so a refused call is
    recorded. The done event is the method's own business: it goes into the store write.
    `object_of(*args, **kwargs)` names the object; by default the first argument (a name or
    id) or the `name` of a spec dict."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def inner(self, *args, **kwargs):
            target = object_of(*args, **kwargs) if object_of else _first_object(args)
            with self.audit_trail.refusals(action, object_type, target):
                return fn(self, *args, **kwargs)
        return inner
    return wrap


def _first_object(args: tuple):
    if not args:
        return None
    first = args[0]
    if isinstance(first, dict):
        first = first.get("name")
    return first if isinstance(first, (str, int)) and not isinstance(first, bool) else None
